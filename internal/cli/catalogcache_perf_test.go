package cli

import (
	"strings"
	"testing"
)

// TestMayTakeValue: the module file is read only when a -Name is followed by a word that may
// be its value or, for a switch, an unnamed argument.
func TestMayTakeValue(t *testing.T) {
	for args, want := range map[string]bool{
		"Get-AcceptedDomain":                      false,
		"Get-Mailbox -Archive":                    false,
		"Get-Mailbox -Archive -Verbose":           false,
		"Get-Mailbox -Identity:alice -Archive":    false,
		"Get-Mailbox alice":                       false,
		"Get-Mailbox -Archive alice":              true,
		"Get-Mailbox -ResultSize Unlimited":       true,
		"Set-Mailbox -Archive -RetainFor -5":      true,
		"Get-Mailbox -Archive -ResultSize 10 bob": true,
	} {
		if got := mayTakeValue(strings.Fields(args)); got != want {
			t.Errorf("mayTakeValue(%q) = %v, want %v", args, got, want)
		}
	}
}
