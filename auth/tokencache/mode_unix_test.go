//go:build unix

package tokencache

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestFileModesUnderPermissiveUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	ctx := context.Background()
	root := t.TempDir()
	path := filepath.Join(root, "home", "exoctl", "tokens.bin")
	c := mustNew(t, path, Options{})
	m := newFakeMSAL()
	m.put("AccessToken", "k", "v")
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	m.put("AccessToken", "k2", "v2") // a second write replaces the file
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{
		filepath.Join(root, "home"):           0o700,
		filepath.Join(root, "home", "exoctl"): 0o700,
		path:                                  0o600,
		path + ".lock":                        0o600,
		filepath.Join(filepath.Dir(path), "cache.key"): 0o600,
	}
	for p, mode := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %v, want %v", p, got, mode)
		}
	}

	// A corrupt file moved aside keeps 0600 too.
	os.WriteFile(path, []byte("junk"), 0o600)
	if err := c.Replace(ctx, newFakeMSAL(), cacheReplaceHints); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(path + ".corrupt-*")
	for _, p := range matches {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", p, fi.Mode().Perm())
		}
	}
}
