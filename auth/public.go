package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// ModuleAppID is the public client of Microsoft's ExchangeOnlineManagement module ("Microsoft
// Exchange REST API Based Powershell"): the app users sign in to unless they bring their own.
const ModuleAppID = "fb78d390-0c51-40cd-8e17-fdbfab77341b"

// RedirectURI is the loopback redirect of interactive sign-in; MSAL adds a free port.
const RedirectURI = "http://localhost"

// ErrSignInRequired means no saved sign-in can give a token without the user: there is no
// account in the cache, or its refresh token is no longer accepted. Only a new sign-in helps.
var ErrSignInRequired = errors.New("the sign-in has expired or was never completed")

// PublicConfig configures a delegated (user) Source.
type PublicConfig struct {
	Authority  string // https://host/tenant; "organizations" when the user's tenant is not known
	ClientID   string // ModuleAppID when empty
	HTTPClient *http.Client
	Cache      cache.ExportReplace

	// HomeAccountID and Username find the signed-in account in Cache for silent sign-in
	// (home account id first); with neither, the cache's only account is used.
	HomeAccountID string
	Username      string
}

// UserSignIn is a way for a user to sign in when the cache cannot answer silently: Password,
// DeviceCode or Interactive.
type UserSignIn interface {
	acquire(ctx context.Context, c public.Client, scopes []string) (public.AuthResult, error)
}

// PublicSource gets tokens for a signed-in user (Connect-ExchangeOnline without -AppId). Every
// call first asks MSAL's cache, which refreshes silently with the refresh token; only when that
// fails does it run its UserSignIn, and without one it fails with ErrSignInRequired.
type PublicSource struct {
	client public.Client
	cfg    PublicConfig
	signIn UserSignIn

	mu      sync.Mutex
	account public.Account
}

// NewPublicSource builds a user Source. signIn is nil for a source that must never prompt (a
// saved connection reused by a script).
func NewPublicSource(cfg PublicConfig, signIn UserSignIn) (*PublicSource, error) {
	if cfg.ClientID == "" {
		cfg.ClientID = ModuleAppID
	}
	opts := []public.Option{
		public.WithAuthority(cfg.Authority),
		public.WithInstanceDiscovery(false),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, public.WithHTTPClient(cfg.HTTPClient))
	}
	if cfg.Cache != nil {
		opts = append(opts, public.WithCache(cfg.Cache))
	}
	c, err := public.New(cfg.ClientID, opts...)
	if err != nil {
		return nil, fmt.Errorf("set up sign-in for app %s at %s: %w", cfg.ClientID, cfg.Authority, err)
	}
	return &PublicSource{client: c, cfg: cfg, signIn: signIn}, nil
}

// Token returns a cached token while it has more than five minutes left, a refreshed one, or
// one from a new sign-in.
func (s *PublicSource) Token(ctx context.Context, scope string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	scopes := []string{scope}
	var silentErr error
	acct, err := s.findAccount(ctx)
	if err != nil {
		return Token{}, err
	}
	if !acct.IsZero() {
		r, err := s.client.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(acct))
		if err == nil {
			s.account = r.Account
			return tokenOf(r), nil
		}
		if ctx.Err() != nil {
			return Token{}, ctx.Err()
		}
		silentErr = err
	}
	if s.signIn == nil {
		return Token{}, s.signInRequired(silentErr)
	}
	r, err := s.signIn.acquire(ctx, s.client, scopes)
	if err != nil {
		if ctx.Err() != nil {
			return Token{}, ctx.Err()
		}
		return Token{}, err
	}
	s.account = r.Account
	return tokenOf(r), nil
}

// Account is the signed-in user's home account id and user name, once known.
func (s *PublicSource) Account() (homeAccountID, username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.account.HomeAccountID, s.account.PreferredUsername
}

// findAccount picks the saved account from the cache: the last one used, else by home
// account id, else by user name, else the only one.
func (s *PublicSource) findAccount(ctx context.Context) (public.Account, error) {
	if !s.account.IsZero() {
		return s.account, nil
	}
	accts, err := s.client.Accounts(ctx)
	if err != nil {
		return public.Account{}, fmt.Errorf("read the token cache: %w", err)
	}
	for _, a := range accts {
		if s.cfg.HomeAccountID != "" && strings.EqualFold(a.HomeAccountID, s.cfg.HomeAccountID) {
			return a, nil
		}
	}
	for _, a := range accts {
		if s.cfg.Username != "" && strings.EqualFold(a.PreferredUsername, s.cfg.Username) {
			return a, nil
		}
	}
	if s.cfg.HomeAccountID == "" && s.cfg.Username == "" && len(accts) == 1 {
		return accts[0], nil
	}
	return public.Account{}, nil
}

