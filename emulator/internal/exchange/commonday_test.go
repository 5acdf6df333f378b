package exchange

import (
	"context"
	"slices"
	"testing"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// TestAdminDay runs an administrator's everyday changes over the demo seed through
// InvokeCommand and reads them back: shared mailboxes found with -Filter, Full Access and Send
// As granted, people added to a distribution group, quotas changed, a transport rule written;
// removing a mailbox takes its permissions and memberships with it.
func TestAdminDay(t *testing.T) {
	t.Parallel()
	e, _ := mutableEnv(t)
	if err := Seed(context.Background(), e.ex.cfg.Store, store.SeedDemo); err != nil {
		t.Fatal(err)
	}
	ok := func(a answer) answer {
		t.Helper()
		if a.status != 200 {
			t.Fatalf("%s", a)
		}
		return a
	}
	shared := ok(e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"Filter": "RecipientTypeDetails -eq 'SharedMailbox'", "ResultSize": "Unlimited"}})).values()
	if len(shared) != 12 {
		t.Fatalf("%d shared mailboxes", len(shared))
	}
	box := shared[0]["Name"].(string)
	ok(e.do(call{cmdlet: "Add-MailboxPermission", params: map[string]any{"Identity": box, "User": "adele.vance@contoso.com", "AccessRights": []any{"FullAccess"}, "InheritanceType": "All"}}))
	ok(e.do(call{cmdlet: "Add-RecipientPermission", params: map[string]any{"Identity": box, "Trustee": "adele.vance@contoso.com", "AccessRights": []any{"SendAs"}, "Confirm": false}}))
	perms := ok(e.do(call{cmdlet: "Get-MailboxPermission", params: map[string]any{"Identity": box}})).values()
	if len(perms) != 2 || perms[0]["User"] != selfTrustee || perms[1]["User"] != "adele.vance@contoso.com" || !slices.Equal(strs(perms[1]["AccessRights"]), []string{"FullAccess"}) {
		t.Errorf("Get-MailboxPermission: %v", perms)
	}
	sendAs := ok(e.do(call{cmdlet: "Get-RecipientPermission", params: map[string]any{"Identity": box, "Trustee": "adele.vance@contoso.com"}})).values()
	if len(sendAs) != 1 || !slices.Equal(strs(sendAs[0]["AccessRights"]), []string{"SendAs"}) {
		t.Errorf("Get-RecipientPermission: %v", sendAs)
	}
	ok(e.do(call{cmdlet: "New-DistributionGroup", params: map[string]any{"Name": "Night Shift", "Members": []any{"lee.gu@contoso.com"}}}))
	ok(e.do(call{cmdlet: "Add-DistributionGroupMember", params: map[string]any{"Identity": "Night Shift", "Member": "adele.vance@contoso.com"}}))
	if a := e.do(call{cmdlet: "Add-DistributionGroupMember", params: map[string]any{"Identity": "Night Shift", "Member": "nobody@contoso.com"}}); a.status != 404 {
		t.Errorf("a member who does not exist: %s", a)
	}
	if a := e.do(call{cmdlet: "Add-DistributionGroupMember", params: map[string]any{"Identity": "Night Shift", "Member": "lee.gu@contoso.com"}}); a.status != 400 {
		t.Errorf("a member twice: %s", a)
	}
	members := ok(e.do(call{cmdlet: "Get-DistributionGroupMember", params: map[string]any{"Identity": "Night Shift"}})).values()
	if len(members) != 2 {
		t.Errorf("members %v", members)
	}
	ok(e.do(call{cmdlet: "Set-Mailbox", params: map[string]any{"Identity": "adele.vance@contoso.com", "ProhibitSendQuota": "45GB", "ProhibitSendReceiveQuota": "50GB", "IssueWarningQuota": "40GB"}}))
	if m := e.mailbox("adele.vance@contoso.com"); m["ProhibitSendQuota"] != "45 GB (48,318,382,080 bytes)" {
		t.Errorf("quota %v", m["ProhibitSendQuota"])
	}
	ok(e.do(call{cmdlet: "New-TransportRule", params: map[string]any{"Name": "External disclaimer", "FromScope": "InOrganization", "SentToScope": "NotInOrganization",
		"ApplyHtmlDisclaimerText": "<p>Contoso confidential</p>", "ApplyHtmlDisclaimerLocation": "Append", "ApplyHtmlDisclaimerFallbackAction": "Wrap"}}))
	rule := ok(e.do(call{cmdlet: "Get-TransportRule", params: map[string]any{"Identity": "External disclaimer"}})).values()
	if len(rule) != 1 || rule[0]["SentToScope"] != "NotInOrganization" || rule[0]["State"] != "Enabled" {
		t.Errorf("transport rule %v", rule)
	}
	// Removing the user takes the grants and memberships that name her.
	ok(e.do(call{cmdlet: "Remove-Mailbox", params: map[string]any{"Identity": "adele.vance@contoso.com", "Confirm": false}}))
	if perms := ok(e.do(call{cmdlet: "Get-MailboxPermission", params: map[string]any{"Identity": box}})).values(); len(perms) != 1 {
		t.Errorf("permissions after the trustee's removal: %v", perms)
	}
	if members := ok(e.do(call{cmdlet: "Get-DistributionGroupMember", params: map[string]any{"Identity": "Night Shift"}})).values(); len(members) != 1 {
		t.Errorf("members after removal: %v", members)
	}
	// The tenant's defaults are there as a new tenant has them.
	for cmdlet, name := range map[string]string{"Get-HostedContentFilterPolicy": "Default", "Get-AntiPhishPolicy": "Office365 AntiPhish Default",
		"Get-RemoteDomain": "Default", "Get-RoleGroup": "Organization Management", "Get-SharingPolicy": "Default Sharing Policy",
		"Get-OwaMailboxPolicy": "OwaMailboxPolicy-Default", "Get-RetentionPolicy": "Default MRM Policy", "Get-QuarantinePolicy": "DefaultFullAccessPolicy"} {
		if a := e.do(call{cmdlet: cmdlet, params: map[string]any{"Identity": name}}); a.status != 200 || len(a.values()) != 1 {
			t.Errorf("%s %s: %s", cmdlet, name, a)
		}
	}
}
