package exo

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
)

// Hostile servers: each test points a session at a TLS server on loopback that misbehaves,
// and checks that the token stays home, every wait ends, memory stays bounded, and the error
// says what happened.

// witness is a server that must never see a token: it records what reached it.
type witness struct {
	*httptest.Server
	mu    sync.Mutex
	hits  int
	auths []string
}

func newWitness(t *testing.T, tls bool) *witness {
	w := &witness{}
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.hits++
		if a := r.Header.Get("Authorization"); a != "" {
			w.auths = append(w.auths, a)
		}
		w.mu.Unlock()
		io.WriteString(rw, page([]string{`{"Name":"stolen"}`}, ""))
	})
	if tls {
		w.Server = httptest.NewTLSServer(h)
	} else {
		w.Server = httptest.NewServer(h)
	}
	t.Cleanup(w.Close)
	return w
}

func (w *witness) tokens() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.auths...)
}

// refreshing is a credential that counts fresh tokens and remembers claims challenges.
type refreshing struct {
	mu        sync.Mutex
	n         int
	refreshes int
	claims    []string
}

func (r *refreshing) Token(ctx context.Context, scope string) (auth.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return auth.Token{AccessToken: fmt.Sprintf("tok-%d", r.n), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (r *refreshing) Refresh(ctx context.Context, scope, claims string) (auth.Token, error) {
	r.mu.Lock()
	r.n++
	r.refreshes++
	r.claims = append(r.claims, claims)
	r.mu.Unlock()
	return r.Token(ctx, scope)
}

// hostile starts h on TLS and connects a session with short bounds.
func hostile(t *testing.T, h http.Handler, tune ...func(*Options)) (*Session, *httptest.Server) {
	t.Helper()
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the request first: only then does the server see the client go away.
		_, _ = io.Copy(io.Discard, r.Body)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	o := Options{
		ConnectionURI: ts.URL, AuthorityURI: "https://127.0.0.1:1/organizations", Organization: "contoso.onmicrosoft.com",
		Credential: &refreshing{}, HTTPClient: ts.Client(), RetryBackoff: time.Millisecond,
		RequestTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, IdleTimeout: time.Second,
	}
	for _, f := range tune {
		f(&o)
	}
	s, err := Connect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return s, ts
}

func invokeErr(s *Session, cmdlet string, p Params) error {
	var err error
	for _, e := range s.Invoke(context.Background(), cmdlet, p) {
		if e != nil {
			err = e
		}
	}
	return err
}

func TestTokenGoesNowhereElse(t *testing.T) {
	t.Parallel()
	evil := newWitness(t, true)
	plain := newWitness(t, false)
	evilURL, _ := url.Parse(evil.URL)
	for _, c := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request, self string)
		want   string
	}{
		{"nextLink to another host", func(w http.ResponseWriter, r *http.Request, self string) {
			io.WriteString(w, page([]string{`{"Name":"a"}`}, strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)+"/adminapi/beta/t/InvokeCommand?p=2"))
		}, "refused to send the access token to https://localhost"},
		{"nextLink to another port", func(w http.ResponseWriter, r *http.Request, self string) {
			io.WriteString(w, page([]string{`{"Name":"a"}`}, evil.URL+"/adminapi/beta/t/InvokeCommand?p=2"))
		}, "refused to send the access token to " + evil.URL},
		{"nextLink over plain http", func(w http.ResponseWriter, r *http.Request, self string) {
			io.WriteString(w, page([]string{`{"Name":"a"}`}, strings.Replace(self, "https://", "http://", 1)+"/adminapi/beta/t/InvokeCommand?p=2"))
		}, "refused to send the access token to http://"},
		{"nextLink that is not absolute", func(w http.ResponseWriter, r *http.Request, self string) {
			io.WriteString(w, page([]string{`{"Name":"a"}`}, "/adminapi/beta/t/InvokeCommand?p=2"))
		}, "not an absolute URL"},
		{"302 to another host", func(w http.ResponseWriter, r *http.Request, self string) {
			http.Redirect(w, r, evil.URL+"/adminapi/beta/t/InvokeCommand", http.StatusFound)
		}, "redirect"},
		{"307 to plain http", func(w http.ResponseWriter, r *http.Request, self string) {
			http.Redirect(w, r, plain.URL+"/adminapi/beta/t/InvokeCommand", http.StatusTemporaryRedirect)
		}, "redirect"},
		{"308 to itself", func(w http.ResponseWriter, r *http.Request, self string) {
			http.Redirect(w, r, self+"/elsewhere", http.StatusPermanentRedirect)
		}, "redirect"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var self string
			s, ts := hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.answer(w, r, self) }))
			self = ts.URL
			err := invokeErr(s, "Get-Mailbox", Params{"ResultSize": "Unlimited"})
			var oe *OriginError
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v; want an OriginError naming %q", err, c.want)
			}
		})
	}
	if tok := append(evil.tokens(), plain.tokens()...); len(tok) > 0 || evil.hits+plain.hits > 0 {
		t.Errorf("the other hosts were reached %d times, with tokens %q", evil.hits+plain.hits, tok)
	}
	_ = evilURL
}

