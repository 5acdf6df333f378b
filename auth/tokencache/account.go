package tokencache

import (
	"fmt"
	"path/filepath"
)

// KeyringAccount is the account under KeyringService whose secret is the key
// of the cache or sealed file at path, when New, WriteSealed and ReadSealed
// are given a Keyring: path is made absolute first, as they do. Deleting that
// entry (after the files) leaves nothing of a connection behind.
func KeyringAccount(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("tokencache: %w", err)
	}
	return keyringAccount(abs), nil
}
