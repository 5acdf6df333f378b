package identity_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/pquerna/otp/totp"

	"github.com/exoctl/exoctl/emulator/internal/identity"
)

func fastDevice(cfg *identity.Config) { cfg.DeviceCodeInterval = 10 * time.Millisecond }

// enterDeviceCode opens the verification page, types the user code and returns the sign-in
// page it leads to.
func (b *browser) enterDeviceCode(verifyURL, userCode string) htmlForm {
	b.t.Helper()
	status, body := sb(b.get(verifyURL))
	f := parseForm(b.t, body)
	if status != http.StatusOK || !f.has("code") || !f.has("submit") {
		b.t.Fatalf("device login page: status %d:\n%s", status, body)
	}
	// People type codes in lower case, with spaces.
	status, body = sb(b.submit(f, url.Values{"user_code": {strings.ToLower(userCode[:4]) + " " + userCode[4:]}}))
	f = parseForm(b.t, body)
	if status != http.StatusOK || !f.has("password") || !f.has("cancel") {
		b.t.Fatalf("no sign-in page after the user code: status %d:\n%s", status, body)
	}
	return f
}

// approveDevice plays the user on the device login page: code, password, TOTP.
func (b *browser) approveDevice(verifyURL, userCode, upn, secret string) {
	b.t.Helper()
	f := b.enterDeviceCode(verifyURL, userCode)
	status, body := sb(b.submit(f, url.Values{"username": {upn}, "password": {adminPass}}))
	if secret != "" {
		code, err := totp.GenerateCode(secret, time.Now())
		if err != nil {
			b.t.Fatal(err)
		}
		status, body = sb(b.submit(parseForm(b.t, body), url.Values{"otc": {code}}))
	}
	if status != http.StatusOK || !strings.Contains(body, "You have signed in") {
		b.t.Fatalf("device sign-in did not finish: status %d:\n%s", status, body)
	}
}

type authOutcome struct {
	res public.AuthResult
	err error
}

