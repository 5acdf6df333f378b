package tokencache

import (
	"fmt"
	"log/slog"
	"path/filepath"
)

// WriteSealed writes a small secret (a connection's certificate key, a brought token) to path,
// encrypted with the same key and file format as the token cache, atomically and 0600.
func WriteSealed(path string, plain []byte, opts Options) error {
	key, err := sealKey(path, opts)
	if err != nil {
		return err
	}
	data, err := seal(key, plain)
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}

// ReadSealed reads what WriteSealed wrote. A file that does not decrypt wraps ErrCorrupt.
func ReadSealed(path string, opts Options) ([]byte, error) {
	key, err := sealKey(path, opts)
	if err != nil {
		return nil, err
	}
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokencache: read %s: %w", path, err)
	}
	plain, err := open(key, data)
	if err != nil {
		return nil, fmt.Errorf("tokencache: %s: %w (%v)", path, ErrCorrupt, err)
	}
	return plain, nil
}

func sealKey(path string, opts Options) ([]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("tokencache: %w", err)
	}
	if opts.Keyring != nil {
		return keyFromKeyring(opts.Keyring, abs)
	}
	keyFile := opts.KeyFile
	if keyFile == "" {
		keyFile = filepath.Join(filepath.Dir(abs), "cache.key")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return keyFromFile(keyFile, log)
}
