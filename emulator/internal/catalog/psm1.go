package catalog

import (
	"fmt"
	"strconv"
	"strings"
)

// ModuleFile writes the ExchangeOnline.psm1 text EXOModuleFile serves (fileContent): one
// function per command, in the order given, whose param() block declares the product's
// parameters with their sets ([Parameter(ParameterSetName=..., Mandatory=$true, Position=N,
// ValueFromPipeline..)]), aliases, accepted values and PowerShell-level types (string, switch,
// bool, int, long, pscredential, System.Object, System.Object[]), as the service's generated
// module does. Common parameters come from [CmdletBinding()]; -Confirm and -WhatIf are declared
// where the catalog lists them. Package internal/psm1 reads it back.
func ModuleFile(cmds []*Command) string {
	var b strings.Builder
	b.WriteString("# ExchangeOnline.psm1: proxy functions of the cmdlets this session may run, generated from\n")
	b.WriteString("# the cmdlet catalog (" + psQuote(sourceOf()) + ").\n")
	b.WriteString("# Each function hands its bound parameters to the connection's InvokeCommand.\n\n")
	b.WriteString("function script:Invoke-EXOCmdletProxy\n{\n    param([string] $CmdletName, [hashtable] $Parameters, [string] $ParameterSetName)\n")
	b.WriteString("    throw \"$CmdletName runs through the admin API's InvokeCommand; this module file describes its parameters only.\"\n}\n")
	names := make([]string, 0, len(cmds))
	for _, c := range cmds {
		writeFunction(&b, c)
		names = append(names, psQuote(c.Name))
	}
	b.WriteString("\nExport-ModuleMember -Function @(" + strings.Join(names, ", ") + ")\n")
	return b.String()
}

func sourceOf() string {
	if c := Load(); c.Source != "" {
		return c.Source
	}
	return "unknown source"
}

// psQuote is a PowerShell single-quoted string.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// psType is the PowerShell-level type the service's module declares for a catalog type.
func psType(p *Param) string {
	if p.Switch {
		return "switch"
	}
	t := strings.TrimPrefix(strings.TrimSpace(p.Type), "System.")
	switch strings.ToLower(t) {
	case "string":
		return "string"
	case "string[]":
		return "string[]"
	case "boolean", "bool":
		return "bool"
	case "int32":
		return "int"
	case "int64":
		return "long"
	case "pscredential":
		return "pscredential"
	case "securestring":
		return "securestring"
	case "uri":
		return "uri"
	}
	if strings.HasSuffix(t, "[]") {
		return "System.Object[]"
	}
	return "System.Object"
}

func writeFunction(b *strings.Builder, c *Command) {
	fmt.Fprintf(b, "\nfunction script:%s\n{\n", c.Name)
	def := ""
	if c.Default >= 0 && (len(c.Sets) > 1 || strings.EqualFold(c.Cmdlet.DefaultSet, c.Sets[c.Default].Name)) {
		def = c.Sets[c.Default].Name
	}
	if def != "" {
		fmt.Fprintf(b, "    [CmdletBinding(DefaultParameterSetName=%s)]\n", psQuote(def))
	} else {
		b.WriteString("    [CmdletBinding()]\n")
	}
	b.WriteString("    param(\n")
	single := len(c.Sets) == 1 && c.Sets[0].Name == "__AllParameterSets"
	var decls []string
	for _, p := range c.Params {
		if p.Common {
			continue
		}
		var d strings.Builder
		written := false
		for _, s := range c.Sets {
			for _, sp := range s.Params {
				if sp.Param != p.Param {
					continue
				}
				var attrs []string
				if !single {
					attrs = append(attrs, "ParameterSetName="+psQuote(s.Name))
				}
				if sp.Mandatory {
					attrs = append(attrs, "Mandatory=$true")
				}
				if sp.Position >= 0 {
					attrs = append(attrs, "Position="+strconv.Itoa(sp.Position))
				}
				if sp.ByValue || (sp.Pipeline && !sp.ByPropertyName) {
					attrs = append(attrs, "ValueFromPipeline=$true")
				}
				if sp.ByPropertyName || (sp.Pipeline && !sp.ByValue) {
					attrs = append(attrs, "ValueFromPipelineByPropertyName=$true")
				}
				fmt.Fprintf(&d, "    [Parameter(%s)]\n", strings.Join(attrs, ", "))
				written = true
			}
		}
		if !written {
			d.WriteString("    [Parameter()]\n")
		}
		var aliases []string
		for _, a := range p.Aliases {
			if c.index[strings.ToLower(a)] == p { // an alias another parameter claimed first is not this one's
				aliases = append(aliases, a)
			}
		}
		writeCommon(&d, aliases, p.Param.Values, psType(p.Param), p.Name)
		decls = append(decls, d.String())
	}
	// -Confirm and -WhatIf, where the pages document them.
	for _, name := range []string{"Confirm", "WhatIf"} {
		for _, q := range c.Cmdlet.Params {
			if strings.EqualFold(q.Name, name) && q.Products&c.Product != 0 {
				var d strings.Builder
				d.WriteString("    [Parameter()]\n")
				writeCommon(&d, nil, nil, "switch", name)
				decls = append(decls, d.String())
				break
			}
		}
	}
	b.WriteString(strings.Join(decls, ",\n\n"))
	b.WriteString("\n    )\n\n    end\n    {\n")
	fmt.Fprintf(b, "        Invoke-EXOCmdletProxy -CmdletName %s -Parameters $PSBoundParameters -ParameterSetName $PSCmdlet.ParameterSetName\n", psQuote(c.Name))
	b.WriteString("    }\n}\n")
}

func writeCommon(d *strings.Builder, aliases, values []string, typ, name string) {
	if len(aliases) > 0 {
		q := make([]string, len(aliases))
		for i, a := range aliases {
			q[i] = psQuote(a)
		}
		fmt.Fprintf(d, "    [Alias(%s)]\n", strings.Join(q, ", "))
	}
	if len(values) > 0 {
		q := make([]string, len(values))
		for i, v := range values {
			q[i] = psQuote(v)
		}
		fmt.Fprintf(d, "    [ValidateSet(%s)]\n", strings.Join(q, ", "))
	}
	fmt.Fprintf(d, "    [%s]\n    ${%s}", typ, name)
}
