package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
)

// partnerApp is the seeded partner's multi-tenant app.
func partnerApp(t *testing.T, dir string) emulator.AppInfo {
	t.Helper()
	info, err := emulator.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range info.Tenants {
		if tn.Kind == "partner" && len(tn.Apps) > 0 {
			return tn.Apps[0]
		}
	}
	t.Fatal("emulator.json lists no partner app")
	return emulator.AppInfo{}
}

// --delegated-org as the module does it for a GDAP member, a DAP admin agent and a guest:
// the customer's token, cmdlets on the customer's tenant, Exchange authorising per the roles
// the relationship grants, Entra's AADSTS50020 where none does, naming the flag to check.
func TestPartnerDelegatedOrganizations(t *testing.T) {
	t.Parallel()
	_, dir := startEmulator(t)
	for _, tc := range []struct {
		upn, customer string
		mailbox       string
		canWrite      bool
		refused       bool
	}{
		{upn: "priya.ops@northwindpartners.com", customer: "wingtiptoys.onmicrosoft.com", mailbox: "ines.moreau", canWrite: true},
		{upn: "rob.helpdesk@northwindpartners.com", customer: "adatum.onmicrosoft.com", mailbox: "astrid.nielsen"},
		{upn: "dana.agent@northwindpartners.com", customer: "wingtiptoys.com", mailbox: "kenji.sato", canWrite: true},
		{upn: "sam.guest@northwindpartners.com", customer: "contoso.onmicrosoft.com", mailbox: "admin", canWrite: true},
		{upn: "dana.agent@northwindpartners.com", customer: "adatum.onmicrosoft.com", refused: true},
		{upn: "priya.ops@northwindpartners.com", customer: "litware.onmicrosoft.com", refused: true},
		{upn: "priya.ops@northwindpartners.com", customer: "tailspintoys.onmicrosoft.com", refused: true},
	} {
		t.Run(tc.upn+"@"+tc.customer, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			errOut, code := userConnect(t, c, tc.upn, seededUser(t, dir, tc.upn), "--delegated-org", tc.customer)
			if tc.refused {
				if code == 0 || !strings.Contains(errOut, "AADSTS50020") || !strings.Contains(errOut, "Check --delegated-org "+tc.customer) {
					t.Fatalf("connect: exit %d, %s", code, errOut)
				}
				return
			}
			if code != 0 {
				t.Fatalf("connect: %s", errOut)
			}
			tok := strings.TrimSpace(c.ok("token"))
			claims, err := auth.ParseClaims(tok)
			if err != nil || claims.TenantID != onlyProfile(t, c).TenantID || claims.User() != tc.upn {
				t.Errorf("token: %+v (%v)", claims, err)
			}
			out := c.ok("run", "-o", "json", "Get-AcceptedDomain")
			if !strings.Contains(out, strings.TrimSuffix(strings.TrimSuffix(tc.customer, ".onmicrosoft.com"), ".com")) {
				t.Errorf("accepted domains of %s: %s", tc.customer, out)
			}
			var info []map[string]any
			if err := json.Unmarshal([]byte(c.ok("run", "-o", "json", "Get-ConnectionInformation")), &info); err != nil || len(info) != 1 || info[0]["DelegatedOrganization"] != tc.customer {
				t.Errorf("Get-ConnectionInformation: %v (%v)", info, err)
			}
			out, errOut, code = c.run("", "run", "Set-Mailbox", tc.mailbox, "-ProhibitSendQuota", "45GB", "-WhatIf")
			if tc.canWrite && (code != 0 || !strings.Contains(out, "What if:")) {
				t.Errorf("a write refused: %s", errOut)
			}
			if !tc.canWrite && (code == 0 || !strings.Contains(errOut, "not recognized")) {
				t.Errorf("a Global Reader's write: exit %d, %s", code, errOut)
			}
		})
	}
}

