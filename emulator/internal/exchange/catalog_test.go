package exchange

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/internal/psm1"
)

// TestCatalogued covers what the catalog decides at InvokeCommand: a catalogued cmdlet without
// a handler binds and then answers "not emulated"; an unknown or module-only cmdlet is the
// service's 403; on-premises parameters are refused as unknown.
func TestCatalogued(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	r.Handle("Get-Mailbox", Handler{Run: func(context.Context, *Invocation) (*Result, error) { return nil, nil }})
	e := newEnv(t, func(c *Config) { c.Registry = r })
	reader := appClaims(store.DemoTenantID)
	reader.WIDs = []string{store.RoleGlobalReader}
	readerToken := sign(t, testKeys, reader)
	for _, tc := range []struct {
		name   string
		c      call
		status int
		detail string
	}{
		{"not emulated", call{cmdlet: "get-transportconfig"}, 501,
			"CmdletNotEmulated|Exoctl.Emulator.CmdletNotEmulatedException|The cmdlet 'Get-TransportConfig' is a real Exchange Online cmdlet and its parameters are valid, but the exoctl emulator does not emulate it yet."},
		{"not emulated, bad parameter first", call{cmdlet: "Set-TransportConfig", params: map[string]any{"Frob": 1}}, 400,
			"|Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException|Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. Frob"},
		{"not emulated, missing mandatory first", call{cmdlet: "Set-CASMailbox", params: map[string]any{"OWAEnabled": false}}, 400,
			"MissingMandatoryParameter|System.Management.Automation.ParameterBindingException|Cannot process command because of one or more missing mandatory parameters: Identity."},
		{"not emulated, for a reader", call{cmdlet: "Get-TransportConfig", token: readerToken}, 501, "CmdletNotEmulated|*"},
		{"outside the reader's roles", call{cmdlet: "Set-TransportConfig", token: readerToken}, 403,
			"CommandNotFoundException|System.Management.Automation.CommandNotFoundException|The term 'Set-TransportConfig' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."},
		{"unknown", call{cmdlet: "Get-Frobnicator"}, 403, "CommandNotFoundException|*"},
		{"module cmdlet", call{cmdlet: "Get-EXOMailbox"}, 403,
			"CommandNotFoundException|System.Management.Automation.CommandNotFoundException|The term 'Get-EXOMailbox' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."},
		{"S&C cmdlet at Exchange Online", call{cmdlet: "Get-Label"}, 403, "CommandNotFoundException|*"},
		{"on-premises parameter", call{cmdlet: "Get-Mailbox", params: map[string]any{"DomainController": "dc1.contoso.com"}}, 400,
			"|Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException|Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. DomainController"},
		{"too many values", call{cmdlet: "Get-Mailbox", params: map[string]any{"RecipientTypeDetails": repeat("UserMailbox", 32765)}}, 400,
			"ParameterArgumentValidationError|System.Management.Automation.ParameterBindingException|Cannot validate argument on parameter 'RecipientTypeDetails'. The parameter requires at least 0 value(s) and no more than 4096 value(s) - 32765 value(s) were provided."},
		{"emulated", call{cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": 1}}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do(tc.c)
			if a.status != tc.status {
				t.Fatalf("%s; want %d", a, tc.status)
			}
			if !detailIs(a.detail(), tc.detail) {
				t.Errorf("detail %q\nwant   %q", a.detail(), tc.detail)
			}
		})
	}
}

// detailIs matches details[0].message against want: exact, or a prefix when want ends in "*";
// an empty want matches anything.
func detailIs(got, want string) bool {
	if p, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(got, p)
	}
	return want == "" || got == want
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestImpactFromVerb(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]Impact{
		"Get-Mailbox": ImpactNone, "Test-OAuthConnectivity": ImpactNone, "Search-UnifiedAuditLog": ImpactNone,
		"Export-QuarantineMessage": ImpactNone, "Set-Mailbox": ImpactMedium, "New-Mailbox": ImpactMedium,
		"Enable-Mailbox": ImpactMedium, "Remove-Mailbox": ImpactHigh, "Clear-MobileDevice": ImpactHigh,
	} {
		if got := impactOf(name, ImpactFromVerb); got != want {
			t.Errorf("%s: %d, want %d", name, got, want)
		}
	}
	if impactOf("Remove-Mailbox", ImpactMedium) != ImpactMedium {
		t.Error("an explicit impact must win")
	}
	r := NewRegistry()
	r.Handle("Remove-Mailbox", Handler{Run: genericRemove(schema("Mailbox"), removeMailboxHooks)})
	if c := r.Lookup("remove-mailbox"); !c.HighImpact || !c.ShouldProcess || c.ReadOnly || !c.Emulated() {
		t.Errorf("Remove-Mailbox %+v", c)
	}
	if c := r.Lookup("Get-User"); c == nil || !c.ReadOnly || c.Emulated() {
		t.Errorf("Get-User %+v", c)
	}
}

