package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exoctl/exoctl/internal/bulk"
)

type bulkLine struct {
	Row     int              `json:"row"`
	Status  string           `json:"status"`
	Error   string           `json:"error"`
	Records []map[string]any `json:"records"`
}

func parseBulkOut(t *testing.T, out string) []bulkLine {
	t.Helper()
	var res []bulkLine
	for l := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var b bulkLine
		if err := json.Unmarshal([]byte(l), &b); err != nil {
			t.Fatalf("bad ndjson line %q: %v", l, err)
		}
		res = append(res, b)
	}
	return res
}

func writeCSV(t *testing.T, rows [][]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.csv")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(fh)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func mailboxAliases(t *testing.T, c *cli, n string) []string {
	t.Helper()
	var mbx []map[string]any
	if err := json.Unmarshal([]byte(c.ok("run", "-o", "json", "Get-Mailbox", "-ResultSize", n)), &mbx); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range mbx {
		a, _ := m["Alias"].(string)
		if a == "" {
			t.Fatalf("mailbox without Alias: %v", m)
		}
		out = append(out, a)
	}
	return out
}

func TestBulkGetMailbox(t *testing.T) {
	c := connected(t)
	aliases := mailboxAliases(t, c, "5")
	rows := [][]string{{"Alias", "Note"}}
	for _, a := range aliases {
		rows = append(rows, []string{a, "x"})
	}
	path := writeCSV(t, rows)

	out, errOut, code := c.run("", "bulk", "--csv", path, "--", "Get-Mailbox -Identity {Alias}")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	res := parseBulkOut(t, out)
	if len(res) != 5 {
		t.Fatalf("%d result lines:\n%s", len(res), out)
	}
	for i, r := range res {
		if r.Row != i+1 || r.Status != "ok" || len(r.Records) != 1 || r.Records[0]["Alias"] != aliases[i] {
			t.Errorf("row %d: %+v", i+1, r)
		}
	}
	if !strings.Contains(errOut, "5 rows: 5 ok, 0 failed, 0 skipped; journal: "+path+".exoctl-journal") {
		t.Errorf("summary: %s", errOut)
	}
	st, err := os.Stat(path + ".exoctl-journal")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v", st.Mode().Perm())
	}

	// Again: everything is done.
	out, errOut, code = c.run("", "bulk", "--csv", path, "--", "Get-Mailbox -Identity {Alias}")
	if code != 0 || !strings.Contains(errOut, "5 rows: 0 ok, 0 failed, 5 skipped") {
		t.Errorf("rerun: exit %d: %s", code, errOut)
	}
	for _, r := range parseBulkOut(t, out) {
		if r.Status != "skipped" {
			t.Errorf("rerun: %+v", r)
		}
	}

	// Same results from argv form and --parallel 4, in row order.
	out, errOut, code = c.run("", "bulk", "--csv", path, "--journal", filepath.Join(t.TempDir(), "j"), "--parallel", "4", "--", "Get-Mailbox", "{Alias}")
	if code != 0 {
		t.Fatalf("parallel: exit %d: %s", code, errOut)
	}
	res = parseBulkOut(t, out)
	if len(res) != 5 {
		t.Fatalf("parallel: %d lines", len(res))
	}
	for i, r := range res {
		if r.Row != i+1 || r.Status != "ok" || len(r.Records) != 1 || r.Records[0]["Alias"] != aliases[i] {
			t.Errorf("parallel row %d: %+v", i+1, r)
		}
	}
}

