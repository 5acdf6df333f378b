package identity_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/identity"
	"github.com/exoctl/exoctl/emulator/internal/store"
)

// TestSmartLockout: ten wrong passwords lock the account (AADSTS50053) across the password
// grant and the sign-in pages; the right password is refused while it is locked; the lock
// ends after the lockout period, and a wrong password right after locks it again for longer.
// The same wrong password sent again does not count twice, as with Entra's smart lockout.
func TestSmartLockout(t *testing.T) {
	e := newEnvWith(t, func(c *identity.Config) { c.LockoutDuration = time.Minute })
	e.addUsers(t)
	tokenPath := "/" + tenantName + "/oauth2/v2.0/token"
	ropc := func(pass string) entraError {
		t.Helper()
		var out entraError
		e.post(t, tokenPath, ropcForm(adminUPN, pass), &out)
		return out
	}
	// A client retrying one stale password does not lock the account.
	for range 15 {
		if out := ropc("stale-password"); out.Codes[0] != 50126 {
			t.Fatalf("same wrong password again: %+v", out)
		}
	}
	// Eight more different wrong passwords through the password grant (nine in all) ...
	for i := range 8 {
		if out := ropc(fmt.Sprintf("guess-%d", i)); out.Codes[0] != 50126 {
			t.Fatalf("guess %d: %+v", i, out)
		}
	}
	// ... the tenth through the sign-in page, in a new sign-in: it locks the account.
	b := e.browser(t)
	signIn := func(pass string) (int, string) {
		t.Helper()
		_, body := sb(b.get(e.authorizeURL(verifier, nil)))
		return sb(b.submit(parseForm(t, body), url.Values{"username": {adminUPN}, "password": {pass}}))
	}
	if status, body := signIn("guess-page"); status != http.StatusBadRequest || !strings.Contains(body, "AADSTS50053") {
		t.Fatalf("tenth wrong password: status %d:\n%s", status, body)
	}
	// Locked: the right password is refused too, by both.
	if out := ropc(adminPass); out.Error != "invalid_grant" || out.Codes[0] != 50053 ||
		!strings.Contains(out.Description, "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.") {
		t.Fatalf("right password while locked: %+v", out)
	}
	if _, body := signIn(adminPass); !strings.Contains(body, "AADSTS50053") {
		t.Fatalf("right password on the page while locked:\n%s", body)
	}
	// After the lockout period the right password works and the count starts over.
	e.skew.Add(int64(61 * time.Second))
	var ok map[string]any
	if status := e.post(t, tokenPath, ropcForm(adminUPN, adminPass), &ok); status != http.StatusOK {
		t.Fatalf("after the lockout: %d %v", status, ok)
	}
	if out := ropc("after-1"); out.Codes[0] != 50126 {
		t.Fatalf("first wrong password after a good sign-in: %+v", out)
	}

	// Lock again, wait it out, then one wrong password locks at once, for two minutes.
	for i := range 9 {
		ropc(fmt.Sprintf("again-%d", i))
	}
	if out := ropc(adminPass); out.Codes[0] != 50053 {
		t.Fatalf("not locked after ten: %+v", out)
	}
	e.skew.Add(int64(61 * time.Second))
	if out := ropc("right-after"); out.Codes[0] != 50053 {
		t.Fatalf("first wrong password after a lockout: %+v", out)
	}
	e.skew.Add(int64(61 * time.Second))
	if out := ropc(adminPass); out.Codes[0] != 50053 {
		t.Fatalf("second lockout lasted one minute only: %+v", out)
	}
	e.skew.Add(int64(61 * time.Second))
	if status := e.post(t, tokenPath, ropcForm(adminUPN, adminPass), &ok); status != http.StatusOK {
		t.Fatalf("after the second lockout: %d %v", status, ok)
	}
}

