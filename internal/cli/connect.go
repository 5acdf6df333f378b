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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/exoctl/exoctl/auth"
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
}

func newConnectCmd(f *Factory) *cobra.Command {
	o := &ConnectOptions{}
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Sign in to Exchange Online (Connect-ExchangeOnline) and save the connection",
		Long: `Sign in to Exchange Online and save the connection, like Connect-ExchangeOnline.

App-only sign-in needs --app-id, --organization and a certificate: --certificate-file (PFX; its
password from --certificate-password-stdin, --certificate-password-file, EXOCTL_CERTIFICATE_PASSWORD
or a prompt), --certificate (PEM with certificate and key), or --certificate-thumbprint (looked up
in EXOCTL_CERTIFICATE_STORE, default $EXOCTL_HOME/certificates).

--emulator [DATA_DIR] connects to a running exoctl emulator with its seeded app.`,
		Example: `  exoctl connect --emulator
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
	fl.StringVar(&o.AppID, "app-id", "", "application (client) id for app-only sign-in")
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
	}
	p := &Profile{Method: "certificate", Prefix: o.Prefix}
	var sec secrets

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
		opts.Organization, opts.AppID = t.Name, a.AppID
		if o.Organization != "" {
			opts.Organization = o.Organization
		}
		o.CertificateFile = a.CertificateFile
		password = func() (string, error) { return a.CertificatePassword, nil }
		p.Emulator = true
	}

	switch {
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
	case opts.AppID != "":
		return errors.New("app-only sign-in needs a certificate: --certificate-file, --certificate or --certificate-thumbprint")
	default:
		return errors.New("say how to sign in: --app-id with a certificate, --access-token-stdin, or --emulator")
	}

	unlock, err := st.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if p.ID, err = st.nextID(); err != nil {
		return err
	}
	p.ConnectionID = uuid.NewString()
	opts.ConnectionID = p.ConnectionID
	cache, err := st.tokenCache(p, f)
	if err != nil {
		return err
	}
	opts.TokenCache = cache
	s, err := exo.Connect(ctx, opts)
	if err != nil {
		_ = st.remove(p)
		return connectHint(err, p, opts.ConnectionURI)
	}
	info := s.Info()
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
		AccessToken: sec.AccessToken,
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
	s, err := exo.Connect(ctx, opts)
	if err != nil {
		return nil, p, connectHint(err, p, p.ConnectionURI)
	}
	return s, p, nil
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