func TestBulkFailedRowAndResume(t *testing.T) {
	c := connected(t)
	aliases := mailboxAliases(t, c, "4")
	rows := [][]string{{"Alias"}, {aliases[0]}, {aliases[1]}, {"no-such-mailbox-bulk"}, {aliases[2]}, {aliases[3]}}
	path := writeCSV(t, rows)
	journal := filepath.Join(t.TempDir(), "run.journal")
	args := []string{"bulk", "--csv", path, "--journal", journal, "--", "Get-Mailbox -Identity {Alias}"}

	out, errOut, code := c.run("", args...)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	res := parseBulkOut(t, out)
	if len(res) != 5 {
		t.Fatalf("%d lines:\n%s", len(res), out)
	}
	for _, r := range res {
		want := "ok"
		if r.Row == 3 {
			want = "error"
		}
		if r.Status != want {
			t.Errorf("row %d: %+v", r.Row, r)
		}
	}
	if !strings.Contains(res[2].Error, "no-such-mailbox-bulk") {
		t.Errorf("row 3 error: %q", res[2].Error)
	}
	if !strings.Contains(errOut, "5 rows: 4 ok, 1 failed, 0 skipped") || !strings.Contains(errOut, "--retry-failed") {
		t.Errorf("summary: %s", errOut)
	}

	// Rerun without --retry-failed: nothing runs, the failure is still reported.
	out, errOut, code = c.run("", args...)
	if !strings.Contains(errOut, "5 rows: 0 ok, 0 failed, 5 skipped") || !strings.Contains(errOut, "1 rows failed in an earlier run") {
		t.Errorf("rerun: exit %d: %s", code, errOut)
	}
	_ = out

	// Fix the row, rerun with --retry-failed: only row 3 runs.
	rows[3] = []string{aliases[0]}
	path2 := writeCSV(t, rows)
	if err := os.Rename(path2, path); err != nil {
		t.Fatal(err)
	}
	args = append(args[:5:5], "--retry-failed", "--", "Get-Mailbox -Identity {Alias}")
	out, errOut, code = c.run("", args...)
	if code != 0 {
		t.Fatalf("retry: exit %d: %s", code, errOut)
	}
	res = parseBulkOut(t, out)
	for _, r := range res {
		want := "skipped"
		if r.Row == 3 {
			want = "ok"
		}
		if r.Status != want {
			t.Errorf("retry row %d: %+v", r.Row, r)
		}
	}
	if !strings.Contains(errOut, "5 rows: 1 ok, 0 failed, 4 skipped") {
		t.Errorf("retry summary: %s", errOut)
	}
}

func TestBulkValuesAreLiteral(t *testing.T) {
	c := connected(t)
	weird := []string{
		`o'brien "quoted", $env:HOME; Remove-Mailbox x`,
		`a,b,c`,
		`$(Get-Date)`,
		`@{x=1}`,
		`{script}`,
		"`n tick",
	}
	rows := [][]string{{"Id"}}
	for _, w := range weird {
		rows = append(rows, []string{w})
	}
	path := writeCSV(t, rows)
	for _, tmpl := range []string{"Get-Mailbox -Identity {Id}", `Get-Mailbox -Identity "{Id}"`, "Get-Mailbox {Id}"} {
		out, errOut, code := c.run("", "bulk", "--csv", path, "--journal", filepath.Join(t.TempDir(), "j"), "--", tmpl)
		if code != 1 {
			t.Fatalf("%s: exit %d: %s", tmpl, code, errOut)
		}
		res := parseBulkOut(t, out)
		if len(res) != len(weird) {
			t.Fatalf("%s: %d lines:\n%s", tmpl, len(res), out)
		}
		for i, r := range res {
			if r.Status != "error" || !strings.Contains(r.Error, weird[i]) {
				t.Errorf("%s: row %d: value %q not echoed as one literal: %+v", tmpl, i+1, weird[i], r)
			}
		}
	}
}

func TestBulkCSVOutput(t *testing.T) {
	c := connected(t)
	aliases := mailboxAliases(t, c, "2")
	path := writeCSV(t, [][]string{{"Alias", "Dept"}, {aliases[0], "Sales, EMEA"}, {"nobody-here", ""}, {aliases[1], "IT"}})
	out, errOut, code := c.run("", "bulk", "--csv", path, "-o", "csv", "--", "Get-Mailbox -Identity {Alias}")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], "|") != "Alias|Dept|Status|Error" {
		t.Fatalf("csv output:\n%s", out)
	}
	if recs[1][1] != "Sales, EMEA" || recs[1][2] != "ok" || recs[2][2] != "error" || recs[2][3] == "" || recs[3][2] != "ok" {
		t.Errorf("csv output:\n%s", out)
	}
}

func TestBulkTemplateErrorsBeforeAnyCall(t *testing.T) {
	c := newCLI(t) // not connected: an error about the connection would mean a call was tried
	path := writeCSV(t, [][]string{{"Alias"}, {"a"}})
	for _, tc := range []struct{ tmpl, want string }{
		{"Get-Mailbox -Identity {Nope}", "{Nope}"},
		{"Get-Mailbox -Identity alice", "no {Column}"},
		{"Get-Mailbox -{Alias} x", "parameter name"},
	} {
		_, errOut, code := c.run("", "bulk", "--csv", path, "--", tc.tmpl)
		if code != 1 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "connect") {
			t.Errorf("%s: exit %d: %s", tc.tmpl, code, errOut)
		}
	}
	if _, err := os.Stat(path + ".exoctl-journal"); err == nil {
		t.Error("a journal was written for a template that never ran")
	}
	_, errOut, code := c.run("", "bulk", "--csv", path, "--parallel", "9", "--", "Get-Mailbox {Alias}")
	if code != 1 || !strings.Contains(errOut, "--parallel") {
		t.Errorf("--parallel 9: %s", errOut)
	}
}

