package bulk

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/psparam"
)

// ---- template ----

// bulkTemplate is a cmdlet line parsed once, with placeholders standing in for row values.
type bulkTemplate struct {
	cmd    *psparam.Command
	tokens []string // tokens[i] stands for column cols[i]
	cols   []int    // index into the CSV header
	names  []string

	// tenants gives each row the session of its tenant (--tenant-column); nil: one session.
	tenants Tenants
}

var placeholderRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_.\- ]*)\}`)

// parseBulkTemplate replaces every {Column} by a unique bare word, parses the line with psparam
// and remembers where the words went, so row values are put into parsed values and never read
// as PowerShell.
func parseBulkTemplate(args []string, header []string) (*bulkTemplate, error) {
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.ToLower(h)] = i
	}
	joined := strings.Join(args, " ")
	prefix := "XOBULK" + randomHex(6) + "P"
	for strings.Contains(joined, prefix) {
		prefix = "XOBULK" + randomHex(6) + "P"
	}
	t := &bulkTemplate{}
	byName := map[string]string{}
	var unknown []string
	replace := func(s string) string {
		return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
			name := strings.TrimSpace(m[1 : len(m)-1])
			i, ok := col[strings.ToLower(name)]
			if !ok {
				// A script block such as {Department} with no such column: a missing column
				// is far likelier than a one-word script block in a bulk template.
				unknown = append(unknown, name)
				return m
			}
			if tok, ok := byName[strings.ToLower(name)]; ok {
				return tok
			}
			tok := prefix + strconv.Itoa(len(t.tokens)) + "Z"
			byName[strings.ToLower(name)] = tok
			t.tokens = append(t.tokens, tok)
			t.cols = append(t.cols, i)
			t.names = append(t.names, header[i])
			return tok
		})
	}
	rep := make([]string, len(args))
	for i, a := range args {
		rep[i] = replace(a)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("the template names %s, which the CSV does not have: its columns are %s",
			QuoteList(unknown), strings.Join(header, ", "))
	}
	if len(t.tokens) == 0 {
		return nil, errors.New("the template has no {Column} placeholder: every row would run the same command")
	}
	var err error
	if len(rep) == 1 {
		t.cmd, err = psparam.ParseLine(rep[0])
	} else {
		t.cmd, err = psparam.ParseArgs(rep)
	}
	if err != nil {
		if errors.Is(err, psparam.ErrEmptyLine) {
			return nil, errors.New("the template has no cmdlet")
		}
		return nil, fmt.Errorf("template: %w", err)
	}
	if strings.Contains(t.cmd.Name, prefix) {
		return nil, errors.New("a placeholder cannot stand for the cmdlet name")
	}
	for _, p := range t.cmd.Params {
		if strings.Contains(p.Name, prefix) {
			return nil, fmt.Errorf("a placeholder cannot stand for a parameter name (-%s)", t.restore(p.Name))
		}
	}
	return t, nil
}

// restore puts the {Column} text back for messages.
func (t *bulkTemplate) restore(s string) string {
	for i, tok := range t.tokens {
		s = strings.ReplaceAll(s, tok, "{"+t.names[i]+"}")
	}
	return s
}

// params returns the template's parameters with row's values in place of the placeholders.
func (t *bulkTemplate) params(row []string, emptyNull bool) exo.Params {
	vals := make([]string, len(t.tokens))
	for i, c := range t.cols {
		if c < len(row) {
			vals[i] = row[c]
		}
	}
	var sub func(v any) any
	sub = func(v any) any {
		switch x := v.(type) {
		case string:
			for i, tok := range t.tokens {
				if x == tok {
					if emptyNull && vals[i] == "" {
						return nil
					}
					return vals[i]
				}
			}
			return t.text(x, vals)
		case psparam.ScriptBlock:
			return psparam.ScriptBlock(t.text(string(x), vals))
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = sub(e)
			}
			return out
		case *psparam.Hashtable:
			h := &psparam.Hashtable{Keys: make([]string, len(x.Keys)), Values: make(map[string]any, len(x.Values))}
			for i, k := range x.Keys {
				nk := t.text(k, vals)
				h.Keys[i] = nk
				h.Values[nk] = sub(x.Values[k])
			}
			return h
		}
		return v
	}
	c := &psparam.Command{Name: t.cmd.Name, Params: make([]psparam.Param, len(t.cmd.Params))}
	for i, p := range t.cmd.Params {
		c.Params[i] = psparam.Param{Name: p.Name, Value: sub(p.Value)}
	}
	return exo.Params(c.Parameters())
}

func (t *bulkTemplate) text(s string, vals []string) string {
	if !strings.Contains(s, "XOBULK") {
		return s
	}
	for i, tok := range t.tokens {
		s = strings.ReplaceAll(s, tok, vals[i])
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// QuoteList writes column names as the {Column} placeholders of a template, for messages.
func QuoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "{" + n + "}"
	}
	return strings.Join(q, ", ")
}

// ---- CSV ----

func readBulkCSV(path string) (header []string, rows [][]string, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	br := bufio.NewReader(fh)
	if b, _ := br.Peek(3); string(b) == "\xef\xbb\xbf" { // Excel's UTF-8 byte order mark
		_, _ = br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(all) == 0 {
		return nil, nil, fmt.Errorf("%s is empty: it needs a header row", path)
	}
	header = all[0]
	seen := map[string]bool{}
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
		k := strings.ToLower(header[i])
		if seen[k] {
			return nil, nil, fmt.Errorf("%s: column %q appears twice in the header", path, header[i])
		}
		seen[k] = true
	}
	return header, all[1:], nil
}

// ---- journal ----

// JournalEntry is one line of the journal (JSON lines). The first line is a header with
// Journal, CSV and Template; every later line is a row's start (status "started", written
// before its request is sent) or its end. The last line of a row wins, so a row whose last
// line is "started" was cut short: its outcome is unknown.
type JournalEntry struct {
	Journal  string `json:"journal,omitempty"`
	CSV      string `json:"csv,omitempty"`
	Template string `json:"template,omitempty"`
	Row      int    `json:"row,omitempty"`
	Status   string `json:"status,omitempty"`
	Hash     string `json:"hash,omitempty"`
	Error    string `json:"error,omitempty"`
	Time     string `json:"time"`
}

const JournalVersion = "exoctl-bulk/1"

type journal struct {
	mu sync.Mutex
	fh *os.File
}

func RowHash(row []string) string {
	h := sha256.New()
	for _, v := range row {
		h.Write([]byte(strconv.Itoa(len(v)) + ":" + v))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// LoadJournal reads the last entry of each row, ignoring a torn last line.
func LoadJournal(path string) (map[int]JournalEntry, string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[int]JournalEntry{}, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	done := map[int]JournalEntry{}
	tmpl := ""
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var e JournalEntry
		if json.Unmarshal([]byte(line), &e) != nil {
			continue // an interrupted write
		}
		if e.Journal != "" {
			if e.Journal != JournalVersion {
				return nil, "", fmt.Errorf("%s is not an exoctl bulk journal this version reads (%s)", path, e.Journal)
			}
			tmpl = e.Template
			continue
		}
		switch {
		case e.Row <= 0:
		case e.Status == StatusNotRun:
			delete(done, e.Row)
		default:
			done[e.Row] = e
		}
	}
	return done, tmpl, nil
}

func openJournal(path string) (*journal, error) {
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &journal{fh: fh}, nil
}

// append writes one line and syncs it to disk before returning.
func (j *journal) append(e JournalEntry) error {
	e.Time = time.Now().UTC().Format(time.RFC3339)
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.fh.Write(append(b, '\n')); err != nil {
		return err
	}
	return j.fh.Sync()
}

// Row statuses in the journal and the output.
const (
	StatusOK      = "ok"
	StatusError   = "error"
	StatusUnknown = "unknown"
	StatusStarted = "started"
	StatusSkipped = "skipped"
	// StatusNotRun takes back a start: the service answered without changing anything.
	StatusNotRun = "not-run"
)

// ---- run ----

type bulkResult struct {
	Row      int           `json:"row"`
	Status   string        `json:"status"` // ok, error, unknown, skipped
	Error    string        `json:"error,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
	Records  []*exo.Record `json:"records,omitempty"`
	values   []string
	confirm  *exo.ConfirmationRequiredError
}

