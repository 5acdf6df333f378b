package connection

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/google/uuid"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/auth/tokencache"
	"github.com/exoctl/exoctl/cloud"
	"github.com/exoctl/exoctl/exo"
)

// Sign-in methods, as Profile.Method records them.
const (
	MethodCertificate     = "certificate"
	MethodAccessToken     = "access-token"
	MethodPassword        = "password"
	MethodDevice          = "device"
	MethodInteractive     = "interactive"
	MethodManagedIdentity = "managed-identity"
)

// IsUserMethod reports whether a method signs a user in (and so reconnects from the user's
// refresh token).
func IsUserMethod(m string) bool {
	return m == MethodPassword || m == MethodDevice || m == MethodInteractive
}

// UserMethod is the Profile.Method of a user sign-in.
func UserMethod(s auth.UserSignIn) string {
	switch s.(type) {
	case auth.Password:
		return MethodPassword
	case auth.DeviceCode:
		return MethodDevice
	}
	return MethodInteractive
}

// Create signs in with opts (and signIn for a user; nil for app-only, managed identity and
// brought tokens) and saves the connection: p says how it signed in (Method, Prefix,
// Compliance, ...), sec what to keep encrypted. The sign-in runs outside the store's lock (a
// user may take minutes in the browser); a prefix another connection has is refused.
func (s *Store) Create(ctx context.Context, p *Profile, sec Secrets, opts exo.Options, signIn auth.UserSignIn) (*exo.Session, error) {
	if p.Prefix != "" {
		if err := s.checkPrefix(p.Prefix); err != nil {
			return nil, err
		}
	}
	// The connection's folder, named by its ConnectionId, holds no profile until Save, so
	// nobody lists it yet.
	p.ConnectionID = uuid.NewString()
	opts.ConnectionID = p.ConnectionID
	if opts.Logger == nil {
		opts.Logger = s.log
	}
	cache, err := s.TokenCache(p)
	if err != nil {
		return nil, err
	}
	opts.TokenCache = cache
	var cred *auth.PublicSource
	if signIn != nil {
		if cred, err = NewUserSource(&opts, p, signIn); err != nil {
			_ = s.Remove(p)
			return nil, err
		}
		opts.Credential = cred
	} else if p.Method == MethodManagedIdentity && opts.Credential == nil {
		if opts.Credential, err = NewManagedIdentitySource(&opts, p); err != nil {
			_ = s.Remove(p)
			return nil, err
		}
	}
	sess, err := exo.Connect(ctx, opts)
	if err != nil {
		_ = s.Remove(p)
		p.DelegatedOrganization = opts.DelegatedOrganization
		return nil, connectHint(err, p, opts.ConnectionURI, "--delegated-org")
	}
	info := sess.Info()
	if cred != nil {
		p.HomeAccountID, _ = cred.Account()
	}
	unlock, err := s.Lock()
	if err != nil {
		_ = s.Remove(p)
		return nil, err
	}
	defer unlock()
	if p.Prefix != "" {
		if err := s.checkPrefix(p.Prefix); err != nil {
			_ = s.Remove(p)
			return nil, err
		}
	}
	if p.ID, err = s.nextID(); err != nil {
		_ = s.Remove(p)
		return nil, err
	}
	p.ConnectionURI, p.AuthorityURI, p.CAFile = opts.ConnectionURI, opts.AuthorityURI, opts.CAFile
	p.Organization, p.DelegatedOrganization, p.AppID = opts.Organization, opts.DelegatedOrganization, opts.AppID
	if p.Environment == "" {
		p.Environment = opts.Environment
	}
	p.PageSize, p.UserPrincipalName, p.TenantID = opts.PageSize, info.UserPrincipalName, info.TenantID
	p.TokenExpiry, p.ConnectedAt = info.TokenExpiryTimeUTC, time.Now().UTC()
	if err := s.Save(p, sec); err != nil {
		_ = s.Remove(p)
		return nil, err
	}
	sess.SetConnection(p.ID, p.Prefix)
	return sess, nil
}

// checkPrefix refuses a prefix another saved connection has, as the module refuses a second
// connection with the same -Prefix.
func (s *Store) checkPrefix(prefix string) error {
	ps, err := s.List()
	if err != nil {
		return err
	}
	for _, q := range ps {
		if strings.EqualFold(q.Prefix, prefix) {
			return fmt.Errorf("connection %d already has the prefix %q: choose another --prefix, or run exoctl disconnect --connection %s first", q.ID, q.Prefix, q.Prefix)
		}
	}
	return nil
}

