package compliance_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/internal/psm1"
)

// TestComplianceCatalog: the compliance endpoint binds the S&C catalog, not Exchange Online's.
func TestComplianceCatalog(t *testing.T) {
	v := newEnv(t)
	region := v.e.Info.ComplianceRegionURI
	tok := v.token(t, "https://ps.compliance.protection.outlook.com")
	for _, tc := range []struct {
		cmdlet string
		params map[string]any
		status int
		detail string
	}{
		{"Get-CaseHoldPolicy", nil, 501, "CmdletNotEmulated|Exoctl.Emulator.CmdletNotEmulatedException|The cmdlet 'Get-CaseHoldPolicy' is a real Security & Compliance cmdlet and its parameters are valid, but the exoctl emulator does not emulate it yet."},
		{"Get-Mailbox", nil, 403, "CommandNotFoundException|"},
		{"Get-Label", map[string]any{"IncludeDetailedLabelActions": true}, 200, ""},
		{"Get-Label", map[string]any{"ValidateContentTypeRemoval": true}, 501, "ParameterNotEmulated|"},
		{"Get-Label", map[string]any{"DomainController": "dc"}, 400, "|Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException|"},
	} {
		a := v.invoke(t, region, tok, tc.cmdlet, tc.params, "")
		if a.status != tc.status || !strings.HasPrefix(a.errorText(), tc.detail) {
			t.Errorf("%s %v: %d %s; want %d %s", tc.cmdlet, tc.params, a.status, a.errorText(), tc.status, tc.detail)
		}
	}
	a := v.do(t, http.MethodGet, region+"/adminapi/v1.0/"+v.tenant+"/EXOModuleFile?Version=3.9.2", tok, nil, "")
	if a.status != http.StatusOK {
		t.Fatalf("EXOModuleFile: %d %s", a.status, a.raw)
	}
	vals, _ := a.body["value"].([]any)
	first, _ := vals[0].(map[string]any)
	text, _ := first["fileContent"].(string)
	m, err := psm1.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if f := m.Function("Get-Label"); f == nil || !f.IsSwitch("IncludeDetailedLabelActions") || m.Function("Get-Mailbox") != nil {
		t.Errorf("S&C module file: %v", m.Names())
	}
}