// One partner sign-in, each customer's token silently: every record names its tenant, a
// customer without a relationship fails on its own, the summary counts, the exit code says so.
func TestFanOutTenants(t *testing.T) {
	t.Parallel()
	_, dir := startEmulator(t)
	c := newCLI(t)
	const upn = "priya.ops@northwindpartners.com"
	if errOut, code := userConnect(t, c, upn, seededUser(t, dir, upn)); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	list := filepath.Join(t.TempDir(), "customers.txt")
	if err := os.WriteFile(list, []byte("# Northwind's customers\nwingtiptoys.onmicrosoft.com\n\nadatum.onmicrosoft.com\nlitware.onmicrosoft.com  # expired\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := c.run("", "run", "--tenants", list, "--parallel", "2", "-o", "ndjson", "Get-AcceptedDomain")
	if code == 0 {
		t.Errorf("a failed tenant must fail the command: %s", errOut)
	}
	tenants := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("ndjson line %q: %v", line, err)
		}
		tenant, _ := rec["Tenant"].(string)
		domain, _ := rec["DomainName"].(string)
		if !strings.HasPrefix(tenant, strings.SplitN(domain, ".", 2)[0]) {
			t.Errorf("record of %s says Tenant %q", domain, tenant)
		}
		tenants[tenant]++
	}
	if tenants["wingtiptoys.onmicrosoft.com"] != 2 || tenants["adatum.onmicrosoft.com"] != 2 || len(tenants) != 2 {
		t.Errorf("records per tenant: %v", tenants)
	}
	for _, want := range []string{"ERROR: litware.onmicrosoft.com:", "AADSTS50020", "ran in 3 tenant(s): 2 succeeded, 1 failed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// The table leads with the tenant; the CSV has it as a column.
	if out := c.ok("run", "--tenants", "wingtiptoys.onmicrosoft.com,adatum.onmicrosoft.com", "Get-AcceptedDomain"); !strings.HasPrefix(strings.TrimSpace(out), "Tenant ") {
		t.Errorf("table: %s", out)
	}
	if out := c.ok("run", "--tenants", "adatum.onmicrosoft.com", "-o", "csv", "Get-AcceptedDomain"); !strings.HasPrefix(out, `"Tenant",`) && !strings.HasPrefix(out, "Tenant,") {
		t.Errorf("csv: %s", out)
	}
}

// A multi-tenant app's certificate serves every customer it is consented in.
func TestFanOutAppOnly(t *testing.T) {
	t.Parallel()
	_, dir := startEmulator(t)
	c := newCLI(t)
	c.ok("connect", "--emulator", dir, "--app-id", partnerApp(t, dir).AppID)
	out := c.ok("run", "--tenants", "wingtiptoys.onmicrosoft.com,adatum.onmicrosoft.com", "-o", "json", "Get-AcceptedDomain")
	var recs []map[string]any
	if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs) != 4 {
		t.Fatalf("records: %v (%v)\n%s", recs, err, out)
	}
}

