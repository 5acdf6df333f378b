package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// runTTY runs exoctl as on a terminal, with stdin typed by the user.
func (c *cli) runTTY(stdin string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	f := &Factory{
		IO: &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut, Interactive: true, Width: 120},
		Getenv: func(k string) string {
			if k == "EXOCTL_HOME" {
				return c.home
			}
			return c.env[k]
		},
	}
	f.Logger = newWarnLogger(&errOut, false)
	code = Main(context.Background(), f, args)
	return out.String(), errOut.String(), code
}

// mailbox returns Get-Mailbox's record for id, or nil when there is none.
func (c *cli) mailbox(id string) map[string]any {
	c.t.Helper()
	out, errOut, code := c.run("", "run", "-o", "json", "Get-Mailbox", "-Identity", id)
	if code != 0 {
		if strings.Contains(errOut, "couldn't be found") {
			return nil
		}
		c.t.Fatalf("Get-Mailbox %s: %s", id, errOut)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 {
		c.t.Fatalf("Get-Mailbox %s: %v\n%s", id, err, out)
	}
	return list[0]
}

func addresses(m map[string]any) []string {
	var out []string
	list, _ := m["EmailAddresses"].([]any)
	for _, a := range list {
		s, _ := a.(string)
		out = append(out, s)
	}
	return out
}

// The mailboxes here sort after the seeded ones ("Zz ..."), so tests that look at the first
// mailboxes of the shared emulator see what they always saw.
func TestMailboxLifecycle(t *testing.T) {
	c := connected(t)
	out := c.ok("run", "-o", "json", "New-Mailbox", "-Shared", "-Name", "Zz CLI Shared", "-Alias", "zzclishared")
	var created []map[string]any
	if err := json.Unmarshal([]byte(out), &created); err != nil || len(created) != 1 || created[0]["RecipientTypeDetails"] != "SharedMailbox" {
		t.Fatalf("New-Mailbox: %v\n%s", err, out)
	}

	// Set-Mailbox prints nothing; Get-Mailbox shows the change.
	out, errOut, code := c.run("", "Set-Mailbox", "zzclishared", "-ProhibitSendQuota", "49GB", "-EmailAddresses", `@{Add="smtp:zzclishared2@contoso.com"}`)
	if code != 0 || out != "" || errOut != "" {
		t.Fatalf("Set-Mailbox: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	m := c.mailbox("zzclishared2@contoso.com")
	if m == nil || m["ProhibitSendQuota"] != "49 GB (52,613,349,376 bytes)" ||
		!slices.Contains(addresses(m), "smtp:zzclishared2@contoso.com") || !slices.Contains(addresses(m), "SMTP:zzclishared@contoso.com") {
		t.Errorf("after Set-Mailbox: %v", m)
	}
	if e := c.fails("Set-Mailbox", "zzclishared", "-ProhibitSendQuota", "500GB"); !strings.Contains(e, "must be less than or equal to that of property 'ProhibitSendReceiveQuota'") {
		t.Errorf("invalid quota: %s", e)
	}

	// Not on a terminal: one line saying what to add, nothing removed, stdin never read.
	e := c.fails("Remove-Mailbox", "zzclishared")
	if !strings.Contains(e, "-Confirm:$false") || !strings.Contains(e, `Removing mailbox "Zz CLI Shared"`) {
		t.Errorf("non-interactive Remove-Mailbox: %s", e)
	}
	if c.mailbox("zzclishared") == nil {
		t.Fatal("non-interactive Remove-Mailbox removed the mailbox")
	}

	// -WhatIf: what it would do, and nothing done.
	out = c.ok("Remove-Mailbox", "zzclishared", "-WhatIf")
	if out != "What if: Removing mailbox \"Zz CLI Shared\" will remove the Windows Live ID \"zzclishared@contoso.com\" and mark the mailbox and the associated Windows Live ID for deletion.\n" {
		t.Errorf("-WhatIf: %q", out)
	}
	if c.mailbox("zzclishared") == nil {
		t.Fatal("-WhatIf removed the mailbox")
	}

	// On a terminal: PowerShell's prompt; No changes nothing and is no error.
	out, errOut, code = c.runTTY("n\n", "Remove-Mailbox", "zzclishared")
	want := "\nConfirm\nAre you sure you want to perform this action?\nRemoving mailbox \"Zz CLI Shared\" will remove the Windows Live ID \"zzclishared@contoso.com\" and mark the mailbox and the associated Windows Live ID for deletion.\n" +
		`[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is "Y"): `
	if code != 0 || out != "" || errOut != want {
		t.Errorf("answer No: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if c.mailbox("zzclishared") == nil {
		t.Fatal("answering No removed the mailbox")
	}
	// Help, an unknown answer, then Yes.
	_, errOut, code = c.runTTY("?\nmaybe\ny\n", "Remove-Mailbox", "zzclishared")
	if code != 0 || strings.Count(errOut, "[Y] Yes") != 3 || !strings.Contains(errOut, "L - Skip this operation and all subsequent operations.") {
		t.Errorf("help then yes: exit %d, stderr %q", code, errOut)
	}
	if c.mailbox("zzclishared") != nil {
		t.Fatal("answering Yes left the mailbox")
	}

	// -Confirm:$false removes without asking.
	c.ok("New-Mailbox", "-Name", "Zz CLI Room", "-Room")
	if out := c.ok("Remove-Mailbox", "-Identity", "Zz CLI Room", "-Confirm:$false"); out != "" {
		t.Errorf("Remove-Mailbox -Confirm:$false printed %q", out)
	}
	if c.mailbox("Zz CLI Room") != nil {
		t.Error("Remove-Mailbox -Confirm:$false left the mailbox")
	}
	// End of input on a terminal declines.
	c.ok("New-Mailbox", "-Name", "Zz CLI Equipment", "-Equipment")
	if _, _, code := c.runTTY("", "Remove-Mailbox", "Zz CLI Equipment"); code != 0 || c.mailbox("Zz CLI Equipment") == nil {
		t.Errorf("EOF at the prompt: exit %d", code)
	}
	c.ok("Remove-Mailbox", "Zz CLI Equipment", "-Confirm:$false")
}
