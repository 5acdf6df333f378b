package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
	"github.com/google/uuid"
)

// IMDSHost is the Azure Instance Metadata Service's link-local address, where MSAL sends IMDS
// token requests.
const IMDSHost = "169.254.169.254"

// ErrNoManagedIdentity says the machine offers no managed identity: nothing answers at IMDS
// and no App Service, Cloud Shell, Arc or Service Fabric variable is set.
var ErrNoManagedIdentity = errors.New("no managed identity is available here (not an Azure VM, App Service, Functions, Arc or Cloud Shell)")

// IDKind says what a managed identity account id names.
type IDKind int

const (
	// IDAuto: a GUID is a client id, a string starting with /subscriptions/ a resource id
	// (-ManagedIdentityAccountId's reading).
	IDAuto IDKind = iota
	IDClientID
	IDObjectID
	IDResourceID
)

// ManagedIdentityConfig configures a ManagedIdentitySource.
type ManagedIdentityConfig struct {
	// AccountID names a user-assigned identity (client id, object id or resource id); empty
	// means the host's system-assigned identity.
	AccountID string
	IDKind    IDKind
	// HTTPClient sends the token requests (its transport is wrapped, not changed).
	HTTPClient *http.Client
	// IMDSEndpoint, when set, is a base URL that receives what MSAL sends to
	// http://169.254.169.254 (the emulator's imds_endpoint): requests are rewritten before
	// dialing, so nothing ever goes to the link-local address.
	IMDSEndpoint string
}

// ManagedIdentitySource gets tokens for an Azure managed identity through MSAL, from whichever
// source the host offers (Connect-ExchangeOnline -ManagedIdentity). MSAL caches its tokens
// process-wide and refreshes them before they expire.
type ManagedIdentitySource struct {
	source managedidentity.Source

	mu       sync.Mutex
	client   managedidentity.Client
	identity string // how errors name the identity
	// objectID is the same GUID as an object id, tried once when the host knows no identity
	// with that client id: a bare GUID may be either (-ManagedIdentityAccountId takes both).
	objectID *managedidentity.Client
	objName  string
}

