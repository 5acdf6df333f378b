package compliance_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/emulator/internal/compliance"
)

// localhostDialer resolves names under localhost to 127.0.0.1 as RFC 6761 §6.3 asks of name
// resolution (systemd-resolved, macOS, curl and Chromium do; glibc's files+dns does not), and
// dials nothing else but loopback.
func localhostDialer(t *testing.T) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if h := strings.ToLower(host); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			host = "127.0.0.1"
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			t.Errorf("dial %s: not loopback", addr)
			return nil, &net.AddrError{Err: "not loopback", Addr: addr}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, net.JoinHostPort(host, port))
	}
}

// At the front door, InvokeCommand, EXOModuleFile and $metadata with a compliance token answer
// the redirect to the region (go-exoscc follows it, re-sending the POST with its token); an
// Exchange token there still reaches Exchange.
func TestFrontDoorRedirectsComplianceCalls(t *testing.T) {
	v := newEnv(t)
	tok := v.token(t, "https://ps.compliance.protection.outlook.com")
	body := []byte(`{"CmdletInput":{"CmdletName":"Get-Label","Parameters":{}}}`)
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/adminapi/beta/" + v.tenant + "/InvokeCommand"},
		{http.MethodGet, "/AdminApi/v1.0/" + v.tenant + "/EXOModuleFile?Version=3.9.2"},
		{http.MethodGet, "/adminapi/beta/" + v.tenant + "/$metadata"},
	} {
		a := v.do(t, tc.method, v.e.URL+tc.path, tok, body, "")
		want := v.e.Info.ComplianceRegionURI + tc.path
		if a.status != http.StatusFound || a.header.Get("Location") != want {
			t.Errorf("%s %s: %d Location %q, want 302 to %q", tc.method, tc.path, a.status, a.header.Get("Location"), want)
			continue
		}
		if tc.method == http.MethodPost {
			if b := v.do(t, tc.method, a.header.Get("Location"), tok, body, ""); b.status != http.StatusOK {
				t.Errorf("%s at the region: %d %s", tc.path, b.status, b.raw)
			}
		}
	}
	// An Exchange token at the front door is Exchange's.
	ex := v.do(t, http.MethodPost, v.e.URL+"/adminapi/beta/"+v.tenant+"/InvokeCommand", v.token(t, "https://outlook.office365.com"),
		[]byte(`{"CmdletInput":{"CmdletName":"Get-AcceptedDomain","Parameters":{}}}`), "")
	if ex.status != http.StatusOK {
		t.Errorf("Exchange at the front door: %d %s", ex.status, ex.raw)
	}
	// A bad compliance token is refused, not redirected.
	if a := v.do(t, http.MethodPost, v.e.URL+"/adminapi/beta/"+v.tenant+"/InvokeCommand", tok[:len(tok)-4]+"AAAA", body, ""); a.status != http.StatusUnauthorized {
		t.Errorf("tampered token: %d", a.status)
	}
}

// Reached by a host name, region discovery puts the region in the first label of the
// Location's host, as the service does; CIPP's rule (first label + the compliance host) then
// finds the region endpoint.
func TestBannerRegionInFirstLabel(t *testing.T) {
	v := newEnv(t)
	tok := v.token(t, "https://ps.compliance.protection.outlook.com")
	tr := v.hc.Transport.(*http.Transport).Clone()
	tr.DialContext = localhostDialer(t)
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	v.hc = hc
	u, _ := url.Parse(v.e.URL)
	base := "https://localhost:" + u.Port()
	a := v.do(t, http.MethodGet, base+"/adminapi/beta/"+v.tenant+"/EXOBanner('AutogenSession')?Version=3.4.0", tok, nil, "")
	loc, err := url.Parse(a.header.Get("Location"))
	if a.status != http.StatusFound || err != nil {
		t.Fatalf("banner: %d %v", a.status, a.header)
	}
	region, _, _ := strings.Cut(loc.Hostname(), ".")
	if region != compliance.DefaultRegion {
		t.Fatalf("Location %s: first label %q, want the region %q", loc, region, compliance.DefaultRegion)
	}
	regionBase := "https://" + region + ".localhost:" + u.Port()
	r := v.do(t, http.MethodPost, regionBase+"/adminapi/beta/"+v.tenant+"/InvokeCommand", tok,
		[]byte(`{"CmdletInput":{"CmdletName":"Get-Label","Parameters":{}}}`), "")
	if r.status != http.StatusOK || r.body["value"] == nil {
		t.Errorf("InvokeCommand at %s: %d %s", regionBase, r.status, r.raw)
	}
}