// Session reopens a saved connection silently: tokens from its cache, refreshed with the
// saved refresh token, certificate or managed identity; never a prompt.
func (s *Store) Session(ctx context.Context, p *Profile) (*exo.Session, error) {
	opts, err := s.options(p)
	if err != nil {
		return nil, err
	}
	sess, err := exo.Connect(ctx, opts)
	if err != nil {
		if errors.Is(err, auth.ErrSignInRequired) {
			return nil, SignInExpired(err, p)
		}
		return nil, connectHint(err, p, p.ConnectionURI, "--delegated-org")
	}
	sess.SetConnection(p.ID, p.Prefix)
	return sess, nil
}

// Reopen finds the saved connection sel names (Id, ConnectionId or prefix; "" the latest) and
// reopens it silently, as Session does: the one call from a command line to a session.
func (s *Store) Reopen(ctx context.Context, sel string) (*exo.Session, *Profile, error) {
	p, err := s.Find(sel)
	if err != nil {
		return nil, nil, err
	}
	sess, err := s.Session(ctx, p)
	return sess, p, err
}

// ReopenFor is Reopen for running cmdlet, with the module's -Prefix: when sel is empty and
// the cmdlet is Verb-{Prefix}Noun for a saved connection's prefix (the longest that fits), that
// connection is reopened and the cmdlet's name comes back as Verb-Noun. Otherwise the cmdlet
// name comes back as it is.
func (s *Store) ReopenFor(ctx context.Context, sel, cmdlet string) (*exo.Session, *Profile, string, error) {
	ps, err := s.List()
	if err != nil {
		return nil, nil, "", err
	}
	if sel == "" {
		if name, prefix := unprefixed(ps, cmdlet); prefix != "" {
			sel, cmdlet = prefix, name
		}
	}
	p, err := find(ps, sel)
	if err != nil {
		return nil, nil, "", err
	}
	sess, err := s.Session(ctx, p)
	return sess, p, cmdlet, err
}

// unprefixed reads Verb-{Prefix}Noun against the saved connections' prefixes.
func unprefixed(ps []*Profile, cmdlet string) (name, prefix string) {
	verb, noun, ok := strings.Cut(cmdlet, "-")
	if !ok || noun == "" {
		return cmdlet, ""
	}
	for _, p := range ps {
		pr := p.Prefix
		if pr == "" || strings.ContainsAny(pr, "-_. ") || len(pr) >= len(noun) || len(pr) <= len(prefix) {
			continue
		}
		if strings.EqualFold(noun[:len(pr)], pr) {
			prefix, name = pr, verb+"-"+noun[len(pr):]
		}
	}
	if prefix == "" {
		return cmdlet, ""
	}
	return name, prefix
}

// options are the exo.Options that reopen p, its credential built and its cache attached.
func (s *Store) options(p *Profile) (exo.Options, error) {
	return s.optionsWith(p, nil)
}

