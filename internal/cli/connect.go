package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/connection"
	"github.com/exoctl/exoctl/emulator/emuinfo"
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
	st, err := f.connections()
	if err != nil {
		return err
	}
	opts := exo.Options{
		LoadCatalog:           true, // as Connect-ExchangeOnline: a refused caller fails here
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
	p := &connection.Profile{Method: connection.MethodCertificate, Prefix: o.Prefix, Compliance: o.Compliance, Environment: o.Environment}
	var sec connection.Secrets
	var signIn auth.UserSignIn // a user's sign-in, nil for app-only and brought tokens

	password := func() (string, error) {
		return readSecret(f, "certificate password", o.PasswordStdin, o.PasswordFile, "EXOCTL_CERTIFICATE_PASSWORD")
	}
	if o.Emulator {
		dir := strings.TrimSpace(o.EmulatorDir)
		if dir == "" {
			dir = filepath.Join(st.Home(), "emulator")
		}
		info, err := emuinfo.Read(dir)
		if err != nil {
			return err
		}
		if len(info.Tenants) == 0 || len(info.Tenants[0].Apps) == 0 {
			return fmt.Errorf("%s lists no tenant with an app: delete %s and start the emulator again", emuinfo.FileName, dir)
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
		} else if !o.userSignIn() && o.CertificateFile == "" && o.CertificatePEM == "" && o.CertificateThumbprint == "" && !o.AccessTokenStdin {
			// No user named: a seeded app, app-only (the one --app-id names, e.g. the partner's
			// multi-tenant app, else the demo tenant's).
			if o.AppID != "" {
				if t, a, err = emulatorApp(info, o.AppID); err != nil {
					return err
				}
			}
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
		p.Method, p.ManagedIdentityAccountID = connection.MethodManagedIdentity, o.ManagedIdentityAccountID
	case o.AccessTokenStdin:
		tok, err := readSecret(f, "access token", true, "", "")
		if err != nil {
			return err
		}
		opts.AccessToken, sec.AccessToken, p.Method = tok, tok, connection.MethodAccessToken
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
				dir = filepath.Join(st.Home(), "certificates")
			}
			pw := f.Getenv("EXOCTL_CERTIFICATE_PASSWORD")
			if cert, err = auth.FindCertificate(dir, o.CertificateThumbprint, pw); err != nil {
				return err
			}
		}
		opts.Certificate = &cert
		if sec.CertificatePEM, err = connection.CertificatePEM(cert); err != nil {
			return err
		}
		p.CertificateThumbprint = cert.Thumbprint()
	case o.userSignIn() || f.IO.Interactive:
		if signIn, err = userSignIn(f, o); err != nil {
			return err
		}
		p.Method = connection.UserMethod(signIn)
	case opts.AppID != "":
		return errors.New("app-only sign-in needs a certificate: --certificate-file, --certificate or --certificate-thumbprint (or --upn, --device or a password flag to sign a user in to this public app)")
	default:
		return errors.New("say how to sign in: --upn with --password-stdin or --credential-file, --device, --app-id with a certificate, --access-token-stdin, or --emulator (browser sign-in needs a terminal)")
	}

	if signIn != nil && p.Method != connection.MethodPassword {
		// Device and browser sign-in wait for the user: Ctrl-C cancels them cleanly.
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt)
		defer stop()
	}
	s, err := st.Create(ctx, p, sec, opts, signIn)
	if err != nil {
		return err
	}
	saveCatalog(ctx, st, p, s) // the switches of its cmdlets, for later runs
	info := s.Info()
	fmt.Fprintf(f.IO.ErrOut, "Connected to %s as %s (tenant %s). Connection %d, id %s.\n", info.ConnectionURI, info.UserPrincipalName, info.TenantID, p.ID, p.ConnectionID)
	return nil
}

// emulatorApp finds the seeded app with appID in emulator.json, and its tenant.
func emulatorApp(info *emuinfo.Info, appID string) (emuinfo.TenantInfo, emuinfo.AppInfo, error) {
	for _, t := range info.Tenants {
		for _, a := range t.Apps {
			if strings.EqualFold(a.AppID, appID) {
				return t, a, nil
			}
		}
	}
	return emuinfo.TenantInfo{}, emuinfo.AppInfo{}, fmt.Errorf("the emulator has no app %s with a certificate: %s lists its apps (or give the certificate with --certificate-file)", appID, emuinfo.FileName)
}

// openSession reconnects a saved connection silently (tokens from the cache).
func openSession(ctx context.Context, f *Factory, sel string) (*exo.Session, *connection.Profile, error) {
	st, err := f.connections()
	if err != nil {
		return nil, nil, err
	}
	return st.Reopen(ctx, sel)
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
