package auth

import (
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"software.sslmate.com/src/go-pkcs12"
)

// Certificate is an app's certificate and private key, used to sign client assertions.
type Certificate struct {
	Chain []*x509.Certificate
	Key   crypto.PrivateKey
}

// Thumbprint is the SHA-1 thumbprint of the leaf certificate, upper-case hex, as Windows and the
// Entra portal show it.
func (c Certificate) Thumbprint() string {
	if len(c.Chain) == 0 {
		return ""
	}
	sum := sha1.Sum(c.Chain[0].Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// ErrCertificatePassword means a PFX file could not be opened with the given password.
var ErrCertificatePassword = errors.New("the certificate password is wrong")

// LoadPFX reads a PKCS#12 (.pfx/.p12) file with its password.
func LoadPFX(path, password string) (Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Certificate{}, fmt.Errorf("read certificate file: %w", err)
	}
	return ParsePFX(data, password)
}

// ParsePFX decodes PKCS#12 data.
func ParsePFX(data []byte, password string) (Certificate, error) {
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return Certificate{}, fmt.Errorf("%w: give the PFX password with --certificate-password-stdin or EXOCTL_CERTIFICATE_PASSWORD", ErrCertificatePassword)
		}
		return Certificate{}, fmt.Errorf("the certificate file is not a valid PFX: %w", err)
	}
	if key == nil || leaf == nil {
		return Certificate{}, errors.New("the PFX file holds no private key and certificate: export it with its private key")
	}
	return Certificate{Chain: append([]*x509.Certificate{leaf}, cas...), Key: key}, nil
}

// LoadPEM reads a PEM file holding the certificate and its private key (optionally encrypted
// with password).
func LoadPEM(path, password string) (Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Certificate{}, fmt.Errorf("read certificate file: %w", err)
	}
	return ParsePEM(data, password)
}

// ParsePEM decodes PEM data holding a certificate and a private key.
func ParsePEM(data []byte, password string) (Certificate, error) {
	certs, key, err := confidential.CertFromPEM(data, password)
	if err != nil {
		return Certificate{}, fmt.Errorf("the PEM file must hold the certificate and its private key: %w", err)
	}
	return Certificate{Chain: certs, Key: key}, nil
}

// LoadCertificate reads a PFX or PEM file, choosing by its content.
func LoadCertificate(path, password string) (Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Certificate{}, fmt.Errorf("read certificate file: %w", err)
	}
	if strings.Contains(string(data[:min(len(data), 4096)]), "-----BEGIN") {
		return ParsePEM(data, password)
	}
	return ParsePFX(data, password)
}

// ConfidentialConfig configures an app-only Source.
type ConfidentialConfig struct {
	Authority  string // https://host/tenant
	ClientID   string
	HTTPClient *http.Client
	Cache      cache.ExportReplace
}

// ConfidentialSource gets app-only tokens with a client credential (certificate assertion), the
// module's -AppId with -Certificate*.
type ConfidentialSource struct {
	client confidential.Client
}

// NewCertificateSource builds an app-only Source signing assertions with cert.
func NewCertificateSource(cfg ConfidentialConfig, cert Certificate) (*ConfidentialSource, error) {
	cred, err := confidential.NewCredFromCert(cert.Chain, cert.Key)
	if err != nil {
		return nil, fmt.Errorf("use certificate: %w", err)
	}
	return newConfidential(cfg, cred)
}

func newConfidential(cfg ConfidentialConfig, cred confidential.Credential) (*ConfidentialSource, error) {
	opts := []confidential.Option{
		confidential.WithInstanceDiscovery(false),
		confidential.WithAzureRegion("DisableMsalForceRegion"),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, confidential.WithHTTPClient(cfg.HTTPClient))
	}
	if cfg.Cache != nil {
		opts = append(opts, confidential.WithCache(cfg.Cache))
	}
	c, err := confidential.New(cfg.Authority, cfg.ClientID, cred, opts...)
	if err != nil {
		return nil, fmt.Errorf("set up sign-in for app %s at %s: %w", cfg.ClientID, cfg.Authority, err)
	}
	return &ConfidentialSource{client: c}, nil
}

// Token returns a cached token while it has more than five minutes left, else a new one.
func (s *ConfidentialSource) Token(ctx context.Context, scope string) (Token, error) {
	r, err := s.client.AcquireTokenByCredential(ctx, []string{scope})
	if err != nil {
		return Token{}, FromMSAL(err)
	}
	c, _ := ParseClaims(r.AccessToken)
	return Token{AccessToken: r.AccessToken, ExpiresOn: r.ExpiresOn, Claims: c}, nil
}

// FindCertificate looks for the certificate with a SHA-1 thumbprint in a folder of .pem, .crt,
// .key, .pfx and .p12 files: the certificate store on systems without the Windows one. PFX files
// are opened with password.
func FindCertificate(dir, thumbprint, password string) (Certificate, error) {
	want := strings.ToUpper(strings.NewReplacer(" ", "", ":", "").Replace(thumbprint))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Certificate{}, fmt.Errorf("read certificate store %s: %w (put the certificate there as a PEM or PFX file, or set EXOCTL_CERTIFICATE_STORE)", dir, err)
	}
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || !slices.Contains([]string{".pem", ".crt", ".key", ".pfx", ".p12"}, ext) {
			continue
		}
		c, err := LoadCertificate(filepath.Join(dir, e.Name()), password)
		if err != nil {
			continue
		}
		if c.Thumbprint() == want {
			return c, nil
		}
	}
	return Certificate{}, fmt.Errorf("no certificate with thumbprint %s and its private key in %s: copy it there as a PEM (certificate + key) or PFX file", want, dir)
}