// TestPasswordExact: a password followed by NUL bytes, or otherwise padded, is a wrong password
// (the store's PBKDF2 alone would take "secret\x00" for "secret").
func TestPasswordExact(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUsers(t)
	for _, pass := range []string{adminPass + "\x00", adminPass + "\x00\x00\x00", "\x00" + adminPass, adminPass + " ", strings.ToLower(adminPass)} {
		var out entraError
		if status := e.post(t, "/"+tenantName+"/oauth2/v2.0/token", ropcForm(adminUPN, pass), &out); status != http.StatusBadRequest || out.Codes[0] != 50126 {
			t.Errorf("password %q: %d %+v", pass, status, out)
		}
	}
}

// TestDuplicatedParameters: Entra refuses a request that names a parameter twice
// (AADSTS9000411) rather than pick one value: token, device code, authorize and sign-in forms.
func TestDuplicatedParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUsers(t)
	form := ropcForm(adminUPN, adminPass)
	form["password"] = []string{"wrong", adminPass}
	var out entraError
	if status := e.post(t, "/"+tenantName+"/oauth2/v2.0/token", form, &out); status != http.StatusBadRequest || out.Error != "invalid_request" ||
		out.Codes[0] != 9000411 || !strings.Contains(out.Description, "The request is not properly formatted. The parameter 'password' is duplicated.") {
		t.Errorf("token: %d %+v", status, out)
	}
	dc := url.Values{"client_id": {identity.ModuleAppID, identity.ModuleAppID}, "scope": {exoRes + "/.default"}}
	if status := e.post(t, "/organizations/oauth2/v2.0/devicecode", dc, &out); status != http.StatusBadRequest || out.Codes[0] != 9000411 {
		t.Errorf("devicecode: %d %+v", status, out)
	}
	b := e.browser(t)
	if status, body := sb(b.get(e.authorizeURL(verifier, nil) + "&prompt=consent")); status != http.StatusBadRequest ||
		!strings.Contains(body, "AADSTS9000411: The request is not properly formatted. The parameter &#39;prompt&#39; is duplicated.") {
		t.Errorf("authorize with two prompts: %d\n%s", status, body)
	}
	_, body := sb(b.get(e.authorizeURL(verifier, nil)))
	f := parseForm(t, body)
	status, body := sb(b.submit(f, url.Values{"username": {adminUPN}, "password": {"x", adminPass}}))
	if status != http.StatusBadRequest || !strings.Contains(body, "AADSTS9000411") {
		t.Errorf("sign-in page: %d\n%s", status, body)
	}
}

// TestPendingSignInsPerClient: a flood of authorize and device code requests from one client
// (address and client id) costs that client its oldest pending sign-ins, never anyone
// else's: a sign-in another client started before the flood, and one started after it, work.
func TestPendingSignInsPerClient(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *identity.Config) { c.MaxPending, c.MaxPendingPerClient = 40, 5 })
	e.addUsers(t)
	b := e.browser(t)
	// Someone else's sign-in, started before the flood (another app on the same address).
	const otherApp = "3c1f0d2e-9b8a-4c7d-a6e5-f4d3c2b1a098"
	if err := e.store.PutApp(context.Background(), store.App{TenantID: tenantID, AppID: otherApp, ObjectID: uuid.NewString(),
		DisplayName: "another tool", Public: true, RedirectURIs: []string{"http://localhost"}}); err != nil {
		t.Fatal(err)
	}
	status, before := sb(b.get(e.authorizeURL(verifier, url.Values{"client_id": {otherApp}})))
	if status != http.StatusOK {
		t.Fatalf("other client's authorize: %d\n%s", status, before)
	}
	beforeForm := parseForm(t, before)
	var dcOut map[string]any
	for i := range 200 {
		if status, body := sb(b.get(e.authorizeURL(verifier, nil))); status != http.StatusOK {
			t.Fatalf("authorize %d: %d\n%s", i, status, body)
		}
		if status := e.post(t, "/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {identity.ModuleAppID}, "scope": {exoRes + "/.default"}}, &dcOut); status != http.StatusOK {
			t.Fatalf("devicecode %d: %d %v", i, status, dcOut)
		}
	}
	// The flooding client's own newest sign-in still works.
	q := redirected(t, b.signIn(e.authorizeURL(verifier, nil), adminUPN, adminPass, ""))
	if q.Get("code") == "" {
		t.Errorf("the flooding client's new sign-in: %v", q)
	}
	// The other client's sign-in survived the flood.
	if q := redirected(t, b.submit(beforeForm, url.Values{"username": {adminUPN}, "password": {adminPass}})); q.Get("code") == "" {
		t.Errorf("the other client's sign-in after the flood: %v", q)
	}
	// The newest device code still works too.
	b.approveDevice(dcOut["verification_uri"].(string), dcOut["user_code"].(string), adminUPN, "")
}

