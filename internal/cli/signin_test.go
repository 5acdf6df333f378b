package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/connection"
	"github.com/exoctl/exoctl/emulator"
)

// seededUser returns the password of a user the emulator seeded.
func seededUser(t *testing.T, dir, upn string) string {
	t.Helper()
	info, err := emulator.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range info.Tenants {
		for _, u := range tn.Users {
			if strings.EqualFold(u.UPN, upn) {
				return u.Password
			}
		}
	}
	t.Fatalf("emulator.json lists no user %s", upn)
	return ""
}

// userConnect signs a user in to the shared emulator with the password on standard input.
func userConnect(t *testing.T, c *cli, upn, password string, extra ...string) (stderr string, code int) {
	t.Helper()
	_, dir := startEmulator(t)
	args := append([]string{"connect", "--emulator", dir, "--upn", upn, "--password-stdin"}, extra...)
	_, stderr, code = c.run(password+"\n", args...)
	return stderr, code
}

func onlyProfile(t *testing.T, c *cli) *connection.Profile {
	t.Helper()
	ps, err := testConnections(t, c).List()
	if err != nil || len(ps) != 1 {
		t.Fatalf("want one saved connection, got %d (%v)", len(ps), err)
	}
	return ps[0]
}

func TestSignInWithPassword(t *testing.T) {
	_, dir := startEmulator(t)
	const upn = "admin@contoso.onmicrosoft.com"
	pw := seededUser(t, dir, upn)
	c := newCLI(t)
	errOut, code := userConnect(t, c, upn, pw)
	if code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	if !strings.Contains(errOut, "as "+upn) {
		t.Errorf("connect says: %s", errOut)
	}
	golden(t, "accepted-domains.txt", c.ok("run", "Get-AcceptedDomain"))

	// A new command, no password: the encrypted cache answers.
	if out, errOut, code := c.run("", "run", "-o", "json", "Get-AcceptedDomain"); code != 0 || !strings.Contains(out, "contoso") {
		t.Fatalf("second run: exit %d, %s", code, errOut)
	}
	tok := strings.TrimSpace(c.ok("token"))
	if claims, err := auth.ParseClaims(tok); err != nil || claims.User() != upn || claims.AppID != auth.ModuleAppID {
		t.Errorf("token claims: %+v (%v)", claims, err)
	}

	var conns []map[string]any
	if err := json.Unmarshal([]byte(c.ok("connections", "-o", "json")), &conns); err != nil || len(conns) != 1 {
		t.Fatalf("connections: %v (%v)", conns, err)
	}
	if conns[0]["UserPrincipalName"] != upn || conns[0]["CertificateAuthentication"] != false || conns[0]["TenantID"] == "" {
		t.Errorf("Get-ConnectionInformation: %v", conns[0])
	}

	p := onlyProfile(t, c)
	if p.Method != connection.MethodPassword || p.UserPrincipalName != upn || p.HomeAccountID == "" || !strings.Contains(p.HomeAccountID, ".") {
		t.Errorf("profile: method %q upn %q home account %q", p.Method, p.UserPrincipalName, p.HomeAccountID)
	}
	// The password is nowhere in exoctl's folder (secrets.enc is encrypted, but holds none either).
	_ = filepath.Walk(c.home, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), pw) {
				t.Errorf("%s holds the password", path)
			}
		}
		return nil
	})
	sec, err := testConnections(t, c).Secrets(p)
	if err != nil || sec != (connection.Secrets{}) {
		t.Errorf("a user connection keeps secrets: %+v (%v)", sec, err)
	}
}

func TestSignInPasswordSources(t *testing.T) {
	_, dir := startEmulator(t)
	const upn = "megan.bowen@contoso.com"
	pw := seededUser(t, dir, upn)

	t.Run("credential-file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "pw.txt")
		if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c := newCLI(t)
		c.ok("connect", "--emulator", dir, "--upn", upn, "--credential-file", file)
		// Global Reader: read-only cmdlets work.
		var mbx []map[string]any
		if err := json.Unmarshal([]byte(c.ok("run", "-o", "json", "Get-Mailbox", "-ResultSize", "3")), &mbx); err != nil || len(mbx) != 3 {
			t.Errorf("Get-Mailbox as Global Reader: %d records (%v)", len(mbx), err)
		}
	})
	t.Run("env", func(t *testing.T) {
		c := newCLI(t)
		c.env["EXOCTL_PASSWORD"] = pw
		c.ok("connect", "--emulator", dir, "--upn", upn)
		if p := onlyProfile(t, c); p.Method != connection.MethodPassword {
			t.Errorf("method %q", p.Method)
		}
	})
	t.Run("explicit endpoints", func(t *testing.T) {
		info, err := emulator.ReadInfo(dir)
		if err != nil {
			t.Fatal(err)
		}
		c := newCLI(t)
		_, errOut, code := c.run(pw+"\n", "connect", "--upn", upn, "--password-stdin",
			"--connection-uri", info.ConnectionURI, "--authority", info.Authority, "--ca-file", info.CAFile)
		if code != 0 {
			t.Fatalf("connect: %s", errOut)
		}
		c.ok("run", "Get-AcceptedDomain")
	})
}