// Options are what a bulk run does: the flags of `exoctl bulk` that are not about the connection.
type Options struct {
	// TenantColumn names the CSV column holding each row's tenant (a customer's domain or id):
	// rows then run in their tenant, from Env.Tenants.
	TenantColumn string

	CSV         string
	Journal     string
	Parallel    int
	Output      string // ndjson or csv
	RetryFailed bool
	// RetryUnknown runs again the rows whose outcome is unknown: started by an earlier run
	// that was interrupted or killed before the service answered.
	RetryUnknown bool
	EmptyNull    bool
	// Grace is how long in-flight rows may take to finish after an interrupt before they are
	// cancelled and recorded as unknown.
	Grace time.Duration
	// Timeout bounds each row (0: none).
	Timeout  time.Duration
	Template []string
}

// Tenants gives each row the session of the tenant its tenant column names.
type Tenants interface {
	// Session is the session of the row whose values are vals.
	Session(ctx context.Context, vals []string) (*exo.Session, error)
	// Close ends the sessions opened.
	Close(ctx context.Context)
}

// Env is what a run needs from its caller: where to write, and how to open sessions. Open and
// Tenants are called only once the CSV, the template and the journal have been checked.
type Env struct {
	Out    io.Writer // per-row results
	ErrOut io.Writer // warnings, progress and the summary
	// Open opens the session rows run in; its error is returned as it is.
	Open func(ctx context.Context) (*exo.Session, error)
	// Tenants opens the tenants of the CSV's tenant column (index col of header); needed only
	// with Options.TenantColumn.
	Tenants func(col int, header []string, rows [][]string) (Tenants, error)
}