func TestBulkConfirmationSaidOnce(t *testing.T) {
	c := connected(t)
	aliases := mailboxAliases(t, c, "3")
	path := writeCSV(t, [][]string{{"Alias"}, {aliases[0]}, {aliases[1]}, {aliases[2]}})
	out, errOut, code := c.run("", "bulk", "--csv", path, "--", "Remove-Mailbox {Alias}")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(errOut, "WARNING: Remove-Mailbox may ask for confirmation") ||
		strings.Count(errOut, "-Confirm:$false") != 2 || !strings.Contains(errOut, "nothing was changed") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if strings.TrimSpace(out) != "" {
		t.Errorf("rows reported although none ran:\n%s", out)
	}
	if got := mailboxAliases(t, c, "3"); strings.Join(got, ",") != strings.Join(aliases, ",") {
		t.Errorf("mailboxes changed: %v -> %v", aliases, got)
	}
	done, _, err := bulk.LoadJournal(path + ".exoctl-journal")
	if err != nil || len(done) != 0 {
		t.Errorf("journal records rows that changed nothing: %v %v", done, err)
	}
}

func TestBulkSetMailbox(t *testing.T) {
	c := connected(t)
	aliases := mailboxAliases(t, c, "2")
	val := `Sales, "EMEA"; $x`
	path := writeCSV(t, [][]string{{"Alias", "Dept"}, {aliases[0], val}, {aliases[1], ""}})
	c.ok("bulk", "--csv", path, "--parallel", "2", "--", "Set-Mailbox -Identity {Alias} -CustomAttribute15 {Dept}")
	get := func(alias string) any {
		var m map[string]any
		if err := json.Unmarshal([]byte(c.ok("run", "-o", "ndjson", "Get-Mailbox", "-Identity", alias)), &m); err != nil {
			t.Fatal(err)
		}
		return m["CustomAttribute15"]
	}
	if got := get(aliases[0]); got != val {
		t.Errorf("CustomAttribute15 = %#v, want %q", got, val)
	}
	// Reset both with $null.
	path = writeCSV(t, [][]string{{"Alias", "Dept"}, {aliases[0], ""}, {aliases[1], ""}})
	c.ok("bulk", "--csv", path, "--empty-null", "--", "Set-Mailbox -Identity {Alias} -CustomAttribute15 {Dept}")
	if got := get(aliases[0]); got != "" && got != nil {
		t.Errorf("after --empty-null: %#v", got)
	}
}

// cancelWriter cancels the run at its first write: an interrupt right after row 1.
type cancelWriter struct {
	strings.Builder
	cancel func()
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.cancel()
	return w.Builder.Write(p)
}

