//go:build unix

package tokencache

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLockDoesNotFollowALink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	lock := filepath.Join(dir, "tokens.cache.lock")
	if err := os.Symlink(target, lock); err != nil {
		t.Fatal(err)
	}
	if err := NewLock(lock).Lock(); err == nil {
		t.Error("a lock through a symbolic link was taken")
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("the link's target was created: %v", err)
	}
}

func TestCacheFilesAreNotFollowedOrConfused(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("someone else's file"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "tokens.cache")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	if _, err := readFile(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("read through a link: %v", err)
	}
	asDir := filepath.Join(dir, "secrets.enc")
	if err := os.Mkdir(asDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := readFile(asDir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("read a directory: %v", err)
	}
}

func TestCheckFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if err := CheckFolder(dir, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 || !strings.Contains(logs.String(), "made it private") {
		t.Errorf("world-writable folder: mode %v, log %q", fi.Mode().Perm(), logs.String())
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if err := CheckFolder(file, nil); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a file as the folder: %v", err)
	}
	// Another user's folder (possible to set up only as root, as CI runs).
	if os.Getuid() == 0 {
		other := filepath.Join(t.TempDir(), "other")
		os.Mkdir(other, 0o700)
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := CheckFolder(other, nil); err == nil || !strings.Contains(err.Error(), "another user") {
			t.Errorf("another user's folder: %v", err)
		}
	}
}