// signInRequired says why a silent sign-in failed: an Entra answer (a revoked or expired
// refresh token, a disabled account) keeps its words; anything else is ErrSignInRequired.
func (s *PublicSource) signInRequired(silentErr error) error {
	var call msalerrors.CallErr
	if errors.As(silentErr, &call) && call.Resp != nil {
		return fmt.Errorf("%w: %w", ErrSignInRequired, fromMSAL(silentErr))
	}
	return ErrSignInRequired
}

// fromMSAL is FromMSAL for errors whose response body MSAL has already read (the device
// code poll reads it to tell authorization_pending apart): the body is also at the end of the
// error's text, after the first line.
func fromMSAL(err error) error {
	var call msalerrors.CallErr
	if errors.As(err, &call) && call.Resp != nil && call.Err != nil {
		if _, body, ok := strings.Cut(call.Err.Error(), "\n"); ok && strings.HasPrefix(strings.TrimSpace(body), "{") {
			resp := *call.Resp
			resp.Body = io.NopCloser(strings.NewReader(body))
			call.Resp = &resp
			return FromMSAL(call)
		}
	}
	return FromMSAL(err)
}

func tokenOf(r public.AuthResult) Token {
	c, _ := ParseClaims(r.AccessToken)
	return Token{AccessToken: r.AccessToken, ExpiresOn: r.ExpiresOn, Claims: c}
}

// Password signs a user in with a user name and password (ROPC, the module's -Credential).
// It cannot satisfy multi-factor authentication and does not work for federated accounts.
type Password struct {
	Username string
	Password string
}

func (p Password) acquire(ctx context.Context, c public.Client, scopes []string) (public.AuthResult, error) {
	if p.Username == "" {
		return public.AuthResult{}, errors.New("a password sign-in needs the user name: give --upn")
	}
	r, err := c.AcquireTokenByUsernamePassword(ctx, scopes, p.Username, p.Password)
	if err != nil {
		return r, passwordError(p.Username, err)
	}
	return r, nil
}

// ErrFederated means the account's domain is federated: its password is checked by the
// organisation's own identity provider, so a password sign-in (ROPC) is not possible.
var ErrFederated = errors.New("federated account")

// passwordError explains the failures peculiar to ROPC: federated and unknown domains, which
// MSAL reports from its user realm lookup without the service's words.
func passwordError(user string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "federated url") || strings.Contains(msg, "SAML token"):
		return fmt.Errorf("%w: %s signs in at the organisation's own identity provider, so a password sign-in (ROPC) is not possible; sign in interactively (exoctl connect without a password) or with --device", ErrFederated, user)
	case strings.Contains(msg, "unknown account type"):
		return fmt.Errorf("Microsoft Entra ID does not know the domain of %s: check the user name (--upn) and --authority", user)
	}
	return fromMSAL(err)
}

// DeviceCode signs a user in on another device (the module's -Device): Prompt gets the
// service's message with the code and URL, then the source polls until the user is done, the
// code expires or ctx ends.
type DeviceCode struct {
	Prompt func(message string)
}

func (d DeviceCode) acquire(ctx context.Context, c public.Client, scopes []string) (public.AuthResult, error) {
	dc, err := c.AcquireTokenByDeviceCode(ctx, scopes)
	if err != nil {
		return public.AuthResult{}, fromMSAL(err)
	}
	if d.Prompt != nil {
		d.Prompt(dc.Result.Message)
	}
	r, err := dc.AuthenticationResult(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return r, errors.New("the device code expired before the sign-in was completed: run the command again and sign in within the time shown")
		}
		return r, fromMSAL(err)
	}
	return r, nil
}

// Interactive signs a user in with the browser (the module's default): authorization code with
// PKCE, answered to a loopback listener. OpenURL shows the sign-in page (OpenBrowser, or a
// test playing the browser); LoginHint pre-fills the user name.
type Interactive struct {
	LoginHint   string
	OpenURL     func(url string) error
	RedirectURI string // RedirectURI when empty
}

func (i Interactive) acquire(ctx context.Context, c public.Client, scopes []string) (public.AuthResult, error) {
	redirect := i.RedirectURI
	if redirect == "" {
		redirect = RedirectURI
	}
	opts := []public.AcquireInteractiveOption{public.WithRedirectURI(redirect)}
	if i.OpenURL != nil {
		opts = append(opts, public.WithOpenURL(i.OpenURL))
	}
	if i.LoginHint != "" {
		opts = append(opts, public.WithLoginHint(i.LoginHint))
	}
	r, err := c.AcquireTokenInteractive(ctx, scopes, opts...)
	if err != nil {
		return r, fromMSAL(err)
	}
	return r, nil
}
