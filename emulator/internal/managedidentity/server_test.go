package managedidentity

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

const (
	testResource = "https://outlook.office365.com"
	testHeader   = "0123456789ABCDEF0123456789ABCDEF"
)

type fixture struct {
	url    string
	keys   *token.Keys
	arcDir string
	now    time.Time
	ids    []Identity
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := store.Seed(ctx, st, store.SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := token.NewKey("signing", true)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{keys: token.NewKeys(k), arcDir: filepath.Join(t.TempDir(), "tokens"), now: time.Now()}
	for _, m := range res.ManagedIdentities {
		f.ids = append(f.ids, Identity{Name: m.Name, ClientID: m.ClientID, ObjectID: m.ObjectID, ResourceID: m.ResourceID, SystemAssigned: m.SystemAssigned})
	}
	srv := httptest.NewServer(New(Config{
		Store: st, Keys: f.keys, TenantID: res.TenantID, Identities: f.ids, CloudShellUser: res.Users[0].UPN,
		Resources: []string{testResource, "https://ps.compliance.protection.outlook.com"}, IdentityHeader: testHeader,
		ArcKeyDir: f.arcDir, Now: func() time.Time { return f.now },
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (f *fixture) do(t *testing.T, method, path string, q url.Values, h map[string]string, form url.Values) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := f.url + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &a.body)
	return a
}

// claims verifies the answer's token and returns its claims.
func (f *fixture) claims(t *testing.T, a answer) token.Claims {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	at, _ := a.body["access_token"].(string)
	c, err := f.keys.Verify(at, time.Now(), testResource)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if c.Issuer != token.Issuer(store.DemoTenantID) || c.TenantID != store.DemoTenantID || c.AppIDACR != "2" || c.IDType != "" || c.Version != "1.0" || !c.AppOnly() {
		t.Errorf("claims %+v", c)
	}
	if c.ObjectID != c.Subject {
		t.Errorf("oid %s != sub %s", c.ObjectID, c.Subject)
	}
	if a.body["client_id"] != nil && a.body["client_id"] != c.AppID {
		t.Errorf("client_id %v, appid %s", a.body["client_id"], c.AppID)
	}
	return c
}

func imdsQuery(extra ...string) url.Values {
	q := url.Values{"api-version": {IMDSAPIVersion}, "resource": {testResource}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

var metadata = map[string]string{"Metadata": "true"}

func TestIMDS(t *testing.T) {
	f := newFixture(t)
	uami := f.ids[1] // exoctl-automation-uami
	for _, tc := range []struct {
		name     string
		q        url.Values
		clientID string
	}{
		{"system-assigned", imdsQuery(), store.DemoVMIdentityClientID},
		{"client_id", imdsQuery("client_id", uami.ClientID), uami.ClientID},
		{"client_id upper case", imdsQuery("client_id", strings.ToUpper(uami.ClientID)), uami.ClientID},
		{"object_id", imdsQuery("object_id", uami.ObjectID), uami.ClientID},
		{"msi_res_id", imdsQuery("msi_res_id", uami.ResourceID), uami.ClientID},
		{"mi_res_id", imdsQuery("mi_res_id", strings.ToLower(uami.ResourceID)), uami.ClientID},
		{"no role", imdsQuery("client_id", store.DemoNoRoleIdentityClientID), store.DemoNoRoleIdentityClientID},
		{"resource with trailing slash", imdsQuery("resource", testResource+"/"), store.DemoVMIdentityClientID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := f.do(t, http.MethodGet, IMDSPath, tc.q, metadata, nil)
			c := f.claims(t, a)
			if c.AppID != tc.clientID || c.Audience != testResource {
				t.Errorf("appid %s aud %s", c.AppID, c.Audience)
			}
			for _, k := range []string{"access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before", "resource", "token_type"} {
				if _, ok := a.body[k].(string); !ok {
					t.Errorf("%s = %#v, want a string", k, a.body[k])
				}
			}
			if on, _ := strconv.ParseInt(a.body["expires_on"].(string), 10, 64); on != c.Expires {
				t.Errorf("expires_on %v, exp %d", a.body["expires_on"], c.Expires)
			}
			if a.body["expires_in"] != "86400" || a.body["token_type"] != "Bearer" || a.body["resource"] != testResource {
				t.Errorf("answer %v", a.body)
			}
			withRole := tc.clientID != store.DemoNoRoleIdentityClientID
			if got := slices.Contains(c.Roles, store.AppRoleManageAsApp) && slices.Contains(c.WIDs, store.RoleExchangeAdministrator); got != withRole {
				t.Errorf("roles %v wids %v", c.Roles, c.WIDs)
			}
			if !withRole && (len(c.Roles) != 0 || len(c.WIDs) != 0) {
				t.Errorf("no-role identity got roles %v wids %v", c.Roles, c.WIDs)
			}
		})
	}
}

func TestIMDSErrors(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		method string
		q      url.Values
		h      map[string]string
		status int
		code   string
		desc   string
	}{
		{"no Metadata header", "GET", imdsQuery(), nil, 400, "invalid_request", "Required metadata header not specified"},
		{"Metadata false", "GET", imdsQuery(), map[string]string{"Metadata": "false"}, 400, "invalid_request", "Required metadata header not specified"},
		{"X-Forwarded-For", "GET", imdsQuery(), map[string]string{"Metadata": "true", "X-Forwarded-For": "10.0.0.1"}, 400, "invalid_request", "X-Forwarded-For"},
		{"POST", "POST", imdsQuery(), metadata, 405, "invalid_request", "use GET"},
		{"unknown client id", "GET", imdsQuery("client_id", "00000000-0000-0000-0000-000000000001"), metadata, 400, "invalid_request", "Identity not found"},
		{"unknown object id", "GET", imdsQuery("object_id", "00000000-0000-0000-0000-000000000001"), metadata, 400, "invalid_request", "Identity not found"},
		{"system identity by resource id", "GET", imdsQuery("msi_res_id", f.ids[0].ResourceID), metadata, 400, "invalid_request", "Identity not found"},
		{"two selectors", "GET", imdsQuery("client_id", f.ids[1].ClientID, "object_id", f.ids[1].ObjectID), metadata, 400, "invalid_request", "Multiple identity parameters"},
		{"unknown resource", "GET", imdsQuery("resource", "https://vault.azure.net"), metadata, 400, "invalid_resource", "AADSTS500011"},
		{"no resource", "GET", url.Values{"api-version": {IMDSAPIVersion}}, metadata, 400, "invalid_request", "Required audience parameter not specified"},
		{"no api-version", "GET", url.Values{"resource": {testResource}}, metadata, 400, "invalid_request", "api-version"},
		{"wrong api-version", "GET", imdsQuery("api-version", "2017-09-01"), metadata, 400, "invalid_request", "api-version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := f.do(t, tc.method, IMDSPath, tc.q, tc.h, nil)
			if a.status != tc.status || a.body["error"] != tc.code || !strings.Contains(a.body["error_description"].(string), tc.desc) {
				t.Errorf("got %d %s", a.status, a.raw)
			}
			if a.body["access_token"] != nil {
				t.Error("error answer carries a token")
			}
		})
	}
}

func TestAppService(t *testing.T) {
	f := newFixture(t)
	uami := f.ids[1]
	h := map[string]string{"X-IDENTITY-HEADER": testHeader}
	q := func(extra ...string) url.Values {
		v := url.Values{"api-version": {AppServiceAPIVersion}, "resource": {testResource}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		name     string
		q        url.Values
		clientID string
	}{
		{"system-assigned", q(), store.DemoVMIdentityClientID},
		{"client_id", q("client_id", uami.ClientID), uami.ClientID},
		{"object_id", q("object_id", uami.ObjectID), uami.ClientID},
		{"mi_res_id", q("mi_res_id", uami.ResourceID), uami.ClientID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := f.do(t, "GET", AppServicePath, tc.q, h, nil)
			c := f.claims(t, a)
			if c.AppID != tc.clientID {
				t.Errorf("appid %s", c.AppID)
			}
			on, ok := a.body["expires_on"].(string)
			if n, _ := strconv.ParseInt(on, 10, 64); !ok || n != c.Expires {
				t.Errorf("expires_on = %#v (App Service sends a string of epoch seconds)", a.body["expires_on"])
			}
			if a.body["resource"] != testResource || a.body["token_type"] != "Bearer" || a.body["client_id"] != tc.clientID {
				t.Errorf("answer %v", a.body)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		q      url.Values
		h      map[string]string
		status int
		msg    string
	}{
		{"no header", q(), nil, 401, "X-IDENTITY-HEADER"},
		{"wrong header", q(), map[string]string{"X-IDENTITY-HEADER": "nope"}, 401, "X-IDENTITY-HEADER"},
		{"unknown identity", q("client_id", "00000000-0000-0000-0000-000000000001"), h, 400, "Unable to load the proper Managed Identity."},
		{"unknown resource", q("resource", "https://vault.azure.net"), h, 400, "AADSTS500011"},
		{"old api-version", q("api-version", "2017-09-01"), h, 400, "api-version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := f.do(t, "GET", AppServicePath, tc.q, tc.h, nil)
			msg, _ := a.body["message"].(string)
			if a.status != tc.status || a.body["statusCode"] != float64(tc.status) || !strings.Contains(msg, tc.msg) || a.body["correlationId"] == nil {
				t.Errorf("got %d %s", a.status, a.raw)
			}
		})
	}
}

func TestCloudShell(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"resource": {testResource}}
	a := f.do(t, "POST", CloudShellPath, nil, metadata, form)
	c := f.userClaims(t, a)
	// The signed-in user's delegated token, not an identity's app-only one.
	if c.AppOnly() || c.UPN != "admin@contoso.onmicrosoft.com" || c.AppID != CloudShellAppID || !strings.Contains(c.Scope, "AdminApi.AccessAsUser.All") || len(c.WIDs) == 0 {
		t.Errorf("claims %+v", c)
	}
	// Cloud Shell ignores identity parameters: still the user.
	if c := f.userClaims(t, f.do(t, "POST", CloudShellPath+"?client_id="+store.DemoAutomationIdentityClientID, nil, metadata, form)); c.UPN != "admin@contoso.onmicrosoft.com" {
		t.Errorf("with client_id: claims %+v", c)
	}
	if _, ok := a.body["expires_on"].(string); !ok {
		t.Errorf("expires_on %#v", a.body["expires_on"])
	}
	for _, tc := range []struct {
		name   string
		method string
		h      map[string]string
		form   url.Values
		status int
		code   string
	}{
		{"no Metadata header", "POST", nil, form, 400, "invalid_request"},
		{"GET", "GET", metadata, nil, 405, "invalid_request"},
		{"no resource", "POST", metadata, url.Values{}, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := f.do(t, tc.method, CloudShellPath, nil, tc.h, tc.form)
			if a.status != tc.status || a.body["error"] != tc.code {
				t.Errorf("got %d %s", a.status, a.raw)
			}
		})
	}
	a = f.do(t, "POST", CloudShellPath, nil, metadata, url.Values{"resource": {"https://azconfig.io/"}})
	if e, _ := a.body["error"].(map[string]any); a.status != 400 || e["code"] != "AudienceNotSupported" ||
		e["message"] != "Audience https://azconfig.io/ is not a supported MSI token audience." {
		t.Errorf("unknown audience: %d %s", a.status, a.raw)
	}
}

// userClaims verifies a delegated answer's token.
func (f *fixture) userClaims(t *testing.T, a answer) token.Claims {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	c, err := f.keys.Verify(a.body["access_token"].(string), time.Now(), testResource)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestArc(t *testing.T) {
	f := newFixture(t)
	uami := f.ids[1]
	q := func(extra ...string) url.Values {
		v := url.Values{"api-version": {ArcAPIVersion}, "resource": {testResource}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	challenge := func(t *testing.T, q url.Values) (path, secret string) {
		t.Helper()
		a := f.do(t, "GET", ArcPath, q, metadata, nil)
		realm, ok := strings.CutPrefix(a.header.Get("WWW-Authenticate"), "Basic realm=")
		if a.status != 401 || !ok || a.body["error"] == nil {
			t.Fatalf("challenge: %d %v %s", a.status, a.header, a.raw)
		}
		if filepath.Dir(realm) != f.arcDir || filepath.Ext(realm) != ".key" {
			t.Fatalf("realm %q, want a .key file in %s", realm, f.arcDir)
		}
		fi, err := os.Stat(realm)
		if err != nil || fi.Size() > 4096 || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", fi, err)
		}
		b, _ := os.ReadFile(realm)
		return realm, string(b)
	}
	basic := func(secret string) map[string]string {
		return map[string]string{"Metadata": "true", "Authorization": "Basic " + secret}
	}

	t.Run("system-assigned", func(t *testing.T) {
		path, secret := challenge(t, q())
		a := f.do(t, "GET", ArcPath, q(), basic(secret), nil)
		if c := f.claims(t, a); c.AppID != store.DemoVMIdentityClientID {
			t.Errorf("appid %s", c.AppID)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("used key file still there: %v", err)
		}
		// A key works once.
		if a := f.do(t, "GET", ArcPath, q(), basic(secret), nil); a.status != 401 {
			t.Errorf("reused key: %d %s", a.status, a.raw)
		}
	})
	for _, sel := range [][2]string{{"client_id", uami.ClientID}, {"object_id", uami.ObjectID}, {"msi_res_id", uami.ResourceID}} {
		t.Run("user-assigned by "+sel[0], func(t *testing.T) {
			_, secret := challenge(t, q(sel[0], sel[1]))
			a := f.do(t, "GET", ArcPath, q(sel[0], sel[1]), basic(secret), nil)
			if c := f.claims(t, a); c.AppID != uami.ClientID {
				t.Errorf("appid %s", c.AppID)
			}
			// MSAL refuses an Arc answer that doesn't echo the requested identity.
			if a.body[sel[0]] != sel[1] {
				t.Errorf("%s echoed as %v", sel[0], a.body[sel[0]])
			}
		})
	}
	t.Run("azure-identity's api-version 2019-11-01", func(t *testing.T) {
		_, secret := challenge(t, q("api-version", "2019-11-01"))
		if c := f.claims(t, f.do(t, "GET", ArcPath, q("api-version", "2019-11-01"), basic(secret), nil)); c.AppID != store.DemoVMIdentityClientID {
			t.Errorf("appid %s", c.AppID)
		}
		if a := f.do(t, "GET", ArcPath, q("api-version", "2018-02-01"), metadata, nil); a.status != 400 || !strings.Contains(a.raw, "2019-11-01") {
			t.Errorf("unsupported version: %d %s", a.status, a.raw)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		a := f.do(t, "GET", ArcPath, q(), basic("guess"), nil)
		if a.status != 401 || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic realm=") {
			t.Errorf("got %d %s", a.status, a.raw)
		}
	})
	t.Run("expired key", func(t *testing.T) {
		_, secret := challenge(t, q())
		f.now = f.now.Add(2 * arcKeyLifetime)
		defer func() { f.now = time.Now() }()
		if a := f.do(t, "GET", ArcPath, q(), basic(secret), nil); a.status != 401 {
			t.Errorf("expired key: %d %s", a.status, a.raw)
		}
	})
	t.Run("no Metadata header", func(t *testing.T) {
		if a := f.do(t, "GET", ArcPath, q(), nil, nil); a.status != 400 || a.body["error"] != "invalid_request" {
			t.Errorf("got %d %s", a.status, a.raw)
		}
	})
	t.Run("unknown identity", func(t *testing.T) {
		_, secret := challenge(t, q("client_id", "00000000-0000-0000-0000-000000000001"))
		a := f.do(t, "GET", ArcPath, q("client_id", "00000000-0000-0000-0000-000000000001"), basic(secret), nil)
		if a.status != 400 || a.body["error_description"] != "Identity not found" {
			t.Errorf("got %d %s", a.status, a.raw)
		}
	})
}

func TestServiceFabric(t *testing.T) {
	f := newFixture(t)
	q := url.Values{"api-version": {ServiceFabricAPIVersion}, "resource": {testResource}}
	a := f.do(t, "GET", ServiceFabricPath, q, map[string]string{"Secret": testHeader}, nil)
	if c := f.claims(t, a); c.AppID != store.DemoVMIdentityClientID {
		t.Errorf("appid %s", c.AppID)
	}
	if _, ok := a.body["expires_on"].(float64); !ok {
		t.Errorf("expires_on %#v, want a number", a.body["expires_on"])
	}
	for _, tc := range []struct {
		name   string
		h      map[string]string
		status int
		code   string
	}{
		{"no secret", nil, 401, "SecretHeaderNotFound"},
		{"wrong secret", map[string]string{"Secret": "nope"}, 401, "SecretHeaderNotValid"},
	} {
		a := f.do(t, "GET", ServiceFabricPath, q, tc.h, nil)
		e, _ := a.body["error"].(map[string]any)
		if a.status != tc.status || e["code"] != tc.code {
			t.Errorf("%s: got %d %s", tc.name, a.status, a.raw)
		}
	}
}

func TestHandles(t *testing.T) {
	for path, want := range map[string]bool{
		IMDSPath: true, "/METADATA/identity/oauth2/token/": true, AppServicePath: true, CloudShellPath: true,
		ArcPath: true, ServiceFabricPath: true, "/msi/unknown": true,
		"/organizations/oauth2/v2.0/token": false, "/adminapi/beta/x/InvokeCommand": false, "/metadata/instance": false,
	} {
		if Handles(path) != want {
			t.Errorf("Handles(%q) = %v", path, !want)
		}
	}
}
