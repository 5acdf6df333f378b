package exo

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
)

func TestRegionBase(t *testing.T) {
	for _, c := range []struct{ loc, base, want string }{
		// The service: keep the first label, call it on the compliance host (port 443).
		{"https://eur03b.admin.protection.outlook.com:446/adminapi/beta/contoso.onmicrosoft.com/EXOBanner('AutogenSession')?Version=3.9.2",
			"https://ps.compliance.protection.outlook.com", "https://eur03b.ps.compliance.protection.outlook.com"},
		{"https://NAM12B.admin.protection.outlook.com:446/", "https://ps.compliance.protection.outlook.com",
			"https://nam12b.ps.compliance.protection.outlook.com"},
		{"https://gcc01b.admin.protection.office365.us:446/x", "https://ps.compliance.protection.office365.us",
			"https://gcc01b.ps.compliance.protection.office365.us"},
		// The emulator (an IP address) and anything else: the Location's origin and path prefix.
		{"https://127.0.0.1:10443/compliance/eur01b/adminapi/beta/contoso.onmicrosoft.com/EXOBanner('AutogenSession')?Version=3.9.2",
			"https://127.0.0.1:10443", "https://127.0.0.1:10443/compliance/eur01b"},
		{"https://[::1]:8443/adminapi/beta/x/EXOBanner('AutogenSession')", "https://[::1]:8443", "https://[::1]:8443"},
		{"https://proxy.example.com:8443/eu/adminapi/beta/x/EXOBanner('AutogenSession')", "https://proxy.example.com:8443",
			"https://proxy.example.com:8443/eu"},
	} {
		loc, err := url.Parse(c.loc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := regionBase(loc, c.base)
		if err != nil || got != c.want {
			t.Errorf("regionBase(%s, %s) = %q, %v; want %q", c.loc, c.base, got, err, c.want)
		}
	}
	if _, err := regionBase(&url.URL{Path: "/relative"}, "https://x"); err == nil {
		t.Error("a Location without a host was accepted")
	}
}

// recorder remembers each request the client sent.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []string // "METHOD URL auth=yes|no"
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	auth := "no"
	if strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
		auth = "yes"
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.String()+" auth="+auth)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) matching(sub string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.reqs {
		if strings.Contains(s, sub) {
			out = append(out, s)
		}
	}
	return out
}

