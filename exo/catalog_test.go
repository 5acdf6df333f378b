package exo_test

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestCmdlets(t *testing.T) {
	s, rec := emulatorSession(t)
	rec.take()
	names, err := s.Cmdlets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, "Get-Mailbox") || !slices.Contains(names, "Get-AcceptedDomain") {
		t.Errorf("catalog %v: want Get-Mailbox and Get-AcceptedDomain", names)
	}
	for _, n := range names {
		if strings.Contains(n, "Compliance") || n == "Get-Label" || n == "Get-LabelPolicy" {
			t.Errorf("Exchange catalog lists the Security & Compliance cmdlet %s", n)
		}
	}
	if !slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
		t.Errorf("catalog not sorted: %v", names)
	}
	if reqs := rec.take(); len(reqs) != 0 {
		t.Errorf("the catalog sent InvokeCommand requests: %v", reqs)
	}

	s.Close()
	if _, err := s.Cmdlets(context.Background()); err == nil {
		t.Error("Cmdlets after Close succeeded")
	}
}

// The module file the service generated tells each cmdlet's parameters and switches; it is
// read once per session.
func TestCatalogFromModuleFile(t *testing.T) {
	s, _ := emulatorSession(t)
	ctx := context.Background()
	c, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Catalog(ctx); again != c {
		t.Error("the module file was read twice in one session")
	}
	if p := c.Parameters("get-mailbox"); !slices.Contains(p, "ResultSize") || !slices.Contains(p, "Archive") || !slices.Contains(p, "ErrorAction") {
		t.Errorf("Get-Mailbox parameters %v", p)
	}
	if !c.IsSwitch("Get-Mailbox", "archive") || c.IsSwitch("Get-Mailbox", "Identity") || !c.IsSwitch("Set-Mailbox", "Verbose") {
		t.Error("switches are not the module file's")
	}
	if !slices.Contains(c.Cmdlets(), "Get-EXOMailbox") || !slices.Contains(c.Parameters("Get-EXOMailbox"), "PropertySets") {
		t.Errorf("Get-EXOMailbox: %v", c.Parameters("Get-EXOMailbox"))
	}
	if p := c.Parameters("Get-Nothing"); p != nil {
		t.Errorf("unknown cmdlet parameters %v", p)
	}
}
