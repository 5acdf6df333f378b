package identity_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/golang-jwt/jwt/v5"
	"github.com/pquerna/otp/totp"

	"github.com/exoctl/exoctl/emulator/internal/identity"
)

const (
	mfaUPN    = "mfa@contoso.onmicrosoft.com"
	mfaSecret = "JBSWY3DPEHPK3PXP"
	ccRes     = "https://ps.compliance.protection.outlook.com"
)

// htmlForm is the one form of a sign-in page, as a browser sees it.
type htmlForm struct {
	action string
	fields url.Values
	ids    []string // ids of the page's elements
}

var (
	formRe  = regexp.MustCompile(`(?s)<form[^>]*\baction="([^"]*)"`)
	inputRe = regexp.MustCompile(`<input[^>]*>`)
	attrRe  = regexp.MustCompile(`\b(name|value|id)="([^"]*)"`)
	idRe    = regexp.MustCompile(`\bid="([^"]*)"`)
)

// parseForm reads a sign-in page's form: its action and the inputs' names and values.
func parseForm(t *testing.T, body string) htmlForm {
	t.Helper()
	m := formRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("page has no form:\n%s", body)
	}
	f := htmlForm{action: html.UnescapeString(m[1]), fields: url.Values{}}
	for _, in := range inputRe.FindAllString(body, -1) {
		var name, value string
		for _, a := range attrRe.FindAllStringSubmatch(in, -1) {
			switch a[1] {
			case "name":
				name = html.UnescapeString(a[2])
			case "value":
				value = html.UnescapeString(a[2])
			}
		}
		if name != "" {
			f.fields.Set(name, value)
		}
	}
	for _, m := range idRe.FindAllStringSubmatch(body, -1) {
		f.ids = append(f.ids, m[1])
	}
	return f
}

func (f htmlForm) has(id string) bool { return slices.Contains(f.ids, id) }

// browser plays a user's browser against the emulator with net/http: no cookies, no script;
// it submits the final auto-post form itself.
type browser struct {
	t      *testing.T
	e      *env
	client *http.Client // does not follow redirects
}

func (e *env) browser(t *testing.T) *browser {
	c := *e.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, e: e, client: &c}
}

// sb is an answer's status and body.
func sb(a answer) (int, string) { return a.status, a.body }

// answer is one page (or redirect) the emulator sent the browser.
type answer struct {
	status   int
	body     string
	location string
}

func (b *browser) read(resp *http.Response, err error) answer {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return answer{resp.StatusCode, string(body), resp.Header.Get("Location")}
}

func (b *browser) get(u string) answer {
	b.t.Helper()
	return b.read(b.client.Get(u))
}

// submit posts a form with extra values set, resolving its action against the emulator.
func (b *browser) submit(f htmlForm, set url.Values) answer {
	b.t.Helper()
	v := url.Values{}
	for k, vs := range f.fields {
		v[k] = slices.Clone(vs)
	}
	for k, vs := range set {
		v[k] = vs
	}
	action := f.action
	if strings.HasPrefix(action, "/") {
		action = b.e.base + action
	}
	return b.read(b.client.PostForm(action, v))
}

// signIn goes from an authorize URL through the password (and code) pages to the page that
// answers the client, and returns that page.
func (b *browser) signIn(authURL, user, pass, secret string) answer {
	b.t.Helper()
	a := b.get(authURL)
	if a.status != http.StatusOK {
		b.t.Fatalf("authorize: status %d:\n%s", a.status, a.body)
	}
	a = b.submit(parseForm(b.t, a.body), url.Values{"username": {user}, "password": {pass}})
	if secret != "" {
		if a.status != http.StatusOK || !parseForm(b.t, a.body).has("otc") {
			b.t.Fatalf("no verification code page after the password: status %d:\n%s", a.status, a.body)
		}
		code, err := totp.GenerateCode(secret, time.Now())
		if err != nil {
			b.t.Fatal(err)
		}
		a = b.submit(parseForm(b.t, a.body), url.Values{"otc": {code}})
	}
	return a
}

