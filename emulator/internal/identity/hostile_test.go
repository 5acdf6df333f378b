package identity_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/exoctl/exoctl/emulator/internal/identity"
)

// internalWords are what an answer must never show: the store's, the decoder's and the
// runtime's own words.
var internalWords = []string{"sql", "sqlite", "runtime error", "panic", "goroutine", "json: ", "go struct",
	"invalid memory", "nil pointer", "modernc", ".go:", "crypto/", "token is malformed", "token signature is invalid",
	"http: ", "invalid url escape"}

// tokenCase is one request to the token (or device code) endpoint.
type tokenCase struct {
	name, method, path, contentType, body string
}

func hostileTokenCases(e *env, t *testing.T) []tokenCase {
	v2 := "/" + tenantName + "/oauth2/v2.0/token"
	var cases []tokenCase
	form := func(name, path string, f url.Values) {
		cases = append(cases, tokenCase{name, "POST", path, "application/x-www-form-urlencoded", f.Encode()})
	}
	with := func(f url.Values, kv ...string) url.Values {
		g := url.Values{}
		for k, v := range f {
			g[k] = append([]string(nil), v...)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "\x00delete" {
				g.Del(kv[i])
			} else {
				g.Set(kv[i], kv[i+1])
			}
		}
		return g
	}
	cc := ccForm(e.assertion(t, assertionSpec{}), exoRes+"/.default")
	ropc := ropcForm(adminUPN, "wrong-password")
	long := strings.Repeat("a", 200_000)

	// Grant types.
	for _, g := range []string{"", "unknown", "CLIENT_CREDENTIALS", "client_credentials ", "implicit", "\x00", long,
		"urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:saml2-bearer", "password\x00"} {
		form("grant "+g[:min(len(g), 20)], v2, with(cc, "grant_type", g))
	}
	// Client ids.
	for _, id := range []string{"", "not-a-guid", "00000000-0000-0000-0000-000000000000", "' OR '1'='1", "\x00", long,
		strings.ToUpper(identity.ModuleAppID) + "\x00", "%", "*", "../../etc/passwd"} {
		form("client_id "+id[:min(len(id), 20)], v2, with(cc, "client_id", id))
		form("ropc client_id "+id[:min(len(id), 20)], v2, with(ropc, "client_id", id))
	}
	// Scopes.
	for _, sc := range []string{"", " ", "/.default", ".default", "https://evil.example/.default", "openid", "openid profile offline_access",
		exoRes + "/.default " + exoRes + "/.default", exoRes + "/.default\x00", strings.Repeat(exoRes+"/x ", 5000), "%00",
		exoRes + "/AdminApi.AccessAsUser.All", "https://graph.microsoft.com/.default", exoRes + "//.default", exoRes + "/.DEFAULT"} {
		form("cc scope "+sc[:min(len(sc), 30)], v2, with(cc, "scope", sc))
		form("ropc scope "+sc[:min(len(sc), 30)], v2, with(ropc, "scope", sc))
	}
	// The v1 endpoint gets the same grant types and resources.
	v1 := "/" + tenantName + "/oauth2/token"
	for _, g := range []string{"", "unknown", "client_credentials ", "\x00", "implicit"} {
		form("v1 grant "+g, v1, with(cc, "grant_type", g, "scope", "\x00delete", "resource", exoRes))
	}
	for _, res := range []string{"", " ", "https://evil.example", exoRes + "/.default", "\x00", long, "00000002-0000-0ff1-ce00-000000000000 "} {
		form("v1 cc resource "+res[:min(len(res), 20)], v1, with(cc, "scope", "\x00delete", "resource", res))
		form("v1 ropc resource "+res[:min(len(res), 20)], v1, with(ropc, "scope", "\x00delete", "resource", res))
	}
	// Client assertions.
	now := time.Now()
	for k, a := range map[string]string{
		"empty": "", "garbage": "garbage", "two parts": "a.b", "four parts": "a.b.c.d", "alg none": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJ4In0.",
		"huge":           long,
		"HS256":          hs256(t, e.base+"/"+tenantID+"/oauth2/v2.0/token"),
		"expired":        e.assertion(t, assertionSpec{claims: jwt.MapClaims{"exp": now.Add(-time.Hour).Unix(), "nbf": now.Add(-2 * time.Hour).Unix()}}),
		"future":         e.assertion(t, assertionSpec{claims: jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()}}),
		"no exp":         e.assertion(t, assertionSpec{claims: jwt.MapClaims{"exp": nil}}),
		"exp string":     e.assertion(t, assertionSpec{claims: jwt.MapClaims{"exp": "tomorrow"}}),
		"wrong aud":      e.assertion(t, assertionSpec{claims: jwt.MapClaims{"aud": "https://evil.example/token"}}),
		"aud array junk": e.assertion(t, assertionSpec{claims: jwt.MapClaims{"aud": []any{1, nil}}}),
		"wrong iss":      e.assertion(t, assertionSpec{claims: jwt.MapClaims{"iss": "someone"}}),
		"no jti":         e.assertion(t, assertionSpec{claims: jwt.MapClaims{"jti": nil}}),
		"unregistered":   e.assertion(t, assertionSpec{cert: &e.certs[1]}),
		"wrong key":      e.assertion(t, assertionSpec{signWith: e.certs[1].key}),
		"expired cert":   e.assertion(t, assertionSpec{cert: &e.certs[2]}),
		"x5t junk":       e.assertion(t, assertionSpec{header: map[string]any{"x5t#S256": "!!!"}}),
		"x5t number":     e.assertion(t, assertionSpec{header: map[string]any{"x5t": 5}}),
		"x5c junk":       e.assertion(t, assertionSpec{header: map[string]any{"x5c": []any{"!!!", 5}}}),
		"x5c string":     e.assertion(t, assertionSpec{header: map[string]any{"x5c": "abc"}}),
		"no thumbprint":  e.assertion(t, assertionSpec{header: map[string]any{}}),
		"kid junk":       e.assertion(t, assertionSpec{header: map[string]any{"kid": strings.Repeat("Z", 1000)}}),
	} {
		form("assertion "+k, v2, with(cc, "client_assertion", a))
	}
	good := strings.Split(e.assertion(t, assertionSpec{}), ".")
	form("assertion payload junk", v2, with(cc, "client_assertion", good[0]+".!!!."+good[2]))
	form("assertion payload not JSON", v2, with(cc, "client_assertion", good[0]+".bm90IGpzb24."+good[2]))
	form("assertion signature junk", v2, with(cc, "client_assertion", good[0]+"."+good[1]+".!!!"))
	form("assertion type junk", v2, with(cc, "client_assertion_type", "urn:evil"))
	form("assertion type missing", v2, with(cc, "client_assertion_type", "\x00delete"))
	form("client secret", v2, with(cc, "client_secret", "s3cret", "client_assertion", "\x00delete"))
	form("secret and assertion", v2, with(cc, "client_secret", "s3cret"))
	// Users and passwords.
	for _, u := range []string{"", "@", "a@b@c", "noat", "\x00@contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com\x00",
		"' OR '1'='1@contoso.onmicrosoft.com", strings.Repeat("u", 100000) + "@contoso.onmicrosoft.com", "ADMIN@CONTOSO.ONMICROSOFT.COM ",
		"admin@nosuch.example", "admin@%00", "disabled@contoso.onmicrosoft.com", "mfa@contoso.onmicrosoft.com", "mfanew@contoso.onmicrosoft.com"} {
		form("username "+u[:min(len(u), 30)], "/organizations/oauth2/v2.0/token", with(ropc, "username", u))
	}
	for _, p := range []string{"", adminPass + "\x00", "\x00", long, "' OR '1'='1", adminPass[:len(adminPass)-1], "%s%s%n"} {
		form(fmt.Sprintf("password %.20q", p), v2, with(ropc, "password", p))
	}
	// Refresh tokens, codes and device codes.
	for k, rt := range map[string]string{"empty": "", "garbage": "garbage", "alg none": "eyJhbGciOiJub25lIn0.eyJvaWQiOiJ4In0.",
		"HS256": hs256(t, "urn:exoctl:emulator:refresh_token"), "huge": long, "access token as refresh": e.assertion(t, assertionSpec{})} {
		form("refresh "+k, v2, url.Values{"grant_type": {"refresh_token"}, "client_id": {identity.ModuleAppID}, "refresh_token": {rt}, "scope": {exoRes + "/.default"}})
	}
	for k, code := range map[string]string{"empty": "", "garbage": "garbage", "prefix": "0.emu.", "huge": long, "NUL": "\x00"} {
		form("auth code "+k, v2, url.Values{"grant_type": {"authorization_code"}, "client_id": {identity.ModuleAppID}, "code": {code},
			"redirect_uri": {"http://localhost"}, "code_verifier": {"x"}, "scope": {exoRes + "/.default"}})
		form("device code "+k, v2, url.Values{"grant_type": {"device_code"}, "client_id": {identity.ModuleAppID}, "device_code": {code}})
		form("device code urn "+k, v2, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {identity.ModuleAppID}, "device_code": {code}})
	}
	for k, f := range map[string]url.Values{
		"no client": {"scope": {exoRes + "/.default"}}, "scope junk": {"client_id": {identity.ModuleAppID}, "scope": {"\x00"}},
		"unknown app":    {"client_id": {"11111111-1111-1111-1111-111111111111"}, "scope": {exoRes + "/.default"}},
		"v1 no resource": {"client_id": {identity.ModuleAppID}},
	} {
		form("devicecode endpoint "+k, "/organizations/oauth2/v2.0/devicecode", f)
	}
	// Duplicates, bodies, methods, content types, paths.
	dup := with(cc)
	dup["scope"] = []string{exoRes + "/.default", "https://evil.example/.default"}
	form("duplicated scope", v2, dup)
	dup2 := with(ropc)
	dup2["grant_type"] = []string{"password", "client_credentials"}
	form("duplicated grant", v2, dup2)
	for _, c := range []tokenCase{
		{"json body", "POST", v2, "application/json", `{"grant_type":"client_credentials"}`},
		{"multipart", "POST", v2, "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword\r\n--x--"},
		{"no content type", "POST", v2, "", cc.Encode()},
		{"text/plain", "POST", v2, "text/plain", cc.Encode()},
		{"bad escape", "POST", v2, "application/x-www-form-urlencoded", "grant_type=%zz&client_id=%"},
		{"semicolons", "POST", v2, "application/x-www-form-urlencoded", "grant_type=password;client_id=x"},
		{"body over 1 MiB", "POST", v2, "application/x-www-form-urlencoded", "a=" + strings.Repeat("b", 2<<20)},
		{"empty body", "POST", v2, "application/x-www-form-urlencoded", ""},
		{"GET", "GET", v2 + "?" + cc.Encode(), "", ""},
		{"PUT", "PUT", v2, "application/x-www-form-urlencoded", cc.Encode()},
		{"DELETE", "DELETE", v2, "", ""},
		{"tenant NUL", "POST", "/con%00toso/oauth2/v2.0/token", "application/x-www-form-urlencoded", cc.Encode()},
		{"tenant CRLF", "POST", "/a%0D%0AX-Evil:%201/oauth2/v2.0/token", "application/x-www-form-urlencoded", cc.Encode()},
		{"tenant long", "POST", "/" + strings.Repeat("t", 8000) + "/oauth2/v2.0/token", "application/x-www-form-urlencoded", cc.Encode()},
		{"tenant unknown", "POST", "/nosuch.example/oauth2/v2.0/token", "application/x-www-form-urlencoded", cc.Encode()},
		{"tenant common app-only", "POST", "/common/oauth2/v2.0/token", "application/x-www-form-urlencoded", cc.Encode()},
		{"tenant zero guid", "POST", "/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token", "application/x-www-form-urlencoded", cc.Encode()},
		{"v1 endpoint no resource", "POST", "/" + tenantName + "/oauth2/token", "application/x-www-form-urlencoded", with(cc, "scope", "\x00delete").Encode()},
		{"v1 endpoint resource junk", "POST", "/" + tenantName + "/oauth2/token", "application/x-www-form-urlencoded", with(cc, "resource", "\x00").Encode()},
		{"query duplicates", "POST", v2 + "?client-request-id=a&client-request-id=b&client-request-id=%00", "application/x-www-form-urlencoded", ropc.Encode()},
	} {
		cases = append(cases, c)
	}
	return cases
}

