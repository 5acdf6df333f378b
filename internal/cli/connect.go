package cli

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/cloud"
	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/exo"
)

// ConnectOptions are Connect-ExchangeOnline's parameters as flags.
type ConnectOptions struct {
	AppID                 string
	Organization          string
	DelegatedOrganization string
	CertificateFile       string
	CertificatePEM        string
	CertificateThumbprint string
	PasswordStdin         bool
	PasswordFile          string
	AccessTokenStdin      bool
	Environment           string
	ConnectionURI         string
	AuthorityURI          string
	CAFile                string
	Prefix                string
	PageSize              int
	Emulator              bool
	EmulatorDir           string
	// Compliance connects to Security & Compliance PowerShell (Connect-IPPSSession).
	Compliance bool

	// User (delegated) sign-in.
	UPN               string
	UserPasswordStdin bool
	CredentialFile    string
	InlineCredential  bool
	Device            bool
	NoBrowser         bool

	// Managed identity (-ManagedIdentity, -ManagedIdentityAccountId).
	ManagedIdentity          bool
	ManagedIdentityAccountID string
}

// managedIdentity reports whether a flag asks for a managed identity.
func (o *ConnectOptions) managedIdentity() bool {
	return o.ManagedIdentity || o.ManagedIdentityAccountID != ""
}

// userSignIn reports whether a flag asks for a user (delegated) sign-in.
func (o *ConnectOptions) userSignIn() bool {
	return o.UPN != "" || o.UserPasswordStdin || o.CredentialFile != "" || o.InlineCredential || o.Device || o.NoBrowser
}

