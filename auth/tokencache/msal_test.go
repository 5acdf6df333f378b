package tokencache

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// tokenServer is the least of an Entra ID that MSAL's confidential client
// needs for client credentials: discovery and a token endpoint, on loopback
// TLS. It counts token requests, so a test can tell a cache hit from a
// network call.
type tokenServer struct {
	*httptest.Server
	tokens atomic.Int32
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := ts.URL + "/tenant"
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			json.NewEncoder(w).Encode(map[string]string{
				"authorization_endpoint": base + "/oauth2/v2.0/authorize",
				"token_endpoint":         base + "/oauth2/v2.0/token",
				"issuer":                 base + "/v2.0",
			})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			n := ts.tokens.Add(1)
			r.ParseForm()
			json.NewEncoder(w).Encode(map[string]any{
				"access_token": fmt.Sprintf("%s-%d-%s", secretToken, n, r.Form.Get("scope")),
				"token_type":   "Bearer",
				"expires_in":   3600,
			})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) client(t *testing.T, c cache.ExportReplace) confidential.Client {
	t.Helper()
	cred, err := confidential.NewCredFromSecret("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	client, err := confidential.New(ts.URL+"/tenant", "11111111-2222-3333-4444-555555555555", cred,
		confidential.WithCache(c),
		confidential.WithHTTPClient(ts.Client()),
		confidential.WithInstanceDiscovery(false),
		confidential.WithAzureRegion("DisableMsalForceRegion"),
	)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// TestRealMSALClient drives a real MSAL Go client through the cache: a token
// acquired by one client (process) is found by another with a fresh Cache on
// the same file, without a network call, and the file never holds it in
// plain text.
func TestRealMSALClient(t *testing.T) {
	ctx := context.Background()
	ts := newTokenServer(t)
	path := cachePath(t)
	scopes := []string{"https://outlook.office365.com/.default"}

	first := ts.client(t, mustNew(t, path, Options{}))
	ar, err := first.AcquireTokenByCredential(ctx, scopes)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if len(raw) == 0 || strings.Contains(string(raw), secretToken) {
		t.Fatalf("cache file missing or in plain text (%d bytes)", len(raw))
	}

	second := ts.client(t, mustNew(t, path, Options{}))
	again, err := second.AcquireTokenByCredential(ctx, scopes)
	if err != nil {
		t.Fatal(err)
	}
	if again.AccessToken != ar.AccessToken || ts.tokens.Load() != 1 {
		t.Errorf("second client went to the network (%d token requests)", ts.tokens.Load())
	}
}

// exportBarrier holds every Export until all clients reach theirs, so each
// has loaded the file (MSAL's Replace) before any writes it: the lost-update
// race, made certain.
type exportBarrier struct {
	*Cache
	wg *sync.WaitGroup
}

func (b exportBarrier) Export(ctx context.Context, m cache.Marshaler, h cache.ExportHints) error {
	b.wg.Done()
	b.wg.Wait()
	return b.Cache.Export(ctx, m, h)
}

// TestRealMSALConcurrentClients has several MSAL clients, each with its own
// Cache on one file, acquire tokens for different scopes at once, all loading
// the file before any of them writes it; a fresh client then finds every one
// of the tokens in the file.
func TestRealMSALConcurrentClients(t *testing.T) {
	ctx := context.Background()
	ts := newTokenServer(t)
	path := cachePath(t)
	mustNew(t, path, Options{})
	const clients = 6
	barrier := &sync.WaitGroup{}
	barrier.Add(clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			cl := ts.client(t, exportBarrier{mustNew(t, path, Options{}), barrier})
			_, err := cl.AcquireTokenByCredential(ctx, []string{fmt.Sprintf("api://res%d/.default", i)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	before := ts.tokens.Load()
	fresh := ts.client(t, mustNew(t, path, Options{}))
	for i := range clients {
		// AcquireTokenByCredential reads the cache first (MSAL's
		// confidential AcquireTokenSilent wants an account).
		if _, err := fresh.AcquireTokenByCredential(ctx, []string{fmt.Sprintf("api://res%d/.default", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := ts.tokens.Load() - before; n != 0 {
		t.Errorf("%d of %d tokens lost from the file: fetched again", n, clients)
	}
}
