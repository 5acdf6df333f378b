package exchange

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// mutableEnv is an emulator over a store of its own (seeded with the demo tenant), for tests
// that change mailboxes: the shared fixture stays as the read-only tests expect it.
func mutableEnv(t *testing.T) (*env, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "emulator.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := store.Seed(context.Background(), s, store.SeedOptions{}); err != nil {
		t.Fatal(err)
	}
	return newEnv(t, func(c *Config) { c.Store = s }), path
}

func (a answer) confirmation() string {
	s, _ := a.body["@adminapi.confirmationmessage"].(string)
	return s
}

// text is the third part of details[0].message: what a user sees.
func (a answer) text() string {
	parts := strings.SplitN(a.detail(), "|", 3)
	return parts[len(parts)-1]
}

func (e *env) mailbox(id string) map[string]any {
	e.t.Helper()
	a := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"Identity": id}})
	if a.status == 404 {
		return nil
	}
	if a.status != 200 || len(a.values()) != 1 {
		e.t.Fatalf("Get-Mailbox %s: %s", id, a)
	}
	return a.values()[0]
}

func (e *env) newShared(name string, extra map[string]any) map[string]any {
	e.t.Helper()
	params := map[string]any{"Name": name, "Shared": true}
	for k, v := range extra {
		params[k] = v
	}
	a := e.do(call{cmdlet: "New-Mailbox", params: params})
	if a.status != 200 || len(a.values()) != 1 {
		e.t.Fatalf("New-Mailbox %s: %s", name, a)
	}
	return a.values()[0]
}

