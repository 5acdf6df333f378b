package tokencache

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealedRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conn")
	path := filepath.Join(dir, "secrets.enc")
	opts := Options{KeyFile: filepath.Join(dir, "cache.key")}
	if err := WriteSealed(path, []byte(secretToken), opts); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(secretToken)) {
		t.Error("sealed file in plain text")
	}
	got, err := ReadSealed(path, opts)
	if err != nil || string(got) != secretToken {
		t.Fatalf("ReadSealed = %q, %v", got, err)
	}

	if _, err := ReadSealed(filepath.Join(dir, "none"), opts); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	raw[len(raw)-1] ^= 1
	os.WriteFile(path, raw, 0o600)
	_, err = ReadSealed(path, opts)
	if !errors.Is(err, ErrCorrupt) || strings.Contains(err.Error(), secretToken) {
		t.Errorf("damaged sealed file: %v", err)
	}
}