// NewManagedIdentitySource picks the host's managed identity source (from its environment
// variables, else IMDS) and checks that the account id fits it.
func NewManagedIdentitySource(cfg ManagedIdentityConfig) (*ManagedIdentitySource, error) {
	id, name, err := managedIdentityID(cfg.AccountID, cfg.IDKind)
	if err != nil {
		return nil, err
	}
	source, err := managedidentity.GetSource()
	if err != nil {
		return nil, fmt.Errorf("find the managed identity source: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	var endpoint *url.URL
	if cfg.IMDSEndpoint != "" {
		if endpoint, err = url.Parse(strings.TrimSuffix(cfg.IMDSEndpoint, "/")); err != nil || endpoint.Host == "" || (endpoint.Scheme != "http" && endpoint.Scheme != "https") {
			return nil, fmt.Errorf("the IMDS endpoint %q is not an http(s) URL", cfg.IMDSEndpoint)
		}
	}
	opts := []managedidentity.ClientOption{}
	if source == managedidentity.ServiceFabric {
		// MSAL pins Service Fabric's certificate on a plain *http.Transport: no wrapping.
		opts = append(opts, managedidentity.WithHTTPClient(hc))
	} else {
		wrapped := *hc
		wrapped.Transport = &imdsTransport{base: hc.Transport, endpoint: endpoint}
		opts = append(opts, managedidentity.WithHTTPClient(&wrapped))
	}
	c, err := managedidentity.New(id, opts...)
	if err != nil {
		return nil, fmt.Errorf("use the %s on %s: %w", name, sourceName(source), err)
	}
	src := &ManagedIdentitySource{client: c, source: source, identity: name}
	if _, isClientID := id.(managedidentity.UserAssignedClientID); isClientID && cfg.IDKind == IDAuto {
		oid, oname, err := managedIdentityID(cfg.AccountID, IDObjectID)
		if err != nil {
			return nil, err
		}
		alt, err := managedidentity.New(oid, opts...)
		if err != nil {
			return nil, fmt.Errorf("use the %s on %s: %w", oname, sourceName(source), err)
		}
		src.objectID, src.objName = &alt, oname
	}
	return src, nil
}

// managedIdentityID reads an account id as -ManagedIdentityAccountId does.
func managedIdentityID(account string, kind IDKind) (managedidentity.ID, string, error) {
	account = strings.TrimSpace(account)
	if account == "" {
		if kind != IDAuto {
			return nil, "", errors.New("a managed identity account id of a given kind needs a value")
		}
		return managedidentity.SystemAssigned(), "system-assigned managed identity", nil
	}
	isResource := strings.HasPrefix(strings.ToLower(account), "/subscriptions/")
	_, guidErr := uuid.Parse(account)
	if kind == IDAuto {
		switch {
		case isResource:
			kind = IDResourceID
		case guidErr == nil:
			kind = IDClientID
		default:
			return nil, "", fmt.Errorf("the managed identity account id %q is neither a GUID (client id) nor a resource id (/subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME)", account)
		}
	}
	switch kind {
	case IDClientID:
		if guidErr != nil {
			return nil, "", fmt.Errorf("the managed identity client id %q is not a GUID", account)
		}
		return managedidentity.UserAssignedClientID(account), "managed identity with client id " + account, nil
	case IDObjectID:
		if guidErr != nil {
			return nil, "", fmt.Errorf("the managed identity object id %q is not a GUID", account)
		}
		return managedidentity.UserAssignedObjectID(account), "managed identity with object id " + account, nil
	case IDResourceID:
		if !isResource {
			return nil, "", fmt.Errorf("the managed identity resource id %q does not start with /subscriptions/", account)
		}
		return managedidentity.UserAssignedResourceID(account), "managed identity " + account, nil
	}
	return nil, "", fmt.Errorf("unknown managed identity id kind %d", kind)
}

func sourceName(s managedidentity.Source) string {
	switch s {
	case managedidentity.DefaultToIMDS:
		return "IMDS (Azure VM)"
	case managedidentity.AppService:
		return "App Service/Functions"
	case managedidentity.CloudShell:
		return "Cloud Shell"
	case managedidentity.AzureArc:
		return "Azure Arc"
	case managedidentity.ServiceFabric:
		return "Service Fabric"
	case managedidentity.AzureML:
		return "Azure ML"
	}
	return string(s)
}

// Source names where the tokens come from: MSAL's source, e.g. AppService or DefaultToIMDS.
func (s *ManagedIdentitySource) Source() string { return string(s.source) }

// Identity names the identity as errors do, e.g. "system-assigned managed identity".
func (s *ManagedIdentitySource) Identity() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identity
}

// Token returns a token for scope's resource (managed identities take a resource, not a scope:
// /.default is dropped). A GUID the host does not know as a client id is tried as an object id,
// and kept as one if that works.
func (s *ManagedIdentitySource) Token(ctx context.Context, scope string) (Token, error) {
	return s.acquire(ctx, scope)
}

func (s *ManagedIdentitySource) acquire(ctx context.Context, scope string, opts ...managedidentity.AcquireTokenOption) (Token, error) {
	resource := strings.TrimSuffix(strings.TrimSpace(scope), "/.default")
	s.mu.Lock()
	client, alt, name := s.client, s.objectID, s.identity
	s.mu.Unlock()
	r, err := client.AcquireToken(ctx, resource, opts...)
	if err != nil {
		err = s.wrap(err, name)
		var me *ManagedIdentityError
		if alt == nil || !errors.As(err, &me) || !me.identityNotFound() {
			return Token{}, err
		}
		if r, err = alt.AcquireToken(ctx, resource, opts...); err != nil {
			return Token{}, s.wrap(err, name+" or object id")
		}
		s.mu.Lock()
		s.client, s.identity, s.objectID = *alt, s.objName, nil
		name = s.identity
		s.mu.Unlock()
	}
	if r.AccessToken == "" {
		return Token{}, fmt.Errorf("the %s endpoint answered without an access token for the %s", sourceName(s.source), name)
	}
	c, err := ParseClaims(r.AccessToken)
	if err != nil {
		return Token{}, fmt.Errorf("the %s endpoint's access token for the %s: %w", sourceName(s.source), name, err)
	}
	return Token{AccessToken: r.AccessToken, ExpiresOn: r.ExpiresOn, Claims: c}, nil
}

// ManagedIdentityError is an error answer of a managed identity endpoint, in its own words.
type ManagedIdentityError struct {
	Source      string // MSAL's source, e.g. DefaultToIMDS
	Identity    string
	StatusCode  int
	Code        string // invalid_request, invalid_resource, ...
	Description string
	Err         error
}

func (e *ManagedIdentityError) Error() string {
	msg := e.Description
	if msg == "" {
		msg = e.Code
	}
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d", e.StatusCode)
	}
	s := fmt.Sprintf("the %s endpoint refused the %s: %s", sourceName(managedidentity.Source(e.Source)), e.Identity, msg)
	if h := e.Hint(); h != "" {
		s += ". " + h
	}
	return s
}

func (e *ManagedIdentityError) Unwrap() error { return e.Err }