// finish submits the auto-post page to the redirect URI (MSAL's loopback listener) as the
// page's script would.
func (b *browser) finish(a answer) {
	b.t.Helper()
	status, body := a.status, a.body
	if status != http.StatusOK || !strings.Contains(body, `id="response"`) {
		b.t.Fatalf("sign-in did not end with the auto-post form: status %d:\n%s", status, body)
	}
	f := parseForm(b.t, body)
	if !strings.HasPrefix(f.action, "http://localhost:") || f.fields.Get("code") == "" || f.fields.Get("state") == "" {
		b.t.Fatalf("auto-post form = %+v", f)
	}
	resp, err := http.PostForm(f.action, f.fields)
	if err != nil {
		b.t.Fatalf("post to MSAL's listener: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Authentication complete") {
		b.t.Fatalf("MSAL's listener answered %d:\n%s", resp.StatusCode, page)
	}
}

func (e *env) publicClient(t *testing.T) public.Client {
	t.Helper()
	app, err := public.New(identity.ModuleAppID, public.WithAuthority(e.base+"/organizations"),
		public.WithHTTPClient(e.client), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// checkSignedIn verifies a user's access token and its amr.
func (e *env) checkSignedIn(t *testing.T, at, aud, upn string, amr ...string) {
	t.Helper()
	c, err := e.keys.Verify(at, time.Now(), aud)
	if err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	if c.UPN != upn || c.TenantID != tenantID || c.AppID != identity.ModuleAppID || c.AppIDACR != "0" ||
		!strings.Contains(c.Scope, "AdminApi.AccessAsUser.All") || c.AppOnly() || !slices.Equal(c.AMR, amr) {
		t.Errorf("claims = %+v, want upn %s amr %v", c, upn, amr)
	}
}

// MSAL Go's AcquireTokenInteractive, with the test as the browser: the admin with a password,
// the MFA user with password and TOTP; then silent calls from the cache and by refresh.
func TestMSALGoInteractive(t *testing.T) {
	for _, tc := range []struct {
		name, upn, secret string
		amr               []string
	}{
		{"password", adminUPN, "", []string{"pwd"}},
		{"password and TOTP", mfaUPN, mfaSecret, []string{"pwd", "mfa"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.addUsers(t)
			app := e.publicClient(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			b := e.browser(t)
			var authURL string
			res, err := app.AcquireTokenInteractive(ctx, []string{exoRes + "/.default"},
				public.WithLoginHint(tc.upn),
				public.WithOpenURL(func(u string) error {
					authURL = u
					b.finish(b.signIn(u, tc.upn, adminPass, tc.secret))
					return nil
				}))
			if err != nil {
				t.Fatalf("AcquireTokenInteractive: %v", err)
			}
			q, _ := url.Parse(authURL)
			if q.Query().Get("response_mode") != "form_post" || q.Query().Get("code_challenge_method") != "S256" {
				t.Errorf("MSAL's authorize URL = %s", authURL)
			}
			e.checkSignedIn(t, res.AccessToken, exoRes, tc.upn, tc.amr...)
			if res.Account.PreferredUsername != tc.upn {
				t.Errorf("account = %+v", res.Account)
			}
			posts := e.posts.Load()
			again, err := app.AcquireTokenSilent(ctx, []string{exoRes + "/.default"}, public.WithSilentAccount(res.Account))
			if err != nil || again.AccessToken != res.AccessToken || e.posts.Load() != posts {
				t.Fatalf("silent for the same resource did not come from the cache: %v", err)
			}
			cc, err := app.AcquireTokenSilent(ctx, []string{ccRes + "/.default"}, public.WithSilentAccount(res.Account))
			if err != nil {
				t.Fatalf("silent refresh for compliance: %v", err)
			}
			if e.posts.Load() != posts+1 {
				t.Errorf("token calls = %d, want one refresh", e.posts.Load()-posts)
			}
			e.checkSignedIn(t, cc.AccessToken, ccRes, tc.upn, tc.amr...)
		})
	}
}

// authorizeURL is an authorize request like MSAL's, with PKCE (S256) and the given changes.
func (e *env) authorizeURL(verifier string, set url.Values) string {
	sum := sha256.Sum256([]byte(verifier))
	v := url.Values{
		"client_id": {identity.ModuleAppID}, "response_type": {"code"}, "redirect_uri": {"http://localhost:53100"},
		"scope": {exoRes + "/.default openid offline_access profile"}, "state": {"st-123"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"response_mode": {"query"}, "prompt": {"select_account"},
	}
	for k, vs := range set {
		v[k] = vs
	}
	return e.base + "/organizations/oauth2/v2.0/authorize?" + v.Encode()
}

// redirected checks a 302 to the loopback redirect URI and returns its query.
func redirected(t *testing.T, a answer) url.Values {
	t.Helper()
	if a.status != http.StatusFound {
		t.Fatalf("status %d, want a redirect:\n%s", a.status, a.body)
	}
	u, err := url.Parse(a.location)
	if err != nil || !strings.HasPrefix(u.String(), "http://localhost:53100") {
		t.Fatalf("Location = %q", a.location)
	}
	return u.Query()
}

const verifier = "a-verifier-of-at-least-forty-three-characters-0123456789"

func codeForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "client_id": {identity.ModuleAppID}, "code": {code},
		"redirect_uri": {"http://localhost:53100"}, "code_verifier": {verifier}, "client_info": {"1"},
		"scope": {exoRes + "/.default openid offline_access profile"},
	}
}

// The authorization code grant by hand (response_mode=query): PKCE, single use, redirect URI.
func TestAuthorizationCodeGrant(t *testing.T) {
	e := newEnv(t)
	e.addUsers(t)
	b := e.browser(t)
	newCode := func(t *testing.T) string {
		t.Helper()
		q := redirected(t, b.signIn(e.authorizeURL(verifier, nil), adminUPN, adminPass, ""))
		if q.Get("state") != "st-123" || q.Get("code") == "" {
			t.Fatalf("redirect query = %v", q)
		}
		return q.Get("code")
	}
	v2 := "/organizations/oauth2/v2.0/token"

	t.Run("redeem once", func(t *testing.T) {
		code := newCode(t)
		var out map[string]any
		if status := e.post(t, v2, codeForm(code, verifier), &out); status != http.StatusOK {
			t.Fatalf("status %d: %v", status, out)
		}
		for _, k := range []string{"access_token", "refresh_token", "id_token", "client_info"} {
			if s, _ := out[k].(string); s == "" {
				t.Errorf("answer lacks %s", k)
			}
		}
		e.checkUserToken(t, out["access_token"].(string), exoRes)
		var again entraError
		checkEntraError(t, e.post(t, v2, codeForm(code, verifier), &again), again, 400, "invalid_grant", 54005)
	})
	for _, tc := range []struct {
		name string
		form func(code string) url.Values
		code int
	}{
		{"wrong PKCE verifier", func(c string) url.Values { return codeForm(c, verifier+"x") }, 501481},
		{"no PKCE verifier", func(c string) url.Values { return withField(codeForm(c, verifier), "code_verifier", "") }, 50148},
		{"redirect URI mismatch", func(c string) url.Values {
			return withField(codeForm(c, verifier), "redirect_uri", "http://localhost:53101")
		}, 500112},
		{"another client", func(c string) url.Values { return withField(codeForm(c, verifier), "client_id", appID) }, 70000},
		{"unknown code", func(string) url.Values { return codeForm("0.emu.nothing", verifier) }, 9002313},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out entraError
			checkEntraError(t, e.post(t, v2, tc.form(newCode(t)), &out), out, 400, "invalid_grant", tc.code)
		})
	}
	t.Run("expired", func(t *testing.T) {
		code := newCode(t)
		e.skew.Store(int64(identity.AuthCodeLifetime + time.Second))
		defer e.skew.Store(0)
		var out entraError
		checkEntraError(t, e.post(t, v2, codeForm(code, verifier), &out), out, 400, "invalid_grant", 70008)
	})
	t.Run("id_token carries the nonce", func(t *testing.T) {
		q := redirected(t, b.signIn(e.authorizeURL(verifier, url.Values{"nonce": {"n-0S6_WzA2Mj"}}), adminUPN, adminPass, ""))
		var out map[string]any
		if status := e.post(t, v2, codeForm(q.Get("code"), verifier), &out); status != http.StatusOK {
			t.Fatalf("status %d: %v", status, out)
		}
		var claims jwt.MapClaims
		if _, _, err := jwt.NewParser().ParseUnverified(out["id_token"].(string), &claims); err != nil {
			t.Fatal(err)
		}
		if claims["nonce"] != "n-0S6_WzA2Mj" {
			t.Errorf("id_token nonce = %v, want the authorize request's", claims["nonce"])
		}
	})
	t.Run("v1 authorize and token", func(t *testing.T) {
		u := strings.Replace(e.authorizeURL(verifier, url.Values{"scope": nil, "resource": {exoRes}}), "/organizations/oauth2/v2.0/", "/"+tenantName+"/oauth2/", 1)
		q := redirected(t, b.signIn(u, adminUPN, adminPass, ""))
		f := codeForm(q.Get("code"), verifier)
		f.Del("scope")
		f.Set("resource", exoRes)
		var out map[string]any
		if status := e.post(t, "/"+tenantName+"/oauth2/token", f, &out); status != http.StatusOK || out["resource"] != exoRes {
			t.Fatalf("status %d: %v", status, out)
		}
		e.checkUserToken(t, out["access_token"].(string), exoRes)
	})
	t.Run("127.0.0.1 and a tenant authority", func(t *testing.T) {
		u := strings.Replace(e.authorizeURL(verifier, url.Values{"redirect_uri": {"http://127.0.0.1:53100/"}}), "/organizations/", "/"+tenantName+"/", 1)
		a := b.signIn(u, adminUPN, adminPass, "")
		if a.status != http.StatusFound || !strings.HasPrefix(a.location, "http://127.0.0.1:53100/?") {
			t.Fatalf("status %d Location %q:\n%s", a.status, a.location, a.body)
		}
	})
}

// Mistakes on the sign-in pages re-render them with Entra's words; forms are single-use.
func TestSignInPageErrors(t *testing.T) {
	e := newEnv(t)
	e.addUsers(t)
	b := e.browser(t)
	start := func(t *testing.T) htmlForm {
		t.Helper()
		status, body := sb(b.get(e.authorizeURL(verifier, url.Values{"login_hint": {adminUPN}})))
		if status != http.StatusOK {
			t.Fatalf("authorize: %d\n%s", status, body)
		}
		f := parseForm(t, body)
		for _, id := range []string{"username", "password", "submit"} {
			if !f.has(id) {
				t.Errorf("page lacks #%s", id)
			}
		}
		if f.fields.Get("username") != adminUPN || f.fields.Get("flow") == "" {
			t.Errorf("form = %+v", f.fields)
		}
		return f
	}
	for _, tc := range []struct{ name, user, pass, want string }{
		{"wrong password", adminUPN, "wrong", "AADSTS50126"},
		{"unknown user", "nobody@contoso.onmicrosoft.com", adminPass, "AADSTS50034"},
		{"unknown domain", "x@fabrikam.example", adminPass, "AADSTS50034"},
		{"disabled", "disabled@contoso.onmicrosoft.com", adminPass, "AADSTS50057"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := sb(b.submit(start(t), url.Values{"username": {tc.user}, "password": {tc.pass}}))
			if status != http.StatusBadRequest || !strings.Contains(body, `id="error"`) || !strings.Contains(body, tc.want) {
				t.Fatalf("status %d, want the page again with %s:\n%s", status, tc.want, body)
			}
			f := parseForm(t, body)
			if !f.has("password") || f.fields.Get("username") != tc.user {
				t.Errorf("re-rendered form = %+v", f.fields)
			}
			// The re-rendered page still works.
			q := redirected(t, b.submit(f, url.Values{"username": {adminUPN}, "password": {adminPass}}))
			if q.Get("code") == "" {
				t.Errorf("no code after retry: %v", q)
			}
		})
	}
	t.Run("form sent twice", func(t *testing.T) {
		f := start(t)
		redirected(t, b.submit(f, url.Values{"password": {adminPass}}))
		status, body := sb(b.submit(f, url.Values{"password": {adminPass}}))
		if status != http.StatusBadRequest || !strings.Contains(body, "AADSTS50089") {
			t.Fatalf("status %d:\n%s", status, body)
		}
	})
	t.Run("forged flow id", func(t *testing.T) {
		f := start(t)
		f.fields.Set("flow", "forged")
		status, body := sb(b.submit(f, url.Values{"password": {adminPass}}))
		if status != http.StatusBadRequest || !strings.Contains(body, "AADSTS50089") {
			t.Fatalf("status %d:\n%s", status, body)
		}
	})
	t.Run("wrong TOTP", func(t *testing.T) {
		status, body := sb(b.get(e.authorizeURL(verifier, nil)))
		status, body = sb(b.submit(parseForm(t, body), url.Values{"username": {mfaUPN}, "password": {adminPass}}))
		f := parseForm(t, body)
		if status != http.StatusOK || !f.has("otc") {
			t.Fatalf("status %d:\n%s", status, body)
		}
		status, body = sb(b.submit(f, url.Values{"otc": {"000000"}}))
		if status != http.StatusBadRequest || !strings.Contains(body, "expected verification code") {
			t.Fatalf("status %d:\n%s", status, body)
		}
		code, _ := totp.GenerateCode(mfaSecret, time.Now())
		q := redirected(t, b.submit(parseForm(t, body), url.Values{"otc": {code}}))
		if q.Get("code") == "" {
			t.Errorf("no code after the right TOTP: %v", q)
		}

		// The same code does not sign in twice.
		_, body = sb(b.get(e.authorizeURL(verifier, nil)))
		_, body = sb(b.submit(parseForm(t, body), url.Values{"username": {mfaUPN}, "password": {adminPass}}))
		status, body = sb(b.submit(parseForm(t, body), url.Values{"otc": {code}}))
		if status != http.StatusBadRequest || !strings.Contains(body, "expected verification code") {
			t.Fatalf("replayed TOTP: status %d:\n%s", status, body)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		q := redirected(t, b.submit(start(t), url.Values{"cancel": {"1"}}))
		if q.Get("error") != "access_denied" || q.Get("state") != "st-123" {
			t.Errorf("query = %v", q)
		}
	})
	t.Run("MFA without authenticator", func(t *testing.T) {
		q := redirected(t, b.submit(start(t), url.Values{"username": {"mfanew@contoso.onmicrosoft.com"}, "password": {adminPass}}))
		if q.Get("error") != "interaction_required" || !strings.Contains(q.Get("error_description"), "AADSTS50079") {
			t.Errorf("query = %v", q)
		}
	})
}

// Bad authorize requests: an error page when the redirect URI cannot be trusted, else an
// error sent to it.
func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t)
	e.addUsers(t)
	b := e.browser(t)
	for _, tc := range []struct {
		name   string
		set    url.Values
		tenant string
		want   string // AADSTS code on the error page
	}{
		{"unknown client", url.Values{"client_id": {"00000000-0000-0000-0000-00000000beef"}}, "", "AADSTS700016"},
		{"redirect URI not registered", url.Values{"redirect_uri": {"https://evil.example/cb"}}, "", "AADSTS50011"},
		{"https loopback", url.Values{"redirect_uri": {"https://localhost:53100"}}, "", "AADSTS50011"},
		{"loopback with another path", url.Values{"redirect_uri": {"http://localhost:53100/other"}}, "", "AADSTS50011"},
		{"unknown tenant", nil, "fabrikam.example", "AADSTS90002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := e.authorizeURL(verifier, tc.set)
			if tc.tenant != "" {
				u = strings.Replace(u, "/organizations/", "/"+tc.tenant+"/", 1)
			}
			status, body := sb(b.get(u))
			if status != http.StatusBadRequest || !strings.Contains(body, tc.want) || strings.Contains(body, "<form") {
				t.Fatalf("status %d, want an error page with %s:\n%s", status, tc.want, body)
			}
		})
	}
	for _, tc := range []struct {
		name, err, code string
		set             url.Values
	}{
		{"implicit grant", "unsupported_response_type", "AADSTS700054", url.Values{"response_type": {"token"}}},
		{"unknown resource", "invalid_resource", "AADSTS500011", url.Values{"scope": {"https://nowhere.example/.default"}}},
		{"no scope", "invalid_request", "AADSTS900144", url.Values{"scope": {""}}},
		{"prompt none", "login_required", "AADSTS50058", url.Values{"prompt": {"none"}}},
		{"bad challenge method", "invalid_request", "AADSTS501491", url.Values{"code_challenge_method": {"S512"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := redirected(t, b.get(e.authorizeURL(verifier, tc.set)))
			if q.Get("error") != tc.err || !strings.HasPrefix(q.Get("error_description"), tc.code+":") || q.Get("state") != "st-123" {
				t.Errorf("query = %v", q)
			}
		})
	}
	t.Run("form_post error", func(t *testing.T) {
		status, body := sb(b.get(e.authorizeURL(verifier, url.Values{"response_mode": {"form_post"}, "prompt": {"none"}})))
		f := parseForm(t, body)
		if status != http.StatusOK || f.action != "http://localhost:53100" || f.fields.Get("error") != "login_required" || f.fields.Get("state") != "st-123" {
			t.Errorf("status %d form %+v", status, f)
		}
	})
}