// TestModuleFileContent reads EXOModuleFile as go-exoscc and the module do: fileName and
// fileContent beside exportedCmdlets, the psm1 holding exactly the exported cmdlets.
func TestModuleFileContent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name, token string
	}{
		{"admin", e.appToken()},
		{"reader", sign(t, testKeys, userClaims("megan.bowen@contoso.com"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/adminapi/v1.0/"+store.DemoTenantName+"/EXOModuleFile?Version=3.9.2", nil)
			req.Header.Set("Authorization", "Bearer "+tc.token)
			req.Header.Set("CommandName", "*")
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Value []struct {
					ExportedCmdlets string `json:"exportedCmdlets"`
					FileName        string `json:"fileName"`
					FileContent     string `json:"fileContent"`
					Version         string `json:"version"`
				} `json:"value"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Value) != 1 {
				t.Fatalf("%d %v %+v", resp.StatusCode, err, body)
			}
			v := body.Value[0]
			if v.FileName != "ExchangeOnline.psm1" || v.Version != "3.9.2" {
				t.Errorf("fileName %q version %q", v.FileName, v.Version)
			}
			m, err := psm1.Parse(v.FileContent)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, n := range m.Names() {
				if n != "Invoke-EXOCmdletProxy" {
					names = append(names, n)
				}
			}
			if strings.Join(names, ",") != v.ExportedCmdlets {
				t.Errorf("psm1 functions %v; exportedCmdlets %s", names, v.ExportedCmdlets)
			}
			if gm := m.Function("Get-Mailbox"); gm == nil || !gm.IsSwitch("InactiveMailboxOnly") || gm.IsSwitch("Identity") || gm.IsSwitch("DomainController") {
				t.Errorf("Get-Mailbox in the psm1: %+v", gm)
			}
			if nm := m.Function("New-Mailbox"); (nm != nil) != (tc.name == "admin") || nm != nil && !nm.IsSwitch("Shared") {
				t.Errorf("New-Mailbox in the psm1: %+v", nm)
			}
		})
	}
}

// TestHandlerParameters covers what a handler declares about parameters: the ones it
// implements (others answer 501, not a result that ignored them) and live-only ones the
// catalog lacks.
func TestHandlerParameters(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	r.Handle("Get-Mailbox", Handler{
		Run: func(_ context.Context, inv *Invocation) (*Result, error) {
			return objects([]Object{{Str("Set", inv.ParameterSet), Str("Anr", inv.Params.String("Anr"))}}, "", 0), nil
		},
		Emulated: []string{"Identity", "Anr", "SoftDeletedMailbox", "LiveOnly"},
		Params:   []Param{{Name: "LiveOnly", Type: TypeSwitch}},
	})
	e := newEnv(t, func(c *Config) { c.Registry = r })
	for _, tc := range []struct {
		name   string
		params map[string]any
		status int
		detail string
	}{
		{"implemented", map[string]any{"Anr": "al", "ErrorAction": "Stop", "ResultSize": 5}, 200, ""},
		{"live-only parameter", map[string]any{"LiveOnly": true}, 200, ""},
		{"not implemented", map[string]any{"Filter": "Name -eq 'x'"}, 501,
			"ParameterNotEmulated|Exoctl.Emulator.CmdletNotEmulatedException|The parameter 'Filter' of Get-Mailbox is a real Exchange Online parameter, but the exoctl emulator does not emulate it yet."},
		{"binding errors come first", map[string]any{"Filter": "x", "Frob": 1}, 400, "|Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException|*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do(call{cmdlet: "Get-Mailbox", params: tc.params})
			if a.status != tc.status {
				t.Fatalf("%s; want %d", a, tc.status)
			}
			if !detailIs(a.detail(), tc.detail) {
				t.Errorf("detail %q\nwant   %q", a.detail(), tc.detail)
			}
		})
	}
	if a := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"anr": "al"}}); a.status != 200 || len(a.values()) != 1 || a.values()[0]["Set"] != "AnrSet" {
		t.Errorf("parameter set: %s", a)
	}
}