func TestCatalogRedirectIsRefused(t *testing.T) {
	t.Parallel()
	evil := newWitness(t, true)
	s, _ := hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/adminapi/v1.0/t/EXOModuleFile", http.StatusFound)
	}))
	_, err := s.Cmdlets(context.Background())
	var oe *OriginError
	if !errors.As(err, &oe) || evil.hits > 0 {
		t.Errorf("err = %v, the other host reached %d times", err, evil.hits)
	}
}

func TestSignInClientFollowsNoRedirectElsewhere(t *testing.T) {
	t.Parallel()
	// What MSAL's client does with a token endpoint that redirects: the client assertion in
	// the body must not follow a 307 to another host or to http.
	evil := newWitness(t, true)
	plain := newWitness(t, false)
	for _, to := range []string{evil.URL, plain.URL} {
		ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, to+"/token", http.StatusTemporaryRedirect)
		}))
		hc, err := HTTPClient("")
		if err != nil {
			t.Fatal(err)
		}
		hc.Transport.(*http.Transport).TLSClientConfig = ts.Client().Transport.(*http.Transport).TLSClientConfig
		resp, err := hc.Post(ts.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("client_assertion=secret"))
		if err == nil {
			resp.Body.Close()
		}
		var oe *OriginError
		if !errors.As(err, &oe) {
			t.Errorf("redirect to %s: err = %v, want an OriginError", to, err)
		}
		ts.Close()
	}
	if evil.hits+plain.hits > 0 {
		t.Errorf("the assertion followed a redirect: %d requests elsewhere", evil.hits+plain.hits)
	}
}

func TestPlainHTTPConnectionURIRefused(t *testing.T) {
	t.Parallel()
	_, err := Connect(context.Background(), Options{ConnectionURI: "http://outlook.example.com", Organization: "contoso.onmicrosoft.com", Credential: &refreshing{}})
	if err == nil || !strings.Contains(err.Error(), "use https") {
		t.Errorf("http connection URI: %v", err)
	}
}

func TestRegionDiscoveryRefusesForeignLocations(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ loc, base string }{
		{"http://eur03b.admin.protection.outlook.com:446/x", "https://ps.compliance.protection.outlook.com"},
		{"https://eur03b.admin.protection.evil.com:446/x", "https://ps.compliance.protection.outlook.com"},
		{"https://evil.example.com/adminapi/beta/t/EXOBanner('AutogenSession')", "https://ps.compliance.protection.outlook.com"},
		{"https://127.0.0.2:10443/compliance/eur01b/adminapi/", "https://127.0.0.1:10443"},
		{"https://127.0.0.1:10444/compliance/eur01b/adminapi/", "https://127.0.0.1:10443"},
		{"http://127.0.0.1:10443/compliance/eur01b/adminapi/", "https://127.0.0.1:10443"},
		{"https://eur01b.evil.com:10443/adminapi/", "https://localhost:10443"},
		{"https://a_b.admin.protection.outlook.com/x", "https://ps.compliance.protection.outlook.com"},
	} {
		loc, _ := url.Parse(c.loc)
		if got, err := regionBase(loc, c.base); err == nil {
			t.Errorf("regionBase(%s, %s) = %s, want a refusal", c.loc, c.base, got)
		}
	}
	// {region}.localhost is the emulator's own loopback name for the region.
	loc, _ := url.Parse("https://eur01b.localhost:10443/adminapi/beta/t/EXOBanner('AutogenSession')")
	if got, err := regionBase(loc, "https://localhost:10443"); err != nil || got != "https://eur01b.localhost:10443" {
		t.Errorf("{region}.localhost: %s, %v", got, err)
	}
}

