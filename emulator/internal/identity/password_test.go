package identity_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/identity"
	"github.com/exoctl/exoctl/emulator/internal/store"
)

const (
	adminUPN  = "admin@contoso.onmicrosoft.com"
	adminOID  = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
	adminPass = "Emulat0r!Pass"
)

// addUsers registers the module's public client and users in every state a sign-in meets.
func (e *env) addUsers(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := e.store.PutApp(ctx, store.App{TenantID: tenantID, AppID: identity.ModuleAppID, ObjectID: uuid.NewString(),
		DisplayName: "Microsoft Exchange REST API Based Powershell", Public: true, RedirectURIs: []string{"http://localhost"}}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.User{
		{UPN: adminUPN, ObjectID: adminOID, DisplayName: "Admin", Enabled: true, PowerShellEnabled: true,
			DirectoryRoles: []string{store.RoleExchangeAdministrator}},
		{UPN: "disabled@contoso.onmicrosoft.com", DisplayName: "Disabled", Enabled: false},
		{UPN: "mfa@contoso.onmicrosoft.com", DisplayName: "MFA", Enabled: true, MFARequired: true, TOTPSecret: "JBSWY3DPEHPK3PXP"},
		{UPN: "mfanew@contoso.onmicrosoft.com", DisplayName: "MFA not enrolled", Enabled: true, MFARequired: true},
	} {
		u.TenantID = tenantID
		if u.ObjectID == "" {
			u.ObjectID = uuid.NewString()
		}
		if err := e.store.PutUser(ctx, u, adminPass); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) checkUserToken(t *testing.T, at, aud string) {
	t.Helper()
	c, err := e.keys.Verify(at, time.Now(), aud)
	if err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	if c.UPN != adminUPN || c.UniqueName != adminUPN || c.ObjectID != adminOID || c.TenantID != tenantID ||
		c.AppID != identity.ModuleAppID || c.AppIDACR != "0" || !strings.Contains(c.Scope, "AdminApi.AccessAsUser.All") ||
		len(c.AMR) != 1 || c.AMR[0] != "pwd" || c.AppOnly() {
		t.Errorf("claims = %+v", c)
	}
	if len(c.WIDs) != 1 || c.WIDs[0] != store.RoleExchangeAdministrator {
		t.Errorf("wids = %v", c.WIDs)
	}
}

// MSAL Go's public client signs in with a password, then refreshes silently for another
// resource and keeps the account (refresh answers carry id_token and client_info).
func TestMSALGoPasswordAndRefresh(t *testing.T) {
	e := newEnv(t)
	e.addUsers(t)
	ctx := context.Background()
	app, err := public.New(identity.ModuleAppID, public.WithAuthority(e.base+"/organizations"),
		public.WithHTTPClient(e.client), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	res, err := app.AcquireTokenByUsernamePassword(ctx, []string{exoRes + "/.default"}, adminUPN, adminPass)
	if err != nil {
		t.Fatalf("AcquireTokenByUsernamePassword: %v", err)
	}
	e.checkUserToken(t, res.AccessToken, exoRes)
	if res.Account.PreferredUsername != adminUPN || res.Account.HomeAccountID != adminOID+"."+tenantID {
		t.Errorf("account = %+v", res.Account)
	}
	posts := e.posts.Load()

	again, err := app.AcquireTokenSilent(ctx, []string{exoRes + "/.default"}, public.WithSilentAccount(res.Account))
	if err != nil || again.AccessToken != res.AccessToken || e.posts.Load() != posts {
		t.Fatalf("silent for the same resource did not come from the cache: %v", err)
	}

	cc := "https://ps.compliance.protection.outlook.com/.default"
	ref, err := app.AcquireTokenSilent(ctx, []string{cc}, public.WithSilentAccount(res.Account))
	if err != nil {
		t.Fatalf("silent refresh for compliance: %v", err)
	}
	if e.posts.Load() != posts+1 {
		t.Errorf("token calls = %d, want one refresh", e.posts.Load()-posts)
	}
	e.checkUserToken(t, ref.AccessToken, "https://ps.compliance.protection.outlook.com")
	accts, err := app.Accounts(ctx)
	if err != nil || len(accts) != 1 || accts[0].HomeAccountID != adminOID+"."+tenantID {
		t.Errorf("accounts after refresh = %+v (%v), want the one signed-in account", accts, err)
	}
}

func ropcForm(user, pass string) url.Values {
	return url.Values{
		"grant_type": {"password"}, "client_id": {identity.ModuleAppID}, "client_info": {"1"},
		"username": {user}, "password": {pass}, "scope": {exoRes + "/.default openid offline_access profile"},
	}
}

func TestPasswordGrantAnswer(t *testing.T) {
	e := newEnv(t)
	e.addUsers(t)
	var out map[string]any
	if status := e.post(t, "/"+tenantName+"/oauth2/v2.0/token", ropcForm(adminUPN, adminPass), &out); status != http.StatusOK {
		t.Fatalf("status %d: %v", status, out)
	}
	for _, k := range []string{"access_token", "refresh_token", "id_token", "client_info", "scope"} {
		if s, _ := out[k].(string); s == "" {
			t.Errorf("answer lacks %s: %v", k, out)
		}
	}
	ci, err := base64.RawURLEncoding.DecodeString(out["client_info"].(string))
	var info map[string]string
	if err == nil {
		err = json.Unmarshal(ci, &info)
	}
	if err != nil || info["uid"] != adminOID || info["utid"] != tenantID {
		t.Errorf("client_info = %s (%v)", ci, err)
	}
	var idc jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(out["id_token"].(string), &idc); err != nil {
		t.Fatal(err)
	}
	if idc["aud"] != identity.ModuleAppID || idc["preferred_username"] != adminUPN || idc["tid"] != tenantID ||
		idc["oid"] != adminOID || idc["iss"] != e.base+"/"+tenantID+"/v2.0" || idc["ver"] != "2.0" {
		t.Errorf("id_token claims = %v", idc)
	}

	// The refresh token works once more, with the same answer shape.
	rf := url.Values{"grant_type": {"refresh_token"}, "client_id": {identity.ModuleAppID}, "client_info": {"1"},
		"refresh_token": {out["refresh_token"].(string)}, "scope": {exoRes + "/.default openid offline_access profile"}}
	var again map[string]any
	if status := e.post(t, "/organizations/oauth2/v2.0/token", rf, &again); status != http.StatusOK {
		t.Fatalf("refresh status %d: %v", status, again)
	}
	for _, k := range []string{"access_token", "refresh_token", "id_token", "client_info"} {
		if s, _ := again[k].(string); s == "" {
			t.Errorf("refresh answer lacks %s", k)
		}
	}
	e.checkUserToken(t, again["access_token"].(string), exoRes)
}

func TestUserGrantErrors(t *testing.T) {
	e := newEnv(t)
	e.addUsers(t)
	v2 := "/" + tenantID + "/oauth2/v2.0/token"
	var first map[string]any
	if status := e.post(t, v2, ropcForm(adminUPN, adminPass), &first); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	rt := first["refresh_token"].(string)
	refresh := func(client, tok string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "client_id": {client}, "refresh_token": {tok},
			"scope": {exoRes + "/.default openid offline_access profile"}}
	}
	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		status int
		err    string
		code   int
	}{
		{"bad password", v2, ropcForm(adminUPN, "wrong"), 400, "invalid_grant", 50126},
		{"unknown user", v2, ropcForm("nobody@contoso.onmicrosoft.com", adminPass), 400, "invalid_grant", 50034},
		{"unknown domain at organizations", "/organizations/oauth2/v2.0/token", ropcForm("x@fabrikam.example", adminPass), 400, "invalid_grant", 50034},
		{"disabled", v2, ropcForm("disabled@contoso.onmicrosoft.com", adminPass), 400, "invalid_grant", 50057},
		{"MFA required", v2, ropcForm("mfa@contoso.onmicrosoft.com", adminPass), 400, "invalid_grant", 50076},
		{"MFA enrolment required", v2, ropcForm("mfanew@contoso.onmicrosoft.com", adminPass), 400, "invalid_grant", 50079},
		{"unknown client", v2, withField(ropcForm(adminUPN, adminPass), "client_id", uuid.NewString()), 400, "unauthorized_client", 700016},
		{"confidential client without credential", v2, withField(ropcForm(adminUPN, adminPass), "client_id", appID), 401, "invalid_client", 7000218},
		{"missing password", v2, withField(ropcForm(adminUPN, adminPass), "password", ""), 400, "invalid_request", 900144},
		{"unknown resource", v2, withField(ropcForm(adminUPN, adminPass), "scope", "https://nowhere.example/.default"), 400, "invalid_resource", 500011},
		{"garbage refresh token", v2, refresh(identity.ModuleAppID, "0.AAAAgarbage"), 400, "invalid_grant", 9002313},
		{"refresh token of another client", v2, refresh(uuid.NewString(), rt), 400, "invalid_grant", 70000},
		{"refresh token at another tenant", "/contoso.com/oauth2/v2.0/token", refresh(identity.ModuleAppID, rt), 0, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.code == 0 { // contoso.com is the same tenant: accepted
				var out map[string]any
				if status := e.post(t, tc.path, tc.form, &out); status != http.StatusOK {
					t.Fatalf("status %d: %v", status, out)
				}
				return
			}
			var out entraError
			status := e.post(t, tc.path, tc.form, &out)
			checkEntraError(t, status, out, tc.status, tc.err, tc.code)
		})
	}

	t.Run("MFA answer carries suberror", func(t *testing.T) {
		var out map[string]any
		e.post(t, v2, ropcForm("mfa@contoso.onmicrosoft.com", adminPass), &out)
		if out["suberror"] != "basic_action" {
			t.Errorf("suberror = %v", out["suberror"])
		}
	})

	t.Run("refresh of a disabled user", func(t *testing.T) {
		u, err := e.store.User(context.Background(), tenantID, adminUPN)
		if err != nil {
			t.Fatal(err)
		}
		u.Enabled = false
		if err := e.store.PutUser(context.Background(), u, adminPass); err != nil {
			t.Fatal(err)
		}
		var out entraError
		status := e.post(t, v2, refresh(identity.ModuleAppID, rt), &out)
		checkEntraError(t, status, out, 400, "invalid_grant", 50057)
	})
}
