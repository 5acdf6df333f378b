package identity_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Every assertion form of PROTOCOL.md §5 is accepted.
func TestClientAssertionForms(t *testing.T) {
	e := newEnv(t)
	c := e.certs[0]
	v1aud := e.base + "/" + tenantName + "/oauth2/token"
	for _, tc := range []struct {
		name string
		sp   assertionSpec
		path string
	}{
		{"PS256 x5t#S256 std base64 padded (MSAL Go)", assertionSpec{}, "/" + tenantID + "/oauth2/v2.0/token"},
		{"PS256 x5t#S256 base64url unpadded (MSAL Node)", assertionSpec{header: map[string]any{
			"x5t#S256": base64.RawURLEncoding.EncodeToString(c.sha256())}}, "/" + tenantID + "/oauth2/v2.0/token"},
		{"RS256 x5t SHA-1 base64url", assertionSpec{alg: "RS256"}, "/" + tenantID + "/oauth2/v2.0/token"},
		{"RS256 x5t SHA-1 std base64", assertionSpec{alg: "RS256", header: map[string]any{
			"x5t": base64.StdEncoding.EncodeToString(c.sha1())}}, "/" + tenantID + "/oauth2/v2.0/token"},
		{"PS256 with x5c", assertionSpec{header: map[string]any{
			"x5t#S256": base64.StdEncoding.EncodeToString(c.sha256()),
			"x5c":      []string{base64.StdEncoding.EncodeToString(c.cert.Raw)}}}, "/" + tenantID + "/oauth2/v2.0/token"},
		{"RS256 with x5c only", assertionSpec{alg: "RS256", header: map[string]any{
			"x5c": []string{base64.StdEncoding.EncodeToString(c.cert.Raw)}}}, "/" + tenantID + "/oauth2/v2.0/token"},
		{"kid as hex thumbprint", assertionSpec{header: map[string]any{
			"kid": strings.ToUpper(hex.EncodeToString(c.sha1()))}}, "/" + tenantID + "/oauth2/v2.0/token"},
		{"iat and aud by domain (Node)", assertionSpec{claims: jwt.MapClaims{"iat": time.Now().Unix(),
			"aud": e.base + "/contoso.com/oauth2/v2.0/token"}}, "/contoso.com/oauth2/v2.0/token"},
		{"aud by accepted domain, request by tenant id", assertionSpec{claims: jwt.MapClaims{
			"aud": e.base + "/CONTOSO.COM/oauth2/token"}}, "/" + tenantID + "/oauth2/v2.0/token"},
		{"aud as array", assertionSpec{claims: jwt.MapClaims{"aud": []string{e.base + "/" + tenantID + "/oauth2/v2.0/token"}}},
			"/" + tenantID + "/oauth2/v2.0/token"},
		{"upper-case client id in iss/sub", assertionSpec{claims: jwt.MapClaims{"iss": strings.ToUpper(appID), "sub": strings.ToUpper(appID)}},
			"/" + tenantID + "/oauth2/v2.0/token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out map[string]any
			status := e.post(t, tc.path, ccForm(e.assertion(t, tc.sp), exoRes+"/.default openid offline_access profile"), &out)
			if status != http.StatusOK {
				t.Fatalf("status %d: %v", status, out)
			}
			if out["token_type"] != "Bearer" || out["expires_in"].(float64) <= 300 || out["ext_expires_in"] == nil {
				t.Errorf("answer = %v", out)
			}
			if _, ok := out["refresh_token"]; ok {
				t.Error("client credentials answer carries a refresh_token")
			}
			e.checkAppToken(t, out["access_token"].(string), exoRes)
		})
	}

	t.Run("v1 endpoint with resource=", func(t *testing.T) {
		f := ccForm(e.assertion(t, assertionSpec{claims: jwt.MapClaims{"aud": v1aud}}), "")
		f.Del("scope")
		f.Set("resource", exoRes+"/")
		var out map[string]any
		if status := e.post(t, "/"+tenantName+"/oauth2/token", f, &out); status != http.StatusOK {
			t.Fatalf("status %d: %v", status, out)
		}
		if out["expires_in"] != "3600" || out["resource"] != exoRes || out["expires_on"] == nil || out["not_before"] == nil {
			t.Errorf("v1 answer = %v", out)
		}
		e.checkAppToken(t, out["access_token"].(string), exoRes)
	})

	t.Run("Node style query and extra fields", func(t *testing.T) {
		f := ccForm(e.assertion(t, assertionSpec{}), "00000002-0000-0ff1-ce00-000000000000/.default")
		f.Set("x-client-SKU", "msal.js.node")
		f.Set("x-client-VER", "2.16.0")
		f.Set("x-client-OS", "linux")
		f.Set("x-ms-lib-capability", "retry-after, h429")
		f.Set("x-client-current-telemetry", "5|771,2,,,|@azure/msal-node,2.16.0")
		var out map[string]any
		if status := e.post(t, "/"+tenantID+"/oauth2/v2.0/token?client-request-id="+uuid.NewString(), f, &out); status != http.StatusOK {
			t.Fatalf("status %d: %v", status, out)
		}
		e.checkAppToken(t, out["access_token"].(string), "00000002-0000-0ff1-ce00-000000000000")
	})

	t.Run("emulator's own base as resource", func(t *testing.T) {
		var out map[string]any
		if status := e.post(t, "/"+tenantID+"/oauth2/v2.0/token", ccForm(e.assertion(t, assertionSpec{}), e.base+"/.default"), &out); status != http.StatusOK {
			t.Fatalf("status %d: %v", status, out)
		}
		e.checkAppToken(t, out["access_token"].(string), e.base)
	})
}