// TestLockoutParallelGuesses: forty different wrong passwords sent at once lock the account as
// surely as one after another; the right password after them is refused.
func TestLockoutParallelGuesses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUsers(t)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			resp, err := e.client.PostForm(e.base+"/"+tenantName+"/oauth2/v2.0/token", ropcForm(adminUPN, fmt.Sprintf("parallel-%d", i)))
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	var out entraError
	if e.post(t, "/"+tenantName+"/oauth2/v2.0/token", ropcForm(adminUPN, adminPass), &out); len(out.Codes) == 0 || out.Codes[0] != 50053 {
		t.Errorf("right password after 40 parallel guesses: %+v", out)
	}
}

// TestPendingSignInsExpire: a sign-in page left open longer than a sign-in lives is refused
// (AADSTS50089), and expired sign-ins make room for new ones even in a full table.
func TestPendingSignInsExpire(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *identity.Config) { c.MaxPending, c.MaxPendingPerClient = 3, 3 })
	e.addUsers(t)
	b := e.browser(t)
	var forms []htmlForm
	for range 3 {
		_, body := sb(b.get(e.authorizeURL(verifier, nil)))
		forms = append(forms, parseForm(t, body))
	}
	e.skew.Store(int64(16 * time.Minute))
	if status, body := sb(b.submit(forms[0], url.Values{"username": {adminUPN}, "password": {adminPass}})); status != http.StatusBadRequest || !strings.Contains(body, "AADSTS50089") {
		t.Errorf("expired sign-in page: %d\n%s", status, body)
	}
	for i := range 3 {
		if q := redirected(t, b.signIn(e.authorizeURL(verifier, nil), adminUPN, adminPass, "")); q.Get("code") == "" {
			t.Errorf("new sign-in %d after the old ones expired: %v", i, q)
		}
	}
}

// failingStore fails as a damaged database does, with the driver's words.
type failingStore struct{ store.Store }

func (failingStore) Tenant(context.Context, string) (store.Tenant, error) {
	return store.Tenant{}, errors.New("SQL logic error: no such table: tenants (1)")
}

// TestInternalErrorsStayInTheLog: a store failure answers Entra's temporarily_unavailable with
// a generic text and the trace id; the driver's words are only in the log, under that id.
func TestInternalErrorsStayInTheLog(t *testing.T) {
	t.Parallel()
	var log strings.Builder
	var mu sync.Mutex
	e := newEnvWith(t, func(c *identity.Config) {
		c.Store = failingStore{c.Store}
		c.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return log.Write(p)
		}), nil))
	})
	var out entraError
	status := e.post(t, "/"+tenantName+"/oauth2/v2.0/token", ropcForm(adminUPN, adminPass), &out)
	if status != http.StatusInternalServerError || out.Error != "temporarily_unavailable" || strings.Contains(out.Description, "SQL") {
		t.Fatalf("%d %+v", status, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if l := log.String(); !strings.Contains(l, "no such table") || !strings.Contains(l, out.TraceID) {
		t.Errorf("log: %s", l)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
