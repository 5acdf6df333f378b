package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/exo"
)

func TestFormats(t *testing.T) {
	for _, f := range append(Formats(), "", "JSON", "Table") {
		if _, err := New(io.Discard, Options{Format: f}); err != nil {
			t.Errorf("New(%q): %v", f, err)
		}
	}
	_, err := New(io.Discard, Options{Format: "xml"})
	if err == nil {
		t.Fatal("New(xml) succeeded")
	}
	for _, f := range Formats() {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not list %q", err, f)
		}
	}
}

func TestTypeNameFor(t *testing.T) {
	tests := map[string]string{
		"Get-AcceptedDomain":          "AcceptedDomain",
		"get-acceptedDomain":          "AcceptedDomain",
		"Get-Mailbox":                 "Mailbox",
		"Get-OrganizationConfig":      "OrganizationConfig",
		"Get-ConnectionInformation":   "ConnectionInformation",
		"Get-MailboxFolderStatistics": "MailboxFolderStatistics",
		"Get-Recipient":               "Recipient",
		"Environment":                 "Environment",
		" Get-Mailbox ":               "Mailbox",
	}
	for cmdlet, want := range tests {
		if got := TypeNameFor(cmdlet); got != want {
			t.Errorf("TypeNameFor(%q) = %q, want %q", cmdlet, got, want)
		}
	}
}

// recordingWriter remembers what reached the output, to prove streaming.
type recordingWriter struct{ bytes.Buffer }

func TestTableStreamsPages(t *testing.T) {
	var out recordingWriter
	w, err := New(&out, Options{TypeName: "Mailbox"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range loadPage(t, "mailbox-page1.json") {
		w.Write(r)
	}
	if out.Len() != 0 {
		t.Fatalf("table printed before the end of the first page:\n%s", out.String())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "megan.bowen") {
		t.Fatalf("first page not printed at Flush:\n%s", out.String())
	}
	before := out.Len()
	for _, r := range loadPage(t, "mailbox-page2.json") {
		w.Write(r)
	}
	w.Flush()
	if !strings.Contains(out.String()[before:], "lee.gu") {
		t.Fatalf("second page not printed at Flush:\n%s", out.String())
	}
	if strings.Count(out.String(), "Name ") != 1 {
		t.Errorf("header printed more than once:\n%s", out.String())
	}
	w.Close()
}

func TestNDJSONFlushesEachPage(t *testing.T) {
	var out recordingWriter
	w, _ := New(&out, Options{Format: NDJSON})
	recs := loadPage(t, "mailbox-page1.json")
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if out.Len() != 0 {
		t.Fatalf("a small page reached the output before its Flush: %d bytes", out.Len())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != len(recs) {
		t.Fatalf("after the page's Flush the output holds %d lines, want %d", n, len(recs))
	}
	w.Close()
}

func TestJSONRoundTrip(t *testing.T) {
	for _, page := range []string{"mailbox-page1.json", "mailbox-unicode.json", "organizationconfig.json", "policy.json"} {
		recs := loadPage(t, page)
		var want []string
		for _, r := range recs {
			b, err := r.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, compact(t, b))
		}

		var got []*exo.Record
		out := render(t, Options{Format: JSON}, recs)
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: json output does not parse: %v", page, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d", page, len(got), len(want))
		}
		for i, r := range got {
			b, _ := r.MarshalJSON()
			if c := compact(t, b); c != want[i] {
				t.Errorf("%s record %d:\n got %s\nwant %s", page, i, c, want[i])
			}
		}

		lines := strings.Split(strings.TrimSuffix(render(t, Options{Format: NDJSON}, recs), "\n"), "\n")
		for i, line := range lines {
			if c := compact(t, []byte(line)); c != want[i] {
				t.Errorf("%s ndjson line %d:\n got %s\nwant %s", page, i, c, want[i])
			}
		}
	}
}

// compact normalises JSON (encoding/json escapes HTML characters, we do not).
func compact(t *testing.T, b []byte) string {
	t.Helper()
	var r exo.Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	out, _ := json.Marshal(&r)
	return string(out)
}

