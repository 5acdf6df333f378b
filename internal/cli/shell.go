package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/connection"
	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/format"
	"github.com/exoctl/exoctl/psparam"
)

// ShellOptions are `exoctl shell`'s flags.
type ShellOptions struct {
	Connection string
	Output     string
	// Timeout bounds each cmdlet (0: none).
	Timeout time.Duration
}

func newShellCmd(f *Factory) *cobra.Command {
	o := &ShellOptions{}
	cmd := &cobra.Command{
		Use:   "shell [flags]",
		Short: "An interactive shell of cmdlets on one connection, with completion",
		Long: `Open the saved connection once and read cmdlets typed as in PowerShell, one per line, running
each like exoctl run (default views, warnings, errors, confirmation prompts). A line continues
while a quote, @{ }, @( ) or { } is open, or after a trailing backtick.

On a terminal: line editing, history, and Tab completion of cmdlet names (from the cmdlet
catalog your roles allow) and of their -Parameter names (from the connection's module file). Ctrl-C cancels the running
cmdlet or the line being typed; Ctrl-D or exit leaves.

With stdin not a terminal it runs a script: exoctl shell < script.ps1 runs every line, reports
failures with their line number, and exits non-zero if any line failed.

Built-ins: exit, quit, help, Get-Command [pattern], Get-ConnectionInformation,
Disconnect-ExchangeOnline.`,
		Example: `  exoctl shell
  exoctl shell -c 2
  exoctl shell < weekly-report.ps1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runShell(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVarP(&o.Connection, "connection", "c", "", "connection to use: Id, ConnectionId or prefix (default: the latest)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: "+strings.Join(format.Formats(), ", ")+" (default: the type's view)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, "for each cmdlet: "+timeoutUsage)
	return cmd
}

// errScriptFailed is the shell's result when a line of a script failed (each error was
// already printed).
var errScriptFailed = errors.New("a line of the script failed")

// shellBuiltins are the shell's own commands that complete like cmdlets.
var shellBuiltins = []string{"Get-Command", "Get-ConnectionInformation", "Disconnect-ExchangeOnline"}

type shell struct {
	f       *Factory
	s       *exo.Session
	output  string
	timeout time.Duration
	profile *connection.Profile
	confirm exo.ConfirmFunc // nil: a question fails the cmdlet, as with run off a terminal

	catOnce sync.Once
	catMu   sync.Mutex
	catalog []string     // cmdlet names, nil until loaded
	module  *exo.Catalog // the module file: parameters and switches, nil until loaded
	catErr  error
}

func runShell(ctx context.Context, f *Factory, o *ShellOptions) error {
	if _, err := format.New(io.Discard, format.Options{Format: o.Output}); err != nil {
		return err
	}
	s, p, err := openSession(ctx, f, o.Connection)
	if err != nil {
		return err
	}
	defer s.Close()
	sh := &shell{f: f, s: s, output: o.Output, timeout: o.Timeout, profile: p}

	// An interrupt cancels the running cmdlet (see exec), never the shell.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	defer f.handleInterrupt()()

	if in, ok := f.IO.In.(*os.File); ok && f.IO.Interactive && term.IsTerminal(int(in.Fd())) {
		return sh.interactive(ctx, in, sig, shellPrompt(p, s))
	}
	return sh.script(ctx, f.IO.In, sig)
}

func shellPrompt(p *connection.Profile, s *exo.Session) string {
	org := p.Organization
	if org == "" {
		org = s.Info().Organization
	}
	if org == "" {
		return "PS exoctl> "
	}
	return "EXO " + org + "> "
}

// loadCatalog reads the cmdlet catalog once.
func (sh *shell) loadCatalog(ctx context.Context) ([]string, error) {
	sh.catOnce.Do(func() {
		c, err := sh.s.Catalog(ctx)
		sh.catMu.Lock()
		if err == nil {
			sh.catalog, sh.module = c.Cmdlets(), c
		}
		sh.catErr = err
		sh.catMu.Unlock()
	})
	sh.catMu.Lock()
	defer sh.catMu.Unlock()
	return sh.catalog, sh.catErr
}

// isSwitch says from the module file (once loaded) whether a cmdlet's parameter is a switch.
func (sh *shell) isSwitch(cmdlet, param string) bool {
	sh.catMu.Lock()
	defer sh.catMu.Unlock()
	return sh.module != nil && sh.module.IsSwitch(cmdlet, param)
}

// cmdletNames is what completion offers: the catalog as far as it is loaded, plus built-ins.
func (sh *shell) cmdletNames() []string {
	sh.catMu.Lock()
	names := slices.Clone(sh.catalog)
	sh.catMu.Unlock()
	for _, b := range shellBuiltins {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, b) }) {
			names = append(names, b)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return names
}

// script runs lines from a non-terminal stdin to the end or to exit; it fails if any line did.
func (sh *shell) script(ctx context.Context, in io.Reader, sig <-chan os.Signal) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	failed := false
	var buf strings.Builder
	lineNo, start := 0, 0
	for sc.Scan() {
		lineNo++
		if buf.Len() == 0 {
			start = lineNo
		}
		// The newline goes in only before the next line: a trailing backtick continues the
		// line only at the very end of the input.
		buf.WriteString(sc.Text())
		quit, err := sh.line(ctx, buf.String(), sig)
		var syn *psparam.SyntaxError
		if errors.As(err, &syn) && syn.Incomplete {
			buf.WriteByte('\n')
			continue // read the next line
		}
		buf.Reset()
		if err != nil {
			failed = true
			sh.report(err, start)
			if errors.Is(err, context.Canceled) {
				return err // interrupted: stop the script
			}
		}
		if quit {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	if buf.Len() > 0 {
		_, err := psparam.ParseLine(buf.String())
		if err == nil {
			err = errors.New("the input ended inside a command")
		}
		sh.report(err, start)
		failed = true
	}
	if failed {
		return errScriptFailed
	}
	return nil
}

// report prints a line's error; lineNo > 0 names the script line it started on.
func (sh *shell) report(err error, lineNo int) {
	where := ""
	if lineNo > 0 {
		where = fmt.Sprintf("line %d: ", lineNo)
	}
	var syntax *psparam.SyntaxError
	if errors.As(err, &syntax) {
		fmt.Fprintf(sh.f.IO.ErrOut, "%s%v\n", where, err)
		return
	}
	fmt.Fprintf(sh.f.IO.ErrOut, "%s%s\n", where, strings.Join(strings.Fields(err.Error()), " "))
}

// ctrlCReader turns Ctrl-C typed at the prompt (raw mode: a byte, not a signal) into Enter,
// noting it, so the shell drops the line instead of term.Terminal treating it as end of input.
type ctrlCReader struct {
	r   io.Reader
	hit atomic.Bool
}

func (c *ctrlCReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := range p[:n] {
		if p[i] == 3 {
			p[i] = '\r'
			c.hit.Store(true)
		}
	}
	return n, err
}

// interactive reads lines on a terminal with editing, history and completion. The terminal is
// raw only while a line is read: cmdlets run (and ask for confirmation) in cooked mode.
func (sh *shell) interactive(ctx context.Context, in *os.File, sig <-chan os.Signal, prompt string) error {
	fd := int(in.Fd())
	go sh.loadCatalog(ctx) // for completion; a failure shows in Get-Command
	cr := &ctrlCReader{r: in}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{cr, sh.f.IO.Out}, prompt)
	t.AutoCompleteCallback = sh.complete
	if w, h, err := term.GetSize(fd); err == nil {
		t.SetSize(w, h)
	}
	sh.confirm = promptConfirm(sh.f)
	fmt.Fprintf(sh.f.IO.Out, "exoctl shell on %s (%s). Tab completes; help lists built-ins; exit or Ctrl-D leaves.\n",
		sh.s.Info().Name, sh.s.Info().UserPrincipalName)
	var buf strings.Builder
	for {
		if buf.Len() == 0 {
			t.SetPrompt(prompt)
		} else {
			t.SetPrompt(">> ")
		}
		old, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("terminal: %w", err)
		}
		line, err := t.ReadLine()
		_ = term.Restore(fd, old)
		if cr.hit.Swap(false) {
			buf.Reset() // Ctrl-C: drop what was typed
			continue
		}
		if err == io.EOF {
			fmt.Fprintln(sh.f.IO.Out)
			return nil
		}
		if err != nil {
			return fmt.Errorf("terminal: %w", err)
		}
		buf.WriteString(line)
		quit, err := sh.line(ctx, buf.String(), sig)
		var syn *psparam.SyntaxError
		if errors.As(err, &syn) && syn.Incomplete {
			buf.WriteByte('\n')
			continue
		}
		buf.Reset()
		if err != nil {
			sh.report(err, 0)
		}
		if quit {
			return nil
		}
	}
}

// line runs one complete input: a built-in or a cmdlet. quit reports exit or quit. A
// *psparam.SyntaxError with Incomplete asks for another line.
func (sh *shell) line(ctx context.Context, text string, sig <-chan os.Signal) (quit bool, err error) {
	switch strings.ToLower(strings.TrimSpace(stripComment(text))) {
	case "exit", "quit":
		return true, nil
	case "help", "get-help", "?":
		sh.help()
		return false, nil
	}
	if strings.Contains(text, "-") {
		_, _ = sh.loadCatalog(ctx) // which parameters are switches; without it, psparam's rule
	}
	c, err := psparam.ParseLine(text, psparam.Switches(sh.isSwitch))
	if errors.Is(err, psparam.ErrEmptyLine) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// The running command's own context: an interrupt cancels it and the shell goes on.
	ctx, cancel := withTimeout(ctx, sh.timeout)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sig:
			cancel()
		case <-done:
		}
	}()
	return false, explain(sh.exec(ctx, c), sh.profile, sh.timeout)
}

// stripComment drops a trailing # comment of a one-word line (for exit # bye).
func stripComment(text string) string {
	if i := strings.IndexByte(text, '#'); i >= 0 && !strings.ContainsAny(text[:i], `'"`) {
		return text[:i]
	}
	return text
}

