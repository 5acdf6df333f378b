package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"software.sslmate.com/src/go-pkcs12"
)

func selfSigned(t *testing.T) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func TestCertificateFormatsAndStore(t *testing.T) {
	cert, key := selfSigned(t)
	dir := t.TempDir()
	pfx, err := pkcs12.Modern.Encode(key, cert, nil, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	pfxPath := filepath.Join(dir, "app.pfx")
	os.WriteFile(pfxPath, pfx, 0o600)
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	pemData = append(pemData, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
	pemPath := filepath.Join(dir, "app.pem")
	os.WriteFile(pemPath, pemData, 0o600)

	a, err := LoadCertificate(pfxPath, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadCertificate(pemPath, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Thumbprint() != b.Thumbprint() || len(a.Thumbprint()) != 40 {
		t.Errorf("thumbprints %s %s", a.Thumbprint(), b.Thumbprint())
	}
	if _, err := LoadPFX(pfxPath, "hunter2x"); !errors.Is(err, ErrCertificatePassword) || strings.Contains(err.Error(), "hunter2x") {
		t.Errorf("wrong password: %v", err)
	}
	store := t.TempDir()
	os.WriteFile(filepath.Join(store, "unrelated.txt"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(store, "app.pem"), pemData, 0o600)
	thumb := strings.ToLower(a.Thumbprint()[:2]) + " " + a.Thumbprint()[2:]
	if c, err := FindCertificate(store, thumb, ""); err != nil || c.Thumbprint() != a.Thumbprint() {
		t.Errorf("FindCertificate: %v", err)
	}
	if _, err := FindCertificate(store, strings.Repeat("0", 40), ""); err == nil || !strings.Contains(err.Error(), store) {
		t.Errorf("missing thumbprint: %v", err)
	}
}

func TestFromMSALKeepsTheServersWords(t *testing.T) {
	body := `{"error":"invalid_client","error_description":"AADSTS700027: Client assertion contains an invalid signature.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2026-11-26 10:00:00Z","error_codes":[700027],"trace_id":"1"}`
	resp := &http.Response{StatusCode: 401, Body: io.NopCloser(strings.NewReader(body))}
	err := FromMSAL(msalerrors.CallErr{Resp: resp, Err: errors.New("http call failed")})
	var ee *EntraError
	if !errors.As(err, &ee) || ee.AADSTS != 700027 || ee.Code != "invalid_client" || ee.StatusCode != 401 {
		t.Fatalf("err = %#v", err)
	}
	if msg := err.Error(); strings.Contains(msg, "Trace ID") || !strings.Contains(msg, "AADSTS700027") || !strings.Contains(msg, "registered") {
		t.Errorf("message %q", msg)
	}
	if err := FromMSAL(errors.New("x")); err == nil || !strings.Contains(err.Error(), "sign-in failed") {
		t.Errorf("plain error: %v", err)
	}
}

func TestStaticSource(t *testing.T) {
	tok := func(exp time.Time) string {
		p := base64.RawURLEncoding.EncodeToString([]byte(`{"tid":"t1","upn":"a@b.com","exp":` + big.NewInt(exp.Unix()).String() + `}`))
		return "h." + p + ".s"
	}
	s, err := NewStatic("Bearer " + tok(time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Token(context.Background(), "x")
	if err != nil || got.Claims.User() != "a@b.com" || got.Claims.TenantID != "t1" {
		t.Errorf("token %+v, %v", got, err)
	}
	s, _ = NewStatic(tok(time.Now().Add(-time.Minute)))
	if _, err := s.Token(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "--access-token") {
		t.Errorf("expired: %v", err)
	}
	if _, err := NewStatic("not a token"); err == nil {
		t.Error("garbage accepted")
	}
}