// Several saved connections: comma lists, prefix patterns, --all; duplicate prefixes are
// refused; Get-ConnectionInformation and Disconnect-ExchangeOnline are answered locally.
func TestFanOutConnectionsAndPrefixes(t *testing.T) {
	t.Parallel()
	_, dir := startEmulator(t)
	c := newCLI(t)
	c.ok("connect", "--emulator", dir, "--prefix", "contoso")
	const upn = "priya.ops@northwindpartners.com"
	for _, p := range []string{"cust-wingtip", "cust-adatum"} {
		customer := strings.TrimPrefix(p, "cust-") + ".onmicrosoft.com"
		if customer == "wingtip.onmicrosoft.com" {
			customer = "wingtiptoys.onmicrosoft.com"
		}
		if errOut, code := userConnect(t, c, upn, seededUser(t, dir, upn), "--delegated-org", customer, "--prefix", p); code != 0 {
			t.Fatalf("connect: %s", errOut)
		}
	}
	if errOut, code := userConnect(t, c, upn, seededUser(t, dir, upn), "--prefix", "CUST-ADATUM"); code == 0 || !strings.Contains(errOut, "already has the prefix") {
		t.Errorf("duplicate prefix: exit %d, %s", code, errOut)
	}
	count := func(args ...string) map[string]int {
		t.Helper()
		var recs []map[string]any
		if err := json.Unmarshal([]byte(c.ok(append([]string{"run", "-o", "json"}, args...)...)), &recs); err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, r := range recs {
			m[r["Tenant"].(string)]++
		}
		return m
	}
	if m := count("-c", "cust-*", "Get-AcceptedDomain"); len(m) != 2 || m["adatum.onmicrosoft.com"] != 2 {
		t.Errorf("-c cust-*: %v", m)
	}
	if m := count("-c", "1,3", "Get-AcceptedDomain"); len(m) != 2 || m["adatum.onmicrosoft.com"] != 2 {
		t.Errorf("-c 1,3: %v", m)
	}
	if m := count("-c", "1", "-c", "cust-wingtip", "Get-AcceptedDomain"); len(m) != 2 || m["wingtiptoys.onmicrosoft.com"] != 2 {
		t.Errorf("-c 1 -c cust-wingtip: %v", m)
	}
	if m := count("--all", "Get-AcceptedDomain"); len(m) != 3 {
		t.Errorf("--all: %v", m)
	}
	var info []map[string]any
	if err := json.Unmarshal([]byte(c.ok("run", "-o", "json", "Get-ConnectionInformation", "-ModulePrefix", "cust-adatum")), &info); err != nil || len(info) != 1 || info[0]["Name"] != "ExchangeOnline_3" || info[0]["ModulePrefix"] != "cust-adatum" {
		t.Fatalf("Get-ConnectionInformation -ModulePrefix: %v (%v)", info, err)
	}
	id := info[0]["ConnectionId"].(string)
	if msg := c.fails("run", "Disconnect-ExchangeOnline", "-ConnectionId", id); !strings.Contains(msg, "-Confirm:$false") {
		t.Errorf("unconfirmed disconnect: %s", msg)
	}
	c.ok("run", "Disconnect-ExchangeOnline", "-ConnectionId", id, "-Confirm:$false")
	if err := json.Unmarshal([]byte(c.ok("connections", "-o", "json")), &info); err != nil || len(info) != 2 {
		t.Errorf("after Disconnect-ExchangeOnline -ConnectionId: %v (%v)", info, err)
	}
}

// The shell names the connection it opened, and answers the connection cmdlets locally.
func TestShellNamesItsConnection(t *testing.T) {
	t.Parallel()
	_, dir := startEmulator(t)
	c := newCLI(t)
	c.ok("connect", "--emulator", dir, "--prefix", "first")
	c.ok("connect", "--emulator", dir, "--prefix", "second")
	out, errOut, code := c.run("Get-ConnectionInformation\nGet-ConnectionInformation -ModulePrefix first\n", "shell", "-c", "second")
	if code != 0 || !strings.Contains(out, "ExchangeOnline_2") || !strings.Contains(out, "ExchangeOnline_1") || strings.Count(out, "ModulePrefix") != 2 {
		t.Fatalf("shell: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := c.run("Disconnect-ExchangeOnline -ModulePrefix first -Confirm:$false\nGet-AcceptedDomain\n", "shell", "-c", "second"); code != 0 {
		t.Fatalf("shell disconnect: exit %d\n%s", code, errOut)
	}
	var info []map[string]any
	if err := json.Unmarshal([]byte(c.ok("connections", "-o", "json")), &info); err != nil || len(info) != 1 || info[0]["ModulePrefix"] != "second" {
		t.Errorf("after the shell's Disconnect-ExchangeOnline: %v (%v)", info, err)
	}
}

// Connect-IPPSSession -DelegatedOrganization: the customer's token for Security & Compliance,
// cmdlets in the customer's organization.
func TestComplianceDelegatedOrganization(t *testing.T) {
	t.Parallel()
	_, dir := startEmulator(t)
	c := newCLI(t)
	const upn = "priya.ops@northwindpartners.com"
	if errOut, code := userConnect(t, c, upn, seededUser(t, dir, upn), "--compliance", "--delegated-org", "adatum.onmicrosoft.com"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	var info []map[string]any
	if err := json.Unmarshal([]byte(c.ok("run", "-o", "json", "Get-ConnectionInformation")), &info); err != nil || len(info) != 1 ||
		info[0]["IsEopSession"] != true || info[0]["DelegatedOrganization"] != "adatum.onmicrosoft.com" || info[0]["TenantID"] != onlyProfile(t, c).TenantID {
		t.Fatalf("Get-ConnectionInformation: %v (%v)", info, err)
	}
	c.ok("run", "Get-Label")
	if errOut, code := userConnect(t, newCLI(t), upn, seededUser(t, dir, upn), "--compliance", "--delegated-org", "litware.onmicrosoft.com"); code == 0 || !strings.Contains(errOut, "AADSTS50020") {
		t.Errorf("expired GDAP at S&C: exit %d, %s", code, errOut)
	}
}

// --delegated-org with the device code and the browser: the partner signs in on the
// customer's sign-in page with the home account.
func TestPartnerDelegatedDeviceAndBrowser(t *testing.T) {
	t.Parallel()
	e, dir := startEmulator(t)
	const upn = "priya.ops@northwindpartners.com"
	for _, tc := range []struct {
		flag string
		re   *regexp.Regexp
		code bool
	}{
		{"--device", deviceMessageRe, true},
		{"--no-browser", signInURLRe, false},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			var playErr error
			errOut, code := c.runWatched(func(stderr <-chan string) {
				for w := range stderr {
					if m := tc.re.FindStringSubmatch(w); m != nil {
						b := emulator.User{Client: e.HTTPClient(), UPN: upn, Password: seededUser(t, dir, upn)}
						if tc.code {
							b.UserCode = m[2]
						}
						_, playErr = b.SignIn(m[1])
						return
					}
				}
			}, "connect", "--emulator", dir, "--upn", upn, tc.flag, "--delegated-org", "adatum.onmicrosoft.com")
			if playErr != nil {
				t.Fatalf("sign-in page: %v", playErr)
			}
			if code != 0 {
				t.Fatalf("connect %s: %s", tc.flag, errOut)
			}
			if out := c.ok("run", "-o", "json", "Get-AcceptedDomain"); !strings.Contains(out, "adatum.com") {
				t.Errorf("customer's domains: %s", out)
			}
		})
	}
}

