package cloud

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, name := range []string{"", "o365default", "O365USGovGCCHigh", "O365USGovDoD", "O365GermanyCloud", "O365China"} {
		e, err := Lookup(name)
		if err != nil || e.ConnectionURI == "" || e.ComplianceURI == "" || !strings.HasPrefix(e.AuthorityURI, "https://login.") {
			t.Errorf("Lookup(%q) = %+v, %v", name, e, err)
		}
	}
	if _, err := Lookup("Mars"); err == nil || !strings.Contains(err.Error(), "O365China") {
		t.Errorf("unknown environment: %v", err)
	}
	if e, _ := Lookup("O365USGovDoD"); e.ConnectionURI != "https://outlook-dod.office365.us" {
		t.Errorf("DoD: %s", e.ConnectionURI)
	}
}

func TestBaseScopeAuthority(t *testing.T) {
	if b, err := Base("https://outlook.office365.com/PowerShell-LiveID?BasicAuthToOAuthConversion=true"); err != nil || b != "https://outlook.office365.com" {
		t.Errorf("Base = %q, %v", b, err)
	}
	if _, err := Base("outlook.office365.com"); err == nil {
		t.Error("a URI without scheme must be refused")
	}
	if s := Scope("https://127.0.0.1:10443/"); s != "https://127.0.0.1:10443/.default" {
		t.Errorf("Scope = %q", s)
	}
	for _, tc := range []struct{ uri, tenant, want string }{
		{"https://login.microsoftonline.com/organizations", "contoso.onmicrosoft.com", "https://login.microsoftonline.com/contoso.onmicrosoft.com"},
		{"https://login.microsoftonline.us", "", "https://login.microsoftonline.us/organizations"},
		{"https://127.0.0.1:10443/common/", "t", "https://127.0.0.1:10443/t"},
		{"https://login.microsoftonline.com/fabrikam.com", "contoso.com", "https://login.microsoftonline.com/fabrikam.com"},
	} {
		if got, err := Authority(tc.uri, tc.tenant); err != nil || got != tc.want {
			t.Errorf("Authority(%q, %q) = %q, %v; want %q", tc.uri, tc.tenant, got, err, tc.want)
		}
	}
	if _, err := Authority("http://127.0.0.1/", "t"); err == nil {
		t.Error("MSAL refuses http authorities; so must we, with a clear error")
	}
}
