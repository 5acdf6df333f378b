package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoctl/exoctl/emulator"
)

var update = flag.Bool("update", false, "rewrite golden files")

// emu is one emulator shared by the tests of this package (each test has its own EXOCTL_HOME).
var (
	emuOnce sync.Once
	emu     *emulator.Emulator
	emuDir  string
	emuErr  error
)

func startEmulator(t *testing.T) (*emulator.Emulator, string) {
	t.Helper()
	emuOnce.Do(func() {
		emuDir, emuErr = os.MkdirTemp("", "exoctl-cli-test-")
		if emuErr != nil {
			return
		}
		emu, emuErr = emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: emuDir})
	})
	if emuErr != nil {
		t.Fatalf("start emulator: %v", emuErr)
	}
	return emu, emuDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if emu != nil {
		_ = emu.Close()
	}
	if emuDir != "" {
		_ = os.RemoveAll(emuDir)
	}
	os.Exit(code)
}

// cli runs exoctl commands in-process with captured streams and its own EXOCTL_HOME.
type cli struct {
	t    *testing.T
	home string
	env  map[string]string
}

func newCLI(t *testing.T) *cli {
	// Never the developer's own keyring: tests use the key file.
	return &cli{t: t, home: t.TempDir(), env: map[string]string{"EXOCTL_KEYRING": "off"}}
}

func (c *cli) run(stdin string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	f := &Factory{
		IO: &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut},
		Getenv: func(k string) string {
			if k == "EXOCTL_HOME" {
				return c.home
			}
			return c.env[k]
		},
	}
	f.Logger = newWarnLogger(&errOut, false)
	f.StartEmulator = builtinEmulator
	code = Main(context.Background(), f, args)
	return out.String(), errOut.String(), code
}

func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run("", args...)
	if code != 0 {
		c.t.Fatalf("exoctl %s: exit %d\nstderr: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func (c *cli) fails(args ...string) string {
	c.t.Helper()
	_, errOut, code := c.run("", args...)
	if code == 0 {
		c.t.Fatalf("exoctl %s succeeded, want an error", strings.Join(args, " "))
	}
	if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		c.t.Errorf("exoctl %s: error should be one line, got:\n%s", strings.Join(args, " "), errOut)
	}
	return errOut
}

func connected(t *testing.T) *cli {
	_, dir := startEmulator(t)
	c := newCLI(t)
	c.ok("connect", "--emulator", dir)
	return c
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestEndToEnd(t *testing.T) {
	c := connected(t)

	golden(t, "accepted-domains.txt", c.ok("run", "Get-AcceptedDomain"))

	var mbx []map[string]any
	if err := json.Unmarshal([]byte(c.ok("run", "-o", "json", "Get-Mailbox", "-ResultSize", "5")), &mbx); err != nil {
		t.Fatal(err)
	}
	if len(mbx) != 5 {
		t.Fatalf("Get-Mailbox -ResultSize 5 gave %d records", len(mbx))
	}
	for k := range mbx[0] {
		if strings.Contains(k, "@") {
			t.Errorf("annotation %q leaked into output", k)
		}
	}

	// One mailbox by each kind of identity.
	name, _ := mbx[0]["Name"].(string)
	smtp, _ := mbx[0]["PrimarySmtpAddress"].(string)
	guid, _ := mbx[0]["Guid"].(string)
	for _, id := range []string{name, smtp, guid, strings.ToUpper(smtp)} {
		out := c.ok("run", "-o", "ndjson", "Get-Mailbox", "-Identity", id)
		if n := strings.Count(out, "\n"); n != 1 || !strings.Contains(out, smtp) {
			t.Errorf("Get-Mailbox -Identity %s: %d records:\n%s", id, n, out)
		}
	}

	all := c.ok("run", "-o", "ndjson", "Get-Mailbox", "-ResultSize", "Unlimited")
	lines := strings.Split(strings.TrimSpace(all), "\n")
	if len(lines) < 200 {
		t.Errorf("Get-Mailbox -ResultSize Unlimited: %d records, want the demo tenant's mailboxes", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("bad ndjson line %q: %v", l, err)
		}
		g, _ := r["Guid"].(string)
		if seen[g] {
			t.Errorf("mailbox %s twice", g)
		}
		seen[g] = true
	}

	var conns []map[string]any
	if err := json.Unmarshal([]byte(c.ok("connections", "-o", "json")), &conns); err != nil {
		t.Fatal(err)
	}
	if len(conns) != 1 || conns[0]["State"] != "Connected" || conns[0]["TokenStatus"] != "Active" ||
		!strings.HasPrefix(conns[0]["UserPrincipalName"].(string), "OAuthUser@") {
		t.Errorf("connections: %v", conns)
	}

	c.ok("disconnect", "--yes")
	if e := c.fails("run", "Get-AcceptedDomain"); !strings.Contains(e, "exoctl connect") {
		t.Errorf("run after disconnect: %s", e)
	}
}

func TestErrorsAreOneClearLine(t *testing.T) {
	c := connected(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "Get-Nothing"}, "Get-Nothing"},
		{[]string{"run", "Get-Mailbox", "-Identity", "nobody-here"}, "couldn't be found"},
		{[]string{"run", "Get-Mailbox", "-NoSuchParameter", "x"}, "NoSuchParameter"},
		{[]string{"run", "-o", "yaml", "Get-Mailbox"}, "json"},
		{[]string{"run", "-c", "42", "Get-Mailbox"}, "no connection"},
	}
	for _, tc := range cases {
		if e := c.fails(tc.args...); !strings.Contains(e, tc.want) {
			t.Errorf("exoctl %s: error %q does not mention %q", strings.Join(tc.args, " "), e, tc.want)
		}
	}
}

