package identity_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/identity"
	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

const (
	tenantID   = "7d3f1a52-0c8b-4e59-9f1e-2b6a9c4d1e01"
	tenantName = "contoso.onmicrosoft.com"
	appID      = "5b1e6f0c-3a2d-4c7e-8f9a-0d1c2b3a4e5f"
	spID       = "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4"
	exoRes     = "https://outlook.office365.com"
)

// testCert is a self-signed RSA certificate with its key.
type testCert struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func (c testCert) sha1() []byte   { s := sha1.Sum(c.cert.Raw); return s[:] }
func (c testCert) sha256() []byte { s := sha256.Sum256(c.cert.Raw); return s[:] }

var (
	certOnce  sync.Once
	certs     [3]testCert // registered, unregistered, expired-and-registered
	keysOnce  sync.Once
	emuKeys   *token.Keys
	errCreate error
)

func newCert(t *testing.T, cn string, notAfter time.Time) testCert {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{key: k, cert: c}
}

func testCerts(t *testing.T) [3]testCert {
	certOnce.Do(func() {
		certs[0] = newCert(t, "exoctl-test-app", time.Now().Add(365*24*time.Hour))
		certs[1] = newCert(t, "stranger", time.Now().Add(365*24*time.Hour))
		certs[2] = newCert(t, "expired", time.Now().Add(-time.Hour))
	})
	return certs
}

func testKeys(t *testing.T) *token.Keys {
	keysOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			errCreate = err
			return
		}
		emuKeys = token.NewKeys(k)
	})
	if errCreate != nil {
		t.Fatal(errCreate)
	}
	return emuKeys
}

// env is a running identity service on loopback TLS with a real store.
type env struct {
	ts     *httptest.Server
	base   string
	store  *store.SQLite
	keys   *token.Keys
	posts  atomic.Int64 // token endpoint calls
	skew   atomic.Int64 // nanoseconds the emulator's clock runs ahead
	certs  [3]testCert
	client *http.Client
}

func register(t *testing.T, st store.Store, c testCert) {
	t.Helper()
	if err := st.PutCertificate(context.Background(), store.Certificate{
		AppID:      appID,
		Thumbprint: strings.ToUpper(hex.EncodeToString(c.sha1())),
		SHA256:     strings.ToUpper(hex.EncodeToString(c.sha256())),
		DER:        c.cert.Raw,
		NotBefore:  c.cert.NotBefore,
		NotAfter:   c.cert.NotAfter,
	}); err != nil {
		t.Fatal(err)
	}
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvWith(t, nil) }

// newEnvWith is newEnv with the identity Config adjusted by tune (nil for none).
func newEnvWith(t *testing.T, tune func(*identity.Config)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "emulator.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutTenant(ctx, store.Tenant{ID: tenantID, Name: tenantName, DisplayName: "Contoso", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAcceptedDomain(ctx, store.AcceptedDomain{TenantID: tenantID, GUID: uuid.NewString(), Name: "contoso.com",
		DomainName: "contoso.com", DomainType: "Authoritative", WhenCreated: time.Now(), WhenChanged: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutApp(ctx, store.App{TenantID: tenantID, AppID: appID, ObjectID: spID, DisplayName: "exoctl test",
		AppRoles: []string{store.AppRoleManageAsApp}, DirectoryRoles: []string{store.RoleExchangeAdministrator}}); err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, keys: testKeys(t), certs: testCerts(t)}
	register(t, st, e.certs[0])
	register(t, st, e.certs[2])

	var h http.Handler
	e.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
			e.posts.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.ts.Close)
	if !strings.HasPrefix(e.ts.URL, "https://127.0.0.1:") {
		t.Fatalf("test server is not on loopback: %s", e.ts.URL)
	}
	e.base = e.ts.URL
	cfg := identity.Config{
		Store:     st,
		Keys:      e.keys,
		BaseURL:   e.base,
		Resources: []string{e.base, exoRes, "https://ps.compliance.protection.outlook.com", "00000002-0000-0ff1-ce00-000000000000"},
		Now:       func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) },
	}
	if tune != nil {
		tune(&cfg)
	}
	h = identity.New(cfg)
	e.client = e.ts.Client()
	return e
}

// assertionSpec describes a hand-built client assertion; zero fields take valid defaults.
type assertionSpec struct {
	alg      string // PS256 (default) or RS256
	cert     *testCert
	signWith *rsa.PrivateKey
	header   map[string]any // replaces the thumbprint headers when set
	claims   jwt.MapClaims  // merged over the defaults; a nil value deletes a claim
}

func (e *env) assertion(t *testing.T, sp assertionSpec) string {
	t.Helper()
	c := e.certs[0]
	if sp.cert != nil {
		c = *sp.cert
	}
	alg := sp.alg
	if alg == "" {
		alg = "PS256"
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"aud": e.base + "/" + tenantID + "/oauth2/v2.0/token",
		"iss": appID, "sub": appID, "jti": uuid.NewString(),
		"nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	for k, v := range sp.claims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	var m jwt.SigningMethod = jwt.SigningMethodPS256
	if alg == "RS256" {
		m = jwt.SigningMethodRS256
	}
	tok := jwt.NewWithClaims(m, claims)
	tok.Header = map[string]any{"alg": alg, "typ": "JWT"}
	if sp.header != nil {
		for k, v := range sp.header {
			tok.Header[k] = v
		}
	} else if alg == "RS256" {
		tok.Header["x5t"] = base64.RawURLEncoding.EncodeToString(c.sha1())
	} else {
		tok.Header["x5t#S256"] = base64.StdEncoding.EncodeToString(c.sha256())
	}
	key := c.key
	if sp.signWith != nil {
		key = sp.signWith
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// entraError is Entra's error answer.
type entraError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
}

// post sends a form to path and decodes the JSON answer into out.
func (e *env) post(t *testing.T, path string, form url.Values, out any) int {
	t.Helper()
	resp, err := e.client.PostForm(e.base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("decode %s answer: %v", path, err)
	}
	return resp.StatusCode
}

func (e *env) get(t *testing.T, path string, out any) int {
	t.Helper()
	resp, err := e.client.Get(e.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("decode %s answer: %v", path, err)
	}
	return resp.StatusCode
}

func ccForm(assertion, scope string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {appID},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
		"scope":                 {scope},
		"client_info":           {"1"},
	}
}

// checkAppToken verifies an access token and its app-only claims.
func (e *env) checkAppToken(t *testing.T, at, aud string) token.Claims {
	t.Helper()
	c, err := e.keys.Verify(at, time.Now(), aud)
	if err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	if c.Issuer != "https://sts.windows.net/"+tenantID+"/" || c.TenantID != tenantID || c.AppID != appID ||
		c.ObjectID != spID || c.Subject != spID || c.AppIDACR != "2" || c.Version != "1.0" || c.UTI == "" {
		t.Errorf("claims = %+v", c)
	}
	if len(c.Roles) != 1 || c.Roles[0] != "Exchange.ManageAsApp" {
		t.Errorf("roles = %v", c.Roles)
	}
	if len(c.WIDs) != 1 || c.WIDs[0] != store.RoleExchangeAdministrator {
		t.Errorf("wids = %v", c.WIDs)
	}
	if !c.AppOnly() {
		t.Error("token is not app-only")
	}
	if c.Expires-time.Now().Unix() < 3000 {
		t.Errorf("exp %d too soon", c.Expires)
	}
	return c
}