// identityNotFound reports whether the endpoint knows no such identity on this host.
func (e *ManagedIdentityError) identityNotFound() bool {
	d := strings.ToLower(e.Description)
	return strings.Contains(d, "identity not found") || strings.Contains(d, "unable to load the proper managed identity")
}

// Hint says what to do next.
func (e *ManagedIdentityError) Hint() string {
	d := strings.ToLower(e.Description)
	switch {
	case e.identityNotFound():
		if strings.HasPrefix(e.Identity, "system-assigned") {
			return "This host has no system-assigned identity: enable it, or pass --managed-identity-account-id for a user-assigned identity"
		}
		return "That identity is not assigned to this host: assign it, or check --managed-identity-account-id (client id, object id or resource id)"
	case e.Code == "invalid_resource" || strings.Contains(d, "aadsts500011"):
		return "Check --connection-uri and --environment: the resource is not known in the tenant"
	case e.StatusCode == http.StatusUnauthorized && e.Source == string(managedidentity.AppService):
		return "IDENTITY_HEADER is not the host's secret"
	}
	return ""
}

// wrap turns MSAL's error into ErrNoManagedIdentity, a ManagedIdentityError or a plain one.
func (s *ManagedIdentitySource) wrap(err error, identity string) error {
	var call msalerrors.CallErr
	if errors.As(err, &call) && call.Resp != nil {
		me := &ManagedIdentityError{Source: string(s.source), Identity: identity, StatusCode: call.Resp.StatusCode, Err: err}
		var b []byte
		if call.Resp.Body != nil {
			b, _ = io.ReadAll(io.LimitReader(call.Resp.Body, 1<<20))
		}
		if len(b) == 0 && call.Err != nil {
			// MSAL reads the body itself and keeps it only in its message, after the status line.
			if _, rest, ok := strings.Cut(call.Err.Error(), "\n"); ok {
				b = []byte(rest)
			}
		}
		if len(b) > 0 {
			me.Code, me.Description = managedIdentityErrorBody(b)
		}
		return me
	}
	if errors.Is(err, errIMDSUnreachable) {
		return fmt.Errorf("%w: %w", ErrNoManagedIdentity, err)
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return fmt.Errorf("cannot reach the %s endpoint for the %s: %w", sourceName(s.source), identity, err)
	}
	return fmt.Errorf("get a token for the %s from %s: %w", identity, sourceName(s.source), err)
}

// managedIdentityErrorBody reads the error shapes of IMDS ({error, error_description}), App
// Service ({statusCode, message}) and Service Fabric ({error: {code, message}}).
func managedIdentityErrorBody(b []byte) (code, description string) {
	var body struct {
		Error       json.RawMessage `json:"error"`
		Description string          `json:"error_description"`
		Message     string          `json:"message"`
	}
	if json.Unmarshal(b, &body) != nil {
		return "", strings.TrimSpace(string(b[:min(len(b), 512)]))
	}
	var s string
	var nested struct{ Code, Message string }
	switch {
	case json.Unmarshal(body.Error, &s) == nil:
		return s, trimTrace(body.Description)
	case json.Unmarshal(body.Error, &nested) == nil && (nested.Code != "" || nested.Message != ""):
		return nested.Code, nested.Message
	}
	return "", body.Message
}

// errIMDSUnreachable marks a failed connection to IMDS: the machine is no Azure VM.
var errIMDSUnreachable = errors.New("nothing answers at " + IMDSHost)

// imdsProbeTimeout bounds the connection to IMDS, which answers in milliseconds on Azure and
// never elsewhere.
const imdsProbeTimeout = 2 * time.Second

// imdsTransport sends IMDS requests to endpoint when set (before any dial, so nothing goes to
// the link-local address), and otherwise dials IMDS with a short timeout, failing fast after a
// first refusal (MSAL retries three times).
type imdsTransport struct {
	base     http.RoundTripper
	endpoint *url.URL

	once   sync.Once
	direct http.RoundTripper // base with a short dial timeout, for IMDS itself

	mu       sync.Mutex
	downErr  error
	downTill time.Time
}

func (t *imdsTransport) baseRT() http.RoundTripper {
	if t.base != nil {
		return t.base
	}
	return http.DefaultTransport
}

