package connection

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/exo"
)

func savedStore(t *testing.T, prefixes ...string) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prefixes {
		pr := &Profile{ConnectionID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i+1), ID: i + 1, Prefix: p,
			Method: MethodAccessToken, KeyStore: keyStoreFile, ConnectedAt: time.Unix(int64(i), 0)}
		if err := s.Save(pr, Secrets{AccessToken: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestSelect(t *testing.T) {
	t.Parallel()
	s := savedStore(t, "contoso", "cust-a", "cust-b", "")
	for _, tc := range []struct {
		sels []string
		want []int
		err  bool
	}{
		{nil, []int{4}, false},
		{[]string{"1,3"}, []int{1, 3}, false},
		{[]string{"cust-*"}, []int{2, 3}, false},
		{[]string{"CUST-?", "1"}, []int{2, 3, 1}, false},
		{[]string{"2", "cust-a"}, []int{2}, false},
		{[]string{"00000000-0000-0000-0000-000000000004"}, []int{4}, false},
		{[]string{"nope*"}, nil, true},
		{[]string{"1,9"}, nil, true},
	} {
		ps, err := s.Select(tc.sels)
		if tc.err {
			if err == nil {
				t.Errorf("Select(%q) = %v, want an error", tc.sels, ps)
			}
			continue
		}
		var got []int
		for _, p := range ps {
			got = append(got, p.ID)
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Select(%q) = %v (%v), want %v", tc.sels, got, err, tc.want)
		}
	}
	if err := s.checkPrefix("Contoso"); err == nil {
		t.Error("a duplicate prefix (other case) is accepted")
	}
}

// FanOut runs every target, never more than parallel at once, keeps results in target order
// and lets one target's failure leave the others alone.
func TestFanOutBoundsAndIsolates(t *testing.T) {
	t.Parallel()
	var running, peak atomic.Int32
	var targets []Target
	for i := range 40 {
		targets = append(targets, Target{Tenant: fmt.Sprintf("t%02d", i), open: func(ctx context.Context) (*exo.Session, error) {
			if i == 7 {
				return nil, errors.New("AADSTS50020")
			}
			return &exo.Session{}, nil
		}})
	}
	res := FanOut(context.Background(), targets, 5, func(ctx context.Context, tg Target, s *exo.Session) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		if tg.Tenant == "t13" {
			return errors.New("throttled")
		}
		return nil
	})
	if p := peak.Load(); p > 5 || p < 1 {
		t.Errorf("peak concurrency %d, want 1..5", p)
	}
	for i, r := range res {
		want := i == 7 || i == 13
		if r.Tenant != targets[i].Tenant || (r.Err != nil) != want {
			t.Errorf("result %d = %+v", i, r)
		}
	}
}

// fixedToken is a Source with an unsigned token, enough for a test server.
type fixedToken struct{}

func (fixedToken) Token(ctx context.Context, scope string) (auth.Token, error) {
	return auth.Token{AccessToken: "x.eyJ0aWQiOiJ0In0.x", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// A tenant that waits out its throttling lends its turn: with one turn for three tenants, the
// other two finish while the throttled one waits, and it finishes after its Retry-After.
func TestFanOutThrottledTenantLendsItsTurn(t *testing.T) {
	t.Parallel()
	var throttledOnce atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/a.example/") && throttledOnce.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"throttled"}}`)
			return
		}
		fmt.Fprint(w, `{"value":[{"Name":"x"}]}`)
	}))
	defer ts.Close()
	var targets []Target
	for _, tenant := range []string{"a.example", "b.example", "c.example"} {
		targets = append(targets, Target{Tenant: tenant, open: func(ctx context.Context) (*exo.Session, error) {
			return exo.Connect(ctx, exo.Options{ConnectionURI: ts.URL, AuthorityURI: "https://127.0.0.1:1/organizations",
				Organization: tenant, Credential: fixedToken{}, HTTPClient: ts.Client()})
		}})
	}
	var mu sync.Mutex
	var order []string
	res := FanOut(context.Background(), targets, 1, func(ctx context.Context, tg Target, s *exo.Session) error {
		for _, err := range s.Invoke(ctx, "Get-AcceptedDomain", nil) {
			if err != nil {
				return err
			}
		}
		mu.Lock()
		order = append(order, tg.Tenant)
		mu.Unlock()
		return nil
	})
	for _, r := range res {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Tenant, r.Err)
		}
	}
	if want := []string{"b.example", "c.example", "a.example"}; !slices.Equal(order, want) {
		t.Errorf("finished in the order %v, want %v (the throttled tenant's turn lent meanwhile)", order, want)
	}
}