// stillSaved reports whether the shell's connection is still saved.
func (sh *shell) stillSaved() bool {
	st, err := sh.f.connections()
	if err != nil {
		return true
	}
	ps, err := st.List()
	if err != nil {
		return true
	}
	for _, p := range ps {
		if p.ConnectionID == sh.s.ID() {
			return true
		}
	}
	return false
}

func (sh *shell) help() {
	fmt.Fprint(sh.f.IO.Out, `Type a cmdlet with PowerShell parameters, e.g. Get-Mailbox -ResultSize 10
Built-ins:
  Get-Command [pattern]      cmdlets your roles allow (wildcards: Get-Mail*)
  Get-ConnectionInformation  this shell's connection (-ConnectionId, -ModulePrefix: saved ones)
  Disconnect-ExchangeOnline  forget connections (-ConnectionId, -ModulePrefix; none: all)
  help                       this text
  exit, quit                 leave (or Ctrl-D)
Tab completes cmdlet names, and -Parameter names of common cmdlets.
`)
}

// exec runs one parsed command with run's output path.
func (sh *shell) exec(ctx context.Context, c *psparam.Command) error {
	switch strings.ToLower(c.Name) {
	case "get-command":
		return sh.getCommand(ctx, c)
	case "disconnect-exchangeonline":
		_, err := runLocalCmdlet(sh.f, &RunOptions{Output: sh.output}, c)
		if err == nil && !sh.stillSaved() {
			_ = sh.s.Close() // this shell's own connection is gone: its cmdlets with it
		}
		return err
	case "get-connectioninformation":
		if len(c.Params) > 0 {
			// -ConnectionId, -ModulePrefix: among all saved connections.
			_, err := runLocalCmdlet(sh.f, &RunOptions{Output: sh.output}, c)
			return err
		}
		w, err := format.New(sh.f.IO.Out, format.Options{Format: sh.output, TypeName: "ConnectionInformation", Width: sh.f.IO.Width, Warn: sh.f.warn})
		if err != nil {
			return err
		}
		rec, err := recordOf(sh.s.Info())
		if err != nil {
			return err
		}
		if err := w.Write(rec); err != nil {
			return err
		}
		return w.Close()
	}
	w, err := format.New(sh.f.IO.Out, format.Options{
		Format: sh.output, TypeName: format.TypeNameFor(c.Name), Width: sh.f.IO.Width, Warn: sh.f.warn,
	})
	if err != nil {
		return err
	}
	var opts []exo.InvokeOption
	if sh.confirm != nil {
		opts = append(opts, exo.WithConfirm(sh.confirm))
	}
	err = invoke(ctx, sh.f, sh.s, w, c.Name, exo.Params(c.Parameters()), opts...)
	if errors.Is(err, exo.ErrDeclined) {
		return nil
	}
	if err != nil && auth.IsManagedIdentity(sh.s.Credential()) {
		tok, _ := sh.s.Token(ctx)
		err = auth.ExplainManagedIdentityRefusal(sh.s.Credential(), tok, err)
	}
	return err
}