// MaxParallel is the most rows a run runs at once.
const MaxParallel = 8

// Run runs the template once per row of the CSV, recording every row in the journal. It
// returns context.Canceled when ctx was cancelled (an interrupt), and an error saying what to
// rerun when rows failed or were cut short.
func Run(ctx context.Context, o Options, env Env) error {
	if o.Parallel < 1 || o.Parallel > MaxParallel {
		return fmt.Errorf("--parallel must be 1 to %d, not %d", MaxParallel, o.Parallel)
	}
	if o.Output != "ndjson" && o.Output != "csv" {
		return fmt.Errorf("-o must be ndjson or csv, not %q", o.Output)
	}
	header, rows, err := readBulkCSV(o.CSV)
	if err != nil {
		return err
	}
	tmpl, err := parseBulkTemplate(o.Template, header)
	if err != nil {
		return err
	}
	if o.TenantColumn != "" {
		col := -1
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), o.TenantColumn) {
				col = i
			}
		}
		if col < 0 {
			return fmt.Errorf("--tenant-column %s: the CSV has no such column (it has %s)", o.TenantColumn, QuoteList(header))
		}
		if tmpl.tenants, err = env.Tenants(col, header, rows); err != nil {
			return err
		}
		defer tmpl.tenants.Close(ctx)
	}
	jpath := o.Journal
	if jpath == "" {
		jpath = o.CSV + ".exoctl-journal"
	}
	done, prevTmpl, err := LoadJournal(jpath)
	if err != nil {
		return err
	}
	tmplText := strings.Join(o.Template, " ")
	if prevTmpl != "" && prevTmpl != tmplText && len(done) > 0 {
		return fmt.Errorf("the journal %s was written for another template (%s), so its rows say nothing about this one: give this run its own journal with --journal FILE, or delete %s to start over", jpath, prevTmpl, jpath)
	}

	// Which rows run.
	type job struct {
		row  int
		vals []string
	}
	var jobs []job
	var skipped []int
	var prevFailed, prevUnknown int
	for i, r := range rows {
		n := i + 1
		e, ok := done[n]
		if ok && e.Hash != RowHash(r) {
			ok = false // the row was edited since: run it
		}
		unknown := e.Status == StatusStarted || e.Status == StatusUnknown
		switch {
		case !ok:
			jobs = append(jobs, job{n, r})
		case e.Status == StatusOK:
			skipped = append(skipped, n)
		case unknown && o.RetryUnknown, !unknown && o.RetryFailed:
			jobs = append(jobs, job{n, r})
		case unknown:
			skipped = append(skipped, n)
			prevUnknown++
		default:
			skipped = append(skipped, n)
			prevFailed++
		}
	}

	if mayAsk(tmpl.cmd) {
		fmt.Fprintf(env.ErrOut, "WARNING: %s\n", tmpl.cmd.Name+" may ask for confirmation, which bulk cannot answer: add -Confirm:$false to the template (if the first row asks, the run stops there with nothing changed)")
	}
	s, err := env.Open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	j, err := openJournal(jpath)
	if err != nil {
		return err
	}
	defer j.fh.Close()
	if prevTmpl != tmplText {
		if err := j.append(JournalEntry{Journal: JournalVersion, CSV: o.CSV, Template: tmplText}); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}

	out := newBulkWriter(env.Out, o.Output, header)
	results := make(map[int]*bulkResult, len(rows))
	var resMu sync.Mutex
	for _, n := range skipped {
		e := done[n]
		results[n] = &bulkResult{Row: n, Status: StatusSkipped, Error: e.Error, values: rows[n-1]}
		switch e.Status {
		case StatusOK:
		case StatusStarted:
			results[n].Error = "previously started and never finished: the outcome is unknown"
		default:
			results[n].Error = "previously " + e.Status + ": " + e.Error
		}
	}

	// Interrupts stop new rows at once; rows in flight get Grace to finish.
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	var inFlight atomic.Int64
	stopGrace := context.AfterFunc(ctx, func() {
		if n := inFlight.Load(); n > 0 {
			fmt.Fprintf(env.ErrOut, "interrupted: no new rows start; waiting up to %s for the %d in flight to finish (Ctrl-C again stops at once)\n", o.Grace, n)
		}
		t := time.NewTimer(o.Grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancelRun()
		case <-runCtx.Done():
		}
	})
	defer stopGrace()
	var confirmOnce, stopOnce sync.Once
	var confirmErr *exo.ConfirmationRequiredError
	stopDispatch := make(chan struct{}) // closed when no further row may start

	queue := make(chan job)
	var wg sync.WaitGroup
	var journalErr error
	var jeOnce sync.Once
	for range o.Parallel {
		wg.Go(func() {
			for jb := range queue {
				if ctx.Err() != nil {
					continue // interrupted while this row was handed over: it never started
				}
				readOnly := exo.IsReadOnly(tmpl.cmd.Name)
				inFlight.Add(1)
				if !readOnly {
					// On disk before the request leaves: whatever happens next (kill -9, a
					// crash, a lost answer), a later run knows this row may have run.
					if err := j.append(JournalEntry{Row: jb.row, Status: StatusStarted, Hash: RowHash(jb.vals)}); err != nil {
						jeOnce.Do(func() { journalErr = err })
						stopOnce.Do(func() { close(stopDispatch) })
						inFlight.Add(-1)
						continue
					}
				}
				var rowCtx context.Context
				var cancelRow context.CancelFunc
				if o.Timeout > 0 {
					rowCtx, cancelRow = context.WithTimeout(runCtx, o.Timeout)
				} else {
					rowCtx, cancelRow = context.WithCancel(runCtx)
				}
				res := runBulkRow(rowCtx, s, tmpl, jb.row, jb.vals, o.EmptyNull)
				if res.Status == StatusUnknown && runCtx.Err() == nil && errors.Is(rowCtx.Err(), context.DeadlineExceeded) {
					res.Error = fmt.Sprintf("gave up after --timeout %s", o.Timeout)
					if readOnly {
						res.Status = StatusError
					} else {
						res.Error += ": the outcome is unknown"
					}
				}
				cancelRow()
				inFlight.Add(-1)
				if res.confirm != nil {
					// Nothing was changed: say it once and stop, not fail every row.
					confirmOnce.Do(func() { confirmErr = res.confirm })
					stopOnce.Do(func() { close(stopDispatch) })
					if !readOnly {
						// Nothing changed: the row is as if it never started.
						if err := j.append(JournalEntry{Row: jb.row, Status: StatusNotRun, Hash: RowHash(jb.vals)}); err != nil {
							jeOnce.Do(func() { journalErr = err })
						}
					}
					continue
				}
				if res.Status == StatusUnknown && readOnly {
					// A read-only cmdlet cut short: nothing to record, it simply runs next time.
					continue
				}
				if err := j.append(JournalEntry{Row: jb.row, Status: res.Status, Hash: RowHash(jb.vals), Error: res.Error}); err != nil {
					jeOnce.Do(func() { journalErr = err })
				}
				resMu.Lock()
				results[jb.row] = res
				resMu.Unlock()
				out.ready(res, results, &resMu)
			}
		})
	}
	interrupted := false
