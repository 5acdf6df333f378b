package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// Config is what the identity service needs.
type Config struct {
	Store store.Store
	Keys  *token.Keys
	// BaseURL is the authority host, e.g. https://127.0.0.1:8443. Issuers and endpoints use
	// exactly this scheme and host:port, as MSAL requires.
	BaseURL string
	// Resources are the resource URIs a /.default scope (or a v1 resource=) may name, e.g. the
	// emulator's own BaseURL, https://outlook.office365.com,
	// https://ps.compliance.protection.outlook.com or 00000002-0000-0ff1-ce00-000000000000.
	Resources []string
	// TokenLifetime is how long access tokens live; zero means one hour. MSAL never caches a
	// token with under five minutes left, so it must exceed that.
	TokenLifetime time.Duration
	// DeviceCodeInterval is the polling interval a device code answer asks for; polls closer
	// than a fifth of it are answered slow_down. Zero means Entra's
	// five seconds. Tests set a few milliseconds (the answer's interval, in whole seconds, is
	// then 1).
	DeviceCodeInterval time.Duration
	// DeviceCodeLifetime is how long a device code stays usable; zero means Entra's 15 minutes.
	DeviceCodeLifetime time.Duration
	// LockoutThreshold is how many wrong passwords lock an account (smart lockout; zero
	// means Entra's 10) and LockoutDuration how long the first lockout lasts (zero: 60 s).
	LockoutThreshold int
	LockoutDuration  time.Duration
	// MaxPending bounds the sign-ins (and, separately, the device codes) in progress, and
	// MaxPendingPerClient those of one client (source address and client id): a client that
	// starts more loses its oldest, so a flood from one client never shuts out the others.
	// Zero means 20,000 and 100.
	MaxPending          int
	MaxPendingPerClient int
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Server is the Microsoft Entra ID side of the emulator. It serves every path that is not
// /adminapi/...: discovery, keys, user realm and the token endpoint.
type Server struct {
	cfg     Config
	base    string
	now     func() time.Time
	log     *slog.Logger
	life    time.Duration
	refresh refreshCodec
	// pending holds the short-lived state of browser and device sign-ins.
	pending *sessions
	// lock is smart lockout's count of wrong passwords per account.
	lock *lockout
}

// MinTokenLifetime is the shortest TokenLifetime New accepts: MSAL treats a token with under
// five minutes left as expired.
const MinTokenLifetime = 5*time.Minute + time.Second

// New returns the identity service for cfg. A TokenLifetime under MinTokenLifetime is raised
// to it.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, base: strings.TrimSuffix(cfg.BaseURL, "/"), now: cfg.Now, log: cfg.Logger, life: cfg.TokenLifetime}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.life == 0 {
		s.life = time.Hour
	}
	if s.life < MinTokenLifetime {
		s.life = MinTokenLifetime
	}
	s.refresh = refreshCodec{keys: cfg.Keys}
	if s.cfg.DeviceCodeInterval <= 0 {
		s.cfg.DeviceCodeInterval = 5 * time.Second
	}
	if s.cfg.DeviceCodeLifetime <= 0 {
		s.cfg.DeviceCodeLifetime = 15 * time.Minute
	}
	s.pending = newSessions(cfg.MaxPending, cfg.MaxPendingPerClient)
	s.lock = newLockout(cfg.LockoutThreshold, cfg.LockoutDuration)
	return s
}

// ServeHTTP routes a request by path. Tenant segments keep their case; every other segment is
// matched case-insensitively, as Entra does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	low := make([]string, len(seg))
	for i, p := range seg {
		low[i] = strings.ToLower(p)
	}
	rest := strings.Join(low[1:], "/")
	if len(seg) >= 2 && low[0] == "common" && low[1] == "userrealm" {
		s.userRealm(w, r, strings.Join(seg[2:], "/"))
		return
	}
	if len(seg) >= 2 && low[1] == "userrealm" {
		s.userRealm(w, r, strings.Join(seg[2:], "/"))
		return
	}
	tenant := seg[0]
	switch {
	case len(seg) == 1 && tenant == "":
		http.NotFound(w, r)
	case rest == "v2.0/.well-known/openid-configuration":
		s.openIDConfiguration(w, r, tenant, true)
	case rest == ".well-known/openid-configuration":
		s.openIDConfiguration(w, r, tenant, false)
	case rest == "discovery/v2.0/keys":
		s.keys(w, r, tenant, true)
	case rest == "discovery/keys":
		s.keys(w, r, tenant, false)
	case rest == "discovery/instance":
		s.instanceDiscovery(w, r)
	case rest == "oauth2/v2.0/token":
		s.tokenEndpoint(w, r, tenant, true)
	case rest == "oauth2/token":
		s.tokenEndpoint(w, r, tenant, false)
	case rest == "oauth2/v2.0/authorize" || rest == "oauth2/authorize":
		s.authorize(w, r, tenant)
	case rest == "login":
		s.login(w, r)
	case rest == "oauth2/v2.0/devicecode":
		s.deviceCode(w, r, tenant, true)
	case rest == "oauth2/devicecode":
		s.deviceCode(w, r, tenant, false)
	case rest == "oauth2/deviceauth":
		s.deviceAuth(w, r)
	case len(seg) == 1 && low[0] == "error":
		// error_uri of every error answer.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "AADSTS%s: the emulator's Entra ID refused a request; its answer's error_description says what is wrong and what to do.\n", r.URL.Query().Get("code"))
	default:
		http.Error(w, "The emulator's Entra ID has no endpoint at "+r.URL.Path+". It serves /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/oauth2/v2.0/authorize, /{tenant}/oauth2/v2.0/token, /{tenant}/oauth2/token, /{tenant}/oauth2/v2.0/devicecode, /common/oauth2/deviceauth, /{tenant}/discovery/v2.0/keys, /common/discovery/instance and /common/UserRealm/{upn}.", http.StatusNotFound)
	}
}

