package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/exoctl/exoctl/emulator/internal/token"
)

// pki is the emulator's certificate material, kept in the data folder so that clients that
// trust the CA keep trusting it across restarts.
type pki struct {
	caFile     string
	serverCert tls.Certificate
	appCert    *x509.Certificate
	appKey     *rsa.PrivateKey
}

// loadOrCreatePKI loads or makes the certificates; shared says the data folder is a throwaway
// one, whose new RSA keys may be the process's shared ones.
func loadOrCreatePKI(dir string, shared bool) (*pki, error) {
	p := &pki{caFile: filepath.Join(dir, "ca.pem")}
	if shared {
		// Start the process's shared keys now, beside the CA and server certificate.
		go token.NewKey(token.PurposeSigning, true)
	}
	caCert, caKey, err := loadOrCreateCA(dir)
	if err != nil {
		return nil, err
	}
	srvPath, srvKeyPath := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	if p.serverCert, err = tls.LoadX509KeyPair(srvPath, srvKeyPath); err != nil || expiresSoon(p.serverCert.Leaf) ||
		!slices.Contains(p.serverCert.Leaf.DNSNames, "*.localhost") {
		if p.serverCert, err = issueServerCert(caCert, caKey, srvPath, srvKeyPath); err != nil {
			return nil, err
		}
	}
	if p.appCert, p.appKey, err = loadOrCreateAppCert(filepath.Join(dir, "app-cert.pem"), filepath.Join(dir, "app-key.pem"), shared); err != nil {
		return nil, err
	}
	return p, nil
}

func expiresSoon(c *x509.Certificate) bool {
	return c == nil || time.Until(c.NotAfter) < 30*24*time.Hour
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

func loadOrCreateCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	if pair, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		if k, ok := pair.PrivateKey.(*ecdsa.PrivateKey); ok && !expiresSoon(pair.Leaf) {
			return pair.Leaf, k, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "exoctl emulator CA", Organization: []string{"exoctl"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create CA: %w", err)
	}
	if err := writePEM(certPath, 0o644, "CERTIFICATE", der); err != nil {
		return nil, nil, err
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := writePEM(keyPath, 0o600, "PRIVATE KEY", kder); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func issueServerCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey, certPath, keyPath string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// *.localhost: the Security & Compliance region endpoint by its first label
		// (eur01b.localhost), for clients that resolve localhost names (RFC 6761).
		DNSNames:    []string{"localhost", "*.localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create server certificate: %w", err)
	}
	if err := writePEM(certPath, 0o644, "CERTIFICATE", der); err != nil {
		return tls.Certificate{}, err
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := writePEM(keyPath, 0o600, "PRIVATE KEY", kder); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certPath, keyPath)
}

// loadOrCreateAppCert keeps the seeded app's self-signed RSA certificate (Entra app
// certificates are RSA; MSAL signs assertions with PS256).
func loadOrCreateAppCert(certPath, keyPath string, shared bool) (*x509.Certificate, *rsa.PrivateKey, error) {
	if pair, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		if k, ok := pair.PrivateKey.(*rsa.PrivateKey); ok {
			// Data folders from before kept PKCS#1 under the PKCS#8 label, which Node, Python's
			// cryptography and OpenSSL 3 refuse: write the key again as real PKCS#8.
			if !isPKCS8File(keyPath) {
				kder, err := x509.MarshalPKCS8PrivateKey(k)
				if err != nil {
					return nil, nil, err
				}
				if err := writePEM(keyPath, 0o600, "PRIVATE KEY", kder); err != nil {
					return nil, nil, err
				}
			}
			return pair.Leaf, k, nil
		}
	}
	key, err := token.NewKey(token.PurposeAppCert, shared)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "exoctl automation"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create app certificate: %w", err)
	}
	if err := writePEM(certPath, 0o644, "CERTIFICATE", der); err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	if err := writePEM(keyPath, 0o600, "PRIVATE KEY", kder); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// isPKCS8File reports whether path holds a PEM "PRIVATE KEY" block that is PKCS#8 DER.
func isPKCS8File(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return false
	}
	_, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	return err == nil
}

// writeAppBundles writes the app certificate as a PFX (with password) and as one PEM file
// holding the certificate and its unencrypted key, the two forms connect accepts.
func writeAppBundles(p *pki, pfxPath, pemPath, password string) error {
	pfx, err := pkcs12.Modern.Encode(p.appKey, p.appCert, nil, password)
	if err != nil {
		return fmt.Errorf("encode PFX: %w", err)
	}
	if err := os.WriteFile(pfxPath, pfx, 0o600); err != nil {
		return err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.appCert.Raw})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(p.appKey)})...)
	return os.WriteFile(pemPath, out, 0o600)
}

func writePEM(path string, mode os.FileMode, typ string, der []byte) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", path, err), os.Remove(tmp))
	}
	return nil
}
