package format

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/exo"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// loadPage reads an InvokeCommand answer (PROTOCOL.md §2, annotations and all) and returns its
// records.
func loadPage(t testing.TB, name string) []*exo.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pages", name))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Value []*exo.Record `json:"value"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return page.Value
}

// render writes pages of records through a Writer, flushing after each page as the CLI does.
func render(t testing.TB, opts Options, pages ...[]*exo.Record) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range pages {
		for _, r := range page {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./format -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test ./format -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		pages []string // files under testdata/pages, one page each
	}{
		// Default views.
		{"accepteddomain-default", Options{TypeName: "AcceptedDomain"}, []string{"accepteddomain.json"}},
		{"accepteddomain-one-record", Options{TypeName: TypeNameFor("Get-AcceptedDomain")}, []string{"accepteddomain-one.json"}},
		{"mailbox-two-pages", Options{TypeName: "Mailbox"}, []string{"mailbox-page1.json", "mailbox-page2.json"}},
		{"mailbox-width-80", Options{TypeName: "Mailbox", Width: 80}, []string{"mailbox-page1.json", "mailbox-page2.json"}},
		{"mailbox-width-120", Options{TypeName: "Mailbox", Width: 120}, []string{"mailbox-page1.json", "mailbox-page2.json"}},
		{"mailbox-unicode", Options{TypeName: "Mailbox"}, []string{"mailbox-unicode.json"}},
		{"mailbox-unicode-width-60", Options{TypeName: "Mailbox", Width: 60}, []string{"mailbox-unicode.json"}},
		{"recipient-default", Options{TypeName: "Recipient"}, []string{"mailbox-page1.json"}},
		{"mailboxstatistics-numbers", Options{TypeName: "MailboxStatistics"}, []string{"mailboxstatistics.json"}},
		{"organizationconfig-default", Options{TypeName: "OrganizationConfig"}, []string{"organizationconfig.json"}},
		{"organizationconfig-list-width-80", Options{TypeName: "OrganizationConfig", Width: 80}, []string{"organizationconfig.json"}},
		{"environment-default", Options{TypeName: "Environment"}, []string{"environment.json"}},
		{"unknown-few-properties-table", Options{TypeName: "HostedContentFilterPolicy"}, []string{"policy.json"}},
		{"unknown-many-properties-list", Options{TypeName: "Nonesuch"}, []string{"mailboxstatistics.json"}},
		{"empty-default", Options{TypeName: "Mailbox"}, []string{"empty.json"}},
		{"empty-list", Options{Format: List}, []string{"empty.json"}},

		// Explicit properties and formats.
		{"mailbox-properties", Options{TypeName: "Mailbox", Properties: []string{"displayname", "PrimarySmtpAddress", "EmailAddresses", "IsMailboxEnabled"}}, []string{"mailbox-page1.json", "mailbox-page2.json"}},
		{"mailbox-properties-wildcard", Options{TypeName: "Mailbox", Properties: []string{"Name", "*Quota"}}, []string{"mailbox-page1.json"}},
		{"mailbox-last-column-runs-on", Options{TypeName: "Mailbox", Properties: []string{"Alias", "DisplayName"}}, []string{"mailbox-one.json", "mailbox-page1.json", "mailbox-page2.json"}},
		{"mailbox-table-explicit", Options{Format: Table, TypeName: "Mailbox"}, []string{"mailbox-page1.json"}},
		{"mailbox-list", Options{Format: List, TypeName: "Mailbox", Properties: []string{"Name", "Alias", "EmailAddresses", "ArchiveName", "ExternalDirectoryObjectId"}}, []string{"mailbox-page1.json"}},
		{"organizationconfig-table-explicit", Options{Format: Table, TypeName: "OrganizationConfig", Width: 100}, []string{"organizationconfig.json"}},
		{"mailbox-json", Options{Format: JSON}, []string{"mailbox-page1.json", "mailbox-page2.json"}},
		{"organizationconfig-json", Options{Format: JSON}, []string{"organizationconfig.json"}},
		{"mailbox-json-properties", Options{Format: JSON, Properties: []string{"Name", "EmailAddresses", "NoSuchProperty"}}, []string{"mailbox-page1.json"}},
		{"empty-json", Options{Format: JSON}, []string{"empty.json"}},
		{"mailbox-ndjson", Options{Format: NDJSON}, []string{"mailbox-page1.json", "mailbox-unicode.json"}},
		{"organizationconfig-ndjson", Options{Format: NDJSON}, []string{"organizationconfig.json"}},
		{"empty-ndjson", Options{Format: NDJSON}, []string{"empty.json"}},
		{"mailbox-csv", Options{Format: CSV}, []string{"mailbox-page1.json", "mailbox-page2.json"}},
		{"policy-csv", Options{Format: CSV}, []string{"policy.json"}},
		{"mailbox-csv-properties", Options{Format: CSV, Properties: []string{"name", "EmailAddresses", "ArchiveName", "ExternalDirectoryObjectId"}}, []string{"mailbox-page1.json"}},
		{"empty-csv", Options{Format: CSV}, []string{"empty.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pages [][]*exo.Record
			for _, p := range tt.pages {
				pages = append(pages, loadPage(t, p))
			}
			got := render(t, tt.opts, pages...)
			if strings.Contains(got, "@odata") || strings.Contains(got, "@data.type") {
				t.Errorf("an annotation reached the output:\n%s", got)
			}
			golden(t, tt.name, got)
		})
	}
}
