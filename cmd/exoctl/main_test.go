package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/exoctl/exoctl/emulator"
)

// The test binary is exoctl itself when EXOCTL_TEST_MAIN is set: the signal tests run it as a
// subprocess and send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("EXOCTL_TEST_MAIN") == "1" {
		os.Args = append([]string{"exoctl"}, strings.Fields(os.Getenv("EXOCTL_TEST_ARGS"))...)
		if raw := os.Getenv("EXOCTL_TEST_ARGV"); raw != "" {
			var argv []string
			if err := json.Unmarshal([]byte(raw), &argv); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(99)
			}
			os.Args = append([]string{"exoctl"}, argv...)
		}
		main()
		return
	}
	code := m.Run()
	if emu != nil {
		_ = emu.Close()
		_ = os.RemoveAll(emuDir)
	}
	os.Exit(code)
}

// proc is one exoctl process.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exoctl starts exoctl with args in home, reading stdin.
func exoctl(t *testing.T, home, stdin string, args ...string) *proc {
	t.Helper()
	argv, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EXOCTL_TEST_MAIN=1", "EXOCTL_TEST_ARGV="+string(argv),
		"EXOCTL_HOME="+home, "EXOCTL_KEYRING=off", "EXOCTL_VERBOSE=")
	cmd.Stdin = strings.NewReader(stdin)
	p := &proc{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return p
}

// wait waits for the process (at most a minute) and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		_ = p.cmd.Process.Kill()
		t.Fatalf("exoctl did not end; stderr:\n%s", p.stderr.String())
		return -1
	}
}

func run(t *testing.T, home, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	p := exoctl(t, home, stdin, args...)
	code = p.wait(t)
	return p.stdout.String(), p.stderr.String(), code
}

// waitFor polls cond until it holds; the bound only keeps a broken build from hanging.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("gave up waiting for %s", what)
}

func lineCount(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

// bulkRows writes a CSV of n new shared mailbox names.
func bulkRows(t *testing.T, prefix string, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rows.csv")
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"Name"})
	for i := range n {
		_ = w.Write([]string{fmt.Sprintf("%s-%03d", prefix, i)})
	}
	w.Flush()
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type bulkLine struct {
	Row    int    `json:"row"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

// ranTwice counts the rows of bulk's output that the service refused because an earlier run
// had already created their mailbox: rows that ran twice on the server.
func ranTwice(t *testing.T, out string) (twice int, statuses map[string]int) {
	t.Helper()
	statuses = map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var l bulkLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad output line %q: %v", sc.Text(), err)
		}
		statuses[l.Status]++
		if strings.Contains(l.Error, "is already being used") {
			twice++
		}
	}
	return twice, statuses
}

// interruptBulk runs bulk over New-Mailbox rows, stops it with sig once a fifth of its
// journal is written, resumes it, and returns how many rows ran twice on the server.
func interruptBulk(t *testing.T, sig syscall.Signal, prefix string, rows int) (twice, unknown int) {
	_, dir := sharedEmulator(t)
	home := t.TempDir()
	if _, errOut, code := run(t, home, "", "connect", "--emulator", dir); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	csvPath := bulkRows(t, prefix, rows)
	journal := csvPath + ".exoctl-journal"
	args := []string{"bulk", "--csv", csvPath, "--parallel", "4", "--", "New-Mailbox -Shared -Name {Name}"}
	p := exoctl(t, home, "", args...)
	waitFor(t, "the journal to fill", func() bool { return lineCount(journal) > rows/5 })
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t)
	first := p.stdout.String()
	switch sig {
	case syscall.SIGKILL:
		if code != -1 {
			t.Errorf("kill -9: exit %d", code)
		}
	default:
		if code != 130 {
			t.Errorf("%v: exit %d, want 130; stderr:\n%s", sig, code, p.stderr.String())
		}
		if e := p.stderr.String(); !strings.Contains(e, fmt.Sprintf("%d rows: ", rows)) || !strings.Contains(e, "run the same command again") {
			t.Errorf("%v: no summary on stderr:\n%s", sig, e)
		}
	}
	if n, _ := ranTwice(t, first); n != 0 {
		t.Fatalf("the first run already ran %d rows twice", n)
	}

	out, errOut, code := run(t, home, "", args...)
	twice, st := ranTwice(t, out)
	unknown = strings.Count(out, "the outcome is unknown")
	if st["ok"] == 0 || st["ok"]+st["skipped"] != rows {
		t.Errorf("resume: %v (exit %d)\n%s", st, code, errOut)
	}
	if unknown > 0 && (code != 1 || !strings.Contains(errOut, "--retry-unknown")) {
		t.Errorf("resume with %d unknown rows: exit %d, stderr:\n%s", unknown, code, errOut)
	}
	return twice, unknown
}

// TestBulkInterruptedRunsNoRowTwice stops bulk with a real signal and resumes it; the
// measures (rows run twice, rows left unknown) are logged.
func TestBulkInterruptedRunsNoRowTwice(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		sig  syscall.Signal
		rows int
	}{
		{"kill-9", syscall.SIGKILL, measureRows},
		{"ctrl-c", syscall.SIGINT, measureRows},
		{"sigterm", syscall.SIGTERM, measureRows / 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			twice, unknown := interruptBulk(t, c.sig, c.name, c.rows)
			t.Logf("%s over %d rows: %d rows ran twice, %d unknown", c.name, c.rows, twice, unknown)
			if twice != 0 {
				t.Errorf("%d rows ran twice", twice)
			}
		})
	}
}

var (
	emuOnce sync.Once
	emu     *emulator.Emulator
	emuDir  string
	emuErr  error
)

func sharedEmulator(t *testing.T) (*emulator.Emulator, string) {
	t.Helper()
	emuOnce.Do(func() {
		emuDir, emuErr = os.MkdirTemp("", "exoctl-main-test-")
		if emuErr == nil {
			emu, emuErr = emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: emuDir})
		}
	})
	if emuErr != nil {
		t.Fatal(emuErr)
	}
	return emu, emuDir
}

// hangingService answers the first page of a cmdlet and never the next one.
func hangingService(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	var srv *httptest.Server
	stop := make(chan struct{})
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.Contains(r.URL.RawQuery, "page=2") || r.Header.Get("X-CmdletName") == "Set-Mailbox" {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"value":[{"Name":"first-page-record"}],"@odata.nextLink":"%s/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand?page=2"}`, srv.URL)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

