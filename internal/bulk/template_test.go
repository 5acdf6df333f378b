package bulk

import (
	"testing"

	"github.com/exoctl/exoctl/psparam"
)

func TestBulkTemplateSubstitution(t *testing.T) {
	header := []string{"Alias", "Email", "Dept", "Empty"}
	tm, err := parseBulkTemplate([]string{`Set-Mailbox {Alias} -EmailAddresses @{Add="smtp:{Email}"} -CustomAttribute1 "{Dept} team" -CustomAttribute2 {Empty} -Members {Alias},{Dept} -Filter {Department -eq '{Dept}'} -Confirm:$false`}, header)
	if err != nil {
		t.Fatal(err)
	}
	row := []string{`al"i;ce`, `a@x.com`, `R&D $x`, ``}
	p := tm.params(row, false)
	if p["Identity"] != `al"i;ce` {
		t.Errorf("Identity: %#v", p["Identity"])
	}
	if h, ok := p["EmailAddresses"].(*psparam.Hashtable); !ok || h.Values["Add"] != "smtp:a@x.com" {
		t.Errorf("EmailAddresses: %#v", p["EmailAddresses"])
	}
	if p["CustomAttribute1"] != `R&D $x team` || p["CustomAttribute2"] != "" {
		t.Errorf("CustomAttribute1/2: %#v %#v", p["CustomAttribute1"], p["CustomAttribute2"])
	}
	if m, ok := p["Members"].([]any); !ok || len(m) != 2 || m[0] != row[0] || m[1] != row[2] {
		t.Errorf("Members: %#v", p["Members"])
	}
	if p["Filter"] != psparam.ScriptBlock(`Department -eq 'R&D $x'`) {
		t.Errorf("Filter: %#v", p["Filter"])
	}
	if p["Confirm"] != false {
		t.Errorf("Confirm: %#v", p["Confirm"])
	}
	if p := tm.params(row, true); p["CustomAttribute2"] != nil {
		t.Errorf("--empty-null: %#v", p["CustomAttribute2"])
	}
}
