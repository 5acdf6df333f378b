package identity

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// assertionType is the only client_assertion_type Entra accepts.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionSkew is the clock skew allowed on a client assertion's exp and nbf.
const assertionSkew = 5 * time.Minute

// assertionHeader is the part of a client assertion's JOSE header the emulator reads.
type assertionHeader struct {
	Alg       string   `json:"alg"`
	X5t       string   `json:"x5t"`
	X5tS256   string   `json:"x5t#S256"`
	Kid       string   `json:"kid"`
	X5c       []string `json:"x5c"`
	RawHeader string   `json:"-"`
}

// decodeThumbprint reads a certificate thumbprint in any encoding clients use: standard base64
// with padding (MSAL Go), base64url without padding (MSAL Node, ADAL), or hex.
func decodeThumbprint(s string) []byte {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if len(s) == 40 || len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b
		}
	}
	t := strings.TrimRight(s, "=")
	t = strings.NewReplacer("-", "+", "_", "/").Replace(t)
	b, err := base64.RawStdEncoding.DecodeString(t)
	if err != nil {
		return nil
	}
	return b
}

// verifyAssertion checks a certificate client assertion for app in tenant t against the app's
// registered certificates, as PROTOCOL.md §5 lists: PS256 with x5t#S256 or RS256 with x5t, in
// either base64 encoding, optional x5c; aud = a token endpoint of this tenant; iss = sub =
// client id; exp/nbf; a jti (reusable until exp, as Entra allows).
func (s *Server) verifyAssertion(ctx context.Context, raw string, app store.App, ref tenantRef) *aadError {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return newErr(http.StatusUnauthorized, "invalid_client", 50027,
			"JWT token is invalid or malformed. The client_assertion must be a signed JWT (header.payload.signature).")
	}
	hb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	var h assertionHeader
	if err == nil {
		err = json.Unmarshal(hb, &h)
	}
	if err != nil {
		return newErr(http.StatusUnauthorized, "invalid_client", 50027,
			"JWT token is invalid or malformed. The client_assertion's header is not base64url JSON.")
	}
	switch h.Alg {
	case "PS256", "RS256":
	default:
		return errBadAssertion("The signing algorithm '%s' is not supported. Sign the assertion with PS256 (x5t#S256 header) or RS256 (x5t header) and the application's certificate key.", h.Alg)
	}

	certs, err := s.cfg.Store.Certificates(ctx, app.AppID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return errServer(err)
	}
	cert, tpHex, aerr := pickCertificate(h, certs, app.AppID)
	if aerr != nil {
		return aerr
	}
	now := s.now()
	if !cert.NotAfter.IsZero() && now.After(cert.NotAfter) {
		return errBadAssertion("The key used is expired., Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s'. Upload a new certificate to app '%s' and sign with it.",
			tpHex, keyDate(cert.NotBefore), keyDate(cert.NotAfter), app.AppID)
	}
	pub, err := certificateKey(cert.DER)
	if err != nil {
		return errServer(fmt.Errorf("registered certificate %s: %w", tpHex, err))
	}
	if pub == nil {
		return errBadAssertion("The key is not an RSA key. Register an RSA certificate on app '%s'.", app.AppID)
	}

	var claims jwt.MapClaims
	_, err = jwt.NewParser(jwt.WithValidMethods([]string{"PS256", "RS256"}), jwt.WithoutClaimsValidation(), jwt.WithJSONNumber()).
		ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return pub, nil })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenMalformed) {
			s.log.DebugContext(ctx, "identity: malformed client assertion", "err", err)
			return newErr(http.StatusUnauthorized, "invalid_client", 50027,
				"JWT token is invalid or malformed. Send a compact JWS (header.payload.signature, base64url) signed with the app's certificate.")
		}
		return errBadAssertion("The provided signature value did not match the expected signature value., Thumbprint of key used by client: '%s'. Sign the assertion with the private key of that certificate.", tpHex)
	}

	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if !strings.EqualFold(iss, app.AppID) || !strings.EqualFold(sub, app.AppID) {
		return errAssertionIssuer(app.AppID, iss, sub)
	}
	if aerr := s.checkAudience(ctx, claims["aud"], ref); aerr != nil {
		return aerr
	}
	exp, expOK := numericClaim(claims["exp"])
	nbf, _ := numericClaim(claims["nbf"])
	if !expOK {
		return newErr(http.StatusUnauthorized, "invalid_client", 90014,
			"The required field 'exp' is missing from the credential. Ensure that you have all the necessary parameters for the login request.")
	}
	if now.After(exp.Add(assertionSkew)) || (!nbf.IsZero() && nbf.After(now.Add(assertionSkew))) {
		return errAssertionTime(now, nbf, exp)
	}
	// jti is required but not single-use: Entra accepts an assertion again until it expires, and
	// MSAL Python (about 9 minutes) and MSAL Node (until exp) send the same one for every scope.
	if jti, _ := claims["jti"].(string); jti == "" {
		return newErr(http.StatusUnauthorized, "invalid_client", 90014,
			"The required field 'jti' is missing from the credential. Give every client assertion a unique jti.")
	}
	return nil
}

