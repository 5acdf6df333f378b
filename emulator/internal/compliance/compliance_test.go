package compliance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/emulator/internal/compliance"
)

// env is one emulator and the seeded app's tokens, shared by the tests of this file.
type env struct {
	e      *emulator.Emulator
	tenant string
	hc     *http.Client // never follows redirects
	src    auth.Source

	mu   sync.Mutex
	toks map[string]string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	tn := e.Info.Tenants[0]
	app := tn.Apps[0]
	cert, err := auth.LoadPFX(app.CertificateFile, app.CertificatePassword)
	if err != nil {
		t.Fatal(err)
	}
	hc := e.HTTPClient()
	src, err := auth.NewCertificateSource(auth.ConfidentialConfig{
		Authority: e.URL + "/" + tn.Name, ClientID: app.AppID, HTTPClient: hc,
	}, cert)
	if err != nil {
		t.Fatal(err)
	}
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &env{e: e, tenant: tn.Name, hc: &noFollow, src: src, toks: map[string]string{}}
}

// token returns an app-only token for a resource.
func (v *env) token(t *testing.T, resource string) string {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if tok, ok := v.toks[resource]; ok {
		return tok
	}
	tok, err := v.src.Token(context.Background(), resource+"/.default")
	if err != nil {
		t.Fatalf("token for %s: %v", resource, err)
	}
	v.toks[resource] = tok.AccessToken
	return tok.AccessToken
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (v *env) do(t *testing.T, method, url, tok string, body []byte, prefer string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Content-Type", "application/json")
	if prefer != "" {
		req.Header.Set("Prefer", prefer)
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, url, err, raw)
		}
	}
	return a
}

func (v *env) invoke(t *testing.T, base, tok, cmdlet string, params map[string]any, prefer string) answer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": params}})
	return v.do(t, http.MethodPost, base+"/adminapi/beta/"+v.tenant+"/InvokeCommand", tok, body, prefer)
}

func (a answer) values(t *testing.T) []map[string]any {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	arr, _ := a.body["value"].([]any)
	out := make([]map[string]any, len(arr))
	for i, x := range arr {
		out[i], _ = x.(map[string]any)
	}
	return out
}

func names(objs []map[string]any) []string {
	var out []string
	for _, o := range objs {
		s, _ := o["Name"].(string)
		out = append(out, s)
	}
	return out
}

func (a answer) errorText() string {
	e, _ := a.body["error"].(map[string]any)
	d, _ := e["details"].([]any)
	if len(d) == 0 {
		return ""
	}
	m, _ := d[0].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

func TestBannerRedirectsToRegion(t *testing.T) {
	v := newEnv(t)
	tok := v.token(t, "https://ps.compliance.protection.outlook.com")
	banner := v.e.Info.ComplianceURI + "/adminapi/beta/" + v.tenant + "/EXOBanner('AutogenSession')?Version=3.9.2"
	a := v.do(t, http.MethodGet, banner, tok, nil, "")
	if a.status != http.StatusFound {
		t.Fatalf("banner: status %d, want 302: %s", a.status, a.raw)
	}
	want := v.e.URL + "/compliance/" + compliance.DefaultRegion + "/adminapi/beta/" + v.tenant + "/EXOBanner('AutogenSession')?Version=3.9.2"
	if loc := a.header.Get("Location"); loc != want {
		t.Errorf("Location %q, want %q", loc, want)
	}
	if v.e.Info.ComplianceRegionURI != v.e.URL+"/compliance/"+compliance.DefaultRegion {
		t.Errorf("emulator.json compliance_region_uri %q", v.e.Info.ComplianceRegionURI)
	}
	for _, h := range []string{"request-id", "X-CalculatedBETarget", "Rate-Limit-Remaining"} {
		if a.header.Get(h) == "" {
			t.Errorf("banner answer lacks %s", h)
		}
	}
	// The region answers its own banner.
	if a := v.do(t, http.MethodGet, a.header.Get("Location"), tok, nil, ""); a.status != http.StatusOK || a.body["value"] == nil {
		t.Errorf("region banner: %d %s", a.status, a.raw)
	}
	// No token, a token of another tenant's URL, an Exchange token: refused like the admin API.
	if a := v.do(t, http.MethodGet, banner, "", nil, ""); a.status != http.StatusUnauthorized || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("banner without a token: %d %v", a.status, a.header)
	}
	other := strings.Replace(banner, v.tenant, "fabrikam.onmicrosoft.com", 1)
	if a := v.do(t, http.MethodGet, other, tok, nil, ""); a.status != http.StatusUnauthorized {
		t.Errorf("banner of another tenant: %d", a.status)
	}
	if a := v.do(t, http.MethodGet, banner, v.token(t, "https://outlook.office365.com"), nil, ""); a.status != http.StatusUnauthorized {
		t.Errorf("banner with an Exchange token: %d", a.status)
	}
}