dispatch:
	for _, jb := range jobs {
		select {
		case <-ctx.Done():
			interrupted = true
			break dispatch
		case <-stopDispatch:
			break dispatch
		default:
		}
		select {
		case queue <- jb:
		case <-ctx.Done():
			interrupted = true
			break dispatch
		case <-stopDispatch:
			break dispatch
		}
	}
	close(queue)
	wg.Wait()
	// Rows skipped because they were done print too, so -o csv is a full report.
	out.flushAll(results, &resMu, len(rows))

	var ok, failed, unknown, notRun int
	for n := 1; n <= len(rows); n++ {
		r, has := results[n]
		switch {
		case !has:
			notRun++
		case r.Status == StatusOK:
			ok++
		case r.Status == StatusError:
			failed++
		case r.Status == StatusUnknown:
			unknown++
		}
	}
	sum := fmt.Sprintf("%d rows: %d ok, %d failed", len(rows), ok, failed)
	if unknown > 0 {
		sum += fmt.Sprintf(", %d unknown", unknown)
	}
	sum += fmt.Sprintf(", %d skipped", len(skipped))
	if notRun > 0 {
		sum += fmt.Sprintf(", %d not run", notRun)
	}
	sum += "; journal: " + jpath
	fmt.Fprintln(env.ErrOut, sum)
	if prevFailed > 0 {
		fmt.Fprintf(env.ErrOut, "%d rows failed in an earlier run and were skipped: add --retry-failed to run them again\n", prevFailed)
	}
	if prevUnknown > 0 {
		fmt.Fprintf(env.ErrOut, "%d rows were started by an earlier run that never saw them finish and were skipped: they may or may not have changed anything; check them, then add --retry-unknown to run them again\n", prevUnknown)
	}
	if unknown > 0 {
		fmt.Fprintf(env.ErrOut, "%d rows were cut short and may or may not have changed anything: check them before running again with --retry-unknown\n", unknown)
	}
	if err := out.err(); err != nil {
		return err
	}
	if journalErr != nil {
		return fmt.Errorf("journal %s: %w (the results above are not all recorded)", jpath, journalErr)
	}
	if confirmErr != nil {
		return fmt.Errorf("%s asks for confirmation and nothing was changed for that row: add -Confirm:$false to the template to run it without asking, then run the same command again", confirmErr.Cmdlet)
	}
	if interrupted || ctx.Err() != nil {
		fmt.Fprintln(env.ErrOut, "interrupted: run the same command again to go on where it stopped")
		return context.Canceled
	}
	if failed+prevFailed > 0 || unknown+prevUnknown > 0 {
		// Rows skipped as failed or unknown count too: the CSV is not all done.
		return &failedError{failed: failed + prevFailed, unknown: unknown + prevUnknown}
	}
	return nil
}

