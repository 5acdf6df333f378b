package exchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// direct is an env whose server answers every path itself (no mux in front), as the
// emulator's router does: the path spellings reach the admin API as clients send them.
func direct(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	e := newEnv(t, mod)
	srv := httptest.NewServer(e.ex)
	t.Cleanup(srv.Close)
	e.srv = srv
	return e
}

// TestPathSpellings: the admin API matches its paths case-insensitively (go-exoscc, ScubaGear
// and monkey365 write /AdminApi/...), and in canonical form: a trailing slash, a doubled
// slash or a dot segment reach the same operation.
func TestPathSpellings(t *testing.T) {
	t.Parallel()
	e := direct(t, nil)
	tn := store.DemoTenantName
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/AdminApi/v1.0/" + tn + "/EXOModuleFile?Version=3.9.2", 200},
		{"GET", "/ADMINAPI/V1.0/" + tn + "/exomodulefile/", 200},
		{"POST", "/AdminApi/beta/" + tn + "/InvokeCommand", 200},
		{"POST", "/adminapi/BETA/" + tn + "/invokecommand/", 200},
		{"POST", "/adminapi//beta//" + tn + "//InvokeCommand", 200},
		{"POST", "/adminapi/beta/./" + tn + "/./InvokeCommand", 200},
		{"POST", "/adminapi/beta/other/../" + tn + "/InvokeCommand", 200},
		{"POST", "/adminapi/beta/" + tn + "/InvokeCommand/more", 404},
		{"POST", "/adminapi/gamma/" + tn + "/InvokeCommand", 404},
		{"POST", "/adminapi/beta/" + tn + "/../InvokeCommand", 404},
		{"POST", "/adminapi/beta/" + tn + "/Foo", 404},
	} {
		body := ""
		if tc.method == "POST" {
			body = `{"CmdletInput":{"CmdletName":"Get-AcceptedDomain"}}`
		}
		a := e.do(call{method: tc.method, url: e.srv.URL + tc.path, body: body})
		if a.status != tc.want {
			t.Errorf("%s %s: %s", tc.method, tc.path, a)
		}
	}
}

// batchURL is the demo tenant's $batch.
func (e *env) batchURL() string {
	return e.srv.URL + "/adminapi/beta/" + store.DemoTenantName + "/$batch"
}

func (e *env) batch(t *testing.T, url string, subs ...string) []map[string]any {
	t.Helper()
	a := e.do(call{url: url, body: `{"requests":[` + strings.Join(subs, ",") + `]}`})
	if a.status != 200 {
		t.Fatalf("batch: %s", a)
	}
	var out []map[string]any
	list, _ := a.body["responses"].([]any)
	for _, r := range list {
		out = append(out, r.(map[string]any))
	}
	return out
}

func sub(id, url, body string) string {
	return fmt.Sprintf(`{"id":%q,"method":"POST","url":%q,"body":%s}`, id, url, body)
}

// TestNestedBatchRefused: a batch inside a batch is refused however its URL is spelled, so
// no request can multiply its answer by ten per level (a trailing slash once produced a
// 385 MB answer to a 212 KB request).
func TestNestedBatchRefused(t *testing.T) {
	t.Parallel()
	e := direct(t, nil)
	tn := store.DemoTenantName
	inner := `{"requests":[{"id":"x","method":"POST","url":"InvokeCommand","body":{"CmdletInput":{"CmdletName":"Get-AcceptedDomain"}}}]}`
	urls := []string{
		"$batch", "$batch/", "$BATCH", "./$batch", "InvokeCommand/../$batch", "beta/" + tn + "/$batch//",
		"/adminapi/beta/" + tn + "/$batch/", "/AdminApi/v1.0/" + tn + "/$Batch", "/adminapi/beta/" + tn + "/./$batch",
		e.srv.URL + "/adminapi/beta/" + tn + "/$batch/", "//adminapi/beta/" + tn + "/$batch",
	}
	var subs []string
	for i, u := range urls[:10] {
		subs = append(subs, sub(fmt.Sprint(i), u, inner))
	}
	// The outer batch itself may be spelled with a trailing slash.
	for _, outer := range []string{e.batchURL(), e.batchURL() + "/"} {
		for _, r := range e.batch(t, outer, subs...) {
			if r["status"].(float64) != 400 {
				t.Errorf("inner %s (%s): status %v", r["id"], urls[int(r["id"].(string)[0]-'0')], r["status"])
			}
		}
	}
	last := e.batch(t, e.batchURL(), sub("a", urls[10], inner))
	if last[0]["status"].(float64) != 400 {
		t.Errorf("%s: %v", urls[10], last[0])
	}
	// A batch reached by a request already inside one is refused by its context too.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/adminapi/beta/"+tn+"/$batch", strings.NewReader(inner)).
		WithContext(context.WithValue(context.Background(), inBatch{}, true))
	e.ex.batch(rec, req, route{version: "beta", tenant: tn, op: "$batch"})
	if rec.Code != 400 {
		t.Errorf("batch in a batch context: %d %s", rec.Code, rec.Body)
	}
}

