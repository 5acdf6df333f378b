package psm1

import (
	"strings"
	"testing"
)

// sample is written the way generated proxy modules are, with the variations PowerShell allows.
const sample = `<#
 # Header comment with function Fake-Thing inside it.
#>
$script:Something = @{ 'a' = 1 }

function script:Get-Thing
{
    [CmdletBinding(DefaultParameterSetName = "Identity", SupportsShouldProcess = $false)]
    param(
    # a comment inside the param block
    [Parameter(ParameterSetName='Identity', Mandatory=$true, Position=0, ValueFromPipeline=$true, ValueFromPipelineByPropertyName=$true)]
    [Parameter(ParameterSetName='Other', Position = 1)]
    [Alias('Id', 'Ident')]
    [System.Object]
    ${Identity},

    [Parameter(ParameterSetName='Other', Mandatory)]
    [ValidateSet('Low', 'It''s high', "Mid")]
    [string]
    $Level = 'Low',

    [switch]
    ${Force},

    [Parameter()]
    [System.Object[]]
    ${Members} = @('a', 'b')
    )

    end
    {
        $x = "param( not a block ) function Not-This { }"
        if ($x) { Write-Output '}' }
    }
}

function global:Set-Thing {
    [CmdletBinding()]
    param([Parameter(Mandatory=$false)][bool] $Enabled, [switch]$WhatIf)
    process { }
}

function Plain-Helper { "no param block" }
`

func TestParse(t *testing.T) {
	m, err := Parse(sample)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Names(), ","); got != "Get-Thing,Set-Thing,Plain-Helper" {
		t.Fatalf("functions %s", got)
	}
	g := m.Function("get-thing")
	if g.DefaultSet != "Identity" {
		t.Errorf("default set %q", g.DefaultSet)
	}
	if got := strings.Join(g.Sets(), ","); got != "Identity,Other" {
		t.Errorf("sets %s", got)
	}
	id := g.Param("ident")
	if id == nil || id.Name != "Identity" || id.Type != "System.Object" || len(id.Sets) != 2 {
		t.Fatalf("Identity %+v", id)
	}
	if s := id.Sets[0]; s != (SetParam{Set: "Identity", Mandatory: true, Position: 0, ValueFromPipeline: true, ValueFromPipelineByPropertyName: true}) {
		t.Errorf("Identity in Identity: %+v", s)
	}
	if s := id.Sets[1]; s != (SetParam{Set: "Other", Position: 1}) {
		t.Errorf("Identity in Other: %+v", s)
	}
	lv := g.Param("Level")
	if lv == nil || lv.Type != "string" || strings.Join(lv.ValidateSet, "|") != "Low|It's high|Mid" || !lv.Sets[0].Mandatory {
		t.Errorf("Level %+v", lv)
	}
	if _, ok := lv.InSet("Identity"); ok {
		t.Error("Level is only in Other")
	}
	if f := g.Param("Force"); f == nil || !f.Switch() || f.Sets[0].Set != AllSets {
		t.Errorf("Force %+v", f)
	}
	if _, ok := g.Param("Force").InSet("Other"); !ok {
		t.Error("a parameter without a set is in every set")
	}
	if mb := g.Param("Members"); mb == nil || mb.Type != "System.Object[]" {
		t.Errorf("Members %+v", mb)
	}
	if !g.IsSwitch("Force") || !g.IsSwitch("verbose") || g.IsSwitch("Identity") || g.IsSwitch("ErrorAction") || g.IsSwitch("Nope") {
		t.Error("IsSwitch")
	}
	s := m.Function("Set-Thing")
	if s.DefaultSet != "" || len(s.Params) != 2 || s.Params[0].Type != "bool" || !s.IsSwitch("WhatIf") {
		t.Errorf("Set-Thing %+v", s)
	}
	if p := m.Function("Plain-Helper"); p == nil || len(p.Params) != 0 {
		t.Errorf("Plain-Helper %+v", p)
	}
}

func TestParseErrors(t *testing.T) {
	for _, text := range []string{
		"function Get-A\n{\n param(\n [Parameter(\n",
		"function Get-A\n{\n param( ${X} \n",
		"function Get-A { param( @ ) }",
	} {
		if _, err := Parse(text); err == nil {
			t.Errorf("Parse(%q) succeeded", text)
		}
	}
	if m, err := Parse(""); err != nil || len(m.Functions) != 0 {
		t.Errorf("empty: %v %v", m, err)
	}
}

// FuzzParse: any text parses or fails, never panics or hangs.
func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("function A { param([Parameter(ParameterSetName='x')][string]${y}) }")
	f.Add("function script:A\n{\n[CmdletBinding(DefaultParameterSetName='`'')]\nparam(`\n$a = (1,2), [int] $b)\n}")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(s)
		if err == nil {
			for _, fn := range m.Functions {
				fn.Sets()
				for _, p := range fn.Params {
					p.Switch()
				}
			}
		}
	})
}