func TestJSONNotHTMLEscaped(t *testing.T) {
	r := record(t, `{"Name":"R&D <lab>","Note":"a\u2028b\u0001"}`)
	got := render(t, Options{Format: NDJSON}, []*exo.Record{r})
	want := `{"Name":"R&D <lab>","Note":"a\u2028b\u0001"}` + "\n"
	if got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func record(t testing.TB, s string) *exo.Record {
	t.Helper()
	var r exo.Record
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestTableFitsWidth(t *testing.T) {
	pages := [][]*exo.Record{loadPage(t, "mailbox-page1.json"), loadPage(t, "mailbox-page2.json"), loadPage(t, "mailbox-unicode.json")}
	for width := 5; width <= 200; width++ {
		for _, typ := range []string{"Mailbox", "OrganizationConfig"} {
			out := render(t, Options{Format: Table, TypeName: typ, Width: width}, pages...)
			for _, line := range strings.Split(out, "\n") {
				if displayWidth(line) > width {
					t.Fatalf("%s width %d: line is %d cells: %q", typ, width, displayWidth(line), line)
				}
			}
		}
	}
}

func TestWarnWhenColumnsDoNotFit(t *testing.T) {
	var warnings []string
	opts := Options{TypeName: "Mailbox", Width: 40, Warn: func(m string) { warnings = append(warnings, m) }}
	out := render(t, opts, loadPage(t, "mailbox-page1.json"))
	want := "1 columns do not fit into the display and were removed."
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings %q, want [%q]", warnings, want)
	}
	if strings.Contains(out, "ExternalDirectoryObjectId") {
		t.Errorf("hidden column printed:\n%s", out)
	}
	warnings = nil
	render(t, Options{TypeName: "Mailbox", Width: 200, Warn: opts.Warn}, loadPage(t, "mailbox-page1.json"))
	if len(warnings) != 0 {
		t.Errorf("unexpected warnings %q", warnings)
	}
}

func TestControlCharactersNeverReachTheTerminal(t *testing.T) {
	r := record(t, `{"Name":"evil\u001b]0;pwned\u0007\u009b2J","Alias":"tab\there","Bad":"a\u0000b"}`)
	for _, f := range []string{Table, List} {
		out := render(t, Options{Format: f}, []*exo.Record{r})
		for _, c := range out {
			if c != '\n' && isControl(c) {
				t.Errorf("%s output holds control character %U:\n%q", f, c, out)
			}
		}
	}
}

func TestClosed(t *testing.T) {
	for _, f := range append(Formats(), "") {
		w, _ := New(io.Discard, Options{Format: f})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(&exo.Record{}); !errors.Is(err, ErrClosed) {
			t.Errorf("%q: Write after Close: %v", f, err)
		}
		if err := w.Flush(); !errors.Is(err, ErrClosed) {
			t.Errorf("%q: Flush after Close: %v", f, err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("%q: second Close: %v", f, err)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsSurface(t *testing.T) {
	recs := loadPage(t, "mailbox-page1.json")
	for _, f := range append(Formats(), "") {
		w, _ := New(failingWriter{}, Options{Format: f, TypeName: "Mailbox"})
		var err error
		for _, r := range recs {
			if err == nil {
				err = w.Write(r)
			}
		}
		if err == nil {
			err = w.Flush()
		}
		if err == nil {
			err = w.Close()
		}
		if err == nil {
			t.Errorf("%q: a failing output went unreported", f)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "Name", true},
		{"*quota", "ProhibitSendQuota", true},
		{"Prohibit*Quota", "ProhibitSendReceiveQuota", true},
		{"?ame", "Name", true},
		{"?ame", "Names", false},
		{"When*UTC", "WhenCreated", false},
		{"*a*b*", "xaxxbx", true},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.name); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tt.pattern, tt.name, got)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s     string
		width int
		tail  string
		head  string
	}{
		{"abcdef", 4, "abc…", "…def"},
		{"abcdef", 6, "abcdef", "abcdef"},
		{"abcdef", 1, "a", "f"},
		{"山田太郎", 5, "山田…", "…太郎"},
		{"山田太郎", 4, "山…", "…郎"},
	}
	for _, tt := range tests {
		if got := truncateTail(tt.s, tt.width); got != tt.tail {
			t.Errorf("truncateTail(%q, %d) = %q, want %q", tt.s, tt.width, got, tt.tail)
		}
		if got := truncateHead(tt.s, tt.width); got != tt.head {
			t.Errorf("truncateHead(%q, %d) = %q, want %q", tt.s, tt.width, got, tt.head)
		}
	}
}

func FuzzTruncate(f *testing.F) {
	for _, s := range []string{"abc", "山田 太郎", "Zoe\u0308", "📧 x", ""} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, width int) {
		if width < 1 || width > 1000 {
			return
		}
		s = cleanCell(s)
		for _, got := range []string{truncateTail(s, width), truncateHead(s, width)} {
			if displayWidth(got) > width {
				t.Fatalf("truncate(%q, %d) = %q is %d cells", s, width, got, displayWidth(got))
			}
			if displayWidth(s) <= width && got != s {
				t.Fatalf("truncate(%q, %d) changed a string that fits: %q", s, width, got)
			}
		}
	})
}

func TestIsJSONNumber(t *testing.T) {
	for _, s := range []string{"0", "-1", "25", "1.5", "1e9", "-0.25E-3", "106300440576"} {
		if !isJSONNumber(s) {
			t.Errorf("isJSONNumber(%q) = false", s)
		}
	}
	for _, s := range []string{"", "-", "01", "1.", ".5", "1e", "NaN", "1,000", "0x10"} {
		if isJSONNumber(s) {
			t.Errorf("isJSONNumber(%q) = true", s)
		}
	}
}

// mailboxes returns n Get-Mailbox records shaped like the service's.
func mailboxes(tb testing.TB, n int) []*exo.Record {
	tb.Helper()
	tmpl := loadPage(tb, "mailbox-page1.json")[0]
	b, _ := tmpl.MarshalJSON()
	out := make([]*exo.Record, n)
	for i := range out {
		s := strings.ReplaceAll(string(b), "alex.wilber", fmt.Sprintf("user%05d", i))
		s = strings.ReplaceAll(s, "AlexW", fmt.Sprintf("User%05d", i))
		out[i] = record(tb, s)
	}
	return out
}

func benchmark(b *testing.B, opts Options, pageSize int) {
	recs := mailboxes(b, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w, err := New(io.Discard, opts)
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range recs {
			if err := w.Write(r); err != nil {
				b.Fatal(err)
			}
			if (i+1)%pageSize == 0 {
				w.Flush()
			}
		}
		w.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

func BenchmarkTable1000(b *testing.B) { benchmark(b, Options{TypeName: "Mailbox"}, 1000) }
func BenchmarkTable1000Pages100(b *testing.B) {
	benchmark(b, Options{TypeName: "Mailbox", Width: 120}, 100)
}
func BenchmarkList1000(b *testing.B)   { benchmark(b, Options{Format: List}, 1000) }
func BenchmarkJSON1000(b *testing.B)   { benchmark(b, Options{Format: JSON}, 1000) }
func BenchmarkNDJSON1000(b *testing.B) { benchmark(b, Options{Format: NDJSON}, 1000) }
func BenchmarkCSV1000(b *testing.B)    { benchmark(b, Options{Format: CSV}, 1000) }
