package cli

import (
	"strings"
	"testing"
)

// exoctl Get-EXOMailbox runs the module's REST cmdlet over the admin API's entity set.
func TestGetEXOMailboxCommand(t *testing.T) {
	c := connected(t)
	out := c.ok("run", "-o", "json", "Get-EXOMailbox", "-ResultSize", "10", "-PropertySets", "Quota")
	if n := strings.Count(out, `"ProhibitSendQuota"`); n != 10 {
		t.Errorf("%d mailboxes with ProhibitSendQuota, want 10:\n%.500s", n, out)
	}
	if strings.Contains(out, `"Alias"`) {
		t.Errorf("the Quota set has no Alias:\n%.500s", out)
	}
}