func TestRegionDiscoveryOverHTTPRefusedAtConnect(t *testing.T) {
	t.Parallel()
	plain := newWitness(t, false)
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/adminapi/beta/t/EXOBanner('AutogenSession')", http.StatusFound)
	}))
	defer ts.Close()
	_, err := Connect(context.Background(), Options{Compliance: true, ConnectionURI: ts.URL, Organization: "contoso.onmicrosoft.com",
		Credential: &refreshing{}, HTTPClient: ts.Client()})
	var oe *OriginError
	if !errors.As(err, &oe) || plain.hits > 0 {
		t.Errorf("err = %v; the http region was reached %d times", err, plain.hits)
	}
}

func TestEveryWaitIsBounded(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		handler    http.HandlerFunc
		want       string
		read, idle time.Duration
	}{
		{"never answers", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, "did not answer within", time.Second, time.Second},
		{"one byte a second", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"value":[`)
			for {
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(10 * time.Millisecond):
				}
				io.WriteString(w, " ")
			}
		}, "did not finish its answer within", 500 * time.Millisecond, 10 * time.Second},
		{"stops mid-answer", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"value":[{"Name":"a"}`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, "sent nothing more for", 10 * time.Second, 300 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var notices []string
			s, _ := hostile(t, c.handler, func(o *Options) {
				o.RequestTimeout, o.ReadTimeout, o.IdleTimeout = 300*time.Millisecond, c.read, c.idle
				o.OnNotice = func(n Notice) { mu.Lock(); notices = append(notices, n.Message); mu.Unlock() }
			})
			err := invokeErr(s, "Get-Mailbox", nil)
			var te *TimeoutError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want a TimeoutError: %s", err, c.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if c.name == "never answers" && (len(notices) == 0 || !strings.Contains(notices[0], "waiting for the service to answer Get-Mailbox")) {
				t.Errorf("the wait was not announced: %q", notices)
			}
		})
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	t.Parallel()
	for _, retryAfter := range []string{"3528", "Fri, 31 Dec 2100 23:59:59 GMT", "1e300"} {
		var calls atomic.Int32
		s, _ := hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Retry-After", retryAfter)
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		err := invokeErr(s, "Get-Mailbox", nil)
		var te *ThrottledError
		if !errors.As(err, &te) || te.RetryAfter < 30*time.Minute || calls.Load() != 1 || !strings.Contains(err.Error(), "run the command again after that") {
			t.Errorf("Retry-After %s: %d calls, err = %v", retryAfter, calls.Load(), err)
		}
	}
}

func TestThrottlingWaitIsAnnounced(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var notices []Notice
	s, _ := hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, page([]string{`{"Name":"a"}`}, ""))
	}), func(o *Options) { o.OnNotice = func(n Notice) { notices = append(notices, n) } })
	if err := invokeErr(s, "Get-Mailbox", nil); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || notices[0].Message != "throttled by the service: waiting 2s (attempt 2 of 6)" {
		t.Errorf("notices %+v", notices)
	}
}

func TestThrottledThroughEveryRetry(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	s, _ := hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "0.001")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	err := invokeErr(s, "Get-Mailbox", nil)
	var te *ThrottledError
	if !errors.As(err, &te) || !te.Exhausted || calls.Load() != 6 {
		t.Errorf("%d calls, err = %v", calls.Load(), err)
	}
}