func TestComplianceCmdlets(t *testing.T) {
	v := newEnv(t)
	region := v.e.Info.ComplianceRegionURI
	tok := v.token(t, "https://ps.compliance.protection.outlook.com")

	labels := v.invoke(t, region, tok, "get-label", nil, "")
	got := labels.values(t)
	if strings.Join(names(got), ",") != "Public,General,Confidential,Confidential-AllEmployees,Highly Confidential" {
		t.Fatalf("Get-Label names %v", names(got))
	}
	if ctx, _ := labels.body["@odata.context"].(string); !strings.HasPrefix(ctx, region+"/adminapi/beta/") {
		t.Errorf("@odata.context %q", ctx)
	}
	sub := got[3]
	if sub["ParentId"] != got[2]["ImmutableId"] || sub["ParentLabelDisplayName"] != "Confidential" || sub["DisplayName"] != "All Employees" {
		t.Errorf("sublabel %v", sub)
	}
	if got[0]["Guid@data.type"] != "System.Guid" || got[0]["Identity"] != got[0]["Guid"] || got[0]["WhenCreated@data.type"] != "System.DateTime" {
		t.Errorf("label annotations %v", got[0])
	}
	if labels.header.Get("X-CalculatedBETarget") != compliance.DefaultBackend || labels.header.Get("request-id") == "" {
		t.Errorf("headers %v", labels.header)
	}

	one := v.invoke(t, region, tok, "Get-Label", map[string]any{"Identity": "highly confidential"}, "").values(t)
	if len(one) != 1 || one[0]["Priority"] != float64(4) {
		t.Errorf("Get-Label -Identity: %v", one)
	}
	byGUID := v.invoke(t, region, tok, "Get-Label", map[string]any{"Identity": got[1]["ImmutableId"]}, "").values(t)
	if len(byGUID) != 1 || byGUID[0]["Name"] != "General" {
		t.Errorf("Get-Label -Identity GUID: %v", byGUID)
	}
	missing := v.invoke(t, region, tok, "Get-Label", map[string]any{"Identity": "Secret"}, "")
	if missing.status != http.StatusNotFound || !strings.Contains(missing.errorText(), "ManagementObjectNotFoundException|The operation couldn't be performed because object 'Secret' couldn't be found") {
		t.Errorf("Get-Label -Identity Secret: %d %s", missing.status, missing.raw)
	}
	bad := v.invoke(t, region, tok, "Get-Label", map[string]any{"Bogus": true}, "")
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.errorText(), "Invalid cmdlet parameters specified. Bogus") {
		t.Errorf("bad parameter: %d %s", bad.status, bad.raw)
	}

	for _, c := range []struct {
		cmdlet string
		params map[string]any
		want   string
	}{
		{"Get-LabelPolicy", nil, "Global sensitivity label policy,Finance label policy"},
		{"Get-DlpCompliancePolicy", nil, "U.S. Financial Data,GDPR Enhanced,Credit Card Numbers - Email"},
		{"Get-RetentionCompliancePolicy", nil, "Default Mailbox Retention - 7 years,Files Retention - 10 years,Teams Chats - 1 year"},
		{"Get-RetentionCompliancePolicy", map[string]any{"TeamsPolicyOnly": true}, "Teams Chats - 1 year"},
		{"Get-RetentionCompliancePolicy", map[string]any{"ExcludeTeamsPolicy": true}, "Default Mailbox Retention - 7 years,Files Retention - 10 years"},
		{"Get-ComplianceSearch", nil, "Phishing sweep - invoice lure,Litigation hold - Fabrikam contract"},
		{"Get-ComplianceSearch", map[string]any{"Case": "HR-2024-017"}, "HR investigation - expenses"},
		{"Get-ComplianceSearch", map[string]any{"Identity": "HR investigation - expenses"}, "HR investigation - expenses"},
	} {
		objs := v.invoke(t, region, tok, c.cmdlet, c.params, "").values(t)
		if got := strings.Join(names(objs), ","); got != c.want {
			t.Errorf("%s %v: %s, want %s", c.cmdlet, c.params, got, c.want)
		}
	}
	dlp := v.invoke(t, region, tok, "Get-DlpCompliancePolicy", map[string]any{"Identity": "GDPR Enhanced"}, "").values(t)
	if dlp[0]["Mode"] != "TestWithNotifications" || dlp[0]["ExchangeLocation@odata.type"] != "#Collection(String)" {
		t.Errorf("DLP policy %v", dlp[0])
	}

	// Paging as on the Exchange side: absolute nextLinks back to the region.
	first := v.invoke(t, region, tok, "Get-Label", nil, "odata.maxpagesize=2")
	if n := len(first.values(t)); n != 2 {
		t.Fatalf("first page %d labels", n)
	}
	next, _ := first.body["@odata.nextLink"].(string)
	if !strings.HasPrefix(next, region+"/adminapi/beta/"+v.tenant+"/InvokeCommand?$skiptoken=") {
		t.Fatalf("nextLink %q", next)
	}
	body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": "Get-Label"}})
	second := v.do(t, http.MethodPost, next, tok, body, "odata.maxpagesize=2").values(t)
	if strings.Join(names(second), ",") != "Confidential,Confidential-AllEmployees" {
		t.Errorf("second page %v", names(second))
	}
}

