package conformance

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoctl/exoctl/emulator"
)

// inCI reports whether .ci/run runs the tests: a client that cannot run then fails the test.
func inCI() bool { return os.Getenv("EXOCTL_CI") == "1" }

// missing skips (or, in CI, fails) a test whose client is not installed.
func missing(t *testing.T, what string) {
	t.Helper()
	if inCI() {
		t.Fatalf("%s is not installed; .ci/run installs it (EXOCTL_CI=1 means it must)", what)
	}
	t.Skipf("%s is not installed (.ci/run installs it)", what)
}

var (
	emuOnce sync.Once
	emu     *emulator.Emulator
	emuDir  string
	emuErr  error
	port443 bool // a TLS front of the emulator listens on 127.0.0.1:443
)

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

// start returns the package's emulator (one for all clients; each test only reads or makes
// its own objects) and, where it can bind, a front on 127.0.0.1:443: MSAL Python 1.21 drops the
// authority's port in its user-realm lookup (https://{host}/common/userrealm/...), so its
// username/password step needs the emulator on 443 too.
func start(t *testing.T) *emulator.Emulator {
	t.Helper()
	emuOnce.Do(func() {
		if emuDir, emuErr = os.MkdirTemp("", "exoctl-conformance-"); emuErr != nil {
			return
		}
		emu, emuErr = emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: emuDir})
		if emuErr != nil {
			return
		}
		port443 = front443(emu, emuDir)
	})
	if emuErr != nil {
		t.Fatalf("start emulator: %v", emuErr)
	}
	return emu
}

