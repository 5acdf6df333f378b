package exchange

import (
	"strings"
	"testing"
)

// TestFilter: -Filter on stored properties (pushed down to SQL), computed ones (evaluated per
// object) and defaults, and the service's error for a property that does not exist.
func TestFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	count := func(cmdlet, filter string) int {
		t.Helper()
		a := e.do(call{cmdlet: cmdlet, params: map[string]any{"Filter": filter, "ResultSize": "Unlimited"}})
		if a.status != 200 {
			t.Fatalf("%s -Filter %q: %s", cmdlet, filter, a)
		}
		return len(a.values())
	}
	for _, tc := range []struct {
		cmdlet, filter string
		want           int
	}{
		{"Get-Mailbox", "RecipientTypeDetails -eq 'SharedMailbox'", 12},
		{"Get-Mailbox", "IsShared -eq $true", 12}, // computed
		{"Get-Mailbox", "{ RecipientTypeDetails -eq 'RoomMailbox' -and ResourceType -eq 'Room' }", 9},
		{"Get-Mailbox", "AuditEnabled -eq $false", 0}, // a default
		{"Get-Mailbox", "PrimarySmtpAddress -like 'admin@*'", 1},
		{"Get-Mailbox", "EmailAddresses -like '*@contoso.onmicrosoft.com' -and -not (RecipientTypeDetails -ne 'EquipmentMailbox')", 4},
		{"Get-Recipient", "RecipientType -eq 'MailContact'", 15},
	} {
		if got := count(tc.cmdlet, tc.filter); got != tc.want {
			t.Errorf("%s -Filter %q: %d, want %d", tc.cmdlet, tc.filter, got, tc.want)
		}
	}
	a := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"Filter": "Nickname -eq 'x'"}})
	if a.status != 400 || !strings.Contains(a.text(), `"Nickname" is not a recognized filterable property`) {
		t.Errorf("unknown property: %s", a)
	}
}
