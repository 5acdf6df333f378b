package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestComplianceConnection is Connect-IPPSSession against the emulator: the seeded app signs in
// to Security & Compliance, runs its cmdlets, and an Exchange connection beside it keeps working.
func TestComplianceConnection(t *testing.T) {
	e, dir := startEmulator(t)
	c := newCLI(t)
	_, errOut, code := c.run("", "connect", "--emulator", dir, "--compliance", "--prefix", "scc")
	if code != 0 {
		t.Fatalf("connect --compliance: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, e.Info.ComplianceRegionURI) {
		t.Errorf("connect should name the region it reached (%s): %s", e.Info.ComplianceRegionURI, errOut)
	}

	var labels []map[string]any
	if err := json.Unmarshal([]byte(c.ok("run", "-o", "json", "Get-Label")), &labels); err != nil {
		t.Fatal(err)
	}
	if len(labels) != 5 || labels[0]["Name"] != "Public" || labels[4]["Name"] != "Highly Confidential" {
		t.Fatalf("Get-Label: %v", labels)
	}
	if out := c.ok("run", "Get-DlpCompliancePolicy", "-Identity", "GDPR Enhanced"); !strings.Contains(out, "TestWithNotifications") {
		t.Errorf("Get-DlpCompliancePolicy -Identity:\n%s", out)
	}
	if e := c.fails("run", "Get-Mailbox"); !strings.Contains(e, "Get-Mailbox") {
		t.Errorf("Exchange cmdlet on the compliance connection: %s", e)
	}

	// An Exchange connection beside it: the latest is the default, -c picks either.
	c.ok("connect", "--emulator", dir)
	if out := c.ok("run", "Get-AcceptedDomain"); !strings.Contains(out, ".onmicrosoft.com") {
		t.Errorf("Get-AcceptedDomain on the Exchange connection:\n%s", out)
	}
	if e := c.fails("run", "Get-Label"); !strings.Contains(e, "Get-Label") {
		t.Errorf("compliance cmdlet on the Exchange connection: %s", e)
	}
	if out := c.ok("run", "-c", "scc", "-o", "json", "Get-RetentionCompliancePolicy", "-TeamsPolicyOnly"); !strings.Contains(out, `"Teams Chats - 1 year"`) {
		t.Errorf("run -c scc Get-RetentionCompliancePolicy:\n%s", out)
	}
	if out := c.ok("run", "-c", "1", "-o", "json", "Get-ComplianceSearch"); !strings.Contains(out, "Phishing sweep") {
		t.Errorf("run -c 1 Get-ComplianceSearch:\n%s", out)
	}
	if out := c.ok("run", "-c", "2", "Get-OrganizationConfig"); out == "" {
		t.Error("run -c 2 Get-OrganizationConfig printed nothing")
	}

	raw := c.ok("connections", "-o", "json")
	if !strings.Contains(raw, "ExchangeOnlineProtection_") || !strings.Contains(raw, `"IsEopSession": true`) {
		t.Errorf("connections -o json:\n%s", raw)
	}
	var conns []map[string]any
	if err := json.Unmarshal([]byte(raw), &conns); err != nil {
		t.Fatal(err)
	}
	if len(conns) != 2 {
		t.Fatalf("connections: %v", conns)
	}
	for _, cn := range conns {
		switch cn["Id"] {
		case float64(1):
			if cn["Name"] != "ExchangeOnlineProtection_1" || cn["IsEopSession"] != true || cn["ModulePrefix"] != "scc" ||
				cn["ConnectionUri"] != e.Info.ComplianceURI {
				t.Errorf("compliance connection %v", cn)
			}
		case float64(2):
			if cn["Name"] != "ExchangeOnline_2" || cn["IsEopSession"] != false {
				t.Errorf("Exchange connection %v", cn)
			}
		default:
			t.Errorf("connection %v", cn)
		}
	}

	// Disconnecting one leaves the other.
	c.ok("disconnect", "-c", "2", "--yes")
	if out := c.ok("run", "Get-LabelPolicy"); !strings.Contains(out, "Global sensitivity label policy") {
		t.Errorf("Get-LabelPolicy after the Exchange connection left:\n%s", out)
	}
}

// TestComplianceUserSignIn signs a seeded user in to Security & Compliance with a password.
func TestComplianceUserSignIn(t *testing.T) {
	e, dir := startEmulator(t)
	var upn, pw string
	for _, u := range e.Info.Tenants[0].Users {
		if strings.HasPrefix(u.UPN, "globaladmin@") {
			upn, pw = u.UPN, u.Password
		}
	}
	if upn == "" {
		t.Fatal("no seeded global admin")
	}
	c := newCLI(t)
	if _, errOut, code := c.run(pw+"\n", "connect", "--emulator", dir, "--compliance", "--upn", upn, "--password-stdin"); code != 0 {
		t.Fatalf("connect --compliance --upn: exit %d: %s", code, errOut)
	}
	if out := c.ok("run", "Get-Label", "-Identity", "Confidential"); !strings.Contains(out, "Confidential") {
		t.Errorf("Get-Label as %s:\n%s", upn, out)
	}
	raw := c.ok("connections", "-o", "json")
	if !strings.Contains(raw, `"UserPrincipalName": "`+upn+`"`) || !strings.Contains(raw, `"IsEopSession": true`) {
		t.Errorf("connections:\n%s", raw)
	}
}