// failedError is the error of a run where some rows failed or were cut short; their errors are
// already printed.
type failedError struct{ failed, unknown int }

func (e *failedError) Error() string {
	switch {
	case e.unknown == 0:
		return fmt.Sprintf("%d rows failed (see the output): rerun the same command with --retry-failed to run them again", e.failed)
	case e.failed == 0:
		return fmt.Sprintf("%d rows were cut short (see the output): check them, then rerun the same command with --retry-unknown", e.unknown)
	}
	return fmt.Sprintf("%d rows failed and %d were cut short (see the output): rerun the same command with --retry-failed and, once you checked the others, --retry-unknown", e.failed, e.unknown)
}

func runBulkRow(ctx context.Context, s *exo.Session, t *bulkTemplate, row int, vals []string, emptyNull bool) *bulkResult {
	res := &bulkResult{Row: row, Status: StatusOK, values: vals, Records: []*exo.Record{}}
	if t.tenants != nil {
		ts, err := t.tenants.Session(ctx, vals)
		if err != nil {
			res.Status, res.Error = StatusError, oneLine(err.Error())
			return res
		}
		s = ts
	}
	params := t.params(vals, emptyNull)
	var errs []string
	for page, err := range s.InvokePages(ctx, t.cmd.Name, params) {
		if err != nil {
			var ce *exo.ConfirmationRequiredError
			if errors.As(err, &ce) {
				res.confirm = ce
				return res
			}
			if ctx.Err() != nil {
				res.Status = StatusUnknown
				res.Error = "interrupted: the outcome is unknown"
				return res
			}
			res.Status = StatusError
			errs = append(errs, oneLine(err.Error()))
			break
		}
		res.Records = append(res.Records, page.Records...)
		res.Warnings = append(res.Warnings, page.Warnings...)
		for _, m := range page.Errors {
			res.Status = StatusError
			errs = append(errs, oneLine(m))
		}
		if page.ConfirmationMessage != "" {
			res.Warnings = append(res.Warnings, "What if: "+page.ConfirmationMessage)
		}
	}
	res.Error = strings.Join(errs, "; ")
	return res
}