func strs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func hashtable(kv ...any) map[string]any {
	m := map[string]any{"@odata.type": "#Exchange.GenericHashTable"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestNewMailbox(t *testing.T) {
	e, _ := mutableEnv(t)
	m := e.newShared("Finance Inbox", map[string]any{"DisplayName": "Finance (shared)"})
	if m["Alias"] != "FinanceInbox" || m["PrimarySmtpAddress"] != "FinanceInbox@contoso.com" || m["RecipientTypeDetails"] != "SharedMailbox" ||
		m["DisplayName"] != "Finance (shared)" || m["IsShared"] != true || m["ProhibitSendReceiveQuota"] != "50 GB (53,687,091,200 bytes)" {
		t.Errorf("new shared mailbox: %v", m)
	}
	if got := strs(m["EmailAddresses"]); !slices.Equal(got, []string{"SMTP:FinanceInbox@contoso.com", "smtp:FinanceInbox@contoso.onmicrosoft.com"}) {
		t.Errorf("addresses %v", got)
	}
	if e.mailbox("FinanceInbox@contoso.com") == nil {
		t.Error("Get-Mailbox doesn't find the new mailbox")
	}
	room := e.do(call{cmdlet: "New-Mailbox", params: map[string]any{"Name": "Board Room", "Room": true, "Alias": "boardroom", "PrimarySmtpAddress": "board.room@contoso.com"}})
	if r := room.values(); room.status != 200 || len(r) != 1 || r[0]["RecipientTypeDetails"] != "RoomMailbox" || r[0]["ResourceType"] != "Room" || r[0]["PrimarySmtpAddress"] != "board.room@contoso.com" {
		t.Errorf("new room: %s", room)
	}

	for _, tc := range []struct {
		name   string
		params map[string]any
		status int
		text   string
	}{
		{"name in use", map[string]any{"Name": "Finance Inbox", "Alias": "fin2", "Shared": true}, 400, `The name "Finance Inbox" is already being used. Please try another name.`},
		{"address in use", map[string]any{"Name": "Other", "PrimarySmtpAddress": "financeinbox@contoso.com", "Shared": true}, 400,
			`The proxy address "SMTP:financeinbox@contoso.com" is already being used by the proxy addresses or LegacyExchangeDN of "EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/Finance Inbox". Please choose another proxy address.`},
		{"alias in use", map[string]any{"Name": "Other", "Alias": "FinanceInbox", "PrimarySmtpAddress": "other@contoso.com", "Shared": true}, 400,
			`The proxy address "smtp:FinanceInbox@contoso.onmicrosoft.com" is already being used`},
		{"domain not accepted", map[string]any{"Name": "Other", "PrimarySmtpAddress": "other@fabrikam.com", "Shared": true}, 400, `isn't an accepted domain`},
		{"bad address", map[string]any{"Name": "Other", "PrimarySmtpAddress": "not an address", "Shared": true}, 400, `The email address "not an address" isn't correct.`},
		{"bad alias", map[string]any{"Name": "Other", "Alias": "a b", "Shared": true}, 400, `Property expression "a b" isn't valid.`},
		{"user mailbox needs an account", map[string]any{"Name": "Other"}, 400, "missing mandatory parameters: MicrosoftOnlineServicesID Password"},
		{"two kinds", map[string]any{"Name": "Other", "Shared": true, "Room": true}, 400, "Parameter set cannot be resolved"},
		{"no name", map[string]any{"Shared": true}, 400, "missing mandatory parameters: Name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do(call{cmdlet: "New-Mailbox", params: tc.params})
			if a.status != tc.status || !strings.Contains(a.text(), tc.text) {
				t.Errorf("%s\nwant %d %q", a, tc.status, tc.text)
			}
		})
	}

	// -WhatIf and -Confirm answer with the message and create nothing.
	for _, p := range []map[string]any{{"WhatIf": true}, {"Confirm": true}} {
		p["Name"], p["Shared"] = "Ghost", true
		a := e.do(call{cmdlet: "New-Mailbox", params: p})
		if a.status != 200 || len(a.values()) != 0 || !strings.HasPrefix(a.confirmation(), `Creating mailbox "Ghost" with User Principal Name "Ghost@contoso.com"`) {
			t.Errorf("New-Mailbox %v: %s", p, a)
		}
		if e.mailbox("Ghost") != nil {
			t.Errorf("New-Mailbox %v created the mailbox", p)
		}
	}
}

func TestSetMailbox(t *testing.T) {
	e, _ := mutableEnv(t)
	e.newShared("Set Target", nil)
	e.newShared("Neighbour", nil)
	set := func(params map[string]any) answer {
		t.Helper()
		params["Identity"] = "SetTarget"
		return e.do(call{cmdlet: "Set-Mailbox", params: params})
	}
	for _, tc := range []struct {
		name   string
		params map[string]any
		check  map[string]any // property -> want (string, bool, or []string)
	}{
		{"display name and hidden", map[string]any{"DisplayName": "Set Target (new)", "HiddenFromAddressListsEnabled": true},
			map[string]any{"DisplayName": "Set Target (new)", "HiddenFromAddressListsEnabled": true}},
		{"quota as PowerShell's number", map[string]any{"ProhibitSendQuota": 52613349376},
			map[string]any{"ProhibitSendQuota": "49 GB (52,613,349,376 bytes)"}},
		{"quota as text", map[string]any{"ProhibitSendQuota": "45 GB", "IssueWarningQuota": "40GB", "ProhibitSendReceiveQuota": "50 GB (53,687,091,200 bytes)"},
			map[string]any{"ProhibitSendQuota": "45 GB (48,318,382,080 bytes)", "IssueWarningQuota": "40 GB (42,949,672,960 bytes)", "ProhibitSendReceiveQuota": "50 GB (53,687,091,200 bytes)"}},
		{"unlimited", map[string]any{"ProhibitSendReceiveQuota": "Unlimited"}, map[string]any{"ProhibitSendReceiveQuota": "Unlimited"}},
		{"limited again", map[string]any{"ProhibitSendReceiveQuota": "50GB"}, map[string]any{"ProhibitSendReceiveQuota": "50 GB (53,687,091,200 bytes)"}},
		{"add an address", map[string]any{"EmailAddresses": hashtable("Add", "smtp:st2@contoso.com")},
			map[string]any{"EmailAddresses": []string{"SMTP:SetTarget@contoso.com", "smtp:SetTarget@contoso.onmicrosoft.com", "smtp:st2@contoso.com"}}},
		{"add a new primary, remove an old one", map[string]any{"EmailAddresses": hashtable("add", []any{"SMTP:target@contoso.com"}, "REMOVE", "smtp:st2@contoso.com")},
			map[string]any{"PrimarySmtpAddress": "target@contoso.com", "WindowsEmailAddress": "target@contoso.com",
				"EmailAddresses": []string{"smtp:SetTarget@contoso.com", "smtp:SetTarget@contoso.onmicrosoft.com", "SMTP:target@contoso.com"}}},
		{"replace the list", map[string]any{"EmailAddresses": []any{"SMTP:SetTarget@contoso.com", "SetTarget@contoso.onmicrosoft.com"}},
			map[string]any{"PrimarySmtpAddress": "SetTarget@contoso.com", "EmailAddresses": []string{"SMTP:SetTarget@contoso.com", "smtp:SetTarget@contoso.onmicrosoft.com"}}},
		{"custom attributes", map[string]any{"CustomAttribute1": "cost centre 42", "CustomAttribute15": "x"},
			map[string]any{"CustomAttribute1": "cost centre 42", "CustomAttribute15": "x", "CustomAttribute2": ""}},
		{"clear a custom attribute", map[string]any{"CustomAttribute15": nil}, map[string]any{"CustomAttribute15": ""}},
		{"forwarding", map[string]any{"ForwardingSmtpAddress": "ext@fabrikam.com", "DeliverToMailboxAndForward": true},
			map[string]any{"ForwardingSmtpAddress": "smtp:ext@fabrikam.com", "DeliverToMailboxAndForward": true}},
		{"forwarding cleared", map[string]any{"ForwardingSmtpAddress": nil}, map[string]any{"ForwardingSmtpAddress": nil}},
		{"convert to regular", map[string]any{"Type": "regular"}, map[string]any{"RecipientTypeDetails": "UserMailbox", "IsShared": false}},
		{"convert to equipment", map[string]any{"Type": "Equipment"}, map[string]any{"RecipientTypeDetails": "EquipmentMailbox", "ResourceType": "Equipment", "IsResource": true}},
		{"convert back to shared", map[string]any{"Type": "Shared"}, map[string]any{"RecipientTypeDetails": "SharedMailbox", "IsShared": true, "ResourceType": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := set(tc.params)
			if a.status != 200 || len(a.values()) != 0 || a.confirmation() != "" {
				t.Fatalf("Set-Mailbox: %s", a)
			}
			m := e.mailbox("SetTarget@contoso.onmicrosoft.com")
			for k, want := range tc.check {
				got := m[k]
				if w, ok := want.([]string); ok {
					if !slices.Equal(strs(got), w) {
						t.Errorf("%s = %v, want %v", k, got, w)
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
		})
	}

	// Nothing to change: success with the service's warning.
	if a := set(map[string]any{"DisplayName": "Set Target (new)"}); a.status != 200 || len(a.warnings()) != 1 ||
		a.warnings()[0] != "The command completed successfully but no settings of 'Set Target' have been modified." {
		t.Errorf("no-op Set-Mailbox: %s", a)
	}

	for _, tc := range []struct {
		name   string
		params map[string]any
		status int
		text   string
	}{
		{"address of another mailbox", map[string]any{"EmailAddresses": hashtable("Add", "smtp:neighbour@contoso.com")}, 400,
			`The proxy address "smtp:neighbour@contoso.com" is already being used by the proxy addresses or LegacyExchangeDN of "EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/Neighbour". Please choose another proxy address.`},
		{"two primaries", map[string]any{"EmailAddresses": []any{"SMTP:a1@contoso.com", "SMTP:a2@contoso.com"}}, 400,
			"There are multiple primary SMTP addresses. Please ensure there is only one primary address for each address type."},
		{"remove the primary", map[string]any{"EmailAddresses": hashtable("Remove", "SetTarget@contoso.com")}, 400, "can't be removed"},
		{"invalid address", map[string]any{"EmailAddresses": hashtable("Add", "smtp:no at sign")}, 400, `"no at sign" isn't a valid SMTP address`},
		{"domain not accepted", map[string]any{"EmailAddresses": hashtable("Add", "x@fabrikam.com")}, 400, "isn't an accepted domain"},
		{"untagged hashtable", map[string]any{"EmailAddresses": map[string]any{"Add": "x@contoso.com"}}, 400, "Cannot convert value"},
		{"bad hashtable key", map[string]any{"EmailAddresses": hashtable("Append", "x@contoso.com")}, 400, "Append"},
		{"bad quota", map[string]any{"ProhibitSendQuota": "49 XB"}, 400, "Cannot process argument transformation on parameter 'ProhibitSendQuota'"},
		{"send above send-receive", map[string]any{"ProhibitSendQuota": "60GB"}, 400,
			"The value of property 'ProhibitSendQuota' must be less than or equal to that of property 'ProhibitSendReceiveQuota'. ProhibitSendQuota: '60 GB (64,424,509,440 bytes)', ProhibitSendReceiveQuota: '50 GB (53,687,091,200 bytes)'."},
		{"bad type", map[string]any{"Type": "Mansion"}, 400, "ConvertibleMailboxSubType"},
		{"bad forwarding", map[string]any{"ForwardingSmtpAddress": "nowhere"}, 400, `The email address "nowhere" isn't correct.`},
		{"custom attribute too long", map[string]any{"CustomAttribute3": strings.Repeat("x", 1025)}, 400, "The maximum length is 1024 and the length of the value provided is 1025."},
		{"unknown parameter", map[string]any{"Nickname": "x"}, 400, "Nickname"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := set(tc.params)
			if a.status != tc.status || !strings.Contains(a.text(), tc.text) {
				t.Errorf("%s\nwant %d %q", a, tc.status, tc.text)
			}
		})
	}
	if got := strs(e.mailbox("SetTarget")["EmailAddresses"]); !slices.Equal(got, []string{"SMTP:SetTarget@contoso.com", "smtp:SetTarget@contoso.onmicrosoft.com"}) {
		t.Errorf("failed calls changed the addresses: %v", got)
	}

	// -Confirm and -WhatIf: the message, no change.
	for _, p := range []map[string]any{{"WhatIf": true}, {"Confirm": true}} {
		p["DisplayName"] = "Changed?"
		a := set(p)
		if a.status != 200 || a.confirmation() != `Setting mailbox "Set Target".` || len(a.values()) != 0 {
			t.Errorf("Set-Mailbox %v: %s", p, a)
		}
		if got := e.mailbox("SetTarget")["DisplayName"]; got != "Set Target (new)" {
			t.Errorf("Set-Mailbox %v changed DisplayName to %v", p, got)
		}
	}
	// Validation runs before the confirmation: a bad call fails even with -WhatIf.
	if a := set(map[string]any{"WhatIf": true, "ProhibitSendQuota": "60GB"}); a.status != 400 {
		t.Errorf("invalid -WhatIf: %s", a)
	}

	// Unknown identity; a recipient that isn't a mailbox.
	a := e.do(call{cmdlet: "Set-Mailbox", params: map[string]any{"Identity": "nobody-here", "DisplayName": "x"}})
	if a.status != 404 || !strings.Contains(a.text(), "The operation couldn't be performed because object 'nobody-here' couldn't be found") {
		t.Errorf("unknown identity: %s", a)
	}
}

func TestRemoveMailbox(t *testing.T) {
	e, _ := mutableEnv(t)
	e.newShared("Doomed", nil)
	want := `Removing mailbox "Doomed" will remove the Windows Live ID "Doomed@contoso.com" and mark the mailbox and the associated Windows Live ID for deletion.`
	for _, p := range []map[string]any{{}, {"Confirm": true}, {"WhatIf": true}, {"WhatIf": true, "Confirm": false}} {
		p["Identity"] = "Doomed"
		a := e.do(call{cmdlet: "Remove-Mailbox", params: p})
		if a.status != 200 || a.confirmation() != want || len(a.values()) != 0 {
			t.Errorf("Remove-Mailbox %v: %s", p, a)
		}
		if e.mailbox("Doomed") == nil {
			t.Fatalf("Remove-Mailbox %v removed the mailbox", p)
		}
	}
	a := e.do(call{cmdlet: "Remove-Mailbox", params: map[string]any{"Identity": "doomed@contoso.com", "Confirm": false}})
	if a.status != 200 || a.confirmation() != "" || len(a.values()) != 0 {
		t.Fatalf("Remove-Mailbox -Confirm:$false: %s", a)
	}
	if e.mailbox("Doomed") != nil {
		t.Error("the mailbox is still there")
	}
	// Its addresses are free again.
	e.newShared("Doomed", nil)

	a = e.do(call{cmdlet: "Remove-Mailbox", params: map[string]any{"Identity": "nobody-here", "Confirm": false}})
	if a.status != 404 || !strings.Contains(a.text(), "'nobody-here' couldn't be found") {
		t.Errorf("unknown identity: %s", a)
	}
	a = e.do(call{cmdlet: "Remove-Mailbox", params: map[string]any{"Confirm": false}})
	if a.status != 400 || !strings.Contains(a.text(), "missing mandatory parameters: Identity") {
		t.Errorf("no identity: %s", a)
	}
}

func TestMailboxChangesPersist(t *testing.T) {
	e, path := mutableEnv(t)
	e.newShared("Keeper", nil)
	e.newShared("Goner", nil)
	if a := e.do(call{cmdlet: "Set-Mailbox", params: map[string]any{"Identity": "Keeper", "ProhibitSendQuota": "10GB",
		"EmailAddresses": hashtable("Add", "keeper2@contoso.com"), "CustomAttribute7": "kept"}}); a.status != 200 {
		t.Fatalf("Set-Mailbox: %s", a)
	}
	if a := e.do(call{cmdlet: "Remove-Mailbox", params: map[string]any{"Identity": "Goner", "Confirm": false}}); a.status != 200 {
		t.Fatalf("Remove-Mailbox: %s", a)
	}
	// A second store over the same file, as after an emulator restart.
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e2 := newEnv(t, func(c *Config) { c.Store = s })
	m := e2.mailbox("keeper2@contoso.com")
	if m == nil || m["ProhibitSendQuota"] != "10 GB (10,737,418,240 bytes)" || m["CustomAttribute7"] != "kept" {
		t.Errorf("after reopen: %v", m)
	}
	if e2.mailbox("Goner") != nil {
		t.Error("removed mailbox is back after reopen")
	}
}

func TestParseByteQuantifiedSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"49GB", 49 << 30, true}, {"49 GB", 49 << 30, true}, {"49 gb", 49 << 30, true}, {"1.5 TB", 3 << 39, true},
		{"52613349376", 52613349376, true}, {"49 GB (52,613,349,376 bytes)", 49 << 30, true}, {"Unlimited", -1, true},
		{"100MB", 100 << 20, true}, {"512 KB", 512 << 10, true}, {"10 B", 10, true},
		{"", 0, false}, {"GB", 0, false}, {"49 XB", 0, false}, {"-5GB", 0, false}, {"1e400", 0, false},
	} {
		got, ok := parseByteQuantifiedSize(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseByteQuantifiedSize(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