func (t *imdsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Hostname() != IMDSHost {
		return t.baseRT().RoundTrip(r)
	}
	if t.endpoint != nil {
		r2 := r.Clone(r.Context())
		r2.URL.Scheme, r2.URL.Host = t.endpoint.Scheme, t.endpoint.Host
		r2.URL.Path = t.endpoint.Path + r.URL.Path
		r2.URL.RawPath = ""
		r2.Host = ""
		return t.baseRT().RoundTrip(r2)
	}
	t.mu.Lock()
	if t.downErr != nil && time.Now().Before(t.downTill) {
		err := t.downErr
		t.mu.Unlock()
		return nil, err
	}
	t.mu.Unlock()
	t.once.Do(func() {
		t.direct = t.baseRT()
		if tr, ok := t.direct.(*http.Transport); ok {
			// Keep the caller's dialer (tests refuse non-loopback dials there); bound it, and
			// never send IMDS requests through a proxy.
			tr = tr.Clone()
			dial := tr.DialContext
			if dial == nil {
				dial = (&net.Dialer{}).DialContext
			}
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				ctx, cancel := context.WithTimeout(ctx, imdsProbeTimeout)
				defer cancel()
				return dial(ctx, network, addr)
			}
			tr.Proxy = nil
			t.direct = tr
		}
	})
	resp, err := t.direct.RoundTrip(r)
	var op *net.OpError
	if err != nil && errors.As(err, &op) && op.Op == "dial" {
		err = fmt.Errorf("%w: %w", errIMDSUnreachable, err)
		t.mu.Lock()
		t.downErr, t.downTill = err, time.Now().Add(30*time.Second)
		t.mu.Unlock()
	}
	return resp, err
}

// IsManagedIdentity reports whether src is a managed identity: the CLI then explains Exchange's
// refusals with ExplainManagedIdentityRefusal.
func IsManagedIdentity(src Source) bool {
	_, ok := src.(*ManagedIdentitySource)
	return ok
}

// Directory role template ids that give an app-only caller Exchange cmdlets.
const (
	roleExchangeAdministrator = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	roleGlobalAdministrator   = "62e90394-69f5-4237-9190-012177145e10"
	appRoleManageAsApp        = "Exchange.ManageAsApp"
)

// ManagedIdentityRoleError says what a managed identity lacks for Exchange Online, read from
// its own token, when Exchange refused it.
type ManagedIdentityRoleError struct {
	Identity             string
	ClientID             string
	MissingAppRole       bool // the Exchange.ManageAsApp application permission
	MissingDirectoryRole bool // Exchange Administrator (or Global Administrator)
	Err                  error
}

func (e *ManagedIdentityRoleError) Error() string {
	name := e.Identity
	if e.ClientID != "" && !strings.Contains(name, e.ClientID) {
		name += " (client id " + e.ClientID + ")"
	}
	switch {
	case e.MissingAppRole && e.MissingDirectoryRole:
		return fmt.Sprintf("the %s has no Exchange role: grant Exchange.ManageAsApp and the Exchange Administrator role (the service said: %s)", name, serviceWords(e.Err))
	case e.MissingAppRole:
		return fmt.Sprintf("the %s lacks the Exchange.ManageAsApp application permission: grant it on Office 365 Exchange Online (the service said: %s)", name, serviceWords(e.Err))
	default:
		return fmt.Sprintf("the %s has Exchange.ManageAsApp but no Exchange role: assign it the Exchange Administrator role (the service said: %s)", name, serviceWords(e.Err))
	}
}

func (e *ManagedIdentityRoleError) Unwrap() error { return e.Err }

// serviceWords is what the service said, without the caller's advice (a 401's "run exoctl
// connect again" does not help an identity that lacks a role).
func serviceWords(err error) string {
	var sm interface{ ServiceMessage() string }
	if errors.As(err, &sm) && sm.ServiceMessage() != "" {
		return sm.ServiceMessage()
	}
	return fmt.Sprint(err)
}

// ExplainManagedIdentityRefusal turns Exchange's refusal (401/403) of a managed identity's
// token tok (e.g. from exo.Session.Token) into a ManagedIdentityRoleError naming what the
// identity lacks. It returns err unchanged when src is no managed identity or tok has both the
// Exchange.ManageAsApp permission and the Exchange (or Global) Administrator role.
func ExplainManagedIdentityRefusal(src Source, tok Token, err error) error {
	mi, ok := src.(*ManagedIdentitySource)
	if !ok || err == nil {
		return err
	}
	var c struct {
		AppID string   `json:"appid"`
		Roles []string `json:"roles"`
		WIDs  []string `json:"wids"`
	}
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		return err
	}
	payload, derr := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if derr != nil || json.Unmarshal(payload, &c) != nil {
		return err
	}
	has := func(list []string, v string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, v) })
	}
	re := &ManagedIdentityRoleError{
		Identity: mi.identity, ClientID: c.AppID, Err: err,
		MissingAppRole:       !has(c.Roles, appRoleManageAsApp),
		MissingDirectoryRole: !has(c.WIDs, roleExchangeAdministrator) && !has(c.WIDs, roleGlobalAdministrator),
	}
	if !re.MissingAppRole && !re.MissingDirectoryRole {
		return err
	}
	return re
}
