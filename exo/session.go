package exo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/google/uuid"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/cloud"
)

// ModuleVersion is the ExchangeOnlineManagement version whose REST protocol exoctl speaks; it is
// sent as X-ClientModuleVersion.
const ModuleVersion = "3.9.2"

// DefaultPageSize is the module's page size.
const DefaultPageSize = 1000

// Options mirror Connect-ExchangeOnline's parameters.
type Options struct {
	// Environment is the ExchangeEnvironmentName (O365Default when empty).
	Environment string
	// Compliance connects to Security & Compliance PowerShell (Connect-IPPSSession) instead of
	// Exchange Online: the environment's compliance base (or ConnectionURI), whose region
	// discovery names the endpoint cmdlets go to.
	Compliance bool
	// ConnectionURI and AuthorityURI override the environment's endpoints (-ConnectionUri,
	// -AzureADAuthorizationEndpointUri); how a client is pointed at the emulator.
	ConnectionURI string
	AuthorityURI  string

	// Organization is the tenant: its GUID or a verified domain (-Organization). Required for
	// app-only sign-in.
	Organization string
	// DelegatedOrganization is a customer tenant managed by a partner (-DelegatedOrganization).
	DelegatedOrganization string

	// AppID with Certificate signs in app-only (-AppId with -Certificate*).
	AppID       string
	Certificate *auth.Certificate

	// AccessToken is a token the caller brings (-AccessToken).
	AccessToken string

	// Credential supplies tokens for any other sign-in method; it wins over the fields above.
	Credential auth.Source

	// PageSize is the number of records per page (1000 when 0; the service caps it at 1000).
	PageSize int

	// ConnectionID identifies the connection (sent as connection-id); a new GUID when empty.
	ConnectionID string

	// HTTPClient is used for every request (sign-in and cmdlets). When nil, a client is built
	// that trusts the system roots plus CAFile.
	HTTPClient *http.Client
	CAFile     string

	// TokenCache persists MSAL's cache between processes.
	TokenCache cache.ExportReplace

	// RetryBackoff is the first retry delay (2s when 0), doubled on each of up to MaxRetries.
	RetryBackoff time.Duration
	MaxRetries   int
	// MaxRetryAfter is the longest Retry-After waited out (DefaultMaxRetryAfter when 0): a
	// longer one fails at once with a ThrottledError saying how long the service asked for.
	MaxRetryAfter time.Duration

	// RequestTimeout, ReadTimeout and IdleTimeout bound each request: the wait for the
	// answer's headers, reading its body, and a pause within the body (the Default* values
	// when 0). A per-call deadline is the caller's context.
	RequestTimeout time.Duration
	ReadTimeout    time.Duration
	IdleTimeout    time.Duration

	// OnNotice hears of every wait worth telling a person: a retry's pause of 2 s or more
	// (throttling, an unavailable service) and an answer slow to come. The CLI prints them.
	OnNotice func(Notice)

	// LoadCatalog reads the module file (EXOModuleFile) at connect, as Connect-ExchangeOnline
	// does: a caller the service refuses (a user not enabled for PowerShell, an app with no
	// Exchange role) fails at connect, not at the first cmdlet. The catalog is then cached
	// for the session (Session.Catalog).
	LoadCatalog bool

	Logger *slog.Logger
}

// Session is one connection to Exchange Online, safe for concurrent use.
type Session struct {
	// catalog is the connection's module file, read once (Catalog).
	catMu   sync.Mutex
	catalog *Catalog

	id        string
	base      string // REST base: scheme://host (for Security & Compliance, the region's)
	authority string
	tenant    string // URL tenant segment
	anchor    string
	scope     string
	pageSize  int
	src       auth.Source
	hc        *http.Client
	log       *slog.Logger
	backoff   time.Duration
	retries   int
	// maxRetryAfter, bounds and onNotice: see Options.
	maxRetryAfter time.Duration
	bounds        bounds
	onNotice      func(Notice)
	closed        atomic.Bool

	mu   sync.Mutex // guards info.State
	info ConnectionInfo

	// lastTok is the token the session used last, reused while it has more than
	// tokenReuseMargin left (MSAL's own rule for a cached token): a run reads and decrypts the
	// token cache once, not once per request.
	tokMu   sync.Mutex
	lastTok auth.Token
}

// tokenReuseMargin is how long a token must still be valid to be used again without asking its
// source: five minutes, when MSAL itself stops handing out a cached token.
const tokenReuseMargin = 5 * time.Minute

// ErrNotConnected is returned by a Session used after Close.
var ErrNotConnected = errors.New("not connected: run exoctl connect (Connect-ExchangeOnline) first")