// tenantRef is a resolved tenant segment of a URL.
type tenantRef struct {
	Segment string       // as the request spelled it
	Meta    bool         // organizations or common: no tenant yet
	Tenant  store.Tenant // set unless Meta
}

// resolveTenant turns a tenant segment into a tenant. oauthErr is the "error" value of the
// 90002 answer, which differs between discovery (invalid_tenant) and token (invalid_request).
func (s *Server) resolveTenant(ctx context.Context, seg, oauthErr string) (tenantRef, *aadError) {
	switch strings.ToLower(seg) {
	case "organizations", "common":
		return tenantRef{Segment: seg, Meta: true}, nil
	}
	t, err := s.cfg.Store.Tenant(ctx, seg)
	if errors.Is(err, store.ErrNotFound) {
		return tenantRef{}, errTenantNotFound(oauthErr, seg)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "identity: tenant lookup", "tenant", seg, "err", err)
		return tenantRef{}, errServer(err)
	}
	return tenantRef{Segment: seg, Tenant: t}, nil
}

// errServer is the answer to an internal failure: a generic text (the trace id finds the
// details, which are logged, in the emulator's log) rather than SQL or Go error text.
func errServer(err error) *aadError {
	e := newErr(http.StatusInternalServerError, "temporarily_unavailable", 90033,
		"A transient error has occurred. Retry the request; if it keeps failing, look for its trace ID in the emulator's log.")
	e.cause = err
	return e
}

// correlationID is the caller's client-request-id (header or query) or a new one.
// A value with control bytes, or too long for an id, is not echoed (it would reach a header).
func correlationID(r *http.Request) string {
	for _, v := range []string{r.Header.Get("client-request-id"), r.URL.Query().Get("client-request-id")} {
		if v != "" && len(v) <= 128 && !strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
			return v
		}
	}
	return uuid.NewString()
}

func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	if h.Get("x-ms-request-id") == "" {
		h.Set("x-ms-request-id", uuid.NewString())
	}
	h.Set("client-request-id", correlationID(r))
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.DebugContext(r.Context(), "identity: write answer", "err", err)
	}
}

// errorBody is Entra's error answer.
type errorBody struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri"`
	Suberror      string `json:"suberror,omitempty"`
}

// traced is an error as Entra reports it: the description with its trace suffix, and the
// trace data on their own. It logs the refusal.
type traced struct {
	desc, trace, corr, ts, uri string
}

func (s *Server) trace(r *http.Request, e *aadError) traced {
	t := traced{trace: uuid.NewString(), corr: correlationID(r), ts: s.now().UTC().Format("2006-01-02 15:04:05Z")}
	t.desc = fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", e.Code, e.Msg, t.trace, t.corr, t.ts)
	t.uri = fmt.Sprintf("%s/error?code=%d", s.base, e.Code)
	if e.cause != nil {
		s.log.ErrorContext(r.Context(), "identity: internal error", "path", r.URL.Path, "code", e.Code, "cause", e.cause, "trace_id", t.trace, "correlation_id", t.corr)
	} else {
		s.log.InfoContext(r.Context(), "identity: refused", "path", r.URL.Path, "code", e.Code, "error", e.Err, "msg", e.Msg, "correlation_id", t.corr)
	}
	return t
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *aadError) {
	t := s.trace(r, e)
	w.Header().Set("x-ms-request-id", t.trace)
	s.writeJSON(w, r, e.Status, errorBody{
		Error:         e.Err,
		Description:   t.desc,
		Codes:         []int{e.Code},
		Timestamp:     t.ts,
		TraceID:       t.trace,
		CorrelationID: t.corr,
		ErrorURI:      t.uri,
		Suberror:      e.Suberror,
	})
}