// mayAsk reports whether a template's cmdlet is likely high impact (asks for confirmation) and
// has neither -Confirm nor -WhatIf.
func mayAsk(c *psparam.Command) bool {
	verb, _, _ := strings.Cut(strings.ToLower(c.Name), "-")
	if verb != "remove" && verb != "disable" && verb != "clear" {
		return false
	}
	for _, n := range []string{"Confirm", "cf", "WhatIf", "wi"} {
		if _, ok := c.Lookup(n); ok {
			return false
		}
	}
	return true
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ---- output ----

// bulkWriter prints results in row order as they become ready.
type bulkWriter struct {
	w      io.Writer
	format string
	header []string
	csv    *csv.Writer
	next   int
	mu     sync.Mutex
	werr   error
}

func newBulkWriter(out io.Writer, format string, header []string) *bulkWriter {
	w := &bulkWriter{w: out, format: format, header: header, next: 1}
	if format == "csv" {
		w.csv = csv.NewWriter(out)
		h := append(append([]string{}, header...), "Status", "Error")
		w.werr = w.csv.Write(h)
	}
	return w
}

// ready prints every result from the next row on that is known.
func (w *bulkWriter) ready(_ *bulkResult, results map[int]*bulkResult, mu *sync.Mutex) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		mu.Lock()
		r, ok := results[w.next]
		mu.Unlock()
		if !ok {
			return
		}
		w.write(r)
		w.next++
	}
}

// flushAll prints what is left, in order, leaving out rows that never ran.
func (w *bulkWriter) flushAll(results map[int]*bulkResult, mu *sync.Mutex, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ; w.next <= n; w.next++ {
		mu.Lock()
		r, ok := results[w.next]
		mu.Unlock()
		if ok {
			w.write(r)
		}
	}
	if w.csv != nil {
		w.csv.Flush()
		if err := w.csv.Error(); err != nil && w.werr == nil {
			w.werr = err
		}
	}
}

func (w *bulkWriter) write(r *bulkResult) {
	if w.werr != nil {
		return
	}
	if w.csv != nil {
		vals := make([]string, len(w.header), len(w.header)+2)
		copy(vals, r.values)
		w.werr = w.csv.Write(append(vals, r.Status, r.Error))
		w.csv.Flush()
		return
	}
	if r.Status != StatusOK {
		r.Records = nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		w.werr = err
		return
	}
	_, w.werr = w.w.Write(append(b, '\n'))
}

func (w *bulkWriter) err() error {
	if w.werr != nil {
		return fmt.Errorf("write output: %w", w.werr)
	}
	return nil
}