// Connect signs in and returns a Session. It gets one token up front, so a wrong password,
// certificate or tenant fails here, not at the first cmdlet.
func Connect(ctx context.Context, o Options) (*Session, error) {
	env, err := cloud.Lookup(o.Environment)
	if err != nil {
		return nil, err
	}
	base, err := connectionBase(o)
	if err != nil {
		return nil, err
	}
	authorityURI := env.AuthorityURI
	if o.AuthorityURI != "" {
		authorityURI = o.AuthorityURI
	}
	if u, _ := url.Parse(base); u.Scheme != "https" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("connection URI %s is plain http: the access token would cross the network in clear; use https", base)
	}
	hc := o.HTTPClient
	if hc == nil {
		if hc, err = HTTPClient(o.CAFile); err != nil {
			return nil, err
		}
	}
	s := &Session{
		id:       o.ConnectionID,
		base:     base,
		scope:    cloud.Scope(base),
		pageSize: o.PageSize,
		hc:       sessionClient(hc),
		log:      o.Logger,
		backoff:  o.RetryBackoff,
		retries:  o.MaxRetries,

		maxRetryAfter: cmp.Or(o.MaxRetryAfter, DefaultMaxRetryAfter),
		bounds: bounds{
			request: cmp.Or(o.RequestTimeout, DefaultRequestTimeout),
			read:    cmp.Or(o.ReadTimeout, DefaultReadTimeout),
			idle:    cmp.Or(o.IdleTimeout, DefaultIdleTimeout),
		},
		onNotice: o.OnNotice,
	}
	if s.id == "" {
		s.id = uuid.NewString()
	}
	if s.pageSize <= 0 || s.pageSize > DefaultPageSize {
		s.pageSize = DefaultPageSize
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.backoff <= 0 {
		s.backoff = 2 * time.Second
	}
	if s.retries <= 0 {
		s.retries = 5
	}

	tenant := o.Organization
	if o.DelegatedOrganization != "" {
		tenant = o.DelegatedOrganization
	}
	if s.authority, err = cloud.Authority(authorityURI, tenant); err != nil {
		return nil, err
	}
	switch {
	case o.Credential != nil:
		s.src = o.Credential
	case o.AccessToken != "":
		if s.src, err = auth.NewStatic(o.AccessToken); err != nil {
			return nil, err
		}
	case o.AppID != "" && o.Certificate != nil:
		if o.Organization == "" {
			return nil, errors.New("app-only sign-in needs --organization (the tenant's GUID or a domain such as contoso.onmicrosoft.com)")
		}
		if s.src, err = auth.NewCertificateSource(auth.ConfidentialConfig{
			Authority: s.authority, ClientID: o.AppID, HTTPClient: hc, Cache: o.TokenCache,
		}, *o.Certificate); err != nil {
			return nil, err
		}
	case o.AppID != "":
		return nil, errors.New("app-only sign-in needs a certificate: --certificate-file, --certificate or --certificate-thumbprint")
	default:
		return nil, errors.New("no sign-in method: give --app-id with a certificate, --access-token-stdin, or a user sign-in method")
	}

	tok, err := s.token(ctx, false, "")
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", base, err)
	}
	c := tok.Claims
	s.tenant = tenant
	if s.tenant == "" {
		s.tenant = c.TenantID
	}
	user := c.User()
	if user != "" {
		s.anchor = "UPN:" + user
	} else {
		s.anchor = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@" + s.tenant
		user = "OAuthUser@" + s.tenant
	}
	if o.Compliance {
		if s.base, err = s.discoverRegion(ctx, base); err != nil {
			return nil, err
		}
	}
	s.info = NewConnectionInfo(ConnectionInfo{
		ConnectionID:                    s.id,
		ID:                              1,
		UserPrincipalName:               user,
		ConnectionURI:                   s.base,
		AzureAdAuthorizationEndpointURI: authorityURI,
		TokenExpiryTimeUTC:              tok.ExpiresOn,
		CertificateAuthentication:       o.Certificate != nil && o.Credential == nil,
		Organization:                    o.Organization,
		DelegatedOrganization:           o.DelegatedOrganization,
		AppID:                           c.AppID,
		PageSize:                        s.pageSize,
		TenantID:                        c.TenantID,
	}, o.Compliance)
	if o.LoadCatalog {
		if _, err := s.Catalog(ctx); err != nil {
			// A managed identity's refusal says what the identity lacks (role, permission).
			err = auth.ExplainManagedIdentityRefusal(s.src, tok, err)
			return nil, fmt.Errorf("connect to %s: load the cmdlets this connection may run: %w", s.base, err)
		}
	}
	return s, nil
}

