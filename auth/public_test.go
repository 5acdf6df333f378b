package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"

	"github.com/exoctl/exoctl/emulator"
)

// memCache is an in-memory MSAL cache a test can inspect and edit.
type memCache struct {
	mu   sync.Mutex
	blob []byte
}

func (m *memCache) Replace(ctx context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.blob) == 0 {
		return nil
	}
	return u.Unmarshal(m.blob)
}

func (m *memCache) Export(ctx context.Context, mm cache.Marshaler, _ cache.ExportHints) error {
	b, err := mm.Marshal()
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.blob = b
	m.mu.Unlock()
	return nil
}

// dropAccessTokens forgets the cached access tokens, as if they had expired.
func (m *memCache) dropAccessTokens(t *testing.T) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(m.blob, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc["AccessToken"]) < 10 {
		t.Fatalf("no access token cached: %s", doc["AccessToken"])
	}
	delete(doc, "AccessToken")
	m.blob, _ = json.Marshal(doc)
}

var (
	emuOnce sync.Once
	emu     *emulator.Emulator
	emuErr  error
)

// startEmulator starts one in-process emulator for the package's tests.
func startEmulator(t *testing.T) *emulator.Emulator {
	t.Helper()
	emuOnce.Do(func() {
		emu, emuErr = emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0"})
	})
	if emuErr != nil {
		t.Fatalf("start emulator: %v", emuErr)
	}
	return emu
}

func TestMain(m *testing.M) {
	code := m.Run()
	if emu != nil {
		_ = emu.Close()
	}
	os.Exit(code)
}

func seeded(t *testing.T, e *emulator.Emulator, upn string) string {
	t.Helper()
	for _, tn := range e.Info.Tenants {
		for _, u := range tn.Users {
			if strings.EqualFold(u.UPN, upn) {
				return u.Password
			}
		}
	}
	t.Fatalf("no seeded user %s", upn)
	return ""
}

func publicConfig(e *emulator.Emulator, c cache.ExportReplace) PublicConfig {
	return PublicConfig{Authority: e.URL + "/organizations", HTTPClient: e.HTTPClient(), Cache: c}
}