// accessToken is an unsigned token for a tenant, valid for an hour.
func accessToken() string {
	claims, _ := json.Marshal(map[string]any{"tid": "4c9f2b7e-81d3-4a56-9e0c-5b7d3f1a2c68", "exp": time.Now().Add(time.Hour).Unix(),
		"aud": "https://outlook.office365.com", "appid": "00000000-0000-0000-0000-000000000001"})
	return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
}

func TestRunCtrlCFlushesAndExits130(t *testing.T) {
	t.Parallel()
	srv, ca := hangingService(t)
	home := t.TempDir()
	if _, errOut, code := run(t, home, accessToken()+"\n", "connect", "--access-token-stdin", "--organization", "contoso.onmicrosoft.com",
		"--connection-uri", srv.URL, "--ca-file", ca); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	p := exoctl(t, home, "", "run", "-o", "ndjson", "Get-Mailbox", "-ResultSize", "Unlimited")
	var out string
	waitFor(t, "the first page", func() bool {
		out = p.stdout.String()
		return strings.Contains(out, "first-page-record")
	})
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 130 {
		t.Errorf("exit %d, want 130; stderr:\n%s", code, p.stderr.String())
	}
	if !strings.Contains(p.stdout.String(), "first-page-record") || !strings.Contains(p.stderr.String(), "interrupted") {
		t.Errorf("stdout %q, stderr %q", p.stdout.String(), p.stderr.String())
	}
}

func TestSecondCtrlCStopsAtOnce(t *testing.T) {
	t.Parallel()
	srv, ca := hangingService(t)
	home := t.TempDir()
	if _, errOut, code := run(t, home, accessToken()+"\n", "connect", "--access-token-stdin", "--organization", "contoso.onmicrosoft.com",
		"--connection-uri", srv.URL, "--ca-file", ca); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	// A bulk row that never ends: the first Ctrl-C waits up to --grace (an hour), the second
	// does not.
	csvPath := filepath.Join(t.TempDir(), "rows.csv")
	if err := os.WriteFile(csvPath, []byte("Name\nx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := exoctl(t, home, "", "bulk", "--csv", csvPath, "--grace", "1h", "--", "Set-Mailbox -Identity {Name} -CustomAttribute1 x")
	waitFor(t, "the row to start", func() bool { return lineCount(csvPath+".exoctl-journal") >= 2 })
	_ = p.cmd.Process.Signal(os.Interrupt)
	waitFor(t, "bulk to say it waits", func() bool { return strings.Contains(p.stderr.String(), "Ctrl-C again") })
	_ = p.cmd.Process.Signal(os.Interrupt)
	if code := p.wait(t); code != 130 {
		t.Errorf("exit %d, want 130; stderr:\n%s", code, p.stderr.String())
	}
	// The row had started: the next run says its outcome is unknown and does not run it.
	_, errOut, code := run(t, home, "", "bulk", "--csv", csvPath, "--", "Set-Mailbox -Identity {Name} -CustomAttribute1 x")
	if code != 1 || !strings.Contains(errOut, "--retry-unknown") || !strings.Contains(errOut, "0 ok, 0 failed, 1 skipped") {
		t.Errorf("after two Ctrl-C: exit %d\n%s", code, errOut)
	}
}
