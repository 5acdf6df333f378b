package catalog

import (
	"strings"
	"testing"

	"github.com/exoctl/exoctl/internal/psm1"
)

// TestModuleFileRoundTrip writes the module file of every Exchange Online and S&C command and
// reads it back with package psm1: the functions, sets, mandatory flags, positions, pipeline
// flags, aliases and switches must be what the catalog says.
func TestModuleFileRoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range []Product{ExchangeOnline, SecurityCompliance} {
		cmds := For(p).List()
		text := ModuleFile(cmds)
		m, err := psm1.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(m.Functions) != len(cmds)+1 { // the proxy helper, then one per command
			t.Fatalf("%s: %d functions for %d commands", p, len(m.Functions), len(cmds))
		}
		switches := 0
		for _, c := range cmds {
			f := m.Function(c.Name)
			if f == nil {
				t.Errorf("%s: no function %s", p, c.Name)
				continue
			}
			if len(c.Sets) > 1 && f.DefaultSet != c.Sets[c.Default].Name {
				t.Errorf("%s: default set %q, want %q", c.Name, f.DefaultSet, c.Sets[c.Default].Name)
			}
			for _, bp := range c.Params {
				if bp.Common {
					continue
				}
				fp := f.Param(bp.Name)
				if fp == nil {
					t.Errorf("%s: no parameter %s", c.Name, bp.Name)
					continue
				}
				if fp.Switch() != bp.Switch {
					t.Errorf("%s -%s: switch %v, want %v", c.Name, bp.Name, fp.Switch(), bp.Switch)
				}
				if bp.Switch {
					switches++
				}
				if len(bp.Param.Values) > 0 && strings.Join(fp.ValidateSet, ",") != strings.Join(bp.Param.Values, ",") {
					t.Errorf("%s -%s: ValidateSet %v, want %v", c.Name, bp.Name, fp.ValidateSet, bp.Param.Values)
				}
			}
			for _, s := range c.Sets {
				for _, sp := range s.Params {
					fp := f.Param(sp.Name)
					if fp == nil {
						continue
					}
					name := s.Name
					if len(c.Sets) == 1 && s.Name == "__AllParameterSets" {
						name = psm1.AllSets
					}
					got, ok := fp.InSet(name)
					switch {
					case !ok:
						t.Errorf("%s -%s: not in set %s", c.Name, sp.Name, s.Name)
					case got.Mandatory != sp.Mandatory || got.Position != sp.Position:
						t.Errorf("%s -%s in %s: mandatory %v position %d, want %v %d", c.Name, sp.Name, s.Name, got.Mandatory, got.Position, sp.Mandatory, sp.Position)
					case (got.ValueFromPipeline || got.ValueFromPipelineByPropertyName) != sp.Pipeline:
						t.Errorf("%s -%s in %s: pipeline %v, want %v", c.Name, sp.Name, s.Name, got.ValueFromPipeline, sp.Pipeline)
					}
				}
			}
			if !f.IsSwitch("Verbose") || f.IsSwitch("ErrorAction") {
				t.Errorf("%s: common parameters misread", c.Name)
			}
		}
		t.Logf("%s: %d functions, %d switches, %d bytes", p, len(cmds), switches, len(text))
	}
}

func TestModuleFileText(t *testing.T) {
	t.Parallel()
	text := ModuleFile([]*Command{For(ExchangeOnline).Lookup("Get-Mailbox"), For(ExchangeOnline).Lookup("Set-Mailbox")})
	for _, want := range []string{
		"function script:Set-Mailbox\n{\n    [CmdletBinding(DefaultParameterSetName='Identity')]\n    param(\n",
		"    [Parameter(ParameterSetName='Identity', Position=0, ValueFromPipeline=$true, ValueFromPipelineByPropertyName=$true)]\n    [System.Object]\n    ${Identity},\n",
		"    [Parameter(ParameterSetName='Identity', Mandatory=$true, Position=0, ValueFromPipelineByPropertyName=$true)]\n",
		"    [bool]\n    ${HiddenFromAddressListsEnabled}",
		"    [switch]\n    ${WhatIf}",
		"    [System.Object]\n    ${ProhibitSendQuota}",
		"Export-ModuleMember -Function @('Get-Mailbox', 'Set-Mailbox')\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("module file lacks %q", want)
		}
	}
	if strings.Contains(text, "DomainController") {
		t.Error("an on-premises parameter is in the Exchange Online module file")
	}
}

func BenchmarkModuleFile(b *testing.B) {
	cmds := For(ExchangeOnline).List()
	for b.Loop() {
		ModuleFile(cmds)
	}
}