// sessionClient is hc for the session's own requests: it follows no redirect at all (each
// answer is checked by hand), so that Authorization never crosses one.
func sessionClient(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// ID returns the connection id (sent as connection-id).
func (s *Session) ID() string { return s.id }

// ConnectionName is Get-ConnectionInformation's Name of connection number id:
// ExchangeOnline_{id}, or ExchangeOnlineProtection_{id} for Security & Compliance.
func ConnectionName(id int, compliance bool) string {
	if compliance {
		return fmt.Sprintf("ExchangeOnlineProtection_%d", id)
	}
	return fmt.Sprintf("ExchangeOnline_%d", id)
}

// SetConnection numbers the session as connection id with a module prefix, as the module
// numbers its connections; Info then shows that Id, Name and ModulePrefix.
func (s *Session) SetConnection(id int, prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.info.ID, s.info.Name, s.info.ModulePrefix = id, ConnectionName(id, s.info.IsEopSession), prefix
}

// Credential returns the source of the session's tokens.
func (s *Session) Credential() auth.Source { return s.src }

// Info returns the connection as Get-ConnectionInformation shows it.
func (s *Session) Info() ConnectionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// Token returns a current access token for the session's scope (refreshing it if needed).
func (s *Session) Token(ctx context.Context) (auth.Token, error) {
	if s.closed.Load() {
		return auth.Token{}, ErrNotConnected
	}
	return s.token(ctx, false, "")
}

// token gets the session's token within tokenTimeout. fresh asks the source for a new one,
// not its cached one (after the service refused it with 401), passing the service's claims
// challenge when it sent one.
func (s *Session) token(ctx context.Context, fresh bool, claims string) (auth.Token, error) {
	if !fresh && claims == "" {
		s.tokMu.Lock()
		t := s.lastTok
		s.tokMu.Unlock()
		if t.AccessToken != "" && time.Until(t.ExpiresOn) > tokenReuseMargin {
			return t, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, tokenTimeout)
	defer cancel()
	var t auth.Token
	var err error
	if r, ok := s.src.(auth.Refresher); ok && fresh {
		t, err = r.Refresh(ctx, s.scope, claims)
	} else {
		t, err = s.src.Token(ctx, s.scope)
	}
	if err == nil {
		s.tokMu.Lock()
		s.lastTok = t
		s.tokMu.Unlock()
	}
	return t, err
}

// Close forgets the session's credential. Like Disconnect-ExchangeOnline it makes no server call.
func (s *Session) Close() error {
	s.closed.Store(true)
	s.mu.Lock()
	s.info.State = "Disconnected"
	s.mu.Unlock()
	return nil
}

// invokeURL is the InvokeCommand URL of the session's tenant.
func (s *Session) invokeURL() string {
	return s.base + "/adminapi/beta/" + s.tenant + "/InvokeCommand"
}

// ConnectionInfo is one row of Get-ConnectionInformation, properties in the module's order.
type ConnectionInfo struct {
	ConnectionID                    string    `json:"ConnectionId"`
	State                           string    `json:"State"`
	ID                              int       `json:"Id"`
	Name                            string    `json:"Name"`
	UserPrincipalName               string    `json:"UserPrincipalName"`
	ConnectionURI                   string    `json:"ConnectionUri"`
	AzureAdAuthorizationEndpointURI string    `json:"AzureAdAuthorizationEndpointUri"`
	TokenExpiryTimeUTC              time.Time `json:"TokenExpiryTimeUTC"`
	CertificateAuthentication       bool      `json:"CertificateAuthentication"`
	ModuleName                      string    `json:"ModuleName"`
	ModulePrefix                    string    `json:"ModulePrefix"`
	Organization                    string    `json:"Organization"`
	DelegatedOrganization           string    `json:"DelegatedOrganization"`
	AppID                           string    `json:"AppId"`
	PageSize                        int       `json:"PageSize"`
	TenantID                        string    `json:"TenantID"`
	TokenStatus                     string    `json:"TokenStatus"`
	ConnectionUsedForInbuiltCmdlets bool      `json:"ConnectionUsedForInbuiltCmdlets"`
	IsEopSession                    bool      `json:"IsEopSession"`
}

// NewConnectionInfo completes Get-ConnectionInformation's row of a connection from what the
// caller knows of it (ConnectionId, Id, user, URIs, token expiry, organizations, app, page size,
// tenant, prefix): the properties the module derives (State, Name, ModuleName, TokenStatus from
// the expiry, PageSize's default, IsEopSession for Security & Compliance) are set here, so a live
// session and a saved connection show the same row.
func NewConnectionInfo(known ConnectionInfo, compliance bool) ConnectionInfo {
	c := known
	c.State = "Connected"
	c.Name = ConnectionName(c.ID, compliance)
	c.ModuleName = "exoctl"
	c.IsEopSession = compliance
	c.ConnectionUsedForInbuiltCmdlets = true
	c.TokenExpiryTimeUTC = c.TokenExpiryTimeUTC.UTC()
	c.TokenStatus = "Active"
	if time.Now().After(c.TokenExpiryTimeUTC) {
		// The next command refreshes it silently where the method allows.
		c.TokenStatus = "Expired"
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	return c
}

// IsReadOnly reports whether a cmdlet's verb changes nothing (Get, Test, Search, Export, Find,
// Read), the rule by which a failed call may be sent again: InvokeCommand retries only these, and
// so does anything else that repeats a call on the user's behalf.
func IsReadOnly(cmdlet string) bool {
	verb, _, _ := strings.Cut(strings.ToLower(cmdlet), "-")
	switch verb {
	case "get", "test", "search", "export", "find", "read":
		return true
	}
	return false
}
