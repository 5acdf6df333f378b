package emulator_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exoctl/exoctl/emulator"
)

// TestOneEmulatorPerDataFolder: a second emulator on a folder another one serves is refused
// with the holder's process id, and changes nothing there (emulator.json still names the
// first); once the first stops, the folder can be served again.
func TestOneEmulatorPerDataFolder(t *testing.T) {
	dir := t.TempDir()
	first := start(t, dir)
	infoBefore, err := os.ReadFile(filepath.Join(dir, emulator.InfoFile))
	if err != nil {
		t.Fatal(err)
	}
	_, err = emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err == nil {
		t.Fatal("a second emulator started on the same data folder")
	}
	if want := fmt.Sprintf("process %d", os.Getpid()); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--data") {
		t.Errorf("error %q: want it to name %s and what to do", err, want)
	}
	infoAfter, _ := os.ReadFile(filepath.Join(dir, emulator.InfoFile))
	if string(infoAfter) != string(infoBefore) {
		t.Error("the refused emulator rewrote emulator.json")
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	start(t, dir)
}

// TestNothingWrittenBeforeBind: an emulator that cannot listen leaves a new data folder with
// its lock only: no database, certificates, seed or emulator.json.
func TestNothingWrittenBeforeBind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Join(t.TempDir(), "data")
	_, err = emulator.Start(context.Background(), emulator.Config{Addr: ln.Addr().String(), DataDir: dir})
	if err == nil {
		t.Fatal("started on a port in use")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if names = slices.DeleteFunc(names, func(n string) bool { return n == emulator.LockFile }); len(names) > 0 {
		t.Errorf("a start that could not bind wrote %v", names)
	}
}

// TestRoutesCanonicalAndHeadersClean goes through the emulator's own router: the admin API
// answers /AdminApi/... and a trailing slash, and no answer (Entra's included) carries a raw
// control byte a request put in its path or query.
func TestRoutesCanonicalAndHeadersClean(t *testing.T) {
	e := start(t, t.TempDir())
	tok := msalToken(t, e)
	tenant := e.Info.Tenants[0].Name
	do := func(method, url, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for _, u := range []string{
		"/AdminApi/v1.0/" + tenant + "/EXOModuleFile?Version=3.9.2",
		"/AdminApi/beta/" + tenant + "/InvokeCommand",
		"/adminapi/beta/" + tenant + "/InvokeCommand/",
	} {
		if r := do("POST", e.URL+u, `{"CmdletInput":{"CmdletName":"Get-AcceptedDomain"}}`); r.StatusCode != 200 {
			t.Errorf("%s: %d", u, r.StatusCode)
		}
	}
	// Read the answers' header bytes as they are on the wire: a client library may tidy them.
	roots := e.HTTPClient().Transport.(*http.Transport).TLSClientConfig.RootCAs
	raw := func(method, target string) string {
		t.Helper()
		conn, err := tls.Dial("tcp", strings.TrimPrefix(e.URL, "https://"), &tls.Config{RootCAs: roots})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
			method, target, strings.TrimPrefix(e.URL, "https://"), tok)
		b, _ := io.ReadAll(conn)
		head, _, _ := strings.Cut(string(b), "\r\n\r\n")
		return head
	}
	for _, target := range []string{
		"/adminapi/beta/con%00toso/InvokeCommand",
		"/" + tenant + "/oauth2/v2.0/token?client-request-id=a%00b%01c",
		"/common/discovery/instance?client-request-id=%00%0b",
	} {
		head := raw("POST", target)
		if !strings.HasPrefix(head, "HTTP/1.1 ") {
			t.Fatalf("%s: %q", target, head)
		}
		for _, line := range strings.Split(head, "\r\n") {
			if strings.ContainsFunc(line, func(c rune) bool { return (c < 0x20 && c != '\t') || c == 0x7f }) {
				t.Errorf("%s: header line %q", target, line)
			}
		}
	}
}