func TestEndpointsKeepTheirCmdletsAndAudiences(t *testing.T) {
	v := newEnv(t)
	region := v.e.Info.ComplianceRegionURI
	cc := v.token(t, "https://ps.compliance.protection.outlook.com")
	ex := v.token(t, "https://outlook.office365.com")
	emu := v.token(t, v.e.URL) // the emulator's own URL is both endpoints' resource

	for _, c := range []struct {
		name, base, tok, cmdlet string
		status                  int
	}{
		{"Exchange cmdlet on S&C", region, cc, "Get-Mailbox", http.StatusForbidden},
		{"S&C cmdlet on Exchange", v.e.URL, ex, "Get-Label", http.StatusForbidden},
		{"Exchange token on S&C", region, ex, "Get-Label", http.StatusUnauthorized},
		// The emulator's Exchange host is also the compliance front door: the S&C token is
		// sent to its region, never served by Exchange.
		{"S&C token on Exchange", v.e.URL, cc, "Get-AcceptedDomain", http.StatusFound},
		{"emulator token on S&C", region, emu, "Get-Label", http.StatusOK},
		{"emulator token on Exchange", v.e.URL, emu, "Get-AcceptedDomain", http.StatusOK},
		{"unknown region", v.e.URL + "/compliance/nam99b", cc, "Get-Label", http.StatusNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := v.invoke(t, c.base, c.tok, c.cmdlet, nil, "")
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.raw)
			}
			switch c.status {
			case http.StatusForbidden:
				if !strings.Contains(a.errorText(), "CommandNotFoundException") {
					t.Errorf("403 text %q", a.errorText())
				}
			case http.StatusUnauthorized:
				if !strings.Contains(a.raw, "audience") || a.header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 %v %s", a.header, a.raw)
				}
			}
		})
	}
	// The catalog of the S&C endpoint lists its own cmdlets only.
	a := v.do(t, http.MethodGet, region+"/adminapi/v1.0/"+v.tenant+"/EXOModuleFile?Version=3.9.2", cc, nil, "")
	list, _ := a.values(t)[0]["exportedCmdlets"].(string)
	if !strings.Contains(list, "Get-Label") || strings.Contains(list, "Get-Mailbox") {
		t.Errorf("EXOModuleFile %q", list)
	}
}
