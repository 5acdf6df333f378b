package exo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoctl/exoctl/auth"
)

func TestEncodeParams(t *testing.T) {
	p := Params{
		"Identity":       "alice",
		"Confirm":        false,
		"ResultSize":     "Unlimited",
		"EmailAddresses": map[string]any{"Add": "smtp:a@x", "Remove": []any{"smtp:b@x"}},
		"Rules":          []map[string]any{{"A": 1}},
		"StartDate":      time.Date(2024, 3, 1, 10, 30, 5, 999, time.FixedZone("x", 3600)),
		"Manager":        nil,
	}
	enc, err := encodeParams(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(enc)
	got := string(b)
	for _, want := range []string{
		`"EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Add":"smtp:a@x","Remove":["smtp:b@x"]}`,
		`"Rules":[{"@odata.type":"#Exchange.GenericHashTable","A":1}]`,
		`"Rules@odata.type":"#Collection(Exchange.GenericHashTable)"`,
		`"StartDate":"2024-03-01T09:30:05"`,
		`"Confirm":false`, `"Manager":null`, `"ResultSize":"Unlimited"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("encoded parameters lack %s:\n%s", want, got)
		}
	}
}

func TestRecordDropsAnnotationsKeepsOrder(t *testing.T) {
	var r Record
	err := json.Unmarshal([]byte(`{"Name":"a","Guid@data.type":"System.Guid","Guid":"g","EmailAddresses@odata.type":"#Collection(String)","EmailAddresses":["SMTP:a@x","smtp:b@y"],"Nested":{"X@odata.type":"t","X":1},"Count":12,"On":true,"None":null}`), &r)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range r.Fields {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "Name,Guid,EmailAddresses,Nested,Count,On,None" {
		t.Errorf("fields %s", got)
	}
	if r.String("emailaddresses") != "{SMTP:a@x, smtp:b@y}" || r.String("On") != "True" || r.String("Nested") != "@{X=1}" {
		t.Errorf("formatting: %q %q %q", r.String("emailaddresses"), r.String("On"), r.String("Nested"))
	}
	b, _ := json.Marshal(&r)
	if !strings.HasPrefix(string(b), `{"Name":"a","Guid":"g"`) || strings.Contains(string(b), "@") && !strings.Contains(string(b), "a@x") {
		t.Errorf("marshal: %s", b)
	}
}

// staticToken is a Source with a fixed unsigned token, enough for a test server.
type staticToken struct{}

func (staticToken) Token(ctx context.Context, scope string) (auth.Token, error) {
	return auth.Token{AccessToken: "x.eyJ0aWQiOiJ0In0.x", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func testSession(t *testing.T, h http.Handler) *Session {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	s, err := Connect(context.Background(), Options{
		ConnectionURI: ts.URL, AuthorityURI: "https://127.0.0.1:1/organizations", Organization: "contoso.onmicrosoft.com",
		Credential: staticToken{}, HTTPClient: ts.Client(), RetryBackoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func page(values []string, next string) string {
	s := `{"@odata.context":"x","adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[],"value":[` + strings.Join(values, ",") + `]`
	if next != "" {
		s += `,"@odata.nextLink":"` + next + `"`
	}
	return s + "}"
}

func TestPagingFollowsResultSize(t *testing.T) {
	var calls atomic.Int32
	var srvURL string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(body), `"CmdletName":"Get-Mailbox"`) {
			t.Errorf("page %d body %s", n, body)
		}
		if r.Header.Get("X-CmdletName") != "Get-Mailbox" || r.Header.Get("connection-id") == "" || !strings.HasPrefix(r.Header.Get("X-AnchorMailbox"), "APP:") {
			t.Errorf("headers %v", r.Header)
		}
		var vals []string
		for i := 0; i < 2; i++ {
			vals = append(vals, fmt.Sprintf(`{"Name":"m%d"}`, int(n)*2+i))
		}
		next := ""
		if n < 3 {
			next = srvURL + fmt.Sprintf("/adminapi/beta/t/InvokeCommand?$skiptoken=%d", n)
		}
		io.WriteString(w, page(vals, next))
	})
	ts := httptest.NewServer(h)
	defer ts.Close()
	srvURL = ts.URL
	s, err := Connect(context.Background(), Options{ConnectionURI: ts.URL, AuthorityURI: "https://127.0.0.1:1", Organization: "t", Credential: staticToken{}, HTTPClient: ts.Client()})
	if err != nil {
		t.Fatal(err)
	}
	count := func(p Params) (int, []string) {
		calls.Store(0)
		n := 0
		var warnings []string
		for pg, err := range s.InvokePages(context.Background(), "Get-Mailbox", p) {
			if err != nil {
				t.Fatal(err)
			}
			n += len(pg.Records)
			warnings = append(warnings, pg.Warnings...)
		}
		return n, warnings
	}
	if n, w := count(nil); n != 2 || len(w) != 1 || w[0] != MoreResultsWarning {
		t.Errorf("no ResultSize: %d records, warnings %v", n, w)
	}
	if n, _ := count(Params{"ResultSize": "Unlimited"}); n != 6 {
		t.Errorf("Unlimited: %d records", n)
	}
	if n, _ := count(Params{"ResultSize": 3}); n != 3 || calls.Load() != 2 {
		t.Errorf("ResultSize 3: %d records in %d calls", n, calls.Load())
	}
}

func TestRetriesThrottlingButNotStateChanges(t *testing.T) {
	var calls atomic.Int32
	s := testSession(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.Header().Set("Retry-After", "0.01")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"code":"TooManyRequests","message":"throttled"}}`)
			return
		}
		io.WriteString(w, page([]string{`{"Name":"a"}`}, ""))
	}))
	for _, err := range s.Invoke(context.Background(), "Get-AcceptedDomain", nil) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 3 {
		t.Errorf("%d calls, want 3 (two 429s then success)", calls.Load())
	}

	calls.Store(0)
	s = testSession(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	var got error
	for _, err := range s.Invoke(context.Background(), "Set-Mailbox", Params{"Identity": "a"}) {
		got = err
	}
	if got == nil {
		t.Fatal("Set-Mailbox after a 503: no error (the loop must yield the failure)")
	}
	if calls.Load() != 1 {
		t.Errorf("Set-Mailbox sent %d times after a 503; a state change must not be retried", calls.Load())
	}
}

func TestServerDyingMidPage(t *testing.T) {
	s := testSession(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"value":[{"Name":"a"},{"Na`)
	}))
	var err error
	for _, e := range s.Invoke(context.Background(), "Set-Mailbox", Params{"Identity": "a"}) {
		err = e
	}
	if err == nil || !strings.Contains(err.Error(), "broke off") {
		t.Errorf("err = %v", err)
	}
}