// TestRateLimitFlags: the per-tenant limit can be set (and turned off) from Config, as
// `exoctl emulator start --rate-limit N --rate-window D` does.
func TestRateLimitFlags(t *testing.T) {
	for _, tc := range []struct {
		cfg       emulator.Config
		limit     string
		throttled bool
	}{
		{emulator.Config{RateLimit: 2, RateWindow: time.Minute}, "2", true},
		{emulator.Config{RateLimitOff: true}, "", false},
	} {
		tc.cfg.Addr = "127.0.0.1:0"
		e, err := emulator.Start(context.Background(), tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		tok := msalToken(t, e)
		var last *http.Response
		for range 3 {
			req, _ := http.NewRequest("POST", e.URL+"/adminapi/beta/"+e.Info.Tenants[0].Name+"/InvokeCommand",
				strings.NewReader(`{"CmdletInput":{"CmdletName":"Get-AcceptedDomain"}}`))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := e.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			last = resp
		}
		if got := last.Header.Get("Rate-Limit-Limit"); got != tc.limit {
			t.Errorf("%+v: Rate-Limit-Limit %q", tc.cfg, got)
		}
		if (last.StatusCode == 429) != tc.throttled {
			t.Errorf("%+v: third request %d", tc.cfg, last.StatusCode)
		}
		e.Close()
	}
}

// TestSlowClientCut: a client that sends its headers and then stalls in its body loses the
// connection once the read timeout passes, instead of holding it for ever.
func TestSlowClientCut(t *testing.T) {
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", ReadTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	roots := e.HTTPClient().Transport.(*http.Transport).TLSClientConfig.RootCAs
	host := strings.TrimPrefix(e.URL, "https://")
	conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /organizations/oauth2/v2.0/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=", host)
	// A generous bound on a test that must not hang; the timeout itself is 300 ms.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept the stalled connection open: %q", b)
	}
}

// TestHostilePaths sends odd paths to every endpoint of the emulator through its router (the
// admin API, Security & Compliance, managed identity, Entra ID): each answer is a 4xx or a
// success, never a 5xx (but 501, not emulated). Header bytes are checked on the wire by
// TestRoutesCanonicalAndHeadersClean.
func TestHostilePaths(t *testing.T) {
	e := start(t, t.TempDir())
	tok := msalToken(t, e)
	tn := e.Info.Tenants[0].Name
	paths := []string{
		"/", "//////", "/%00", "/..", "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a/../../b",
		"/adminapi", "/adminapi/", "/adminapi/beta", "/adminapi/beta/" + tn, "/adminapi/beta/" + tn + "/", "/ADMINAPI/%00/x/y",
		"/adminapi/beta/" + tn + "/InvokeCommand/%2e%2e/%2e%2e/x", "/adminapi/beta/" + tn + "/EXOBanner('%00')",
		"/adminapi/beta/" + tn + "/EXOBanner('AutogenSession')/../../x",
		"/compliance", "/compliance/", "/compliance/%00/adminapi/beta/" + tn + "/InvokeCommand", "/compliance/eur01b",
		"/compliance/eur01b/../adminapi/beta/" + tn + "/InvokeCommand", "/COMPLIANCE/EUR01B/AdminApi/beta/" + tn + "/InvokeCommand",
		"/compliance/nosuchregion/adminapi/beta/" + tn + "/InvokeCommand",
		"/metadata/identity/oauth2/token", "/metadata/identity/oauth2/token?resource=%00&api-version=2018-02-01",
		"/msi/", "/msi/%00", "/MSI/token?resource=x",
		"/common", "/common/", "/common/UserRealm/", "/common/UserRealm/%00", "/common/userrealm/" + strings.Repeat("a", 5000) + "@x",
		"/common/discovery/instance?authorization_endpoint=%00", "/" + tn + "/v2.0/.well-known/openid-configuration/extra",
		"/%00/v2.0/.well-known/openid-configuration", "/" + tn + "/oauth2/v2.0/authorize?client_id=%00",
		"/" + tn + "/oauth2/v2.0/authorize?client_id=fb78d390-0c51-40cd-8e17-fdbfab77341b&redirect_uri=javascript:alert(1)",
		"/" + tn + "/login", "/common/oauth2/deviceauth?code=%00", "/error?code=%00",
	}
	for _, p := range paths {
		for _, method := range []string{"GET", "POST"} {
			req, err := http.NewRequest(method, e.URL+p, strings.NewReader("x=1"))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := e.HTTPClient().Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, p, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
				t.Errorf("%s %s: %d", method, p, resp.StatusCode)
			}
		}
	}
	t.Logf("%d paths x 2 methods tried", len(paths))
}