func newConnectCmd(f *Factory) *cobra.Command {
	o := &ConnectOptions{}
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Sign in to Exchange Online (Connect-ExchangeOnline) and save the connection",
		Long: `Sign in to Exchange Online and save the connection, like Connect-ExchangeOnline.

A user signs in to the module's own app (or a public app of yours with --app-id):
  - in the browser, the default on a terminal (--upn pre-fills the user name; --no-browser
    prints the address to open instead of starting a browser, and EXOCTL_BROWSER names the
    command that opens it); multi-factor sign-in works here;
  - with --device: open the address shown on any device and enter the code;
  - with a password (no MFA, no federated accounts): --password-stdin, --credential-file FILE
    (a file holding the password only, on its first line; the user name comes from --upn),
    EXOCTL_PASSWORD with --upn, or --inline-credential (asks for both at the terminal).
Passwords are never saved: later commands refresh the sign-in silently from the encrypted token
cache, and when that is no longer possible they ask you to run exoctl connect again.

App-only sign-in needs --app-id, --organization and a certificate: --certificate-file (PFX; its
password from --certificate-password-stdin, --certificate-password-file, EXOCTL_CERTIFICATE_PASSWORD
or a prompt), --certificate (PEM with certificate and key), or --certificate-thumbprint (looked up
in EXOCTL_CERTIFICATE_STORE, default $EXOCTL_HOME/certificates).

--emulator [DATA_DIR] connects to a running exoctl emulator with its seeded app, or with
--upn and any user sign-in above as one of its seeded users (emulator.json lists them).

--compliance connects to Security & Compliance PowerShell instead (Connect-IPPSSession), with
any sign-in above; --connection-uri then names the compliance endpoint.`,
		Example: `  exoctl connect --upn admin@contoso.onmicrosoft.com
  exoctl connect --device
  exoctl connect --upn admin@contoso.onmicrosoft.com --password-stdin < pw.txt
  exoctl connect --emulator
  exoctl connect --compliance --upn admin@contoso.onmicrosoft.com
  exoctl connect --app-id 8f5c... --organization contoso.onmicrosoft.com --certificate-file app.pfx --certificate-password-stdin < pw.txt
  exoctl connect --access-token-stdin --organization contoso.onmicrosoft.com < token.txt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("emulator") {
				o.Emulator = true
			}
			if len(args) == 1 {
				if !o.Emulator || strings.TrimSpace(o.EmulatorDir) != "" {
					return fmt.Errorf("unexpected argument %q: connect takes flags only (a folder only after --emulator)", args[0])
				}
				o.EmulatorDir = args[0]
			}
			return runConnect(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.AppID, "app-id", "", "application (client) id: the app of an app-only sign-in, or your own public app for a user sign-in")
	fl.StringVar(&o.UPN, "upn", "", "user to sign in (user principal name); the browser's login hint")
	fl.BoolVar(&o.UserPasswordStdin, "password-stdin", false, "read the user's password from standard input (needs --upn)")
	fl.StringVar(&o.CredentialFile, "credential-file", "", "file whose first line is the user's password (needs --upn)")
	fl.BoolVar(&o.InlineCredential, "inline-credential", false, "ask for the user name and password at the terminal")
	fl.BoolVar(&o.Device, "device", false, "sign in with a device code, on another device or browser")
	fl.BoolVar(&o.NoBrowser, "no-browser", false, "print the sign-in address instead of opening a browser")
	fl.BoolVar(&o.ManagedIdentity, "managed-identity", false, "sign in as this Azure host's managed identity (system-assigned unless --managed-identity-account-id)")
	fl.StringVar(&o.ManagedIdentityAccountID, "managed-identity-account-id", "", "user-assigned managed identity: client id, object id or resource id")
	fl.StringVar(&o.Organization, "organization", "", "tenant: GUID or domain such as contoso.onmicrosoft.com")
	fl.StringVar(&o.DelegatedOrganization, "delegated-org", "", "customer tenant managed as a partner")
	fl.StringVar(&o.CertificateFile, "certificate-file", "", "PFX file with the app's certificate and key")
	fl.StringVar(&o.CertificatePEM, "certificate", "", "PEM file with the app's certificate and key")
	fl.StringVar(&o.CertificateThumbprint, "certificate-thumbprint", "", "SHA-1 thumbprint of a certificate in the certificate store folder")
	fl.BoolVar(&o.PasswordStdin, "certificate-password-stdin", false, "read the certificate password from standard input")
	fl.StringVar(&o.PasswordFile, "certificate-password-file", "", "read the certificate password from a file")
	fl.BoolVar(&o.AccessTokenStdin, "access-token-stdin", false, "read an access token from standard input (-AccessToken)")
	fl.StringVar(&o.Environment, "environment", "", "O365Default, O365USGovGCCHigh, O365USGovDoD, O365GermanyCloud or O365China")
	fl.StringVar(&o.ConnectionURI, "connection-uri", "", "Exchange endpoint, overrides --environment (-ConnectionUri)")
	fl.StringVar(&o.AuthorityURI, "authority", "", "Entra ID authority, overrides --environment (-AzureADAuthorizationEndpointUri)")
	fl.StringVar(&o.CAFile, "ca-file", "", "PEM file of extra CA certificates to trust (emulator, TLS-inspecting proxy)")
	fl.StringVar(&o.Prefix, "prefix", "", "name for this connection, to pick it with --connection")
	fl.IntVar(&o.PageSize, "page-size", 0, "records per page, at most 1000")
	fl.BoolVar(&o.Compliance, "compliance", false, "connect to Security & Compliance PowerShell (Connect-IPPSSession)")
	fl.StringVar(&o.EmulatorDir, "emulator", "", "connect to the local emulator (its data folder, default $EXOCTL_HOME/emulator)")
	fl.Lookup("emulator").NoOptDefVal = " "
	return cmd
}

func runConnect(ctx context.Context, f *Factory, o *ConnectOptions) error {
	st, err := f.state()
	if err != nil {
		return err
	}
	opts := exo.Options{
		Environment:           o.Environment,
		ConnectionURI:         o.ConnectionURI,
		AuthorityURI:          o.AuthorityURI,
		Organization:          o.Organization,
		DelegatedOrganization: o.DelegatedOrganization,
		AppID:                 o.AppID,
		CAFile:                o.CAFile,
		PageSize:              o.PageSize,
		Logger:                f.Logger,
		Compliance:            o.Compliance,
	}
	p := &Profile{Method: "certificate", Prefix: o.Prefix, Compliance: o.Compliance}
	var sec secrets
	var signIn auth.UserSignIn // a user's sign-in, nil for app-only and brought tokens

	password := func() (string, error) {
		return readSecret(f, "certificate password", o.PasswordStdin, o.PasswordFile, "EXOCTL_CERTIFICATE_PASSWORD")
	}
	if o.Emulator {
		dir := strings.TrimSpace(o.EmulatorDir)
		if dir == "" {
			dir = filepath.Join(st.home, "emulator")
		}
		info, err := emulator.ReadInfo(dir)
		if err != nil {
			return err
		}
		if len(info.Tenants) == 0 || len(info.Tenants[0].Apps) == 0 {
			return fmt.Errorf("%s lists no tenant with an app: delete %s and start the emulator again", emulator.InfoFile, dir)
		}
		t, a := info.Tenants[0], info.Tenants[0].Apps[0]
		opts.ConnectionURI, opts.AuthorityURI, opts.CAFile = info.ConnectionURI, info.Authority, info.CAFile
		if o.Compliance && info.ComplianceURI != "" {
			opts.ConnectionURI = info.ComplianceURI
		}
		p.Emulator = true
		if o.managedIdentity() {
			opts.Organization = t.Name
			if o.Organization != "" {
				opts.Organization = o.Organization
			}
			if info.ManagedIdentity != nil {
				p.IMDSEndpoint = info.ManagedIdentity.IMDSEndpoint
			}
		} else if !o.userSignIn() {
			// No user named: the seeded app, app-only.
			opts.Organization, opts.AppID = t.Name, a.AppID
			if o.Organization != "" {
				opts.Organization = o.Organization
			}
			o.CertificateFile = a.CertificateFile
			password = func() (string, error) { return a.CertificatePassword, nil }
		}
	}

	if o.userSignIn() && (o.AccessTokenStdin || o.CertificateFile != "" || o.CertificatePEM != "" || o.CertificateThumbprint != "") {
		return errors.New("a user sign-in (--upn, --device, a password) and an app certificate or brought token exclude each other: choose one")
	}
	if o.managedIdentity() && (o.userSignIn() || o.AccessTokenStdin || o.CertificateFile != "" || o.CertificatePEM != "" || o.CertificateThumbprint != "") {
		return errors.New("a managed identity signs in by itself: drop the user, certificate and token flags")
	}
	switch {
	case o.managedIdentity():
		if opts.Organization == "" {
			return errors.New("a managed identity needs --organization (the tenant's GUID or a domain such as contoso.onmicrosoft.com)")
		}
		p.Method, p.ManagedIdentityAccountID = methodManagedIdentity, o.ManagedIdentityAccountID
		if opts.Credential, err = newManagedIdentitySource(f, &opts, p); err != nil {
			return err
		}
	case o.AccessTokenStdin:
		tok, err := readSecret(f, "access token", true, "", "")
		if err != nil {
			return err
		}
		opts.AccessToken, sec.AccessToken, p.Method = tok, tok, "access-token"
	case o.CertificateFile != "" || o.CertificatePEM != "" || o.CertificateThumbprint != "":
		if opts.AppID == "" {
			return errors.New("a certificate signs in an app: give --app-id too")
		}
		var cert auth.Certificate
		switch {
		case o.CertificateFile != "":
			pw, perr := password()
			if perr != nil {
				// A PFX may have no password; only then is a missing one fine.
				if cert, err = auth.LoadCertificate(o.CertificateFile, ""); err != nil {
					return perr
				}
				break
			}
			if cert, err = auth.LoadCertificate(o.CertificateFile, pw); err != nil {
				return err
			}
		case o.CertificatePEM != "":
			if cert, err = auth.LoadPEM(o.CertificatePEM, ""); err != nil {
				return err
			}
		default:
			dir := f.Getenv("EXOCTL_CERTIFICATE_STORE")
			if dir == "" {
				dir = filepath.Join(st.home, "certificates")
			}
			pw := f.Getenv("EXOCTL_CERTIFICATE_PASSWORD")
			if cert, err = auth.FindCertificate(dir, o.CertificateThumbprint, pw); err != nil {
				return err
			}
		}
		opts.Certificate = &cert
		if sec.CertificatePEM, err = certificatePEM(cert); err != nil {
			return err
		}
		p.CertificateThumbprint = cert.Thumbprint()
	case o.userSignIn() || f.IO.Interactive:
		if signIn, err = userSignIn(f, o); err != nil {
			return err
		}
		p.Method = userMethod(signIn)
	case opts.AppID != "":
		return errors.New("app-only sign-in needs a certificate: --certificate-file, --certificate or --certificate-thumbprint (or --upn, --device or a password flag to sign a user in to this public app)")
	default:
		return errors.New("say how to sign in: --upn with --password-stdin or --credential-file, --device, --app-id with a certificate, --access-token-stdin, or --emulator (browser sign-in needs a terminal)")
	}

	// The sign-in runs outside the state lock: a user may take minutes in the browser or on
	// another device, and other connects and disconnects must not wait. The connection's
	// folder, named by its ConnectionId, holds no profile until save, so nobody lists it yet.
	p.ConnectionID = uuid.NewString()
	opts.ConnectionID = p.ConnectionID
	cache, err := st.tokenCache(p, f)
	if err != nil {
		return err
	}
	opts.TokenCache = cache
	var cred *auth.PublicSource
	if signIn != nil {
		if cred, err = newUserSource(&opts, p, signIn); err != nil {
			_ = st.remove(p)
			return err
		}
		opts.Credential = cred
		if p.Method != methodPassword {
			// Device and browser sign-in wait for the user: Ctrl-C cancels them cleanly.
			var stop context.CancelFunc
			ctx, stop = signal.NotifyContext(ctx, os.Interrupt)
			defer stop()
		}
	}
	s, err := exo.Connect(ctx, opts)
	if err != nil {
		_ = st.remove(p)
		return connectHint(err, p, opts.ConnectionURI)
	}
	info := s.Info()
	if cred != nil {
		p.HomeAccountID, _ = cred.Account()
	}
	unlock, err := st.lock()
	if err != nil {
		_ = st.remove(p)
		return err
	}
	defer unlock()
	if p.ID, err = st.nextID(); err != nil {
		_ = st.remove(p)
		return err
	}
	p.Environment, p.ConnectionURI, p.AuthorityURI, p.CAFile = o.Environment, opts.ConnectionURI, opts.AuthorityURI, opts.CAFile
	p.Organization, p.DelegatedOrganization, p.AppID = opts.Organization, opts.DelegatedOrganization, opts.AppID
	p.PageSize, p.UserPrincipalName, p.TenantID = opts.PageSize, info.UserPrincipalName, info.TenantID
	p.TokenExpiry, p.ConnectedAt = info.TokenExpiryTimeUTC, time.Now().UTC()
	if err := st.save(p, sec); err != nil {
		_ = st.remove(p)
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Connected to %s as %s (tenant %s). Connection %d, id %s.\n", info.ConnectionURI, info.UserPrincipalName, info.TenantID, p.ID, p.ConnectionID)
	return nil
}

// openSession reconnects a saved connection silently (tokens from the cache).
func openSession(ctx context.Context, f *Factory, sel string) (*exo.Session, *Profile, error) {
	st, err := f.state()
	if err != nil {
		return nil, nil, err
	}
	p, err := st.find(sel)
	if err != nil {
		return nil, nil, err
	}
	sec, err := st.secrets(p)
	if err != nil {
		return nil, p, err
	}
	opts := exo.Options{
		Environment: p.Environment, ConnectionURI: p.ConnectionURI, AuthorityURI: p.AuthorityURI,
		Organization: p.Organization, DelegatedOrganization: p.DelegatedOrganization, AppID: p.AppID,
		CAFile: p.CAFile, PageSize: p.PageSize, ConnectionID: p.ConnectionID, Logger: f.Logger,
		AccessToken: sec.AccessToken, Compliance: p.Compliance,
	}
	if sec.CertificatePEM != "" {
		cert, err := auth.ParsePEM([]byte(sec.CertificatePEM), "")
		if err != nil {
			return nil, p, fmt.Errorf("connection %d: stored certificate unreadable (%w): connect again", p.ID, err)
		}
		opts.Certificate = &cert
	}
	if opts.TokenCache, err = st.tokenCache(p, f); err != nil {
		return nil, p, err
	}
	if isUserMethod(p.Method) {
		// Silent only: a script never gets a browser or a prompt.
		if opts.Credential, err = newUserSource(&opts, p, nil); err != nil {
			return nil, p, err
		}
	}
	if p.Method == methodManagedIdentity {
		if opts.Credential, err = newManagedIdentitySource(f, &opts, p); err != nil {
			return nil, p, err
		}
	}
	s, err := exo.Connect(ctx, opts)
	if err != nil {
		if errors.Is(err, auth.ErrSignInRequired) {
			return nil, p, signInExpired(err, p)
		}
		return nil, p, connectHint(err, p, p.ConnectionURI)
	}
	return s, p, nil
}

// methodManagedIdentity is Profile.Method for an Azure managed identity.
const methodManagedIdentity = "managed-identity"

// newManagedIdentitySource builds the managed identity source of a connection. Against the
// emulator, what MSAL sends to the IMDS address goes to the emulator instead.
func newManagedIdentitySource(f *Factory, o *exo.Options, p *Profile) (*auth.ManagedIdentitySource, error) {
	if o.HTTPClient == nil {
		hc, err := exo.HTTPClient(o.CAFile)
		if err != nil {
			return nil, err
		}
		o.HTTPClient = hc
	}
	return auth.NewManagedIdentitySource(auth.ManagedIdentityConfig{
		AccountID: p.ManagedIdentityAccountID, HTTPClient: o.HTTPClient, IMDSEndpoint: p.IMDSEndpoint,
	})
}

// Sign-in methods of a user, as Profile.Method records them.
const (
	methodPassword    = "password"
	methodDevice      = "device"
	methodInteractive = "interactive"
)

func isUserMethod(m string) bool {
	return m == methodPassword || m == methodDevice || m == methodInteractive
}

func userMethod(s auth.UserSignIn) string {
	switch s.(type) {
	case auth.Password:
		return methodPassword
	case auth.DeviceCode:
		return methodDevice
	}
	return methodInteractive
}

// userSignIn picks how a user signs in from connect's flags: a password (stdin, file,
// EXOCTL_PASSWORD or the terminal), a device code, or the browser.
func userSignIn(f *Factory, o *ConnectOptions) (auth.UserSignIn, error) {
	envPassword := o.UPN != "" && !o.Device && !o.NoBrowser && f.Getenv("EXOCTL_PASSWORD") != ""
	n := 0
	for _, b := range []bool{o.UserPasswordStdin, o.CredentialFile != "", o.InlineCredential, o.Device, o.NoBrowser} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("choose one way to sign in: --password-stdin, --credential-file, --inline-credential, --device or --no-browser")
	}
	switch {
	case o.UserPasswordStdin || o.CredentialFile != "" || envPassword:
		if o.UPN == "" {
			return nil, errors.New("a password sign-in needs the user: give --upn")
		}
		pw, err := readSecret(f, "password", o.UserPasswordStdin, o.CredentialFile, "EXOCTL_PASSWORD")
		if err != nil {
			return nil, err
		}
		if pw == "" {
			return nil, fmt.Errorf("the password of %s is empty", o.UPN)
		}
		return auth.Password{Username: o.UPN, Password: pw}, nil
	case o.InlineCredential:
		return inlineCredential(f, o.UPN)
	case o.Device:
		return auth.DeviceCode{Prompt: func(msg string) { fmt.Fprintln(f.IO.ErrOut, msg) }}, nil
	}
	return auth.Interactive{LoginHint: o.UPN, OpenURL: func(u string) error {
		if !o.NoBrowser {
			if err := openBrowser(f, u); err == nil {
				fmt.Fprintln(f.IO.ErrOut, "Sign in in the browser window that opened (Ctrl-C cancels).")
				return nil
			}
		}
		fmt.Fprintf(f.IO.ErrOut, "To sign in, open this address in a browser on this computer (Ctrl-C cancels):\n%s\n", u)
		return nil
	}}, nil
}

// openBrowser opens the sign-in page with EXOCTL_BROWSER (a command taking the URL, or "none"
// to only print it), else the system's browser.
func openBrowser(f *Factory, u string) error {
	switch b := strings.TrimSpace(f.Getenv("EXOCTL_BROWSER")); b {
	case "":
		return auth.OpenBrowser(u)
	case "none":
		return errors.New("EXOCTL_BROWSER=none")
	default:
		return exec.Command(b, u).Start()
	}
}

// inlineCredential asks for the user name (unless given) and the password at the terminal,
// the password without echo (the module's -InlineCredential).
func inlineCredential(f *Factory, upn string) (auth.UserSignIn, error) {
	if !f.IO.Interactive {
		return nil, errors.New("--inline-credential asks at the terminal, and there is none: use --upn with --password-stdin or --credential-file")
	}
	if upn == "" {
		fmt.Fprint(f.IO.ErrOut, "User name: ")
		line, err := bufio.NewReader(f.IO.In).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read the user name: %w", err)
		}
		if upn = strings.TrimSpace(line); upn == "" {
			return nil, errors.New("no user name given")
		}
	}
	fmt.Fprint(f.IO.ErrOut, "Password: ")
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(f.IO.ErrOut)
	if err != nil {
		return nil, fmt.Errorf("read the password: %w", err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("the password of %s is empty", upn)
	}
	return auth.Password{Username: upn, Password: string(b)}, nil
}

// newUserSource builds the user source of a connection: its tenant's authority (the customer's
// for --delegated-org), the module's app unless --app-id names another, the connection's token
// cache, and the account the profile saved. It sets o.HTTPClient so that sign-in and cmdlets
// share one client.
func newUserSource(o *exo.Options, p *Profile, signIn auth.UserSignIn) (*auth.PublicSource, error) {
	env, err := cloud.Lookup(o.Environment)
	if err != nil {
		return nil, err
	}
	authorityURI := env.AuthorityURI
	if o.AuthorityURI != "" {
		authorityURI = o.AuthorityURI
	}
	tenant := o.Organization
	if o.DelegatedOrganization != "" {
		tenant = o.DelegatedOrganization
	}
	authority, err := cloud.Authority(authorityURI, tenant)
	if err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		if o.HTTPClient, err = exo.HTTPClient(o.CAFile); err != nil {
			return nil, err
		}
	}
	return auth.NewPublicSource(auth.PublicConfig{
		Authority: authority, ClientID: o.AppID, HTTPClient: o.HTTPClient, Cache: o.TokenCache,
		HomeAccountID: p.HomeAccountID, Username: p.UserPrincipalName,
	}, signIn)
}

// signInExpired is the one line a script sees when a user's saved sign-in cannot be renewed
// without the user.
func signInExpired(err error, p *Profile) error {
	who := p.UserPrincipalName
	if who == "" {
		who = "the user"
	}
	msg := fmt.Sprintf("the sign-in of %s (connection %d) has expired or was revoked: run exoctl connect again", who, p.ID)
	var ee *auth.EntraError
	if errors.As(err, &ee) {
		msg = fmt.Sprintf("the sign-in of %s (connection %d) can no longer be renewed (%s): run exoctl connect again", who, p.ID, strings.TrimSuffix(ee.Error(), "."))
	}
	return &hintError{msg, err}
}

// connectHint adds what to do when the service cannot be reached.
func connectHint(err error, p *Profile, uri string) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		if p.Emulator {
			return &hintError{fmt.Sprintf("the emulator at %s is not running: start it with `exoctl emulator start`", uri), err}
		}
		return &hintError{fmt.Sprintf("nothing answers at %s (connection refused): check --connection-uri and --authority", uri), err}
	}
	return err
}

// hintError replaces a low-level error's text with what the user should do, keeping it for
// errors.Is and errors.As.
type hintError struct {
	msg string
	err error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

// certificatePEM serialises a certificate and key for the encrypted secrets file.
func certificatePEM(c auth.Certificate) (string, error) {
	var b strings.Builder
	for _, crt := range c.Chain {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: crt.Raw})
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return "", fmt.Errorf("keep the certificate key: %w", err)
	}
	_ = pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return b.String(), nil
}

// readSecret reads a secret from stdin, a file, an environment variable or a prompt, in that
// order. Secrets never come from the command line.
func readSecret(f *Factory, what string, stdin bool, file, env string) (string, error) {
	switch {
	case stdin:
		line, err := bufio.NewReader(f.IO.In).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read the %s from standard input: %w", what, err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read the %s: %w", what, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case env != "" && f.Getenv(env) != "":
		return f.Getenv(env), nil
	case f.IO.Interactive:
		fmt.Fprintf(f.IO.ErrOut, "%s: ", strings.ToUpper(what[:1])+what[1:])
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(f.IO.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read the %s: %w", what, err)
		}
		return string(b), nil
	}
	hint := "--certificate-password-stdin or --certificate-password-file"
	if env != "" {
		hint += " or " + env
	}
	return "", fmt.Errorf("no %s given: use %s", what, hint)
}
