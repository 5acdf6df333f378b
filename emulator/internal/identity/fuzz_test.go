package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

func FuzzDecodeThumbprint(f *testing.F) {
	for _, s := range []string{"", "q83vEjRWeJq83vEjRWeJq83vEjQ=", "q83vEjRWeJq83vEjRWeJq83vEjQ", "ABCDEF0123456789ABCDEF0123456789ABCDEF01", "-_-_", "===="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = decodeThumbprint(s)
	})
}

// FuzzClientAssertion sends arbitrary client assertions: the token endpoint answers an Entra
// error, never panics and never issues a token.
func FuzzClientAssertion(f *testing.F) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	const tid, app = "11111111-2222-4333-8444-555555555555", "66666666-7777-4888-9999-aaaaaaaaaaaa"
	if err := st.PutTenant(ctx, store.Tenant{ID: tid, Name: "fuzz.onmicrosoft.com", DisplayName: "Fuzz", CreatedAt: time.Now()}); err != nil {
		f.Fatal(err)
	}
	if err := st.PutApp(ctx, store.App{TenantID: tid, AppID: app, ObjectID: "77777777-8888-4999-aaaa-bbbbbbbbbbbb"}); err != nil {
		f.Fatal(err)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	s := New(Config{Store: st, Keys: token.NewKeys(k), BaseURL: "https://127.0.0.1:1", Resources: []string{"https://outlook.office365.com"}})
	for _, seed := range []string{"", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJQUzI1NiIsIng1dCNTMjU2IjoiQUFBQSJ9.e30.AAAA",
		"eyJhbGciOiJSUzI1NiIsIng1YyI6WyIhISEiXX0.e30.AAAA"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, assertion string) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app}, "scope": {"https://outlook.office365.com/.default"},
			"client_assertion_type": {assertionType}, "client_assertion": {assertion}}
		r := httptest.NewRequest(http.MethodPost, "/"+tid+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code == http.StatusOK || !strings.Contains(w.Body.String(), "AADSTS") {
			t.Fatalf("assertion %q: %d %s", assertion, w.Code, w.Body)
		}
	})
}