// MSAL Go's AcquireTokenByDeviceCode polls while the test plays the user on the device page.
func TestMSALGoDeviceCode(t *testing.T) {
	for _, tc := range []struct {
		name, upn, secret string
		amr               []string
	}{
		{"password", adminUPN, "", []string{"pwd"}},
		{"password and TOTP", mfaUPN, mfaSecret, []string{"pwd", "mfa"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWith(t, fastDevice)
			e.addUsers(t)
			app := e.publicClient(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			dc, err := app.AcquireTokenByDeviceCode(ctx, []string{exoRes + "/.default"})
			if err != nil {
				t.Fatalf("AcquireTokenByDeviceCode: %v", err)
			}
			r := dc.Result
			verify := e.base + "/common/oauth2/deviceauth"
			if len(r.UserCode) != 9 || r.VerificationURL != verify ||
				r.Message != "To sign in, use a web browser to open the page "+verify+" and enter the code "+r.UserCode+" to authenticate." ||
				time.Until(r.ExpiresOn) < 14*time.Minute {
				t.Errorf("device code result = %+v", r)
			}
			done := make(chan authOutcome, 1)
			go func() {
				res, err := dc.AuthenticationResult(ctx)
				done <- authOutcome{res, err}
			}()
			e.browser(t).approveDevice(r.VerificationURL, r.UserCode, tc.upn, tc.secret)
			out := <-done
			if out.err != nil {
				t.Fatalf("AuthenticationResult: %v", out.err)
			}
			e.checkSignedIn(t, out.res.AccessToken, exoRes, tc.upn, tc.amr...)
			cc, err := app.AcquireTokenSilent(ctx, []string{ccRes + "/.default"}, public.WithSilentAccount(out.res.Account))
			if err != nil {
				t.Fatalf("silent refresh: %v", err)
			}
			e.checkSignedIn(t, cc.AccessToken, ccRes, tc.upn, tc.amr...)
		})
	}

	t.Run("declined", func(t *testing.T) {
		e := newEnvWith(t, fastDevice)
		e.addUsers(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		dc, err := e.publicClient(t).AcquireTokenByDeviceCode(ctx, []string{exoRes + "/.default"})
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser(t)
		status, body := sb(b.submit(b.enterDeviceCode(dc.Result.VerificationURL, dc.Result.UserCode), url.Values{"cancel": {"1"}}))
		if status != http.StatusOK || !strings.Contains(body, "You cancelled") {
			t.Errorf("cancel page: status %d:\n%s", status, body)
		}
		_, err = dc.AuthenticationResult(ctx)
		if err == nil || !strings.Contains(err.Error(), "authorization_declined") {
			t.Errorf("err = %v, want authorization_declined", err)
		}
	})

	t.Run("expired", func(t *testing.T) {
		e := newEnvWith(t, fastDevice)
		e.addUsers(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		dc, err := e.publicClient(t).AcquireTokenByDeviceCode(ctx, []string{exoRes + "/.default"})
		if err != nil {
			t.Fatal(err)
		}
		e.skew.Store(int64(16 * time.Minute))
		_, err = dc.AuthenticationResult(ctx)
		if err == nil || !strings.Contains(err.Error(), "AADSTS70020") {
			t.Errorf("err = %v, want expired_token AADSTS70020", err)
		}
	})
}

// The device code endpoints by hand: the answer's shape (v2 and v1), polling errors, the
// verification page's errors and a v1 poll with ADAL's parameters.
func TestDeviceCodeByHand(t *testing.T) {
	e := newEnvWith(t, func(c *identity.Config) { c.DeviceCodeInterval = time.Hour })
	e.addUsers(t)
	b := e.browser(t)
	start := func(t *testing.T) map[string]any {
		t.Helper()
		var out map[string]any
		status := e.post(t, "/organizations/oauth2/v2.0/devicecode", url.Values{
			"client_id": {identity.ModuleAppID}, "scope": {exoRes + "/.default openid offline_access profile"},
		}, &out)
		if status != http.StatusOK {
			t.Fatalf("devicecode: status %d: %v", status, out)
		}
		return out
	}
	poll := func(grant, code string) url.Values {
		return url.Values{"grant_type": {grant}, "client_id": {identity.ModuleAppID}, "device_code": {code},
			"client_info": {"1"}, "scope": {exoRes + "/.default openid offline_access profile"}}
	}
	const urn = "urn:ietf:params:oauth:grant-type:device_code"
	v2 := "/organizations/oauth2/v2.0/token"

	dc := start(t)
	if dc["verification_uri"] != e.base+"/common/oauth2/deviceauth" || dc["expires_in"] != float64(900) ||
		dc["interval"] != float64(3600) || len(dc["user_code"].(string)) != 9 || dc["device_code"] == "" {
		t.Errorf("devicecode answer = %v", dc)
	}
	code := dc["device_code"].(string)
	var out entraError
	checkEntraError(t, e.post(t, v2, poll(urn, code), &out), out, 400, "authorization_pending", 70016)
	checkEntraError(t, e.post(t, v2, poll("device_code", code), &out), out, 400, "slow_down", 70016)
	checkEntraError(t, e.post(t, v2, withField(poll(urn, code), "client_id", appID), &out), out, 400, "invalid_grant", 70000)
	checkEntraError(t, e.post(t, v2, poll(urn, "DAQABIQEAAADnothing"), &out), out, 400, "expired_token", 70020)
	checkEntraError(t, e.post(t, v2, poll(urn, ""), &out), out, 400, "invalid_request", 900144)

	t.Run("wrong user code", func(t *testing.T) {
		f := parseForm(t, b.get(e.base+"/common/oauth2/deviceauth").body)
		status, body := sb(b.submit(f, url.Values{"user_code": {"NOTACODE9"}}))
		if status != http.StatusBadRequest || !strings.Contains(body, "AADSTS70018") || !parseForm(t, body).has("code") {
			t.Errorf("status %d:\n%s", status, body)
		}
	})

	t.Run("v1 answer and ADAL poll", func(t *testing.T) {
		var v1 map[string]any
		status := e.post(t, "/"+tenantName+"/oauth2/devicecode", url.Values{"client_id": {identity.ModuleAppID}, "resource": {exoRes}}, &v1)
		if status != http.StatusOK || v1["verification_url"] != e.base+"/common/oauth2/deviceauth" || v1["expires_in"] != "900" || v1["interval"] != "3600" {
			t.Fatalf("v1 devicecode: %d %v", status, v1)
		}
		b.approveDevice(e.base+"/common/oauth2/deviceauth", v1["user_code"].(string), adminUPN, "")
		var tok map[string]any
		status = e.post(t, "/"+tenantName+"/oauth2/token", url.Values{"grant_type": {"device_code"}, "client_id": {identity.ModuleAppID},
			"code": {v1["device_code"].(string)}, "resource": {exoRes}}, &tok)
		if status != http.StatusOK || tok["resource"] != exoRes || tok["refresh_token"] == nil {
			t.Fatalf("v1 poll: %d %v", status, tok)
		}
		e.checkUserToken(t, tok["access_token"].(string), exoRes)
		// Redeemed: the device code is gone.
		checkEntraError(t, e.post(t, v2, poll(urn, v1["device_code"].(string)), &out), out, 400, "expired_token", 70020)
	})

	t.Run("expired", func(t *testing.T) {
		dc := start(t)
		e.skew.Store(int64(16 * time.Minute))
		defer e.skew.Store(0)
		checkEntraError(t, e.post(t, v2, poll(urn, dc["device_code"].(string)), &out), out, 400, "expired_token", 70020)
		f := parseForm(t, b.get(e.base+"/common/oauth2/deviceauth").body)
		status, body := sb(b.submit(f, url.Values{"user_code": {dc["user_code"].(string)}}))
		if status != http.StatusBadRequest || !strings.Contains(body, "AADSTS70019") {
			t.Errorf("status %d:\n%s", status, body)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		p := "/organizations/oauth2/v2.0/devicecode"
		checkEntraError(t, e.post(t, p, url.Values{"scope": {exoRes + "/.default"}}, &out), out, 400, "invalid_request", 900144)
		checkEntraError(t, e.post(t, p, url.Values{"client_id": {"00000000-0000-0000-0000-00000000beef"}, "scope": {exoRes + "/.default"}}, &out), out, 400, "unauthorized_client", 700016)
		checkEntraError(t, e.post(t, p, url.Values{"client_id": {identity.ModuleAppID}, "scope": {"https://nowhere.example/.default"}}, &out), out, 400, "invalid_resource", 500011)
		checkEntraError(t, e.post(t, "/fabrikam.example/oauth2/v2.0/devicecode", url.Values{"client_id": {identity.ModuleAppID}, "scope": {exoRes + "/.default"}}, &out), out, 400, "invalid_request", 90002)
	})
}
