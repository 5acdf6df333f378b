package format

import (
	"strings"

	"github.com/exoctl/exoctl/exo"
)

// maxTableProperties is PowerShell's rule for an object without a view: a table when it has
// at most four properties, a list beyond.
const maxTableProperties = 4

// view is a type's default view, as Exchange's format files define it.
type view struct {
	typeName string
	list     bool     // a Format-List view of every property
	columns  []string // a table view's columns
}

// views is the registry of default views. Add a type here to give it a view.
var views = []view{
	{typeName: "AcceptedDomain", columns: []string{"Name", "DomainName", "DomainType", "Default"}},
	{typeName: "Mailbox", columns: []string{"Name", "Alias", "Database", "ProhibitSendQuota", "ExternalDirectoryObjectId"}},
	{typeName: "Recipient", columns: []string{"Name", "RecipientType"}},
	{typeName: "User", columns: []string{"Name", "RecipientType"}},
	{typeName: "MailUser", columns: []string{"Name", "RecipientType"}},
	{typeName: "DistributionGroup", columns: []string{"Name", "DisplayName", "GroupType", "PrimarySmtpAddress"}},
	{typeName: "MailboxStatistics", columns: []string{"DisplayName", "ItemCount", "StorageLimitStatus", "LastLogonTime"}},
	{typeName: "OrganizationConfig", list: true},
	{typeName: "ConnectionInformation", list: true},
	{typeName: "Environment", columns: []string{"Name", "ConnectionUri", "ComplianceUri", "AuthorityUri"}},
}

func lookupView(typeName string) (view, bool) {
	for _, v := range views {
		if strings.EqualFold(v.typeName, typeName) {
			return v, true
		}
	}
	return view{}, false
}

// tableColumnsFor returns the columns an explicit table shows when no properties are given:
// the type's table view, or nil for every property of the first record.
func tableColumnsFor(opts Options) []string {
	if opts.Properties != nil {
		return nil
	}
	if v, ok := lookupView(opts.TypeName); ok && !v.list {
		return v.columns
	}
	return nil
}

// selector picks properties out of records by name, as Select-Object does: case-insensitively,
// with the names spelled as the first record spells them.
type selector struct {
	names []string
	hint  []int // where each name was last found: records of one cmdlet share their order
}

// newSelector resolves names (wildcards expanded) against the first record. Nil names select
// every property of the first record.
func newSelector(names []string, first *exo.Record) *selector {
	s := &selector{}
	seen := make(map[string]bool)
	add := func(n string) {
		if k := strings.ToLower(n); !seen[k] {
			seen[k] = true
			s.names = append(s.names, n)
		}
	}
	if names == nil {
		for _, f := range first.Fields {
			add(f.Name)
		}
	}
	for _, n := range names {
		if strings.ContainsAny(n, "*?") {
			for _, f := range first.Fields {
				if wildcardMatch(n, f.Name) {
					add(f.Name)
				}
			}
			continue
		}
		if i := fieldIndex(first, n); i >= 0 {
			n = first.Fields[i].Name
		}
		add(n)
	}
	s.hint = make([]int, len(s.names))
	for k, n := range s.names {
		s.hint[k] = fieldIndex(first, n)
	}
	return s
}

// get returns the k-th selected property of r, nil when r lacks it.
func (s *selector) get(r *exo.Record, k int) any {
	name := s.names[k]
	if i := s.hint[k]; i >= 0 && i < len(r.Fields) && r.Fields[i].Name == name {
		return r.Fields[i].Value
	}
	if i := fieldIndex(r, name); i >= 0 {
		s.hint[k] = i
		return r.Fields[i].Value
	}
	return nil
}

func fieldIndex(r *exo.Record, name string) int {
	for i, f := range r.Fields {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// wildcardMatch reports whether name matches pattern, PowerShell-style: * any run, ? one
// character, case-insensitive.
func wildcardMatch(pattern, name string) bool {
	p, n := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(name))
	pi, ni, star, mark := 0, 0, -1, 0
	for ni < len(n) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == n[ni]):
			pi++
			ni++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ni
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ni = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// TableColumns returns the columns of a type's default table view, or nil when the type has
// none (a list view, or no view): what a caller prepends its own column to (such as the
// tenant of each record when one command runs across many tenants).
func TableColumns(typeName string) []string {
	if v, ok := lookupView(typeName); ok && !v.list {
		return append([]string(nil), v.columns...)
	}
	return nil
}