func TestConnectFailures(t *testing.T) {
	_, dir := startEmulator(t)
	info, err := emulator.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	app := info.Tenants[0].Apps[0]
	base := []string{"connect", "--app-id", app.AppID, "--connection-uri", info.ConnectionURI,
		"--authority", info.Authority, "--ca-file", info.CAFile}

	c := newCLI(t)
	c.env["EXOCTL_CERTIFICATE_PASSWORD"] = "wrong"
	if e := c.fails(append(base, "--organization", info.Tenants[0].Name, "--certificate-file", app.CertificateFile)...); !strings.Contains(e, "password") {
		t.Errorf("wrong PFX password: %s", e)
	}
	c.env["EXOCTL_CERTIFICATE_PASSWORD"] = app.CertificatePassword
	if e := c.fails(append(base, "--organization", "fabrikam.onmicrosoft.com", "--certificate-file", app.CertificateFile)...); !strings.Contains(e, "90002") {
		t.Errorf("unknown tenant: %s", e)
	}
	if e := c.fails("connect", "--app-id", app.AppID, "--organization", info.Tenants[0].Name); !strings.Contains(e, "certificate") {
		t.Errorf("no certificate: %s", e)
	}
	// The password from stdin works and nothing is left behind by the failures.
	_, errOut, code := c.run(app.CertificatePassword+"\n", append(base, "--organization", info.Tenants[0].Name, "--certificate-file", app.CertificateFile, "--certificate-password-stdin")...)
	if code != 0 {
		t.Fatalf("connect with the password on stdin: %s", errOut)
	}
	var conns []map[string]any
	if err := json.Unmarshal([]byte(c.ok("connections", "-o", "json")), &conns); err != nil || len(conns) != 1 {
		t.Fatalf("want exactly one saved connection, got %v (%v)", conns, err)
	}
	c.ok("run", "Get-OrganizationConfig")
}

func TestEmulatorNotRunning(t *testing.T) {
	dir := t.TempDir()
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	c.ok("connect", "--emulator", dir)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// The token is cached: the first call to the emulator is the cmdlet's.
	if msg := c.fails("run", "Get-AcceptedDomain"); !strings.Contains(msg, "exoctl emulator start") || !strings.Contains(msg, e.URL) {
		t.Errorf("emulator down, token cached: %s", msg)
	}
	// Drop cached tokens so the client must reach the emulator.
	st := testConnections(t, c)
	ps, _ := st.List()
	_ = os.Remove(filepath.Join(st.Dir(ps[0].ConnectionID), "tokens.cache"))
	if msg := c.fails("run", "Get-AcceptedDomain"); !strings.Contains(msg, "emulator") || !strings.Contains(msg, e.URL) {
		t.Errorf("emulator down: %s", msg)
	}
}

func TestCorruptTokenCacheIsMovedAside(t *testing.T) {
	c := connected(t)
	st := testConnections(t, c)
	ps, _ := st.List()
	path := filepath.Join(st.Dir(ps[0].ConnectionID), "tokens.cache")
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := c.run("", "run", "Get-AcceptedDomain")
	if code != 0 || !strings.Contains(errOut, "WARNING: token cache is corrupt") {
		t.Errorf("corrupt cache: exit %d, stderr %q", code, errOut)
	}
	matches, _ := filepath.Glob(path + ".corrupt-*")
	if len(matches) != 1 {
		t.Errorf("corrupt cache not moved aside: %v", matches)
	}
}

func TestStateFilesArePrivate(t *testing.T) {
	c := connected(t)
	err := filepath.Walk(c.home, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == c.home {
			return err
		}
		if fi.IsDir() && fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700", p, fi.Mode().Perm())
		}
		if !fi.IsDir() && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want 0600", p, fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnknownCertificateAndExpiredToken(t *testing.T) {
	_, dir := startEmulator(t)
	info, err := emulator.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A certificate the app does not know: a fresh self-signed one.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "stranger"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	pemFile := filepath.Join(t.TempDir(), "stranger.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
	if err := os.WriteFile(pemFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	e := c.fails("connect", "--app-id", info.Tenants[0].Apps[0].AppID, "--organization", info.Tenants[0].Name,
		"--certificate", pemFile, "--connection-uri", info.ConnectionURI, "--authority", info.Authority, "--ca-file", info.CAFile)
	if !strings.Contains(e, "700027") || !strings.Contains(e, "certificate") {
		t.Errorf("unknown certificate: %s", e)
	}

	// An expired token someone brought: refused up front with what to do.
	claims, _ := json.Marshal(map[string]any{"tid": info.Tenants[0].ID, "exp": time.Now().Add(-time.Minute).Unix()})
	tok := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
	_, errOut, code := c.run(tok+"\n", "connect", "--access-token-stdin", "--organization", info.Tenants[0].Name,
		"--connection-uri", info.ConnectionURI, "--ca-file", info.CAFile)
	if code == 0 || !strings.Contains(errOut, "expired") || !strings.Contains(errOut, "--access-token") {
		t.Errorf("expired token: exit %d, %s", code, errOut)
	}
}
