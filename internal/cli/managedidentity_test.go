package cli

import (
	"strings"
	"testing"

	"github.com/exoctl/exoctl/emulator"
)

// TestManagedIdentity connects as the emulator's managed identities through IMDS (requests for
// 169.254.169.254 are rewritten to the emulator before dialing: nothing leaves loopback).
func TestManagedIdentity(t *testing.T) {
	_, dir := startEmulator(t)
	info, err := emulator.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	var withRole, noRole string
	for _, mi := range info.Tenants[0].ManagedIdentities {
		switch {
		case strings.Contains(mi.Name, "norole"):
			noRole = mi.ClientID
		case !mi.SystemAssigned:
			withRole = mi.ClientID
		}
	}
	if withRole == "" || noRole == "" {
		t.Fatalf("emulator.json lists no user-assigned identities: %+v", info.Tenants[0].ManagedIdentities)
	}

	c := newCLI(t)
	c.ok("connect", "--emulator", dir, "--managed-identity")
	golden(t, "accepted-domains.txt", c.ok("run", "Get-AcceptedDomain"))
	if out := c.ok("connections", "-o", "json"); !strings.Contains(out, `"CertificateAuthentication": false`) {
		t.Errorf("connections: %s", out)
	}

	c = newCLI(t)
	c.ok("connect", "--emulator", dir, "--managed-identity-account-id", withRole)
	c.ok("run", "Get-Mailbox", "-ResultSize", "1")

	// As Connect-ExchangeOnline, the identity Exchange refuses fails at connect, saying what
	// it lacks.
	c = newCLI(t)
	if e := c.fails("connect", "--emulator", dir, "--managed-identity-account-id", noRole); !strings.Contains(e, "Exchange.ManageAsApp") || !strings.Contains(e, noRole) {
		t.Errorf("no-role identity: %s", e)
	}
	if e := c.fails("connect", "--managed-identity", "--upn", "a@b.c"); !strings.Contains(e, "managed identity") {
		t.Errorf("mixed flags: %s", e)
	}
}
