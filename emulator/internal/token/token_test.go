package token

import (
	"os"
	"path/filepath"
	"testing"
)

func TestThrowawayDir(t *testing.T) {
	tmp := os.TempDir()
	mine, err := os.MkdirTemp("", "exoctl-emulator-")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(mine)
	for dir, want := range map[string]bool{
		mine: true,
		filepath.Join(tmp, "exoctl-emulator-123"):     true,
		filepath.Join(tmp, "exoctl-emulator-"):        false,
		filepath.Join(tmp, "exoctl-emulator-data"):    false,
		filepath.Join(tmp, "x", "exoctl-emulator-12"): false,
		"/home/u/.config/exoctl/emulator":             false,
	} {
		if got := ThrowawayDir(dir); got != want {
			t.Errorf("ThrowawayDir(%s) = %v, want %v", dir, got, want)
		}
	}
}

// TestNewKey: throwaway emulators share a key per purpose; others never get it.
func TestNewKey(t *testing.T) {
	a, _ := NewKey(PurposeSigning, true)
	b, _ := NewKey(PurposeSigning, true)
	c, _ := NewKey(PurposeAppCert, true)
	d, err := NewKey(PurposeSigning, false)
	if err != nil || a != b || a.Equal(c) || a.Equal(d) {
		t.Errorf("shared keys: same purpose %v, other purpose differs %v, own key differs %v (%v)", a == b, !a.Equal(c), !a.Equal(d), err)
	}
}