func TestCmdletErrorText(t *testing.T) {
	s := testSession(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("request-id", "rid-1")
		w.Header().Set("X-CalculatedBETarget", "AM7PR01MB1234.eurprd01.prod.outlook.com")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"code":"NotFound","message":"Error executing cmdlet","details":[{"code":"Client","target":"","message":"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'bob' couldn't be found."}]}}`)
	}))
	var err error
	for _, e := range s.Invoke(context.Background(), "Get-Mailbox", Params{"Identity": "bob"}) {
		err = e
	}
	ce, ok := err.(*CmdletError)
	if !ok || !ce.NotFound() || ce.Server != "AM7PR01MB1234" || ce.ErrorID != "Ex6F9304" {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "object 'bob' couldn't be found. [Server=AM7PR01MB1234,RequestId=rid-1,TimeStamp=") {
		t.Errorf("message: %s", err)
	}
}

func TestWithRecordsStreams(t *testing.T) {
	// A read-only cmdlet whose answer breaks off after a record: retried while nothing went
	// out, not after.
	var calls atomic.Int32
	s := testSession(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			io.WriteString(w, `{"value":[{"Na`)
			return
		}
		io.WriteString(w, `{"value":[{"Name":"a"},{"Na`)
	}))
	var got []string
	var err error
	for _, e := range s.InvokePages(context.Background(), "Get-Mailbox", Params{"ResultSize": "Unlimited"},
		WithRecords(func(r *Record) error { got = append(got, r.String("Name")); return nil })) {
		if e != nil {
			err = e
		}
	}
	if err == nil || !strings.Contains(err.Error(), "broke off") || calls.Load() != 2 || strings.Join(got, ",") != "a" {
		t.Errorf("err = %v after %d requests, records %q", err, calls.Load(), got)
	}

	// A server that ignores Prefer: no more records than ResultSize; fn's error comes back
	// as it is.
	s = testSession(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, page([]string{`{"Name":"a"}`, `{"Name":"b"}`, `{"Name":"c"}`}, ""))
	}))
	got = nil
	pages := 0
	for p, err := range s.InvokePages(context.Background(), "Get-Mailbox", Params{"ResultSize": 2},
		WithRecords(func(r *Record) error { got = append(got, r.String("Name")); return nil })) {
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) != 0 {
			t.Errorf("a streamed page holds %d records", len(p.Records))
		}
		pages++
	}
	if strings.Join(got, ",") != "a,b" || pages != 1 {
		t.Errorf("records %q in %d pages", got, pages)
	}
	stop := errors.New("output closed")
	for _, err := range s.InvokePages(context.Background(), "Get-Mailbox", nil, WithRecords(func(*Record) error { return stop })) {
		if err != stop {
			t.Errorf("fn's error came back as %v", err)
		}
	}
}

