package emulator_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/exoctl/exoctl/auth"
)

// app-key.pem is real PKCS#8 (what its "PRIVATE KEY" label says, and what Node, Python's
// cryptography and MSAL's CertFromPEM parse), also in a data folder an older emulator wrote with
// PKCS#1 under that label.
func TestAppKeyIsPKCS8(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	keyPath, certPath := filepath.Join(dir, "app-key.pem"), filepath.Join(dir, "app-cert.pem")
	key := readPKCS8(t, keyPath)
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := os.ReadFile(keyPath)
	c, err := auth.ParsePEM(append(certPEM, keyPEM...), "")
	if err != nil {
		t.Fatalf("app-cert.pem + app-key.pem: %v", err)
	}
	if !c.Key.(*rsa.PrivateKey).Equal(key) {
		t.Error("app-key.pem is not the app certificate's key")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// An older data folder: PKCS#1 DER under "PRIVATE KEY".
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, dir)
	if again := readPKCS8(t, keyPath); !again.Equal(key) {
		t.Error("the restarted emulator replaced the app key instead of rewriting it")
	}
}

func readPKCS8(t *testing.T, path string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		t.Fatalf("%s: no PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatalf("%s is not PKCS#8: %v", path, err)
	}
	return k.(*rsa.PrivateKey)
}
