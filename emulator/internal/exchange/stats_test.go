package exchange

import (
	"strings"
	"testing"
)

// TestMailboxContents: statistics and folders are plausible, the same on every call, and the
// folders add up to the mailbox; folder permissions start with Default and Anonymous.
func TestMailboxContents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	get := func(cmdlet string, params map[string]any) []map[string]any {
		t.Helper()
		a := e.do(call{cmdlet: cmdlet, params: params})
		if a.status != 200 {
			t.Fatalf("%s: %s", cmdlet, a)
		}
		return a.values()
	}
	st := get("Get-MailboxStatistics", map[string]any{"Identity": "admin@contoso.onmicrosoft.com"})
	again := get("Get-MailboxStatistics", map[string]any{"Identity": "admin@contoso.onmicrosoft.com"})
	if len(st) != 1 || st[0]["ItemCount"] != again[0]["ItemCount"] || st[0]["ItemCount"].(float64) < 100 ||
		!strings.HasSuffix(st[0]["TotalItemSize"].(string), " bytes)") || st[0]["MailboxTypeDetail"] != "UserMailbox" {
		t.Errorf("statistics %v", st)
	}
	folders := get("Get-MailboxFolderStatistics", map[string]any{"Identity": "admin@contoso.onmicrosoft.com"})
	var sum float64
	for _, f := range folders {
		if f["FolderType"] != "DeletedItems" && f["FolderType"] != "RecoverableItemsRoot" {
			sum += f["ItemsInFolder"].(float64)
		}
	}
	if len(folders) < 10 || sum > st[0]["ItemCount"].(float64) || sum < st[0]["ItemCount"].(float64)*0.9 {
		t.Errorf("%d folders hold %v items, the mailbox %v", len(folders), sum, st[0]["ItemCount"])
	}
	perms := get("Get-MailboxFolderPermission", map[string]any{"Identity": `admin@contoso.onmicrosoft.com:\Calendar`})
	if len(perms) != 2 || perms[0]["User"] != "Default" || strs(perms[0]["AccessRights"])[0] != "AvailabilityOnly" {
		t.Errorf("calendar permissions %v", perms)
	}
	if rules := get("Get-InboxRule", map[string]any{"Mailbox": "admin@contoso.onmicrosoft.com"}); len(rules) != 0 {
		t.Errorf("inbox rules %v", rules)
	}
	if a := e.do(call{cmdlet: "Get-InboxRule", params: map[string]any{"Mailbox": "nobody@contoso.com"}}); a.status != 404 {
		t.Errorf("inbox rules of nobody: %s", a)
	}
	if a := e.do(call{cmdlet: "Get-MessageTraceV2", params: map[string]any{"StartDate": "2020-01-01T00:00:00", "EndDate": "2020-01-02T00:00:00"}}); a.status != 400 {
		t.Errorf("message trace beyond 90 days: %s", a)
	}
	if trace := get("Get-MessageTraceV2", nil); len(trace) != 0 {
		t.Errorf("message trace %v", trace)
	}
}

// TestFolderPermission: Add-MailboxFolderPermission grants a role once; Get shows it.
func TestFolderPermission(t *testing.T) {
	t.Parallel()
	e, _ := mutableEnv(t)
	e.newShared("Team Calendar", nil)
	e.newShared("Planner", nil)
	p := map[string]any{"Identity": `Team Calendar:\Calendar`, "User": "Planner", "AccessRights": []any{"Editor"}}
	if a := e.do(call{cmdlet: "Add-MailboxFolderPermission", params: p}); a.status != 200 {
		t.Fatalf("%s", a)
	}
	if a := e.do(call{cmdlet: "Add-MailboxFolderPermission", params: p}); a.status != 400 || !strings.Contains(a.text(), "An existing permission entry was found for user: Planner.") {
		t.Errorf("twice: %s", a)
	}
	a := e.do(call{cmdlet: "Get-MailboxFolderPermission", params: map[string]any{"Identity": `Team Calendar:\Calendar`}})
	if v := a.values(); len(v) != 3 || v[2]["User"] != "Planner" || strs(v[2]["AccessRights"])[0] != "Editor" {
		t.Errorf("%s", a)
	}
}
