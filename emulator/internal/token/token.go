// Package token mints and checks the emulator's access tokens: RS256 JWTs shaped like Microsoft
// Entra ID v1 access tokens (PROTOCOL.md §4). The identity side signs them, the Exchange side
// verifies them, both with one Keys value.
package token

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Keys is the emulator's token signing key.
type Keys struct {
	Private *rsa.PrivateKey
	KeyID   string // kid header of the tokens; also kid and x5t of the JWKS entry
	// Cert is a self-signed certificate of the key (DER), published as the JWKS entry's x5c as
	// Entra publishes its signing certificates; x5t is its SHA-1 thumbprint. It is derived from
	// the key alone, so it stays the same across restarts.
	Cert []byte

	shared sharedTokens // SignShared's tokens of the current second
}

// LoadOrCreateKeys reads an RSA key from a PEM file, creating (0600) a new 2048-bit key when the
// file does not exist, so tokens stay valid across emulator restarts. With shared (a throwaway
// emulator's temporary data folder) the new key is this process's shared one: see NewKey.
func LoadOrCreateKeys(path string, shared bool) (*Keys, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k, err := NewKey(PurposeSigning, shared)
		if err != nil {
			return nil, fmt.Errorf("generate signing key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := os.WriteFile(path, out, 0o600); err != nil {
			return nil, fmt.Errorf("write signing key: %w", err)
		}
		return NewKeys(k), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("signing key %s: no PEM block; delete the file to make a new key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not an RSA key", path)
	}
	return NewKeys(rk), nil
}

// Purposes of the RSA keys an emulator makes.
const (
	PurposeSigning = "signing" // the token signing key
	PurposeAppCert = "app"     // the seeded app's certificate key
)

// sharedKeys are the process's RSA keys for throwaway emulators, one per purpose, generated
// once and concurrently (an RSA-2048 key takes 50-150 ms of CPU, most of a fresh start).
var sharedKeys = func() map[string]func() (*rsa.PrivateKey, error) {
	m := map[string]func() (*rsa.PrivateKey, error){}
	for _, p := range []string{PurposeSigning, PurposeAppCert} {
		m[p] = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
	}
	return m
}()

var startSharedKeys sync.Once

// NewKey returns a new RSA-2048 key for purpose, or, when shared, the key this process uses
// for that purpose in every throwaway emulator (Start with no data folder, as users' tests
// do): such emulators then start in milliseconds. An emulator with a data folder of its own
// always gets a key of its own.
func NewKey(purpose string, shared bool) (*rsa.PrivateKey, error) {
	get, ok := sharedKeys[purpose]
	if !shared || !ok {
		return ownKey(purpose)
	}
	// The first throwaway start needs both keys: make them side by side.
	startSharedKeys.Do(func() {
		for _, g := range sharedKeys {
			go g()
		}
	})
	return get()
}

// signingAhead is a signing key being made on another core: a new data folder needs the app
// certificate's key and then the signing key, and the two RSA-2048 key generations are most of
// a fresh start, so the second is begun with the first.
var signingAhead struct {
	sync.Mutex
	key func() (*rsa.PrivateKey, error)
}

// ownKey makes a key of a data folder's own (never shared), or takes a spare one.
func ownKey(purpose string) (*rsa.PrivateKey, error) {
	if k := spare().Take(); k != nil {
		return k, nil
	}
	signingAhead.Lock()
	ahead := signingAhead.key
	switch {
	case purpose == PurposeSigning && ahead != nil:
		signingAhead.key = nil
		signingAhead.Unlock()
		return ahead()
	case purpose == PurposeAppCert && ahead == nil:
		next := sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
		signingAhead.key = next
		go next()
	}
	signingAhead.Unlock()
	return rsa.GenerateKey(rand.Reader, 2048)
}

// signingCerts are the signing certificates made in this process, by the SHA-1 of their
// public key: a certificate depends on the key alone, and making one is an RSA signature.
var signingCerts sync.Map

// NewKeys wraps an RSA key, deriving its key id from the public key.
func NewKeys(k *rsa.PrivateKey) *Keys {
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	sum := sha1.Sum(der)
	cert, ok := signingCerts.Load(sum)
	if !ok {
		cert, _ = signingCerts.LoadOrStore(sum, signingCert(k, sum[:]))
	}
	keys := &Keys{Private: k, KeyID: base64.RawURLEncoding.EncodeToString(sum[:]), Cert: cert.([]byte)}
	if keys.Cert != nil {
		// As Entra's: kid = x5t = the signing certificate's SHA-1 thumbprint, base64url.
		cs := sha1.Sum(keys.Cert)
		keys.KeyID = base64.RawURLEncoding.EncodeToString(cs[:])
	}
	return keys
}