// TestHostileTokenEndpoint sends the token and device code endpoints what an attacker or a
// broken client could. Every answer must be Entra's: no 5xx, JSON with error, error_codes and
// an AADSTS description when it is a refusal, no internal text, no control byte in a header.
func TestHostileTokenEndpoint(t *testing.T) {
	e := newEnvWith(t, func(c *identity.Config) { c.LockoutThreshold = 1000 })
	e.addUsers(t)
	cases := hostileTokenCases(e, t)
	failed := 0
	for _, tc := range cases {
		req, err := http.NewRequest(tc.method, e.base+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if why := tokenHeld(resp, raw); why != "" {
			failed++
			t.Errorf("%s: %s\n%.300s", tc.name, why, raw)
		}
	}
	t.Logf("token endpoint hostile cases: %d tried, %d held", len(cases), len(cases)-failed)
	var ok map[string]any
	if status := e.post(t, "/"+tenantName+"/oauth2/v2.0/token", ropcForm(adminUPN, adminPass), &ok); status != http.StatusOK {
		t.Errorf("after the hostile requests: %d %v", status, ok)
	}
}

// tokenHeld reports why an answer is not one Entra could give, or "".
func tokenHeld(resp *http.Response, raw []byte) string {
	if resp.StatusCode >= 500 {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			if strings.ContainsFunc(v, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }) {
				return fmt.Sprintf("control byte in header %s: %q", k, v)
			}
		}
	}
	// A success carries tokens, whose base64 may spell anything.
	for _, w := range internalWords {
		if resp.StatusCode != http.StatusOK && strings.Contains(strings.ToLower(string(raw)), w) {
			return fmt.Sprintf("internal text %q", w)
		}
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return "Content-Type " + resp.Header.Get("Content-Type")
	}
	var out entraError
	if err := json.Unmarshal(raw, &out); err != nil {
		return "not JSON"
	}
	if resp.StatusCode != http.StatusOK && (out.Error == "" || len(out.Codes) == 0 || !strings.HasPrefix(out.Description, "AADSTS")) {
		return "not Entra's error shape"
	}
	return ""
}