var traceSuffix = regexp.MustCompile(`\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)

// Bad requests get Entra's error answer with the real AADSTS code and HTTP status.
func TestClientCredentialsErrors(t *testing.T) {
	e := newEnv(t)
	other := e.certs[1]
	expired := e.certs[2]
	v2 := "/" + tenantID + "/oauth2/v2.0/token"
	scope := exoRes + "/.default"
	noneTok := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		p := base64.RawURLEncoding.EncodeToString([]byte(`{"aud":"` + e.base + v2 + `","iss":"` + appID + `","sub":"` + appID +
			`","jti":"` + uuid.NewString() + `","exp":` + jsonInt(time.Now().Add(time.Minute).Unix()) + `}`))
		return h + "." + p + "."
	}()

	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		status int
		err    string
		code   int
	}{
		{"unknown certificate", v2, ccForm(e.assertion(t, assertionSpec{cert: &other}), scope), 401, "invalid_client", 700027},
		{"wrong thumbprint", v2, ccForm(e.assertion(t, assertionSpec{header: map[string]any{
			"x5t#S256": base64.StdEncoding.EncodeToString(other.sha256())}}), scope), 401, "invalid_client", 700027},
		{"x5c not the thumbprint's certificate", v2, ccForm(e.assertion(t, assertionSpec{header: map[string]any{
			"x5t#S256": base64.StdEncoding.EncodeToString(e.certs[0].sha256()),
			"x5c":      []string{base64.StdEncoding.EncodeToString(other.cert.Raw)}}}), scope), 401, "invalid_client", 700027},
		{"bad signature", v2, ccForm(e.assertion(t, assertionSpec{signWith: other.key}), scope), 401, "invalid_client", 700027},
		{"alg none", v2, ccForm(noneTok, scope), 401, "invalid_client", 700027},
		{"HS256", v2, ccForm(hs256(t, e.base+v2), scope), 401, "invalid_client", 700027},
		{"expired certificate", v2, ccForm(e.assertion(t, assertionSpec{cert: &expired}), scope), 401, "invalid_client", 700027},
		{"expired assertion", v2, ccForm(e.assertion(t, assertionSpec{claims: jwt.MapClaims{
			"nbf": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()}}), scope), 401, "invalid_client", 700024},
		{"assertion from the future", v2, ccForm(e.assertion(t, assertionSpec{claims: jwt.MapClaims{
			"nbf": time.Now().Add(time.Hour).Unix(), "exp": time.Now().Add(2 * time.Hour).Unix()}}), scope), 401, "invalid_client", 700024},
		{"wrong aud", v2, ccForm(e.assertion(t, assertionSpec{claims: jwt.MapClaims{
			"aud": "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token"}}), scope), 401, "invalid_client", 700023},
		{"aud of another tenant", v2, ccForm(e.assertion(t, assertionSpec{claims: jwt.MapClaims{
			"aud": e.base + "/fabrikam.onmicrosoft.com/oauth2/v2.0/token"}}), scope), 401, "invalid_client", 700023},
		{"iss != sub", v2, ccForm(e.assertion(t, assertionSpec{claims: jwt.MapClaims{"sub": uuid.NewString()}}), scope), 401, "invalid_client", 700021},
		{"iss != client_id", v2, ccForm(e.assertion(t, assertionSpec{claims: jwt.MapClaims{"iss": uuid.NewString()}}), scope), 401, "invalid_client", 700021},
		{"no jti", v2, ccForm(e.assertion(t, assertionSpec{claims: jwt.MapClaims{"jti": nil}}), scope), 401, "invalid_client", 90014},
		{"malformed assertion", v2, ccForm("not-a-jwt", scope), 401, "invalid_client", 50027},
		{"unknown tenant", "/fabrikam.onmicrosoft.com/oauth2/v2.0/token", ccForm(e.assertion(t, assertionSpec{}), scope), 400, "invalid_request", 90002},
		{"organizations", "/organizations/oauth2/v2.0/token", ccForm(e.assertion(t, assertionSpec{}), scope), 400, "invalid_request", 50059},
		{"unknown app", v2, withField(ccForm(e.assertion(t, assertionSpec{}), scope), "client_id", uuid.NewString()), 400, "unauthorized_client", 700016},
		{"unknown resource", v2, ccForm(e.assertion(t, assertionSpec{}), "https://nowhere.example/.default"), 400, "invalid_resource", 500011},
		{"scope without /.default", v2, ccForm(e.assertion(t, assertionSpec{}), exoRes+"/Exchange.Manage"), 400, "invalid_scope", 1002012},
		{"only OIDC scopes", v2, ccForm(e.assertion(t, assertionSpec{}), "openid profile offline_access"), 400, "invalid_scope", 70011},
		{"two resources", v2, ccForm(e.assertion(t, assertionSpec{}), scope+" https://ps.compliance.protection.outlook.com/.default"), 400, "invalid_scope", 70011},
		{"missing scope", v2, ccForm(e.assertion(t, assertionSpec{}), ""), 400, "invalid_request", 900144},
		{"missing grant_type", v2, withField(ccForm(e.assertion(t, assertionSpec{}), scope), "grant_type", ""), 400, "invalid_request", 900144},
		{"missing client_id", v2, withField(ccForm(e.assertion(t, assertionSpec{}), scope), "client_id", ""), 400, "invalid_request", 900144},
		{"unsupported grant", v2, withField(ccForm(e.assertion(t, assertionSpec{}), scope), "grant_type", "saml"), 400, "unsupported_grant_type", 70003},
		{"client secret", v2, withField(withField(ccForm("", scope), "client_assertion", ""), "client_secret", "hunter2"), 401, "invalid_client", 7000215},
		{"no credential", v2, withField(ccForm("", scope), "client_assertion", ""), 401, "invalid_client", 7000216},
		{"no assertion type", v2, withField(ccForm(e.assertion(t, assertionSpec{}), scope), "client_assertion_type", ""), 400, "invalid_request", 90014},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out entraError
			status := e.post(t, tc.path, tc.form, &out)
			checkEntraError(t, status, out, tc.status, tc.err, tc.code)
			if tc.name == "expired certificate" {
				want := "[Reason - The key used is expired., Thumbprint of key used by client: '" +
					strings.ToUpper(hex.EncodeToString(expired.sha256())) + "', Found key 'Start="
				if !strings.Contains(out.Description, want) {
					t.Errorf("description %q lacks %q", out.Description, want)
				}
			}
		})
	}
}