// pickCertificate finds the registered certificate the assertion header names, by x5t#S256,
// x5t, kid (a thumbprint) or the first x5c entry. With x5c, its first certificate must be the
// one the thumbprint names.
func pickCertificate(h assertionHeader, certs []store.Certificate, appID string) (store.Certificate, string, *aadError) {
	type want struct {
		sum  []byte
		s256 bool
	}
	var wants []want
	if b := decodeThumbprint(h.X5tS256); b != nil {
		wants = append(wants, want{b, true})
	}
	if b := decodeThumbprint(h.X5t); b != nil {
		wants = append(wants, want{b, false})
	}
	if b := decodeThumbprint(h.Kid); len(b) == sha1.Size || len(b) == sha256.Size {
		wants = append(wants, want{b, len(b) == sha256.Size})
	}
	var x5c []byte
	if len(h.X5c) > 0 {
		der, err := base64.StdEncoding.DecodeString(h.X5c[0])
		if err != nil {
			der, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(h.X5c[0], "="))
		}
		if err != nil {
			return store.Certificate{}, "", errBadAssertion("The x5c header is not base64 DER certificates. Send the certificate chain as standard base64, leaf first.")
		}
		x5c = der
		if len(wants) == 0 {
			s := sha256.Sum256(der)
			wants = append(wants, want{s[:], true})
		}
	}
	if len(wants) == 0 {
		return store.Certificate{}, "", errBadAssertion("The client assertion names no key. Put the certificate's thumbprint in the x5t#S256 (SHA-256) or x5t (SHA-1) header.")
	}
	tp := strings.ToUpper(hex.EncodeToString(wants[0].sum))
	for _, w := range wants {
		for _, c := range certs {
			s1 := sha1.Sum(c.DER)
			s2 := sha256.Sum256(c.DER)
			sum := s1[:]
			if w.s256 {
				sum = s2[:]
			}
			if string(sum) != string(w.sum) {
				continue
			}
			if x5c != nil && string(x5c) != string(c.DER) {
				return store.Certificate{}, tp, errBadAssertion("The first x5c certificate is not the certificate with thumbprint '%s'. Send the signing certificate first in x5c.", tp)
			}
			return c, tp, nil
		}
	}
	return store.Certificate{}, tp, errBadAssertion("The key was not found., Thumbprint of key used by client: '%s'. The certificate is not registered on app '%s': upload its public certificate to the app registration, or sign with a certificate that is (the emulator's apps and their certificate files are listed in its emulator.json; exoctl connect --emulator uses them).", tp, appID)
}

// checkAudience accepts the token endpoint URLs of this tenant, v1 or v2, by tenant id, initial
// domain, any accepted domain or the segment the request used.
func (s *Server) checkAudience(ctx context.Context, aud any, ref tenantRef) *aadError {
	var auds []string
	switch v := aud.(type) {
	case string:
		auds = []string{v}
	case []any:
		for _, a := range v {
			if s, ok := a.(string); ok {
				auds = append(auds, s)
			}
		}
	}
	want := s.tokenEndpoints(ref)
	for _, a := range auds {
		a = strings.TrimSuffix(strings.TrimSpace(a), "/")
		for _, w := range want {
			if strings.EqualFold(a, w) {
				return nil
			}
		}
		if s.sameTenantEndpoint(ctx, a, ref) {
			return nil
		}
	}
	return errAssertionAudience(strings.Join(auds, " "), want)
}

// sameTenantEndpoint reports whether aud is this emulator's token endpoint (v1 or v2) under
// another name of the request's tenant, such as an accepted domain.
func (s *Server) sameTenantEndpoint(ctx context.Context, aud string, ref tenantRef) bool {
	if ref.Meta || len(aud) <= len(s.base)+1 || !strings.EqualFold(aud[:len(s.base)+1], s.base+"/") {
		return false
	}
	rest := aud[len(s.base)+1:]
	i := strings.IndexByte(rest, '/')
	if i <= 0 {
		return false
	}
	switch strings.ToLower(rest[i:]) {
	case "/oauth2/v2.0/token", "/oauth2/token":
	default:
		return false
	}
	t, err := s.cfg.Store.Tenant(ctx, rest[:i])
	return err == nil && t.ID == ref.Tenant.ID
}

func (s *Server) tokenEndpoints(ref tenantRef) []string {
	segs := []string{ref.Segment}
	if !ref.Meta {
		segs = []string{ref.Tenant.ID, ref.Tenant.Name, ref.Segment}
	}
	var out []string
	for _, seg := range segs {
		out = append(out, s.base+"/"+seg+"/oauth2/v2.0/token", s.base+"/"+seg+"/oauth2/token")
	}
	return out
}

// keyDate formats a key credential's start or end as Entra's AADSTS700027 does.
func keyDate(t time.Time) string {
	if t.IsZero() {
		return "(not set)"
	}
	return t.UTC().Format("01/02/2006 15:04:05")
}

func numericClaim(v any) (time.Time, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(int64(f), 0), true
	case float64:
		return time.Unix(int64(n), 0), true
	}
	return time.Time{}, false
}

// certKeys are the public keys of the registered certificates parsed so far, by DER: a
// certificate is parsed once, not on every assertion signed with it (its validity and
// thumbprint are still checked on each).
var certKeys struct {
	sync.Mutex
	m map[string]*rsa.PublicKey
}

// maxCertKeys bounds certKeys; certificates beyond it are parsed each time.
const maxCertKeys = 1024

// certificateKey returns a DER certificate's RSA public key, nil when it holds another kind.
func certificateKey(der []byte) (*rsa.PublicKey, error) {
	certKeys.Lock()
	pub, ok := certKeys.m[string(der)]
	certKeys.Unlock()
	if ok {
		return pub, nil
	}
	x, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pub, _ = x.PublicKey.(*rsa.PublicKey)
	certKeys.Lock()
	if certKeys.m == nil {
		certKeys.m = map[string]*rsa.PublicKey{}
	}
	if len(certKeys.m) < maxCertKeys {
		certKeys.m[string(der)] = pub
	}
	certKeys.Unlock()
	return pub, nil
}