func TestSignInDelegatedOrganization(t *testing.T) {
	_, dir := startEmulator(t)
	const upn = "admin@contoso.onmicrosoft.com"
	c := newCLI(t)
	// The user's own tenant named as the delegated organization works as a plain connection
	// (partners' customers: TestPartnerDelegatedOrganizations).
	if errOut, code := userConnect(t, c, upn, seededUser(t, dir, upn), "--delegated-org", "contoso.onmicrosoft.com"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	p := onlyProfile(t, c)
	if p.DelegatedOrganization != "contoso.onmicrosoft.com" {
		t.Errorf("profile: %+v", p)
	}
	c.ok("run", "Get-AcceptedDomain")
	if e, code := userConnect(t, c, upn, seededUser(t, dir, upn), "--delegated-org", "fabrikam.onmicrosoft.com"); code == 0 || !strings.Contains(e, "90002") {
		t.Errorf("unknown customer tenant: %s", e)
	}
}

func TestSignInFailures(t *testing.T) {
	_, dir := startEmulator(t)
	cases := []struct {
		name, upn, password string
		want                []string
	}{
		{"wrong password", "admin@contoso.onmicrosoft.com", "not-the-Password-1", []string{"50126", "password"}},
		{"mfa", "adele.vance@contoso.com", seededUser(t, dir, "adele.vance@contoso.com"), []string{"multi-factor", "--device"}},
		{"disabled", "alex.wilber@contoso.com", seededUser(t, dir, "alex.wilber@contoso.com"), []string{"50057", "disabled"}},
		{"unknown user", "nobody@contoso.com", "whatever-1", []string{"50034", "nobody@contoso.com"}},
		{"unknown domain", "nobody@fabrikam.example", "whatever-1", []string{"does not know the domain"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			errOut, code := userConnect(t, c, tc.upn, tc.password)
			if code == 0 {
				t.Fatal("connect succeeded")
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("error is not one line:\n%s", errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("error %q does not mention %q", errOut, w)
				}
			}
			if strings.Contains(errOut, tc.password) {
				t.Errorf("the password is in the output: %s", errOut)
			}
			if ps, _ := testConnections(t, c).List(); len(ps) != 0 {
				t.Errorf("a failed sign-in left %d connections", len(ps))
			}
		})
	}
}

func TestSignInNoPowerShell(t *testing.T) {
	_, dir := startEmulator(t)
	const upn = "lee.gu@contoso.com"
	c := newCLI(t)
	// As Connect-ExchangeOnline: the connect itself fails, when it loads the cmdlet catalog.
	errOut, code := userConnect(t, c, upn, seededUser(t, dir, upn))
	if code == 0 || !strings.Contains(errOut, "RemotePowerShellEnabled") {
		t.Errorf("connect of a user not enabled for PowerShell: exit %d: %s", code, errOut)
	}
	if out := c.ok("connections"); strings.Contains(out, upn) {
		t.Errorf("the refused connection was saved:\n%s", out)
	}
}

func TestSignInExpiredNeverPrompts(t *testing.T) {
	_, dir := startEmulator(t)
	const upn = "admin@contoso.onmicrosoft.com"
	c := newCLI(t)
	if errOut, code := userConnect(t, c, upn, seededUser(t, dir, upn)); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	// Tokens gone (expired, revoked, cache deleted): run says to connect again, and waits for nobody.
	p := onlyProfile(t, c)
	if err := os.Remove(filepath.Join(testConnections(t, c).Dir(p.ConnectionID), "tokens.cache")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"run", "Get-AcceptedDomain"}, {"token"}} {
		e := c.fails(args...)
		if !strings.Contains(e, "sign-in of "+upn) || !strings.Contains(e, "exoctl connect") {
			t.Errorf("%s: %s", args[0], e)
		}
	}
}

func TestSignInFlagErrors(t *testing.T) {
	_, dir := startEmulator(t)
	c := newCLI(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"connect", "--emulator", dir, "--password-stdin"}, "--upn"},
		{[]string{"connect", "--emulator", dir, "--upn", "a@contoso.com", "--password-stdin", "--device"}, "choose one"},
		{[]string{"connect", "--emulator", dir, "--inline-credential"}, "terminal"},
		{[]string{"connect", "--upn", "a@contoso.com", "--password-stdin", "--certificate", "x.pem", "--app-id", "x"}, "exclude each other"},
		{[]string{"connect"}, "say how to sign in"},
	}
	for _, tc := range cases {
		if e := c.fails(tc.args...); !strings.Contains(e, tc.want) {
			t.Errorf("exoctl %s: %s (want %q)", strings.Join(tc.args, " "), e, tc.want)
		}
	}
	// Empty stdin is an empty password, refused before any request.
	if _, e, code := c.run("", "connect", "--emulator", dir, "--upn", "admin@contoso.onmicrosoft.com", "--password-stdin"); code == 0 || !strings.Contains(e, "empty") {
		t.Errorf("empty password: %s", e)
	}
}

