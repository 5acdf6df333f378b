package emulator_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/emulator/internal/token"
)

// TestMain keeps this package's emulators off the user's spare keys and folders.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "exoctl-spare-")
	if err != nil {
		panic(err)
	}
	os.Setenv(token.SpareEnv, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func spareFolders(t *testing.T) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(token.SpareDir(), "folders"))
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestSpareFolder: an emulator leaves a spare seeded folder behind; the next start on an
// empty data folder takes it (and only that one), with its own keys, certificates and
// secrets, and issues tokens; a spare another executable made is left alone.
func TestSpareFolder(t *testing.T) {
	first := start(t, t.TempDir())
	firstDir := filepath.Dir(first.Info.CAFile)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	spares := spareFolders(t)
	if len(spares) != 1 {
		t.Fatalf("spare folders after a close: %v", spares)
	}
	spareDir := filepath.Join(token.SpareDir(), "folders", spares[0])
	spareKey, err := os.ReadFile(filepath.Join(spareDir, "signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	second := start(t, t.TempDir())
	dir := filepath.Dir(second.Info.CAFile)
	if got := spareFolders(t); len(got) != 0 {
		t.Errorf("the spare folder was not taken: %v", got)
	}
	key, err := os.ReadFile(filepath.Join(dir, "signing-key.pem"))
	if err != nil || !bytes.Equal(key, spareKey) {
		t.Errorf("the second start's signing key is not the spare's (%v)", err)
	}
	for _, name := range []string{"signing-key.pem", "ca.pem", "app-key.pem"} {
		a, _ := os.ReadFile(filepath.Join(firstDir, name))
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if bytes.Equal(a, b) {
			t.Errorf("%s is the same in two data folders", name)
		}
	}
	if second.Info.Tenants[0].Apps[0].CertificatePassword == first.Info.Tenants[0].Apps[0].CertificatePassword {
		t.Error("two data folders share the certificate password")
	}
	for _, a := range second.Info.Tenants[0].Apps {
		if filepath.Dir(a.CertificateFile) != dir {
			t.Errorf("certificate file %s is not in the data folder %s", a.CertificateFile, dir)
		}
	}
	if msalToken(t, second) == "" {
		t.Error("no token from the emulator on the spare folder")
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	spares = spareFolders(t)
	if len(spares) != 1 {
		t.Fatalf("spare folders after the second close: %v", spares)
	}
	// A spare folder another executable made is not taken.
	made := filepath.Join(token.SpareDir(), "folders", spares[0], "spare.json")
	b, err := os.ReadFile(made)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(made, bytes.Replace(b, []byte(`"executable":"`), []byte(`"executable":"x`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	third := start(t, t.TempDir())
	if got := spareFolders(t); len(got) != 1 || got[0] != spares[0] {
		t.Errorf("another executable's spare folder was taken: %v", got)
	}
	if msalToken(t, third) == "" {
		t.Error("no token from an emulator seeded afresh")
	}
}