func TestConnectCompliance(t *testing.T) {
	ctx := context.Background()
	e, err := emulator.Start(ctx, emulator.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tn := e.Info.Tenants[0]
	app := tn.Apps[0]
	cert, err := auth.LoadPFX(app.CertificateFile, app.CertificatePassword)
	if err != nil {
		t.Fatal(err)
	}
	hc := e.HTTPClient()
	rec := &recorder{next: hc.Transport}
	hc.Transport = rec
	connect := func(compliance bool, pageSize int) *Session {
		uri := e.Info.ConnectionURI
		if compliance {
			uri = e.Info.ComplianceURI
		}
		s, err := Connect(ctx, Options{
			Compliance: compliance, ConnectionURI: uri, AuthorityURI: e.Info.Authority, Organization: tn.Name,
			AppID: app.AppID, Certificate: &cert, HTTPClient: hc, PageSize: pageSize,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := connect(true, 0)

	banner := rec.matching("EXOBanner")
	if len(banner) != 1 || !strings.HasPrefix(banner[0], "GET "+e.URL+"/adminapi/beta/"+tn.Name+"/EXOBanner('AutogenSession')?Version=") ||
		!strings.HasSuffix(banner[0], "auth=yes") {
		t.Fatalf("banner requests %q: want one authorized GET of the compliance base, the redirect not followed", banner)
	}
	info := s.Info()
	if info.Name != "ExchangeOnlineProtection_1" || !info.IsEopSession || info.ConnectionURI != e.Info.ComplianceRegionURI {
		t.Errorf("connection info %+v", info)
	}
	if info.UserPrincipalName != "OAuthUser@"+tn.Name || !info.CertificateAuthentication {
		t.Errorf("app-only connection info %+v", info)
	}

	var labels []string
	for r, err := range s.Invoke(ctx, "Get-Label", nil) {
		if err != nil {
			t.Fatal(err)
		}
		labels = append(labels, r.String("Name"))
	}
	if strings.Join(labels, ",") != "Public,General,Confidential,Confidential-AllEmployees,Highly Confidential" {
		t.Errorf("Get-Label: %v", labels)
	}
	// Paging follows nextLinks on the region endpoint.
	searches, err := collect(connect(true, 1).Invoke(ctx, "Get-ComplianceSearch", Params{"ResultSize": "Unlimited"}))
	if err != nil || len(searches) != 2 {
		t.Errorf("Get-ComplianceSearch one by one: %d, %v", len(searches), err)
	}
	if n := len(rec.matching("/InvokeCommand?$skiptoken=")); n != 1 {
		t.Errorf("%d nextLink requests, want 1", n)
	}
	invokes := rec.matching("/InvokeCommand")
	for _, r := range invokes {
		if !strings.HasPrefix(r, "POST "+e.Info.ComplianceRegionURI+"/adminapi/beta/"+tn.Name+"/InvokeCommand") || !strings.HasSuffix(r, "auth=yes") {
			t.Errorf("cmdlet request %q: want an authorized POST to the region", r)
		}
	}
	if len(invokes) == 0 {
		t.Error("no InvokeCommand request was recorded")
	}

	// Exchange cmdlets do not exist there, and an Exchange session beside it keeps its own.
	_, err = collect(s.Invoke(ctx, "Get-Mailbox", nil))
	var ce *CmdletError
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusForbidden {
		t.Errorf("Get-Mailbox in a compliance session: %v", err)
	}
	ex := connect(false, 0)
	if ex.Info().IsEopSession || ex.Info().Name != "ExchangeOnline_1" {
		t.Errorf("Exchange connection info %+v", ex.Info())
	}
	if recs, err := collect(ex.Invoke(ctx, "Get-AcceptedDomain", nil)); err != nil || len(recs) == 0 {
		t.Errorf("Get-AcceptedDomain beside the compliance session: %d, %v", len(recs), err)
	}
	if _, err := collect(ex.Invoke(ctx, "Get-Label", nil)); !errors.As(err, &ce) || ce.StatusCode != http.StatusForbidden {
		t.Errorf("Get-Label in an Exchange session: %v", err)
	}
}

func TestConnectComplianceRefused(t *testing.T) {
	// A token the banner refuses fails Connect, with the service's words.
	ctx := context.Background()
	e, err := emulator.Start(ctx, emulator.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_, err = Connect(ctx, Options{
		Compliance: true, ConnectionURI: e.Info.ComplianceURI, Organization: e.Info.Tenants[0].Name,
		AccessToken: "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ.", HTTPClient: e.HTTPClient(),
	})
	var ce *CmdletError
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Connect with a bad token: %v", err)
	}
}

func collect(seq func(func(*Record, error) bool)) ([]*Record, error) {
	var out []*Record
	for r, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// isRegionLabel accepts exactly what the DNS label pattern accepts.
func TestIsRegionLabelMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	cases := []string{"", "a", "-", "eur03b", "eur-03b", "-eur", "eur-", "EUR03B", "eur.03b", "a-b-c",
		strings.Repeat("a", 63), strings.Repeat("a", 64), "a" + strings.Repeat("-", 61) + "a", "é", "a_b", "9"}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "az09-A._"
	for range 2000 {
		b := make([]byte, rng.IntN(70))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		if got, want := isRegionLabel(c), re.MatchString(c); got != want {
			t.Errorf("isRegionLabel(%q) = %v, the pattern says %v", c, got, want)
		}
	}
}