// The module's -Prefix: Get-{Prefix}AcceptedDomain runs Get-AcceptedDomain on that connection.
func TestPrefixedCmdletNames(t *testing.T) {
	t.Parallel()
	_, dir := startEmulator(t)
	c := newCLI(t)
	c.ok("connect", "--emulator", dir, "--prefix", "Contoso")
	const upn = "priya.ops@northwindpartners.com"
	if errOut, code := userConnect(t, c, upn, seededUser(t, dir, upn), "--delegated-org", "adatum.onmicrosoft.com", "--prefix", "Adatum"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	if out := c.ok("run", "-o", "json", "Get-ContosoAcceptedDomain"); !strings.Contains(out, `"contoso.com"`) {
		t.Errorf("Get-ContosoAcceptedDomain: %s", out)
	}
	if out := c.ok("run", "-o", "json", "get-adatumaccepteddomain"); !strings.Contains(out, `"adatum.com"`) {
		t.Errorf("get-adatumaccepteddomain: %s", out)
	}
	if out := c.ok("run", "-o", "json", "Get-AcceptedDomain"); !strings.Contains(out, `"adatum.com"`) {
		t.Errorf("no prefix, the latest connection: %s", out)
	}
}

// bulk --tenant-column runs each row in its tenant from the partner's one sign-in; a row whose
// tenant refuses the partner fails alone.
func TestBulkTenantColumn(t *testing.T) {
	t.Parallel()
	_, dir := startEmulator(t)
	c := newCLI(t)
	const upn = "priya.ops@northwindpartners.com"
	if errOut, code := userConnect(t, c, upn, seededUser(t, dir, upn)); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	csv := filepath.Join(t.TempDir(), "mailboxes.csv")
	if err := os.WriteFile(csv, []byte("Customer,Mailbox\nwingtiptoys.onmicrosoft.com,ines.moreau\nadatum.onmicrosoft.com,astrid.nielsen\nlitware.onmicrosoft.com,hana.kim\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := c.run("", "bulk", "--csv", csv, "--tenant-column", "Customer", "-o", "csv", "--", "Get-Mailbox", "-Identity", "{Mailbox}")
	if code == 0 {
		t.Errorf("the Litware row must fail: %s", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "ok") || !strings.Contains(lines[2], "ok") || !strings.Contains(lines[3], "AADSTS50020") {
		t.Errorf("per-row results:\n%s\n%s", out, errOut)
	}
}