func TestBadRetryAfterValues(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]time.Duration{
		"": 0, "-5": 0, "NaN": 0, "garbage": 0, "0.5": 500 * time.Millisecond, "Thu, 01 Jan 1970 00:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(v); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestEndlessPagingStops(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		next func(n int32, self string) (records []string, next string)
		want string
	}{
		{"the same nextLink again", func(n int32, self string) ([]string, string) {
			return []string{`{"Name":"a"}`}, self + "/adminapi/beta/t/InvokeCommand?p=loop"
		}, "same @odata.nextLink twice"},
		{"empty pages forever", func(n int32, self string) ([]string, string) {
			return nil, fmt.Sprintf("%s/adminapi/beta/t/InvokeCommand?p=%d", self, n)
		}, "empty pages in a row"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			var self string
			s, ts := hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				recs, next := c.next(calls.Add(1), self)
				io.WriteString(w, page(recs, next))
			}))
			self = ts.URL
			err := invokeErr(s, "Get-Mailbox", Params{"ResultSize": "Unlimited"})
			if err == nil || !strings.Contains(err.Error(), c.want) || calls.Load() > 20 {
				t.Errorf("%d pages, err = %v", calls.Load(), err)
			}
		})
	}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestHugeAnswersAreCut(t *testing.T) {
	t.Parallel()
	// A gzip bomb: 1 GB of JSON whitespace in about a megabyte, as 1024 gzip members of 1 MB
	// each (a gzip stream may hold several; readers decompress them all).
	member := func(prefix string) []byte {
		var b bytes.Buffer
		gz, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		io.WriteString(gz, prefix)
		gz.Write(bytes.Repeat([]byte(" "), 1<<20))
		gz.Close()
		return b.Bytes()
	}
	bomb := bytes.NewBuffer(member(`{"value":[{"Name":"`))
	spaces := member("")
	for range 1<<10 - 1 {
		bomb.Write(spaces)
	}
	for _, c := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		}},
		{"2 GB body", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"value":[{"Name":"`)
			io.Copy(w, io.LimitReader(zeros{}, 2<<30))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			s, _ := hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				c.handler(w, r)
			}), func(o *Options) { o.ReadTimeout = time.Minute })
			err := invokeErr(s, "Get-Mailbox", nil)
			if !errors.Is(err, ErrPageTooLarge) || calls.Load() != 1 {
				t.Errorf("%d calls (retries would multiply memory), err = %v", calls.Load(), err)
			}
		})
	}
}

func TestUnreachableFailsFast(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s, err := Connect(context.Background(), Options{ConnectionURI: "https://" + addr, Organization: "contoso.onmicrosoft.com",
		Credential: &refreshing{}, RetryBackoff: time.Hour}) // a retry would wait an hour
	if err != nil {
		t.Fatal(err)
	}
	err = invokeErr(s, "Get-Mailbox", nil)
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %v", err)
	}
	// A certificate nobody trusts is no better on a second try.
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	defer ts.Close()
	s, _ = Connect(context.Background(), Options{ConnectionURI: ts.URL, Organization: "contoso.onmicrosoft.com",
		Credential: &refreshing{}, RetryBackoff: time.Hour})
	if err := invokeErr(s, "Get-Mailbox", nil); !errors.As(err, &ue) {
		t.Errorf("untrusted certificate: %v", err)
	}
}

func TestUnauthorizedRefreshesTheTokenOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	cred := &refreshing{}
	s, _ := hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		n := len(seen)
		mu.Unlock()
		if n == 1 {
			claims := base64.StdEncoding.EncodeToString([]byte(`{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}`))
			w.Header().Set("WWW-Authenticate", `Bearer realm="", error="insufficient_claims", claims="`+claims+`"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, page([]string{`{"Name":"a"}`}, ""))
	}), func(o *Options) { o.Credential = cred })
	if err := invokeErr(s, "Get-Mailbox", nil); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] == seen[1] || seen[1] != "Bearer tok-1" {
		t.Errorf("tokens sent: %q, want the cached one then a fresh one", seen)
	}
	if cred.refreshes != 1 || !strings.Contains(cred.claims[0], `"nbf"`) {
		t.Errorf("%d refreshes, claims %q", cred.refreshes, cred.claims)
	}

	// Refused again: the 401 is the answer (exit code 4 in the CLI), after one refresh.
	cred2 := &refreshing{}
	var calls atomic.Int32
	s, _ = hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}), func(o *Options) { o.Credential = cred2 })
	err := invokeErr(s, "Set-Mailbox", Params{"Identity": "a"})
	var ce *CmdletError
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusUnauthorized || calls.Load() != 2 || cred2.refreshes != 1 ||
		!strings.Contains(err.Error(), "exoctl connect") {
		t.Errorf("%d calls, %d refreshes, err = %v", calls.Load(), cred2.refreshes, err)
	}

	// A token the user brought cannot be refreshed: sign in again.
	tok := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"tid":"t","exp":4102444800}`)) + "."
	s, _ = hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}), func(o *Options) { o.Credential, o.AccessToken = nil, tok })
	if err := invokeErr(s, "Get-Mailbox", nil); !errors.Is(err, auth.ErrSignInRequired) || !strings.Contains(err.Error(), "--access-token-stdin") {
		t.Errorf("brought token refused: %v", err)
	}
}

func TestErrorBodiesAreBounded(t *testing.T) {
	t.Parallel()
	s, _ := hostile(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"code":"BadRequest","message":"`)
		io.Copy(w, io.LimitReader(zeros{}, 64<<20))
	}))
	err := invokeErr(s, "Get-Mailbox", nil)
	var ce *CmdletError
	if !errors.As(err, &ce) || len(err.Error()) > 2<<10 {
		t.Errorf("err (%d bytes) = %.200v", len(fmt.Sprint(err)), err)
	}
}

// refuseFirst answers the first InvokeCommand with a 401 itself, and records the tokens of
// cmdlet requests and the requests to the token endpoint.
type refuseFirst struct {
	next     http.RoundTripper
	mu       sync.Mutex
	refused  bool
	tokens   []string
	tokenReq int
}

func (rt *refuseFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	if strings.HasSuffix(req.URL.Path, "/token") {
		rt.tokenReq++
	}
	if strings.HasSuffix(req.URL.Path, "/InvokeCommand") {
		rt.tokens = append(rt.tokens, req.Header.Get("Authorization"))
		if !rt.refused {
			rt.refused = true
			rt.mu.Unlock()
			return &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{"Www-Authenticate": {"Bearer"}},
				Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
		}
	}
	rt.mu.Unlock()
	return rt.next.RoundTrip(req)
}

func TestUnauthorizedGetsAFreshTokenFromTheAuthority(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := emulator.Start(ctx, emulator.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tn := e.Info.Tenants[0]
	cert, err := auth.LoadPFX(tn.Apps[0].CertificateFile, tn.Apps[0].CertificatePassword)
	if err != nil {
		t.Fatal(err)
	}
	hc := e.HTTPClient()
	rt := &refuseFirst{next: hc.Transport}
	hc.Transport = rt
	s, err := Connect(ctx, Options{ConnectionURI: e.Info.ConnectionURI, AuthorityURI: e.Info.Authority, Organization: tn.Name,
		AppID: tn.Apps[0].AppID, Certificate: &cert, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if err := invokeErr(s, "Get-AcceptedDomain", nil); err != nil {
		t.Fatal(err)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	// MSAL's cache would hand back the refused token; the retry must carry one fetched anew
	// from the authority. (The emulator signs app-only tokens asked for in the same second
	// once, so the new token may equal the old: the second token request is the proof.)
	if len(rt.tokens) != 2 || rt.tokenReq != 2 {
		t.Errorf("%d cmdlet requests, %d token requests; want 2 and 2 (connect, then the refresh after the 401)", len(rt.tokens), rt.tokenReq)
	}
}
