package exo_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/exo"
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

func TestKnownParameters(t *testing.T) {
	if p := exo.KnownParameters("get-mailbox"); !slices.Contains(p, "ResultSize") {
		t.Errorf("Get-Mailbox parameters %v", p)
	}
	if p := exo.KnownParameters("Get-Nothing"); p != nil {
		t.Errorf("unknown cmdlet parameters %v", p)
	}
}
