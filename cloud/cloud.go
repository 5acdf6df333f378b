// Package cloud is the table of Exchange Online environments (the module's
// ExchangeEnvironmentName): for each cloud, the Exchange and Security & Compliance REST bases and
// the Microsoft Entra authority, from which scopes are derived. It is data and URL arithmetic
// on the standard library only, so the emulator reads the same table to know which audiences
// a token of each cloud carries.
package cloud

import (
	"fmt"
	"net/url"
	"strings"
)

// Environment is one Exchange Online cloud.
type Environment struct {
	Name          string `json:"Name"`
	ConnectionURI string `json:"ConnectionUri"`
	ComplianceURI string `json:"ComplianceUri"`
	AuthorityURI  string `json:"AuthorityUri"` // authority host, no tenant path
	Notes         string `json:"Notes,omitempty"`
}

// Default is the worldwide commercial cloud (also used by GCC).
const Default = "O365Default"

var environments = []Environment{
	{Name: "O365Default", ConnectionURI: "https://outlook.office365.com", ComplianceURI: "https://ps.compliance.protection.outlook.com", AuthorityURI: "https://login.microsoftonline.com", Notes: "worldwide and GCC"},
	{Name: "O365USGovGCCHigh", ConnectionURI: "https://outlook.office365.us", ComplianceURI: "https://ps.compliance.protection.office365.us", AuthorityURI: "https://login.microsoftonline.us"},
	{Name: "O365USGovDoD", ConnectionURI: "https://outlook-dod.office365.us", ComplianceURI: "https://l5.ps.compliance.protection.office365.us", AuthorityURI: "https://login.microsoftonline.us"},
	{Name: "O365GermanyCloud", ConnectionURI: "https://outlook.office.de", ComplianceURI: "https://ps.compliance.protection.outlook.de", AuthorityURI: "https://login.microsoftonline.de", Notes: "retired in 2021; kept for scripts that name it"},
	{Name: "O365China", ConnectionURI: "https://partner.outlook.cn", ComplianceURI: "https://ps.compliance.protection.partner.outlook.cn", AuthorityURI: "https://login.chinacloudapi.cn", Notes: "operated by 21Vianet"},
}

// Environments returns every known environment, O365Default first.
func Environments() []Environment {
	return append([]Environment(nil), environments...)
}

// Lookup finds an environment by name, case-insensitively; "" means O365Default.
func Lookup(name string) (Environment, error) {
	if name == "" {
		name = Default
	}
	for _, e := range environments {
		if strings.EqualFold(e.Name, name) {
			return e, nil
		}
	}
	names := make([]string, len(environments))
	for i, e := range environments {
		names[i] = e.Name
	}
	return Environment{}, fmt.Errorf("unknown environment %q: use one of %s", name, strings.Join(names, ", "))
}

// ExchangeResources are the resource URIs (token audiences) of Exchange Online and Security &
// Compliance in every cloud.
func ExchangeResources() []string {
	var out []string
	for _, e := range environments {
		out = append(out, e.ConnectionURI, e.ComplianceURI)
	}
	return out
}

// ExchangeURIs are the Exchange Online resource URIs of every cloud, O365Default first.
func ExchangeURIs() []string {
	out := make([]string, len(environments))
	for i, e := range environments {
		out[i] = e.ConnectionURI
	}
	return out
}

// ComplianceURIs are the Security & Compliance resource URIs of every cloud, O365Default first.
func ComplianceURIs() []string {
	out := make([]string, len(environments))
	for i, e := range environments {
		out[i] = e.ComplianceURI
	}
	return out
}

// Base reduces a connection URI to its scheme and host, as the REST API uses it: the module's
// ConnectionUri values carry paths like /PowerShell-LiveID that the REST base drops.
func Base(connectionURI string) (string, error) {
	u, err := url.Parse(connectionURI)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("connection URI %q is not an absolute http(s) URL such as https://outlook.office365.com", connectionURI)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Scope is the OAuth2 scope that asks for a token for a resource: "{base}/.default".
func Scope(resourceBase string) string {
	return strings.TrimSuffix(resourceBase, "/") + "/.default"
}

// Authority joins an authority host and a tenant ("organizations", a GUID or a domain).
func Authority(authorityURI, tenant string) (string, error) {
	u, err := url.Parse(authorityURI)
	if err != nil || u.Host == "" || u.Scheme != "https" {
		return "", fmt.Errorf("authority %q must be an https URL such as https://login.microsoftonline.com", authorityURI)
	}
	path := strings.Trim(u.Path, "/")
	// An authority that already names a tenant keeps it, unless it is a generic one.
	switch strings.ToLower(path) {
	case "", "organizations", "common":
		if tenant == "" {
			tenant = "organizations"
		}
		path = tenant
	}
	return u.Scheme + "://" + u.Host + "/" + path, nil
}