// getCommand lists the catalog's cmdlets matching a wildcard pattern (-Name or the first
// unnamed value), case-insensitively.
func (sh *shell) getCommand(ctx context.Context, c *psparam.Command) error {
	pattern := "*"
	for _, k := range []string{"Name", "Identity"} {
		if v, ok := c.Lookup(k); ok {
			pattern = fmt.Sprint(v)
		}
	}
	names, err := sh.loadCatalog(ctx)
	if err != nil {
		return fmt.Errorf("Get-Command: %w", err)
	}
	pattern = strings.ToLower(pattern)
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("Get-Command: bad pattern %q: %w", pattern, err)
	}
	n := 0
	for _, name := range names {
		if ok, _ := path.Match(pattern, strings.ToLower(name)); ok {
			fmt.Fprintln(sh.f.IO.Out, name)
			n++
		}
	}
	if n == 0 && !strings.ContainsAny(pattern, "*?[") {
		return fmt.Errorf("Get-Command: the term '%s' is not a cmdlet this connection can run", pattern)
	}
	return nil
}

// complete is the terminal's AutoCompleteCallback: on Tab, the word before the cursor becomes
// the cmdlet name it begins (the first word) or the -Parameter name it begins (later words,
// for cmdlets whose parameters exoctl knows). Several matches complete to what they share.
func (sh *shell) complete(line string, pos int, key rune) (string, int, bool) {
	if key != '\t' || pos > len(line) {
		return "", 0, false
	}
	before := line[:pos]
	start := strings.LastIndexAny(before, " \t") + 1
	word := before[start:]
	var cands []string
	prefix := ""
	switch {
	case strings.TrimSpace(before[:start]) == "":
		if word == "" {
			return "", 0, false
		}
		cands = sh.cmdletNames()
	case strings.HasPrefix(word, "-"):
		fields := strings.Fields(before)
		sh.catMu.Lock()
		if sh.module != nil {
			cands = sh.module.Parameters(fields[0])
		}
		sh.catMu.Unlock()
		prefix, word = "-", word[1:]
	default:
		return "", 0, false
	}
	var matches []string
	for _, c := range cands {
		if len(c) >= len(word) && strings.EqualFold(c[:len(word)], word) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 0 {
		return "", 0, false
	}
	done := matches[0]
	for _, m := range matches[1:] {
		done = commonPrefixFold(done, m)
	}
	if len(done) < len(word) {
		return "", 0, false
	}
	repl := prefix + done
	if len(matches) == 1 {
		repl += " "
	}
	newLine := line[:start] + repl + line[pos:]
	return newLine, start + len(repl), true
}

// commonPrefixFold is the longest prefix a and b share regardless of case, spelled as in a.
func commonPrefixFold(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && strings.EqualFold(a[n:n+1], b[n:n+1]) {
		n++
	}
	return a[:n]
}