// signingCert makes the key's self-signed certificate deterministically (fixed dates, serial
// from the key's hash, PKCS#1 v1.5 signature), or nil if x509 refuses the key.
func signingCert(k *rsa.PrivateKey, keyHash []byte) []byte {
	tmpl := &x509.Certificate{
		SerialNumber:       new(big.Int).SetBytes(keyHash[:16]),
		Subject:            pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore:          time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:           time.Date(2049, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:           x509.KeyUsageDigitalSignature,
		SubjectKeyId:       keyHash,
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(zeroReader{}, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil
	}
	return der
}

// zeroReader feeds x509.CreateCertificate, which needs randomness only for signature schemes
// that are randomised; PKCS#1 v1.5 is not, so the certificate is reproducible.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// JWK is one entry of a JSON Web Key Set.
type JWK struct {
	Kty string   `json:"kty"`
	Use string   `json:"use"`
	Kid string   `json:"kid"`
	X5t string   `json:"x5t"`
	N   string   `json:"n"`
	E   string   `json:"e"`
	X5c []string `json:"x5c,omitempty"`
	// CloudInstanceName and Issuer appear on Entra's v2 keys (discovery/v2.0/keys), not on v1.
	CloudInstanceName string `json:"cloud_instance_name,omitempty"`
	Issuer            string `json:"issuer,omitempty"`
}

// JWKS returns the public key set for the discovery keys endpoint: the key with its
// certificate (x5c, x5t). issuer, when not empty, is set on the entry as on Entra's v2 keys
// (https://login.microsoftonline.com/{tenantid}/v2.0 for the common endpoint).
func (k *Keys) JWKS(issuer, cloudInstance string) map[string][]JWK {
	pub := k.Private.PublicKey
	j := JWK{
		Kty: "RSA", Use: "sig", Kid: k.KeyID, X5t: k.KeyID,
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
	if k.Cert != nil {
		j.X5c = []string{base64.StdEncoding.EncodeToString(k.Cert)}
	}
	if issuer != "" {
		j.Issuer, j.CloudInstanceName = issuer, cloudInstance
	}
	return map[string][]JWK{"keys": {j}}
}

// Claims are the claims of a v1 access token that the emulator reads and writes.
type Claims struct {
	Audience   string   `json:"aud"`
	Issuer     string   `json:"iss"`
	IssuedAt   int64    `json:"iat"`
	NotBefore  int64    `json:"nbf"`
	Expires    int64    `json:"exp"`
	TenantID   string   `json:"tid"`
	ObjectID   string   `json:"oid"`
	Subject    string   `json:"sub"`
	AppID      string   `json:"appid"`
	AppIDACR   string   `json:"appidacr"`
	Roles      []string `json:"roles,omitempty"`
	Scope      string   `json:"scp,omitempty"`
	WIDs       []string `json:"wids,omitempty"`
	UPN        string   `json:"upn,omitempty"`
	UniqueName string   `json:"unique_name,omitempty"`
	Name       string   `json:"name,omitempty"`
	AMR        []string `json:"amr,omitempty"`
	IDType     string   `json:"idtyp,omitempty"`
	Version    string   `json:"ver"`
	UTI        string   `json:"uti,omitempty"`
	// IdentityProvider (idp) is the issuer of the tenant that signed the user in, when it is
	// not the token's tenant: a partner's admin agent or a guest's home tenant.
	IdentityProvider string `json:"idp,omitempty"`
	Email            string `json:"email,omitempty"`
}

// AppOnly reports whether the token was issued to an application rather than a user.
func (c Claims) AppOnly() bool { return c.UPN == "" && c.Scope == "" }

// GetExpirationTime and the other methods make Claims a jwt.Claims.
func (c Claims) GetExpirationTime() (*jwt.NumericDate, error) { return numeric(c.Expires), nil }
func (c Claims) GetIssuedAt() (*jwt.NumericDate, error)       { return numeric(c.IssuedAt), nil }
func (c Claims) GetNotBefore() (*jwt.NumericDate, error)      { return numeric(c.NotBefore), nil }
func (c Claims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c Claims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c Claims) GetAudience() (jwt.ClaimStrings, error)       { return jwt.ClaimStrings{c.Audience}, nil }

func numeric(v int64) *jwt.NumericDate {
	if v == 0 {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(v, 0))
}

// Issuer returns the v1 issuer for a tenant.
func Issuer(tenantID string) string { return "https://sts.windows.net/" + tenantID + "/" }

// Sign mints a token with the key's kid and x5t headers.
func (k *Keys) Sign(c Claims) (string, error) {
	if c.Version == "" {
		c.Version = "1.0"
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = k.KeyID
	t.Header["x5t"] = k.KeyID
	return t.SignedString(k.Private)
}

// SignShared is Sign for a token that every request in the same second for the same claims
// may have (app-only tokens: the same app, resource, roles): the first is signed, the others
// get that one. Claims are whole seconds (iat, nbf, exp), so such tokens differ only in uti,
// which nothing checks; an RSA-2048 signature costs about a millisecond of CPU, and a token
// endpoint under load spends most of its time on them. The tokens of one second are kept
// until the next; at most sharedMax distinct claim sets a second are shared.
func (k *Keys) SignShared(c Claims) (string, error) {
	if c.Version == "" {
		c.Version = "1.0"
	}
	uti := c.UTI
	c.UTI = ""
	key, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	c.UTI = uti
	e, first := k.shared.entry(c.IssuedAt, string(key))
	if e == nil {
		return k.Sign(c) // too many distinct tokens this second
	}
	if first {
		e.token, e.err = k.Sign(c)
		close(e.done)
	}
	<-e.done
	return e.token, e.err
}

// sharedMax bounds the tokens SignShared keeps for one second.
const sharedMax = 4096

type sharedTokens struct {
	mu     sync.Mutex
	second int64
	m      map[string]*sharedToken
}

type sharedToken struct {
	done  chan struct{} // closed once token and err are set
	token string
	err   error
}

// entry returns the token of key for second, and whether the caller is the first to ask (and
// must sign it); nil when the second holds too many.
func (t *sharedTokens) entry(second int64, key string) (*sharedToken, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || t.second != second {
		t.m, t.second = make(map[string]*sharedToken), second
	}
	if e, ok := t.m[key]; ok {
		return e, false
	}
	if len(t.m) >= sharedMax {
		return nil, false
	}
	e := &sharedToken{done: make(chan struct{})}
	t.m[key] = e
	return e, true
}

// Reasons a token is refused; Verify wraps one of them.
var (
	ErrMalformed = errors.New("token is malformed")
	ErrSignature = errors.New("token signature is invalid")
	ErrExpired   = errors.New("token has expired")
	ErrAudience  = errors.New("token audience is not accepted")
)

// Verify checks an access token's algorithm (RS256 only), signature, lifetime (with a little
// clock skew) and audience, which must equal one of audiences, with or without a trailing slash.
func (k *Keys) Verify(raw string, now time.Time, audiences ...string) (Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		return &k.Private.PublicKey, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(2*time.Minute),
		jwt.WithExpirationRequired(),
	)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return c, fmt.Errorf("%w: %v", ErrExpired, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return c, fmt.Errorf("%w: %v", ErrSignature, err)
	default:
		return c, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for _, a := range audiences {
		if strings.TrimSuffix(c.Audience, "/") == strings.TrimSuffix(a, "/") {
			return c, nil
		}
	}
	return c, fmt.Errorf("%w: %q", ErrAudience, c.Audience)
}

// Thumbprints returns a certificate's SHA-1 and SHA-256 digests.
func Thumbprints(der []byte) (sha1Sum, sha256Sum []byte) {
	a := sha1.Sum(der)
	b := sha256.Sum256(der)
	return a[:], b[:]
}

var _ crypto.Signer = (*rsa.PrivateKey)(nil)

// AppOnly returns the claims Entra ID puts in an app-only v1 access token for a service
// principal (an app registration or a managed identity): appidacr 2, no idtyp, the service
// principal's app roles and directory roles, iat and nbf backdated five minutes as Entra does.
func AppOnly(tenantID, appID, objectID, resource string, roles, wids []string, now time.Time, life time.Duration) Claims {
	return Claims{
		Audience:  resource,
		Issuer:    Issuer(tenantID),
		IssuedAt:  now.Add(-5 * time.Minute).Unix(),
		NotBefore: now.Add(-5 * time.Minute).Unix(),
		Expires:   now.Add(life).Unix(),
		TenantID:  tenantID,
		ObjectID:  objectID,
		Subject:   objectID,
		AppID:     appID,
		AppIDACR:  "2",
		Roles:     roles,
		WIDs:      wids,
		Version:   "1.0",
		UTI:       NewUTI(),
	}
}

// NewUTI is a token's unique id (uti).
func NewUTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