// optionsWith is options with the token cache wrapped by wrap (nil: as it is).
func (s *Store) optionsWith(p *Profile, wrap func(*tokencache.Cache) cache.ExportReplace) (exo.Options, error) {
	opts := exo.Options{
		Environment: p.Environment, ConnectionURI: p.ConnectionURI, AuthorityURI: p.AuthorityURI,
		Organization: p.Organization, DelegatedOrganization: p.DelegatedOrganization, AppID: p.AppID,
		CAFile: p.CAFile, PageSize: p.PageSize, ConnectionID: p.ConnectionID, Logger: s.log,
		Compliance: p.Compliance,
	}
	// The TLS handshake with the service runs while the secrets and the token cache are read.
	if err := exo.Preconnect(&opts); err != nil {
		return opts, err
	}
	sec, err := s.Secrets(p)
	if err != nil {
		return exo.Options{}, err
	}
	opts.AccessToken = sec.AccessToken
	if sec.CertificatePEM != "" {
		cert, err := auth.ParsePEM([]byte(sec.CertificatePEM), "")
		if err != nil {
			return opts, fmt.Errorf("connection %d: stored certificate unreadable (%w): connect again", p.ID, err)
		}
		opts.Certificate = &cert
	}
	tc, err := s.TokenCache(p)
	if err != nil {
		return opts, err
	}
	opts.TokenCache = tc
	if wrap != nil {
		opts.TokenCache = wrap(tc)
	}
	switch {
	case IsUserMethod(p.Method):
		// Silent only: a script never gets a browser or a prompt.
		if opts.Credential, err = NewUserSource(&opts, p, nil); err != nil {
			return opts, err
		}
	case p.Method == MethodManagedIdentity:
		if opts.Credential, err = NewManagedIdentitySource(&opts, p); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// NewManagedIdentitySource builds the managed identity source of a connection. Against the
// emulator, what MSAL sends to the IMDS address goes to the emulator instead.
func NewManagedIdentitySource(o *exo.Options, p *Profile) (*auth.ManagedIdentitySource, error) {
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

// NewUserSource builds the user source of a connection: its tenant's authority (the
// customer's for a delegated organization), the module's app unless o.AppID names another, the
// connection's token cache, and the account the profile saved. It sets o.HTTPClient so that
// sign-in and cmdlets share one client.
func NewUserSource(o *exo.Options, p *Profile, signIn auth.UserSignIn) (*auth.PublicSource, error) {
	authorityURI, err := authorityURI(o.Environment, o.AuthorityURI)
	if err != nil {
		return nil, err
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

func authorityURI(environment, override string) (string, error) {
	if override != "" {
		return override, nil
	}
	env, err := cloud.Lookup(environment)
	if err != nil {
		return "", err
	}
	return env.AuthorityURI, nil
}

// SignInExpired is the one line a script sees when a user's saved sign-in cannot be renewed
// without the user.
func SignInExpired(err error, p *Profile) error {
	who := p.UserPrincipalName
	if who == "" {
		who = "the user"
	}
	msg := fmt.Sprintf("the sign-in of %s (connection %d) has expired or was revoked: run exoctl connect again", who, p.ID)
	if p.Method == MethodAccessToken {
		msg = fmt.Sprintf("the access token of connection %d has expired or is no longer accepted: get a new one and run exoctl connect --access-token-stdin again", p.ID)
	}
	var ee *auth.EntraError
	if errors.As(err, &ee) {
		msg = fmt.Sprintf("the sign-in of %s (connection %d) can no longer be renewed (%s): run exoctl connect again", who, p.ID, strings.TrimSuffix(ee.Error(), "."))
	}
	return &HintError{msg, err}
}

// connectHint adds what to do when the service cannot be reached, or when a delegated
// organization does not let the user in (flag names where the user named it).
func connectHint(err error, p *Profile, uri, flag string) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		if p.Emulator {
			return &HintError{fmt.Sprintf("the emulator at %s is not running: start it with `exoctl emulator start`", uri), err}
		}
		return &HintError{fmt.Sprintf("nothing answers at %s (connection refused): check --connection-uri and --authority", uri), err}
	}
	var ee *auth.EntraError
	if p.DelegatedOrganization != "" && errors.As(err, &ee) && (ee.AADSTS == 50020 || ee.AADSTS == 90002) {
		// The customer, not --organization, is what to check.
		return &HintError{fmt.Sprintf("connect to %s: %s Check %s %s: it must be a customer tenant (GUID or domain) that your partner relationship (DAP, an active GDAP role) or a guest invitation lets you into.",
			uri, strings.TrimSpace(ee.Description), flag, p.DelegatedOrganization), err}
	}
	return err
}

// HintError replaces a low-level error's text with what the user should do, keeping it for
// errors.Is and errors.As.
type HintError struct {
	msg string
	err error
}

func (e *HintError) Error() string { return e.msg }
func (e *HintError) Unwrap() error { return e.err }

// CertificatePEM serialises a certificate and key for Secrets.CertificatePEM.
func CertificatePEM(c auth.Certificate) (string, error) {
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

// Info is the saved connection as Get-ConnectionInformation shows it.
func (p *Profile) Info() exo.ConnectionInfo {
	uri := p.ConnectionURI
	env, _ := cloud.Lookup(p.Environment)
	if uri == "" {
		uri = env.ConnectionURI
		if p.Compliance {
			uri = env.ComplianceURI
		}
	}
	authority := p.AuthorityURI
	if authority == "" {
		authority = env.AuthorityURI + "/organizations"
	}
	return exo.NewConnectionInfo(exo.ConnectionInfo{
		ConnectionID:                    p.ConnectionID,
		ID:                              p.ID,
		UserPrincipalName:               p.UserPrincipalName,
		ConnectionURI:                   uri,
		AzureAdAuthorizationEndpointURI: authority,
		TokenExpiryTimeUTC:              p.TokenExpiry.Truncate(time.Second),
		CertificateAuthentication:       p.Method == MethodCertificate,
		ModulePrefix:                    p.Prefix,
		Organization:                    p.Organization,
		DelegatedOrganization:           p.DelegatedOrganization,
		AppID:                           p.AppID,
		PageSize:                        p.PageSize,
		TenantID:                        p.TenantID,
	}, p.Compliance)
}
