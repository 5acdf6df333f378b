package tokencache

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
)

// Keyring stores the cache's AES key outside the file system. A backend for
// the OS keyring (Secret Service, macOS Keychain, Windows Credential Manager)
// plugs in here; tests use an in-memory one.
//
// Get must return an error wrapping ErrKeyNotFound when no secret is stored
// under service/account, so that New knows to create one.
type Keyring interface {
	Get(service, account string) ([]byte, error)
	Set(service, account string, secret []byte) error
}

// ErrKeyNotFound is what a Keyring's Get wraps when it holds no such secret.
var ErrKeyNotFound = errors.New("secret not found in keyring")

// ErrBadKey is wrapped in the error New returns when the stored key is not a
// 32-byte AES key. The remedy is to delete it, which forgets cached tokens.
var ErrBadKey = errors.New("token cache key is damaged")

// KeyringService is the service name under which keys are kept in a Keyring.
const KeyringService = "exoctl"

// keyringAccount names the keyring entry of the cache at path, so that two
// caches (two EXOCTL_HOMEs) never share or overwrite each other's key.
func keyringAccount(path string) string {
	sum := sha256.Sum256([]byte(path))
	return "tokencache-" + hex.EncodeToString(sum[:8])
}

// keyFromKeyring returns the key stored for path, creating it on first use.
// The caller holds the cache's exclusive lock, so two processes starting at
// once agree on one key.
func keyFromKeyring(kr Keyring, path string) ([]byte, error) {
	account := keyringAccount(path)
	key, err := kr.Get(KeyringService, account)
	switch {
	case err == nil:
		if len(key) != keyLen {
			return nil, fmt.Errorf("tokencache: %w: keyring entry %s/%s holds %d bytes, want %d; delete that entry to start over (this forgets cached tokens)",
				ErrBadKey, KeyringService, account, len(key), keyLen)
		}
		return key, nil
	case errors.Is(err, ErrKeyNotFound):
		key, err = newKey()
		if err != nil {
			return nil, err
		}
		if err := kr.Set(KeyringService, account, key); err != nil {
			return nil, fmt.Errorf("tokencache: store key in keyring as %s/%s: %w", KeyringService, account, err)
		}
		return key, nil
	default:
		return nil, fmt.Errorf("tokencache: read key from keyring %s/%s: %w", KeyringService, account, err)
	}
}

// keyFromFile returns the key in path, creating it once. Creation writes a
// temporary file and hard-links it into place, so a reader never sees a
// half-written key and two creators never overwrite each other.
func keyFromFile(path string, log *slog.Logger) ([]byte, error) {
	key, err := readKeyFile(path, log)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tokencache: create key directory: %w", err)
	}
	key, err = newKey()
	if err != nil {
		return nil, err
	}
	tmp, err := writeTemp(dir, filepath.Base(path), key)
	if err != nil {
		return nil, fmt.Errorf("tokencache: write key file: %w", err)
	}
	defer os.Remove(tmp)
	switch err := os.Link(tmp, path); {
	case err == nil:
		return key, nil
	case errors.Is(err, fs.ErrExist):
		// Another process created it first: use theirs.
		return readKeyFile(path, log)
	default:
		// No hard links on this file system: create exclusively instead.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path, log)
		}
		if err != nil {
			return nil, fmt.Errorf("tokencache: create key file: %w", err)
		}
		_, werr := f.Write(key)
		if serr := f.Sync(); werr == nil {
			werr = serr
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(path)
			return nil, fmt.Errorf("tokencache: write key file: %w", werr)
		}
		return key, nil
	}
}

func readKeyFile(path string, log *slog.Logger) ([]byte, error) {
	key, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("tokencache: read key file: %w", err)
	}
	if len(key) != keyLen {
		return nil, fmt.Errorf("tokencache: %w: key file %s holds %d bytes, want %d; delete it to start over (this forgets cached tokens, so you will sign in again)",
			ErrBadKey, path, len(key), keyLen)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("token cache key file is readable by other users; run chmod 600 on it",
				"path", path, "mode", fi.Mode().Perm().String())
		}
	}
	return key, nil
}

func newKey() ([]byte, error) {
	key := make([]byte, keyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("tokencache: random key: %w", err)
	}
	return key, nil
}