func TestBulkInterruptThenResume(t *testing.T) {
	c := connected(t)
	aliases := mailboxAliases(t, c, "5")
	rows := [][]string{{"Alias"}}
	for _, a := range aliases {
		rows = append(rows, []string{a})
	}
	path := writeCSV(t, rows)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelWriter{cancel: cancel}
	var errOut strings.Builder
	f := &Factory{
		IO: &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: &errOut},
		Getenv: func(k string) string {
			if k == "EXOCTL_HOME" {
				return c.home
			}
			return c.env[k]
		},
	}
	f.Logger = newWarnLogger(&errOut, false)
	err := runBulk(ctx, f, &BulkOptions{Options: bulk.Options{CSV: path, Parallel: 1, Output: "ndjson", Grace: time.Minute, Template: []string{"Get-Mailbox {Alias}"}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	ran := len(parseBulkOut(t, out.String()))
	if ran < 1 || ran > 2 || !strings.Contains(errOut.String(), "not run") || !strings.Contains(errOut.String(), "run the same command again") {
		t.Fatalf("%d rows ran; stderr:\n%s", ran, errOut.String())
	}
	_, stderr, code := c.run("", "bulk", "--csv", path, "--", "Get-Mailbox {Alias}")
	want := fmt.Sprintf("5 rows: %d ok, 0 failed, %d skipped", 5-ran, ran)
	if code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("resume: exit %d, want %q: %s", code, want, stderr)
	}
}

func TestBulkRefusesJournalOfAnotherTemplate(t *testing.T) {
	c := connected(t)
	aliases := mailboxAliases(t, c, "2")
	path := writeCSV(t, [][]string{{"Alias"}, {aliases[0]}, {aliases[1]}})
	c.ok("bulk", "--csv", path, "--", "Get-Mailbox -Identity {Alias}")
	// The same CSV with another template: nothing of the journal applies to it.
	_, errOut, code := c.run("", "bulk", "--csv", path, "--", "Set-Mailbox -Identity {Alias} -CustomAttribute3 x")
	if code != ExitError || !strings.Contains(errOut, "another template") || !strings.Contains(errOut, "--journal") {
		t.Fatalf("another template: exit %d: %s", code, errOut)
	}
	// Its own journal: it runs.
	out := c.ok("bulk", "--csv", path, "--journal", filepath.Join(t.TempDir(), "j"), "--", "Set-Mailbox -Identity {Alias} -CustomAttribute3 x")
	if res := parseBulkOut(t, out); len(res) != 2 || res[0].Status != "ok" || res[1].Status != "ok" {
		t.Errorf("own journal: %s", out)
	}
}

func TestBulkStartedRowIsUnknownUntilRetryUnknown(t *testing.T) {
	c := connected(t)
	aliases := mailboxAliases(t, c, "3")
	rows := [][]string{{"Alias"}, {aliases[0]}, {aliases[1]}, {aliases[2]}}
	path := writeCSV(t, rows)
	tmpl := "Set-Mailbox -Identity {Alias} -CustomAttribute4 y"
	// A run killed while row 2 was in flight: its start is the journal's last word on it.
	var j strings.Builder
	for _, e := range []bulk.JournalEntry{
		{Journal: bulk.JournalVersion, CSV: path, Template: tmpl},
		{Row: 1, Status: bulk.StatusStarted, Hash: bulk.RowHash(rows[1])},
		{Row: 1, Status: bulk.StatusOK, Hash: bulk.RowHash(rows[1])},
		{Row: 2, Status: bulk.StatusStarted, Hash: bulk.RowHash(rows[2])},
	} {
		b, _ := json.Marshal(e)
		j.Write(append(b, '\n'))
	}
	if err := os.WriteFile(path+".exoctl-journal", []byte(j.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := c.run("", "bulk", "--csv", path, "--", tmpl)
	res := parseBulkOut(t, out)
	if code != ExitError || len(res) != 3 || res[0].Status != "skipped" || res[1].Status != "skipped" || res[2].Status != "ok" ||
		!strings.Contains(res[1].Error, "unknown") || !strings.Contains(errOut, "--retry-unknown") || !strings.Contains(errOut, "1 ok, 0 failed, 2 skipped") {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, errOut)
	}
	// --retry-failed is not enough: the row may have changed something.
	out, _, _ = c.run("", "bulk", "--csv", path, "--retry-failed", "--", tmpl)
	if res := parseBulkOut(t, out); res[1].Status != "skipped" {
		t.Errorf("--retry-failed ran the unknown row: %s", out)
	}
	out, errOut, code = c.run("", "bulk", "--csv", path, "--retry-unknown", "--", tmpl)
	if res := parseBulkOut(t, out); code != 0 || res[1].Status != "ok" || !strings.Contains(errOut, "1 ok, 0 failed, 2 skipped") {
		t.Errorf("--retry-unknown: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestExitCodes(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"emulator", "reset"}, ExitUsage},
		{[]string{"frobnicate"}, ExitUsage},
		{[]string{"run", "--no-such-flag", "Get-Mailbox"}, ExitUsage},
		{[]string{"run"}, ExitUsage},
		{[]string{"bulk", "--", "Get-Mailbox {A}"}, ExitUsage}, // --csv is required
		{[]string{"connections", "extra"}, ExitUsage},
		{[]string{"run", "Get-Mailbox"}, ExitError}, // no connection
		{[]string{"--help"}, ExitOK},
		{[]string{"emulator"}, ExitOK},
	} {
		_, errOut, code := c.run("", tc.args...)
		if code != tc.code {
			t.Errorf("exoctl %s: exit %d, want %d: %s", strings.Join(tc.args, " "), code, tc.code, errOut)
		}
	}
	out, _, _ := c.run("", "--help")
	if !strings.Contains(out, "Exit codes:") || !strings.Contains(out, "130") {
		t.Errorf("--help does not list the exit codes:\n%s", out)
	}
}