// streamWriter is a command's error stream that a test can watch while the command runs.
type streamWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes chan string // each write, until close
	closed bool
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		select {
		case w.writes <- string(p):
		default:
		}
	}
	return w.buf.Write(p)
}

func (w *streamWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.writes)
	}
}

func (w *streamWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// runWatched runs a command whose error stream play watches, as a user reading the terminal.
func (c *cli) runWatched(play func(stderr <-chan string), args ...string) (stderr string, code int) {
	c.t.Helper()
	var out bytes.Buffer
	errOut := &streamWriter{writes: make(chan string, 64)}
	f := &Factory{
		IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: errOut},
		Getenv: func(k string) string {
			if k == "EXOCTL_HOME" {
				return c.home
			}
			return c.env[k]
		},
	}
	f.Logger = newWarnLogger(errOut, false)
	done := make(chan struct{})
	go func() {
		defer close(done)
		play(errOut.writes)
	}()
	// A user who never comes fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = Main(ctx, f, args)
	errOut.close() // a player still waiting gives up
	<-done
	return errOut.String(), code
}

var (
	deviceMessageRe = regexp.MustCompile(`^To sign in, use a web browser to open the page (https://\S+) and enter the code (\S+) to authenticate\.\n$`)
	signInURLRe     = regexp.MustCompile(`(https://\S+/oauth2/v2\.0/authorize\?\S+)`)
)

func TestSignInDevice(t *testing.T) {
	e, dir := startEmulator(t)
	const upn = "adele.vance@contoso.com" // MFA: the device flow satisfies it
	c := newCLI(t)
	var playErr error
	errOut, code := c.runWatched(func(stderr <-chan string) {
		for w := range stderr {
			// The service's message, word for word, on a line of its own.
			if m := deviceMessageRe.FindStringSubmatch(w); m != nil {
				b := emulator.User{Client: e.HTTPClient(), UPN: upn, Password: seededUser(t, dir, upn),
					TOTPSecret: userTOTP(t, e, upn), UserCode: m[2]}
				_, playErr = b.SignIn(m[1])
				return
			}
		}
	}, "connect", "--emulator", dir, "--device")
	if playErr != nil {
		t.Fatalf("device page: %v", playErr)
	}
	if code != 0 {
		t.Fatalf("connect --device: %s", errOut)
	}
	p := onlyProfile(t, c)
	if p.Method != connection.MethodDevice || p.UserPrincipalName != upn || p.HomeAccountID == "" {
		t.Errorf("profile: %+v", p)
	}
	c.ok("run", "Get-AcceptedDomain")
}

func TestSignInBrowser(t *testing.T) {
	e, dir := startEmulator(t)
	const upn = "admin@contoso.onmicrosoft.com"
	c := newCLI(t)
	var playErr error
	errOut, code := c.runWatched(func(stderr <-chan string) {
		for w := range stderr {
			if m := signInURLRe.FindStringSubmatch(w); m != nil {
				b := emulator.User{Client: e.HTTPClient(), UPN: upn, Password: seededUser(t, dir, upn)}
				_, playErr = b.SignIn(m[1])
				return
			}
		}
	}, "connect", "--emulator", dir, "--upn", upn, "--no-browser")
	if playErr != nil {
		t.Fatalf("browser: %v", playErr)
	}
	if code != 0 {
		t.Fatalf("connect --no-browser: %s", errOut)
	}
	if p := onlyProfile(t, c); p.Method != connection.MethodInteractive || p.UserPrincipalName != upn {
		t.Errorf("profile: %+v", p)
	}
	c.ok("run", "Get-AcceptedDomain")
}

func userTOTP(t *testing.T, e *emulator.Emulator, upn string) string {
	t.Helper()
	for _, tn := range e.Info.Tenants {
		if u, err := e.Store().User(context.Background(), tn.ID, upn); err == nil {
			return u.TOTPSecret
		}
	}
	t.Fatalf("no user %s", upn)
	return ""
}

func TestSignInRevokedSaysWhy(t *testing.T) {
	// What the auth package returns when Entra ID refuses the refresh (TestPublicRevoked).
	err := fmt.Errorf("connect to https://outlook.office365.com: %w", fmt.Errorf("%w: %w", auth.ErrSignInRequired,
		&auth.EntraError{Code: "invalid_grant", AADSTS: 50057, Description: "AADSTS50057: The user account is disabled."}))
	p := &connection.Profile{ID: 3, UserPrincipalName: "diego.siciliani@contoso.com"}
	msg := connection.SignInExpired(err, p).Error()
	for _, want := range []string{"sign-in of diego.siciliani@contoso.com (connection 3)", "50057", "disabled", "exoctl connect again"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not mention %q", msg, want)
		}
	}
	if !errors.Is(connection.SignInExpired(err, p), auth.ErrSignInRequired) {
		t.Error("the cause is lost")
	}
}

// testConnections opens the saved connections of a test's exoctl folder.
func testConnections(t *testing.T, c *cli) *connection.Store {
	t.Helper()
	st, err := connection.Open(c.home, connection.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
