package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exoctl's shell completion (cobra's __complete, what exoctl completion bash calls) offers the
// connection's cmdlets and their parameters from the module file.
func TestCompletionFromModuleFile(t *testing.T) {
	c := connected(t)
	out := c.ok("__complete", "run", "Get-Mailb")
	if !strings.Contains(out, "Get-Mailbox\n") || strings.Contains(out, "Get-AcceptedDomain") {
		t.Errorf("cmdlets:\n%s", out)
	}
	out = c.ok("__complete", "run", "Get-Mailbox", "-ResultS")
	if !strings.Contains(out, "-ResultSize\n") {
		t.Errorf("parameters:\n%s", out)
	}
	// The shorthand (exoctl Get-Mailbox) completes too.
	if out := c.ok("__complete", "Get-Mailb"); !strings.Contains(out, "Get-Mailbox\n") {
		t.Errorf("shorthand cmdlets:\n%s", out)
	}
	out = c.ok("__complete", "run", "Get-EXOMailbox", "-PropertyS")
	if !strings.Contains(out, "-PropertySets\n") {
		t.Errorf("Get-EXO* parameters:\n%s", out)
	}
}

// exoctl run knows the connection's switches from the module file connect kept: -Archive
// admin is -Archive plus the unnamed admin, as in PowerShell.
func TestRunKnowsSwitches(t *testing.T) {
	c := connected(t)
	out, errOut, _ := c.run("", "run", "Get-Mailbox", "-Archive", "admin")
	if !strings.Contains(out, "admin") && !strings.Contains(errOut, "parameter 'Archive' of Get-Mailbox is a real Exchange Online parameter, but the exoctl emulator does not emulate it") {
		t.Errorf("switch then value:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

// Completion answers from the module file connect kept, without reaching the service: it still
// completes with the connection's service unreachable, and only the kept copy made it possible.
func TestCompletionIsOffline(t *testing.T) {
	c := connected(t)
	dirs, err := filepath.Glob(filepath.Join(c.home, "connections", "*", "profile.json"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("connection folders: %v %v", dirs, err)
	}
	profile := dirs[0]
	b, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	p["connection_uri"] = "https://127.0.0.1:1" // nothing listens there
	b, _ = json.Marshal(p)
	if err := os.WriteFile(profile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("__complete", "run", "Get-Mailb"); !strings.Contains(out, "Get-Mailbox\n") {
		t.Errorf("offline completion:\n%s", out)
	}
	if err := os.Remove(filepath.Join(filepath.Dir(profile), catalogFile)); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("__complete", "run", "Get-Mailb"); strings.Contains(out, "Get-Mailbox\n") {
		t.Errorf("completion without the kept module file and without the service still offered:\n%s", out)
	}
}