// TestBatchLimits: one to ten requests per batch, as the service; the whole answer is bounded
// (an inner answer that would pass the bound becomes a 413 naming it).
func TestBatchLimits(t *testing.T) {
	t.Parallel()
	const limit = 200 << 10
	e := direct(t, func(c *Config) { c.MaxBatchAnswer = limit })
	tok := sign(t, testKeys, appClaims(fabrikamID))
	url := e.srv.URL + "/adminapi/beta/" + fabrikamName + "/$batch"
	for _, n := range []int{0, 11} {
		var subs []string
		for i := range n {
			subs = append(subs, sub(fmt.Sprint(i), "InvokeCommand", `{"CmdletInput":{"CmdletName":"Get-AcceptedDomain"}}`))
		}
		if a := e.do(call{url: url, token: tok, body: `{"requests":[` + strings.Join(subs, ",") + `]}`}); a.status != 400 {
			t.Errorf("%d requests: %s", n, a)
		}
	}
	var subs []string
	for i := range 10 {
		subs = append(subs, sub(fmt.Sprint(i), "InvokeCommand", `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":10}}}`))
	}
	a := e.do(call{url: url, token: tok, body: `{"requests":[` + strings.Join(subs, ",") + `]}`})
	if a.status != 200 {
		t.Fatal(a)
	}
	if len(a.raw) > limit+10*2048 {
		t.Errorf("answer of %d bytes, bound %d", len(a.raw), limit)
	}
	statuses := map[float64]int{}
	for _, r := range a.body["responses"].([]any) {
		m := r.(map[string]any)
		statuses[m["status"].(float64)]++
		if m["status"].(float64) == 413 && !strings.Contains(fmt.Sprint(m["body"]), "wasn't answered in full") {
			t.Errorf("413 without its reason: %v", m["body"])
		}
	}
	if statuses[200] == 0 || statuses[413] == 0 || statuses[200]+statuses[413] != 10 {
		t.Errorf("statuses %v: want some 200 then 413", statuses)
	}
}

// TestBatchHeaderValues: inner headers may be JSON booleans, numbers or null (CIPP sends
// "parameter-based-routing": true); string ones still apply.
func TestBatchHeaderValues(t *testing.T) {
	t.Parallel()
	e := direct(t, nil)
	s := `{"id":"1","method":"POST","url":"InvokeCommand","body":{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":10}}},` +
		`"headers":{"parameter-based-routing":true,"X-Number":5,"X-Nothing":null,"X-List":["a"],"Prefer":"odata.maxpagesize=2","X-CmdletName":"Get-Mailbox"}}`
	r := e.batch(t, e.batchURL(), s)
	if r[0]["status"].(float64) != 200 {
		t.Fatalf("%v", r[0])
	}
	if v := r[0]["body"].(map[string]any)["value"].([]any); len(v) != 2 {
		t.Errorf("Prefer in the inner headers not applied: %d objects", len(v))
	}
}

// brokenStore fails as a damaged database does, with the driver's words.
type brokenStore struct{ store.Store }

func (brokenStore) Tenant(context.Context, string) (store.Tenant, error) {
	return store.Tenant{}, errors.New("SQL logic error: no such table: tenants (1)")
}

// syncBuffer is a log sink tests read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestInternalErrorsStayInLog: a 500 says only that the server failed and the request id;
// the internal text is in the log under that id.
func TestInternalErrorsStayInLog(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	e := direct(t, func(c *Config) {
		c.Store = brokenStore{testStore}
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	a := e.do(call{cmdlet: "Get-AcceptedDomain"})
	if a.status != 500 {
		t.Fatal(a)
	}
	rid := a.header.Get("request-id")
	if strings.Contains(string(a.raw), "SQL") || !strings.Contains(string(a.raw), rid) {
		t.Errorf("answer: %s", a.raw)
	}
	if l := log.String(); !strings.Contains(l, "no such table") || !strings.Contains(l, rid) {
		t.Errorf("log: %s", l)
	}
}

// TestNoControlBytesInHeaders: what a request smuggles into its path (a NUL, a line break)
// reaches no header: the 401's WWW-Authenticate names the tenant with the bytes escaped.
func TestNoControlBytesInHeaders(t *testing.T) {
	t.Parallel()
	e := direct(t, nil)
	a := e.do(call{url: e.srv.URL + "/adminapi/beta/con%00to%0D%0AX-Evil:%201%22so/InvokeCommand", cmdlet: "Get-AcceptedDomain"})
	if a.status != 401 {
		t.Fatal(a)
	}
	if a.header.Get("X-Evil") != "" {
		t.Error("a header was injected")
	}
	wa := a.header.Get("WWW-Authenticate")
	if strings.ContainsFunc(wa, func(r rune) bool { return r < 0x20 }) || !strings.Contains(wa, "con%00to%0D%0AX-Evil: 1'so") {
		t.Errorf("WWW-Authenticate %q", wa)
	}
}

// TestRateLimitOff: a negative RateLimit turns the limit off: no Rate-Limit-* headers, no 429.
func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	e := direct(t, func(c *Config) { c.RateLimit = -1 })
	for range 5 {
		a := e.do(call{cmdlet: "Get-AcceptedDomain"})
		if a.status != 200 || a.header.Get("Rate-Limit-Limit") != "" {
			t.Fatalf("%s %v", a, a.header)
		}
	}
}