// front443 serves the emulator's TLS certificate on 127.0.0.1:443 and forwards everything to
// it. It needs the right to bind 443 (root, as CI runs); false when it cannot.
func front443(e *emulator.Emulator, dir string) bool {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"))
	if err != nil {
		return false
	}
	ln, err := net.Listen("tcp", "127.0.0.1:443")
	if err != nil {
		return false
	}
	target, _ := url.Parse(e.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = e.HTTPClient().Transport
	srv := &http.Server{Handler: rp, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return true
}

// clientConfig is what the Python and Node step scripts read: the emulator's URLs and seeded
// credentials, as a user would copy them from emulator.json.
type clientConfig struct {
	Base           string            `json:"base"`
	CAFile         string            `json:"ca_file"`
	Tenant         string            `json:"tenant"`
	TenantID       string            `json:"tenant_id"`
	AppID          string            `json:"app_id"`
	CertPEM        string            `json:"cert_pem"`     // app-cert.pem
	KeyPEM         string            `json:"key_pem"`      // app-key.pem (PKCS#8)
	CertAndKeyPEM  string            `json:"cert_key_pem"` // both, for clients that take one file
	Thumbprint     string            `json:"thumbprint"`   // SHA-1, hex
	ThumbprintS256 string            `json:"thumbprint_sha256"`
	ModuleAppID    string            `json:"module_app_id"`
	Exchange       string            `json:"exchange_resource"`
	Compliance     string            `json:"compliance_resource"`
	Users          map[string]string `json:"users"`     // role -> UPN
	Passwords      map[string]string `json:"passwords"` // UPN -> password
	RedirectURI    string            `json:"redirect_uri"`
	Port443        bool              `json:"port443"`
	MI             map[string]string `json:"managed_identity"`
}

// step is one line a step script prints: a result, or an event the harness answers.
type step struct {
	Step   string `json:"step"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Events: device_code (the harness approves it as the user) and authorize (the harness
	// signs in at url and answers with the redirect's parameters on stdin).
	Event    string `json:"event"`
	UserCode string `json:"user_code"`
	URL      string `json:"url"`
	UPN      string `json:"upn"`
}

// runSteps runs a step script and turns each printed step into a subtest.
func runSteps(t *testing.T, e *emulator.Emulator, cfg clientConfig, name string, args ...string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.json")
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, append(args, cfgPath)...)
	cmd.Env = append(os.Environ(),
		"REQUESTS_CA_BUNDLE="+cfg.CAFile, "NODE_EXTRA_CA_CERTS="+cfg.CAFile, "SSL_CERT_FILE="+cfg.CAFile,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost", "HTTPS_PROXY=", "https_proxy=",
		"AZURE_IDENTITY_DISABLE_CP1=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	steps := 0
	for sc.Scan() {
		var s step
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Logf("%s: %s", name, sc.Text())
			continue
		}
		switch s.Event {
		case "device_code":
			go approveDevice(t, e, cfg, s.UserCode, s.UPN)
			continue
		case "authorize":
			q, err := signIn(e, cfg, s.URL, s.UPN)
			reply := map[string]any{"query": q}
			if err != nil {
				reply = map[string]any{"error": err.Error()}
			}
			rb, _ := json.Marshal(reply)
			fmt.Fprintf(stdin, "%s\n", rb)
			continue
		}
		steps++
		st := s
		t.Run(fmt.Sprintf("%02d %s", steps, st.Step), func(t *testing.T) {
			if !st.OK {
				t.Error(st.Detail)
			}
		})
	}
	stdin.Close()
	err := cmd.Wait()
	if err != nil || steps == 0 {
		t.Errorf("%s ended (%v) after %d steps:\n%s", name, err, steps, stderr.String())
	}
}

// approveDevice plays the user on the device login page.
func approveDevice(t *testing.T, e *emulator.Emulator, cfg clientConfig, userCode, upn string) {
	if upn == "" {
		upn = cfg.Users["admin"]
	}
	u := &emulator.User{Client: e.HTTPClient(), UPN: upn, Password: cfg.Passwords[upn], UserCode: userCode}
	if _, err := u.SignIn(e.URL + "/common/oauth2/deviceauth"); err != nil {
		t.Errorf("approve device code %s: %v", userCode, err)
	}
}

// signIn plays the user on the authorize URL and returns the parameters the emulator sent to
// the redirect URI (query or form_post), caught by a loopback listener on its port.
func signIn(e *emulator.Emulator, cfg clientConfig, authURL, upn string) (map[string]string, error) {
	if upn == "" {
		upn = cfg.Users["admin"]
	}
	ru, err := url.Parse(cfg.RedirectURI)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+ru.Port())
	if err != nil {
		return nil, err
	}
	got := make(chan map[string]string, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		m := map[string]string{}
		for k := range r.Form {
			m[k] = r.Form.Get(k)
		}
		select {
		case got <- m:
		default:
		}
		io.WriteString(w, "signed in")
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	u := &emulator.User{Client: e.HTTPClient(), UPN: upn, Password: cfg.Passwords[upn]}
	if _, err := u.SignIn(authURL); err != nil {
		return nil, err
	}
	select {
	case m := <-got:
		return m, nil
	case <-time.After(10 * time.Second):
		return nil, errors.New("the sign-in never reached the redirect URI")
	}
}

// config builds the step scripts' configuration from emulator.json.
func config(t *testing.T, e *emulator.Emulator, redirectPort int) clientConfig {
	t.Helper()
	tn := e.Info.Tenants[0]
	app := tn.Apps[0]
	dir := filepath.Dir(e.Info.CAFile)
	certPEM, keyPEM := filepath.Join(dir, "app-cert.pem"), filepath.Join(dir, "app-key.pem")
	both := filepath.Join(t.TempDir(), "app-cert-and-key.pem")
	cb, err := os.ReadFile(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := os.ReadFile(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(both, append(cb, kb...), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := clientConfig{
		Base: e.URL, CAFile: e.Info.CAFile, Tenant: tn.Name, TenantID: tn.ID, AppID: app.AppID,
		CertPEM: certPEM, KeyPEM: keyPEM, CertAndKeyPEM: both, Thumbprint: app.Thumbprint, ThumbprintS256: thumbprintS256(t, cb),
		ModuleAppID: "fb78d390-0c51-40cd-8e17-fdbfab77341b", Exchange: "https://outlook.office365.com",
		Compliance: "https://ps.compliance.protection.outlook.com", Users: map[string]string{}, Passwords: map[string]string{},
		RedirectURI: fmt.Sprintf("http://localhost:%d", redirectPort), Port443: port443,
		MI: map[string]string{
			"app_service_endpoint": e.Info.ManagedIdentity.AppServiceEndpoint, "identity_header": e.Info.ManagedIdentity.IdentityHeader,
			"cloud_shell_endpoint": e.Info.ManagedIdentity.CloudShellEndpoint, "cloud_shell_user": e.Info.ManagedIdentity.CloudShellUser,
			"arc_endpoint": e.Info.ManagedIdentity.ArcEndpoint, "arc_imds_endpoint": e.Info.ManagedIdentity.ArcIMDSEndpoint,
		},
	}
	for _, m := range tn.ManagedIdentities {
		if m.SystemAssigned {
			cfg.MI["system_client_id"] = m.ClientID
		} else if len(m.Roles) > 0 && cfg.MI["user_client_id"] == "" {
			cfg.MI["user_client_id"], cfg.MI["user_object_id"] = m.ClientID, m.ObjectID
		}
	}
	for _, u := range tn.Users {
		cfg.Passwords[u.UPN] = u.Password
		d := strings.ToLower(u.Description)
		switch {
		case strings.Contains(d, "mfa"):
			cfg.Users["mfa"] = u.UPN
		case strings.Contains(d, "disabled"):
			cfg.Users["disabled"] = u.UPN
		case strings.Contains(d, "remotepowershellenabled"):
			cfg.Users["noshell"] = u.UPN
		case d == "exchange administrator":
			cfg.Users["admin"] = u.UPN
		}
	}
	for _, k := range []string{"admin", "mfa", "disabled"} {
		if cfg.Users[k] == "" {
			t.Fatalf("emulator.json describes no %s user: %+v", k, tn.Users)
		}
	}
	return cfg
}
