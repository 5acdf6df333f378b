package exo_test

import (
	"slices"
	"testing"

	"github.com/exoctl/exoctl/exo"
)

func records(pages []*exo.Page) []*exo.Record {
	var out []*exo.Record
	for _, p := range pages {
		out = append(out, p.Records...)
	}
	return out
}

func fieldNames(r *exo.Record) []string {
	var out []string
	for _, f := range r.Fields {
		out = append(out, f.Name)
	}
	return out
}

// Get-EXO* run over the admin API's entity sets as the module runs them: property sets as
// $select, ResultSize over @odata.nextLink, one entity by identity.
func TestGetEXOMailbox(t *testing.T) {
	s, rec := emulatorSession(t)
	pages, err := run(s, "Get-EXOMailbox", exo.Params{"ResultSize": 10, "PropertySets": "Quota"})
	if err != nil {
		t.Fatal(err)
	}
	rs := records(pages)
	if len(rs) != 10 {
		t.Fatalf("%d records, want 10", len(rs))
	}
	for _, n := range fieldNames(rs[0]) {
		if n != "ExternalDirectoryObjectId" && !slices.Contains([]string{"ArchiveQuota", "ArchiveWarningQuota", "CalendarLoggingQuota",
			"IssueWarningQuota", "ProhibitSendQuota", "ProhibitSendReceiveQuota", "RecoverableItemsQuota", "RecoverableItemsWarningQuota",
			"RulesQuota", "UseDatabaseQuotaDefaults"}, n) {
			t.Errorf("property %s is not in the Quota set", n)
		}
	}
	if v, _ := rs[0].Get("ProhibitSendQuota"); v == nil {
		t.Errorf("no ProhibitSendQuota: %v", fieldNames(rs[0]))
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("Get-EXOMailbox went to InvokeCommand: %v", got)
	}

	pages, err = run(s, "Get-EXOMailbox", exo.Params{"ResultSize": "Unlimited"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(records(pages)); n < 250 {
		t.Errorf("Unlimited: %d mailboxes", n)
	}
	// Default: Minimum.
	if f := fieldNames(records(pages)[0]); !slices.Contains(f, "PrimarySmtpAddress") || slices.Contains(f, "ProhibitSendQuota") {
		t.Errorf("Minimum set: %v", f)
	}

	pages, err = run(s, "get-exomailbox", exo.Params{"Identity": "admin@contoso.onmicrosoft.com", "Properties": "MaxSendSize"})
	if err != nil {
		t.Fatal(err)
	}
	one := records(pages)
	if len(one) != 1 || one[0].String("Alias") != "admin" || one[0].String("MaxSendSize") == "" {
		t.Fatalf("one mailbox: %+v", one)
	}

	pages, err = run(s, "Get-EXORecipient", exo.Params{"ResultSize": 5, "PropertySets": []string{"Minimum", "Custom"}})
	if err != nil {
		t.Fatal(err)
	}
	if rs := records(pages); len(rs) != 5 || !slices.Contains(fieldNames(rs[0]), "CustomAttribute1") {
		t.Errorf("Get-EXORecipient: %d records", len(rs))
	}

	if _, err := run(s, "Get-EXOMailbox", exo.Params{"PropertySets": "NoSuchSet"}); err == nil {
		t.Error("an unknown property set was accepted")
	}
	if _, err := run(s, "Get-EXOMailbox", exo.Params{"Identity": "nobody-at-all"}); err == nil {
		t.Error("a missing mailbox was found")
	}
}