// TestWithRecordsManyPages: streamed pages count their records (they hold none), so a long
// chain of full pages is not taken for a run of empty ones.
func TestWithRecordsManyPages(t *testing.T) {
	var srvURL string
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		next := ""
		if n < 15 {
			next = fmt.Sprintf("%s/adminapi/beta/t/InvokeCommand?$skiptoken=%d", srvURL, n)
		}
		io.WriteString(w, page([]string{fmt.Sprintf(`{"Name":"m%d"}`, n)}, next))
	}))
	defer ts.Close()
	srvURL = ts.URL
	s, err := Connect(context.Background(), Options{
		ConnectionURI: ts.URL, AuthorityURI: "https://127.0.0.1:1/organizations", Organization: "contoso.onmicrosoft.com",
		Credential: staticToken{}, HTTPClient: ts.Client(), RetryBackoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, err := range s.InvokePages(context.Background(), "Get-Mailbox", Params{"ResultSize": "Unlimited"},
		WithRecords(func(*Record) error { got++; return nil })) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got != 15 {
		t.Errorf("%d records, want 15", got)
	}
}

// countingSource counts how often a session asks for a token; its tokens expire after life.
type countingSource struct {
	life  time.Duration
	calls atomic.Int32
}

func (c *countingSource) Token(ctx context.Context, scope string) (auth.Token, error) {
	n := c.calls.Add(1)
	return auth.Token{AccessToken: fmt.Sprintf("x.eyJ0aWQiOiJ0In0.%d", n), ExpiresOn: time.Now().Add(c.life)}, nil
}

// A session asks its source (the token cache, decrypted from disk) once for as long as the token
// has more than five minutes left, and again for each request once it has less.
func TestSessionReusesItsToken(t *testing.T) {
	for _, tc := range []struct {
		life time.Duration
		want int32
	}{{time.Hour, 1}, {4 * time.Minute, 4}} {
		var auths []string
		var mu sync.Mutex
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			auths = append(auths, r.Header.Get("Authorization"))
			mu.Unlock()
			fmt.Fprint(w, page([]string{`{"Name":"a"}`}, ""))
		}))
		src := &countingSource{life: tc.life}
		s, err := Connect(context.Background(), Options{
			ConnectionURI: ts.URL, AuthorityURI: "https://127.0.0.1:1/organizations", Organization: "contoso.onmicrosoft.com",
			Credential: src, HTTPClient: ts.Client(), RetryBackoff: time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			for _, err := range s.Invoke(context.Background(), "Get-AcceptedDomain", nil) {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		ts.Close()
		if got := src.calls.Load(); got != tc.want {
			t.Errorf("token life %v: the source was asked %d times for a connect and 3 cmdlets, want %d", tc.life, got, tc.want)
		}
		if want := fmt.Sprintf("Bearer x.eyJ0aWQiOiJ0In0.%d", tc.want); auths[len(auths)-1] != want {
			t.Errorf("token life %v: the last request carried %q, want the newest token %q", tc.life, auths[len(auths)-1], want)
		}
	}
}