func TestPublicPasswordThenSilent(t *testing.T) {
	e := startEmulator(t)
	const upn = "admin@contoso.onmicrosoft.com"
	scope := e.URL + "/.default"
	mc := &memCache{}
	ctx := context.Background()

	s, err := NewPublicSource(publicConfig(e, mc), Password{Username: upn, Password: seeded(t, e, upn)})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Token(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	if first.Claims.User() != upn || first.Claims.AppID != ModuleAppID || !strings.Contains(first.Claims.Scope, "AdminApi.AccessAsUser.All") {
		t.Errorf("claims: %+v", first.Claims)
	}
	home, user := s.Account()
	if home == "" || !strings.EqualFold(user, upn) {
		t.Errorf("account: %q %q", home, user)
	}

	// Another process: no password, found by home account id, served from the cache.
	silent := func(cfg PublicConfig) (Token, error) {
		src, err := NewPublicSource(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return src.Token(ctx, scope)
	}
	cfg := publicConfig(e, mc)
	cfg.HomeAccountID = home
	if tok, err := silent(cfg); err != nil || tok.AccessToken != first.AccessToken {
		t.Errorf("silent from cache: same token %v, err %v", tok.AccessToken == first.AccessToken, err)
	}
	// By user name, and the cache's only account with neither.
	cfg = publicConfig(e, mc)
	cfg.Username = strings.ToUpper(upn)
	if _, err := silent(cfg); err != nil {
		t.Errorf("silent by user name: %v", err)
	}
	if _, err := silent(publicConfig(e, mc)); err != nil {
		t.Errorf("silent with the only account: %v", err)
	}

	// Access tokens gone: the refresh token gets a new one, silently.
	mc.dropAccessTokens(t)
	cfg = publicConfig(e, mc)
	cfg.HomeAccountID = home
	tok, err := silent(cfg)
	if err != nil || tok.AccessToken == first.AccessToken || tok.Claims.User() != upn {
		t.Fatalf("silent refresh: new token %v, user %q, err %v", tok.AccessToken != first.AccessToken, tok.Claims.User(), err)
	}

	// Someone else, or an empty cache: a sign-in is required, and no prompt happens.
	cfg.HomeAccountID, cfg.Username = "", "megan.bowen@contoso.com"
	if _, err := silent(cfg); !errors.Is(err, ErrSignInRequired) {
		t.Errorf("other user: %v", err)
	}
	if _, err := silent(publicConfig(e, &memCache{})); !errors.Is(err, ErrSignInRequired) {
		t.Errorf("empty cache: %v", err)
	}
}

func TestPublicPasswordErrors(t *testing.T) {
	e := startEmulator(t)
	cases := []struct {
		upn, password string
		code          int
		hint          string
	}{
		{"admin@contoso.onmicrosoft.com", "wrong-Password-1", 50126, "password"},
		{"adele.vance@contoso.com", seeded(t, e, "adele.vance@contoso.com"), 50076, "--device"},
		{"alex.wilber@contoso.com", seeded(t, e, "alex.wilber@contoso.com"), 50057, "disabled"},
		{"nobody@contoso.com", "Nobody-Pw-1", 50034, "user principal name"},
	}
	for _, tc := range cases {
		s, err := NewPublicSource(publicConfig(e, &memCache{}), Password{Username: tc.upn, Password: tc.password})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Token(context.Background(), e.URL+"/.default")
		var ee *EntraError
		if !errors.As(err, &ee) || ee.AADSTS != tc.code || !strings.Contains(err.Error(), tc.hint) {
			t.Errorf("%s: %v (want AADSTS%d and %q)", tc.upn, err, tc.code, tc.hint)
		}
		if strings.Contains(err.Error(), tc.password) {
			t.Errorf("%s: the password is in the error", tc.upn)
		}
	}
}

// TestPublicPasswordFederated needs a user realm that says Federated, which the emulator never
// does: a small TLS authority plays it, with a federation metadata URL that does not answer.
func TestPublicPasswordFederated(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		base := srv.URL + "/organizations"
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			json.NewEncoder(w).Encode(map[string]string{
				"authorization_endpoint": base + "/oauth2/v2.0/authorize",
				"token_endpoint":         base + "/oauth2/v2.0/token",
				"issuer":                 base + "/v2.0",
			})
		case strings.Contains(strings.ToLower(r.URL.Path), "/userrealm/"):
			json.NewEncoder(w).Encode(map[string]string{
				"ver": "1.0", "account_type": "Federated", "domain_name": "fabrikam.com",
				"federation_protocol": "WSTrust", "federation_metadata_url": srv.URL + "/adfs/mex",
				"cloud_instance_name": "microsoftonline.com", "cloud_audience_urn": "urn:federation:MicrosoftOnline",
			})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	s, err := NewPublicSource(PublicConfig{Authority: srv.URL + "/organizations", HTTPClient: srv.Client()},
		Password{Username: "ben@fabrikam.com", Password: "Secret-1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Token(context.Background(), "https://outlook.office365.com/.default")
	if !errors.Is(err, ErrFederated) || !strings.Contains(err.Error(), "ROPC") || strings.Contains(err.Error(), "Secret-1") {
		t.Errorf("federated: %v", err)
	}
}

var deviceMessageRe = regexp.MustCompile(`open the page (\S+) and enter the code (\S+)`)

// deviceUser waits for the device code message and plays the user on the device login page.
func deviceUser(t *testing.T, e *emulator.Emulator, b emulator.User, messages <-chan string, done chan<- error) {
	msg := <-messages
	m := deviceMessageRe.FindStringSubmatch(msg)
	if m == nil {
		done <- fmt.Errorf("device code message %q names no page and code", msg)
		return
	}
	b.Client, b.UserCode = e.HTTPClient(), m[2]
	_, err := b.SignIn(m[1])
	done <- err
}

func TestPublicDeviceCode(t *testing.T) {
	e := startEmulator(t)
	scope := e.URL + "/.default"
	cases := []struct {
		name, upn string
		mfa       bool
	}{
		{"password", "admin@contoso.onmicrosoft.com", false},
		{"mfa", "adele.vance@contoso.com", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := emulator.User{UPN: tc.upn, Password: seeded(t, e, tc.upn)}
			if tc.mfa {
				b.TOTPSecret = totpSecret(t, e, tc.upn)
			}
			messages, done := make(chan string, 1), make(chan error, 1)
			s, err := NewPublicSource(publicConfig(e, &memCache{}), DeviceCode{Prompt: func(m string) { messages <- m }})
			if err != nil {
				t.Fatal(err)
			}
			go deviceUser(t, e, b, messages, done)
			tok, err := s.Token(bounded(t), scope)
			if perr := <-done; perr != nil {
				t.Fatalf("device page: %v", perr)
			}
			if err != nil || tok.Claims.User() != tc.upn {
				t.Fatalf("device sign-in: user %q, %v", tok.Claims.User(), err)
			}
		})
	}

	t.Run("declined", func(t *testing.T) {
		messages, done := make(chan string, 1), make(chan error, 1)
		s, _ := NewPublicSource(publicConfig(e, &memCache{}), DeviceCode{Prompt: func(m string) { messages <- m }})
		go deviceUser(t, e, emulator.User{Cancel: true}, messages, done)
		_, err := s.Token(bounded(t), scope)
		<-done
		if err == nil || !strings.Contains(err.Error(), "declined") {
			t.Errorf("declined: %v", err)
		}
	})

	t.Run("ctrl-c", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s, _ := NewPublicSource(publicConfig(e, &memCache{}), DeviceCode{Prompt: func(string) { cancel() }})
		start := time.Now()
		if _, err := s.Token(ctx, scope); !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
			t.Errorf("cancelled device sign-in: %v after %v", err, time.Since(start))
		}
	})
}

func totpSecret(t *testing.T, e *emulator.Emulator, upn string) string {
	t.Helper()
	for _, tn := range e.Info.Tenants {
		if u, err := e.Store().User(context.Background(), tn.ID, upn); err == nil {
			return u.TOTPSecret
		}
	}
	t.Fatalf("no user %s in the store", upn)
	return ""
}

func TestPublicInteractive(t *testing.T) {
	e := startEmulator(t)
	scope := e.URL + "/.default"
	cases := []struct {
		name, upn string
		mfa       bool
	}{
		{"password", "megan.bowen@contoso.com", false},
		{"mfa", "adele.vance@contoso.com", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := emulator.User{Client: e.HTTPClient(), UPN: tc.upn, Password: seeded(t, e, tc.upn)}
			if tc.mfa {
				b.TOTPSecret = totpSecret(t, e, tc.upn)
			}
			done := make(chan error, 1)
			var opened string
			mc := &memCache{}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s, err := NewPublicSource(publicConfig(e, mc), Interactive{LoginHint: tc.upn, OpenURL: func(u string) error {
				opened = u
				go func() {
					_, err := b.SignIn(u)
					if err != nil {
						cancel() // MSAL's listener would wait for nobody
					}
					done <- err
				}()
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := s.Token(ctx, scope)
			if perr := <-done; perr != nil {
				t.Fatalf("browser: %v", perr)
			}
			if err != nil || tok.Claims.User() != tc.upn {
				t.Fatalf("interactive sign-in: user %q, %v", tok.Claims.User(), err)
			}
			u, _ := url.Parse(opened)
			q := u.Query()
			if q.Get("login_hint") != tc.upn || !strings.HasPrefix(q.Get("redirect_uri"), "http://localhost:") || q.Get("code_challenge_method") != "S256" {
				t.Errorf("authorize URL: %s", opened)
			}
			// Later: silent, no browser.
			s2, _ := NewPublicSource(publicConfig(e, mc), nil)
			if _, err := s2.Token(context.Background(), scope); err != nil {
				t.Errorf("silent after interactive: %v", err)
			}
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		b := emulator.User{Client: e.HTTPClient(), UPN: "megan.bowen@contoso.com", Password: "Wrong-Pw-1"}
		done := make(chan error, 1)
		s, _ := NewPublicSource(publicConfig(e, &memCache{}), Interactive{OpenURL: func(u string) error {
			go func() {
				_, err := b.SignIn(u)
				done <- err
				cancel() // the user gives up: Ctrl-C
			}()
			return nil
		}})
		_, err := s.Token(ctx, scope)
		if perr := <-done; perr == nil || !strings.Contains(perr.Error(), "50126") {
			t.Errorf("sign-in page: %v", perr)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		b := emulator.User{Client: e.HTTPClient(), Cancel: true}
		s, _ := NewPublicSource(publicConfig(e, &memCache{}), Interactive{OpenURL: func(u string) error {
			go b.SignIn(u)
			return nil
		}})
		_, err := s.Token(bounded(t), scope)
		if err == nil || !strings.Contains(err.Error(), "declined") {
			t.Errorf("cancelled in the browser: %v", err)
		}
	})
}

func TestPublicRevoked(t *testing.T) {
	e := startEmulator(t)
	const upn = "diego.siciliani@contoso.com" // used by no other test here
	ctx, scope, mc := context.Background(), e.URL+"/.default", &memCache{}
	pw := seeded(t, e, upn)
	s, err := NewPublicSource(publicConfig(e, mc), Password{Username: upn, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, scope); err != nil {
		t.Fatal(err)
	}
	u, err := e.Store().User(ctx, e.Info.Tenants[0].ID, upn)
	if err != nil {
		t.Fatal(err)
	}
	u.Enabled = false
	if err := e.Store().PutUser(ctx, u, pw); err != nil {
		t.Fatal(err)
	}
	mc.dropAccessTokens(t)
	silent, _ := NewPublicSource(publicConfig(e, mc), nil)
	_, err = silent.Token(ctx, scope)
	var ee *EntraError
	if !errors.Is(err, ErrSignInRequired) || !errors.As(err, &ee) || ee.AADSTS != 50057 {
		t.Errorf("refresh for a disabled user: %v", err)
	}
}

// bounded is a context for a sign-in that waits on a (test) user: a user who never comes must
// fail the test, not hang it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
