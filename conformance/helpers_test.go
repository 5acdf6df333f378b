package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"net"
	"strings"
	"testing"
)

// thumbprintS256 is the SHA-256 thumbprint (hex) of the first certificate in a PEM file.
func thumbprintS256(t *testing.T, pemBytes []byte) string {
	t.Helper()
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		t.Fatal("app-cert.pem holds no PEM block")
	}
	sum := sha256.Sum256(blk.Bytes)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// freePort is a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