func checkEntraError(t *testing.T, status int, out entraError, wantStatus int, wantErr string, code int) {
	t.Helper()
	if status != wantStatus || out.Error != wantErr || len(out.Codes) != 1 || out.Codes[0] != code {
		t.Fatalf("got %d %s %v (%q), want %d %s [%d]", status, out.Error, out.Codes, out.Description, wantStatus, wantErr, code)
	}
	if !strings.HasPrefix(out.Description, "AADSTS"+jsonInt(int64(code))+": ") {
		t.Errorf("description %q lacks the AADSTS prefix", out.Description)
	}
	if !traceSuffix.MatchString(out.Description) {
		t.Errorf("description %q lacks the trace suffix", out.Description)
	}
	if out.TraceID == "" || out.CorrelationID == "" || out.Timestamp == "" ||
		!strings.Contains(out.Description, out.TraceID) || !strings.Contains(out.Description, out.CorrelationID) {
		t.Errorf("trace fields = %+v", out)
	}
}

func withField(f url.Values, k, v string) url.Values {
	if v == "" {
		f.Del(k)
	} else {
		f.Set(k, v)
	}
	return f
}

func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

func hs256(t *testing.T, aud string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": aud, "iss": appID, "sub": appID,
		"jti": uuid.NewString(), "exp": time.Now().Add(time.Minute).Unix()})
	s, err := tok.SignedString([]byte("a shared secret the emulator must not accept"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// An assertion is reusable until it expires, as Entra allows: MSAL Python and MSAL Node send the
// same one for every scope they ask for.
func TestClientAssertionReusable(t *testing.T) {
	e := newEnv(t)
	a := e.assertion(t, assertionSpec{})
	for _, scope := range []string{exoRes + "/.default", "https://ps.compliance.protection.outlook.com/.default", exoRes + "/.default"} {
		var out map[string]any
		if status := e.post(t, "/"+tenantID+"/oauth2/v2.0/token", ccForm(a, scope), &out); status != http.StatusOK {
			t.Fatalf("%s with the same assertion: status %d: %v", scope, status, out)
		}
	}
}

// The correlation id a client sends comes back in the error.
func TestErrorEchoesCorrelationID(t *testing.T) {
	e := newEnv(t)
	corr := uuid.NewString()
	req, _ := http.NewRequest(http.MethodPost, e.base+"/"+tenantID+"/oauth2/v2.0/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("client-request-id", corr)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out entraError
	if err := jsonDecode(resp, &out); err != nil {
		t.Fatal(err)
	}
	if out.CorrelationID != corr || resp.Header.Get("client-request-id") != corr {
		t.Errorf("correlation id %q, header %q, want %q", out.CorrelationID, resp.Header.Get("client-request-id"), corr)
	}
	checkEntraError(t, resp.StatusCode, out, 400, "invalid_request", 900144)
}

// client_secret_basic reaches the same check as a client_secret field.
func TestClientSecretBasic(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodPost, e.base+"/"+tenantID+"/oauth2/v2.0/token",
		strings.NewReader("grant_type=client_credentials&scope="+url.QueryEscape(exoRes+"/.default")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(appID, "hunter2")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out entraError
	if err := jsonDecode(resp, &out); err != nil {
		t.Fatal(err)
	}
	checkEntraError(t, resp.StatusCode, out, 401, "invalid_client", 7000215)
}
