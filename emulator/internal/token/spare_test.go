package token

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestMain keeps the package's tests off the user's spare keys.
func TestMain(m *testing.M) {
	spare = func() SpareKeys { return SpareKeys{} }
	os.Exit(m.Run())
}

// TestSpareKeys: Refill makes one data folder's keys (0600 in a 0700 folder); each Take hands
// out a different key and removes it, so no two data folders get the same one.
func TestSpareKeys(t *testing.T) {
	s := SpareKeys{Dir: filepath.Join(t.TempDir(), "keys")}
	if s.Take() != nil {
		t.Fatal("a folder that does not exist gave a key")
	}
	if err := s.Refill(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.Dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("spare key folder: %v %v", fi.Mode(), err)
	}
	names, _ := s.keys()
	if len(names) != spareTarget {
		t.Fatalf("Refill left %d keys, want %d", len(names), spareTarget)
	}
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(s.Dir, n)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("spare key %s: %v %v", n, fi.Mode(), err)
		}
	}
	a, b := s.Take(), s.Take()
	if a == nil || b == nil || a.Equal(b) || a.N.BitLen() != 2048 {
		t.Fatalf("Take: %v %v", a != nil, b != nil)
	}
	if s.Take() != nil {
		t.Error("an empty folder gave a key")
	}
	if entries, _ := os.ReadDir(s.Dir); len(entries) != 0 {
		t.Errorf("taken keys left files behind: %v", entries)
	}
}

// TestSpareKeysRefused: keys in a folder others may enter, keys others may read, and files
// that are no RSA-2048 key are never used.
func TestSpareKeysRefused(t *testing.T) {
	s := SpareKeys{Dir: filepath.Join(t.TempDir(), "keys")}
	if err := s.Refill(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if s.Take() != nil {
		t.Error("a key from a folder others may enter")
	}
	if err := s.Refill(); err == nil || !strings.Contains(err.Error(), SpareEnv) {
		t.Errorf("Refill into a folder others may enter: %v", err)
	}
	if err := os.Chmod(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	names, _ := s.keys()
	for _, n := range names {
		if err := os.Chmod(filepath.Join(s.Dir, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "0-not-a-key.pem"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s.Take() != nil {
		t.Error("a key others may read, or no key at all, was used")
	}
}

// TestOwnKeyTakesSpare: a data folder's own key comes from the spare keys when there are.
func TestOwnKeyTakesSpare(t *testing.T) {
	s := SpareKeys{Dir: filepath.Join(t.TempDir(), "keys")}
	if err := s.Refill(); err != nil {
		t.Fatal(err)
	}
	old := spare
	spare = func() SpareKeys { return s }
	t.Cleanup(func() { spare = old })
	k1, err1 := NewKey(PurposeAppCert, false)
	k2, err2 := NewKey(PurposeSigning, false)
	if err1 != nil || err2 != nil || k1.Equal(k2) {
		t.Fatalf("own keys: %v %v", err1, err2)
	}
	if names, _ := s.keys(); len(names) != 0 {
		t.Errorf("%d spare keys left, want the two taken", len(names))
	}
	if err := RefillSpareKeys(); err != nil {
		t.Fatal(err)
	}
	if names, _ := s.keys(); len(names) != spareTarget {
		t.Errorf("RefillSpareKeys left %d keys", len(names))
	}
}

// TestDefaultSpareKeys: the variable turns spare keys on (auto: the cache folder), moves or
// turns them off; unset, there are none.
func TestDefaultSpareKeys(t *testing.T) {
	t.Setenv(SpareEnv, "off")
	if d := DefaultSpareKeys().Dir; d != "" || SpareDir() != "" {
		t.Errorf("off: %q", d)
	}
	t.Setenv(SpareEnv, "/somewhere")
	if d := DefaultSpareKeys().Dir; d != filepath.Join("/somewhere", "keys") {
		t.Errorf("a folder: %q", d)
	}
	t.Setenv(SpareEnv, "")
	if d := DefaultSpareKeys().Dir; d != "" {
		t.Errorf("unset: %q, want none (an in-process emulator writes nothing outside its folder)", d)
	}
	t.Setenv(SpareEnv, SpareAuto)
	t.Setenv("XDG_CACHE_HOME", "/cache")
	t.Setenv("HOME", "/home/u")
	if d := DefaultSpareKeys().Dir; runtime.GOOS == "linux" && d != filepath.Join("/cache", "exoctl", "emulator-spare", "keys") {
		t.Errorf("auto: %q", d)
	}
}
