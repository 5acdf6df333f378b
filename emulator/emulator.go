// Package emulator runs a local Microsoft Entra ID and Exchange Online on loopback, over HTTPS,
// backed by an embedded database and seeded with a demo tenant. Start it in-process from a Go
// test in milliseconds, or as `exoctl emulator start`; clients find everything they need in the
// emulator.json it writes (CA, URLs, seeded app, certificate and users).
package emulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/cloud"
	"github.com/exoctl/exoctl/emulator/emuinfo"
	"github.com/exoctl/exoctl/emulator/internal/compliance"
	"github.com/exoctl/exoctl/emulator/internal/exchange"
	"github.com/exoctl/exoctl/emulator/internal/identity"
	"github.com/exoctl/exoctl/emulator/internal/managedidentity"
	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// The admin API's default request budget per tenant: what one capture of the service showed
// (Rate-Limit-Limit: 30000), per hour.
const (
	DefaultRateLimit  = emuinfo.DefaultRateLimit
	DefaultRateWindow = emuinfo.DefaultRateWindow
)

// The content of emulator.json, whose types live in package emuinfo so that clients read the
// file without linking the emulator.
type (
	Info                     = emuinfo.Info
	ManagedIdentityEndpoints = emuinfo.ManagedIdentityEndpoints
	TenantInfo               = emuinfo.TenantInfo
	ManagedIdentityInfo      = emuinfo.ManagedIdentityInfo
	AppInfo                  = emuinfo.AppInfo
	UserInfo                 = emuinfo.UserInfo
	RelationshipInfo         = emuinfo.RelationshipInfo
	AccessInfo               = emuinfo.AccessInfo
	GroupInfo                = emuinfo.GroupInfo
	GuestInfo                = emuinfo.GuestInfo
)

// SpareEnv names what emulators make ahead for new data folders (spare keys and seeded folders):
// "auto" for the user's cache folder, another folder, or "off" (unset: off; exoctl-emulator sets
// "auto" unless it is set).
const SpareEnv = token.SpareEnv

// InfoFile is the name of the file, in the data folder, that tells clients how to connect.
const InfoFile = emuinfo.FileName

// DefaultAddr is where `exoctl emulator start` listens unless told otherwise.
const DefaultAddr = emuinfo.DefaultAddr

// TOTPIssuer is the issuer name in the seeded MFA users' otpauth:// URIs.
const TOTPIssuer = emuinfo.TOTPIssuer

// ReadInfo reads emulator.json from a data folder.
func ReadInfo(dataDir string) (*Info, error) { return emuinfo.Read(dataDir) }

// Config configures an emulator.
type Config struct {
	// Addr is the listen address; DefaultAddr when empty, "127.0.0.1:0" for a free port.
	Addr string
	// DataDir keeps the database, certificates and emulator.json. When empty, a temporary
	// folder is used and removed by Close.
	DataDir string
	// Seed names the data an empty store starts with: "demo" (default), "large" or "msp".
	Seed string
	// RateLimit is the per-tenant request budget per RateWindow behind Rate-Limit-* and 429
	// (0: the service's 30,000 per hour). RateLimitOff turns the limit off.
	RateLimit    int
	RateWindow   time.Duration
	RateLimitOff bool
	// ReadTimeout bounds the reading of one request, body included (two minutes when 0).
	ReadTimeout time.Duration
	// LockoutThreshold is how many wrong passwords lock an account (Entra's smart lockout:
	// 10 when 0) and LockoutDuration how long it stays locked (60 seconds when 0).
	LockoutThreshold int
	LockoutDuration  time.Duration
	// TokenLifetime of issued access tokens (1h when 0).
	TokenLifetime time.Duration
	Logger        *slog.Logger
	// ArcKeyDir is where the Azure Arc endpoint writes its challenge key files (the data
	// folder's azcmagent-tokens when empty). MSAL reads them only from /var/opt/azcmagent/tokens
	// on Linux, so exercising MSAL's Arc source needs that folder here and writable.
	ArcKeyDir string
}

// otpauthURI is the Key URI Format authenticator apps import (SHA-1, 6 digits, 30 s).
func otpauthURI(upn, secret string) string {
	if secret == "" {
		return ""
	}
	q := url.Values{"secret": {secret}, "issuer": {TOTPIssuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + url.PathEscape(TOTPIssuer) + ":" + url.PathEscape(upn) + "?" + q.Encode()
}

// userInfo describes a seeded user for emulator.json.
func userInfo(u store.SeedUser) UserInfo {
	return UserInfo{UPN: u.UPN, Password: u.Password, Roles: u.Roles, Description: u.Description,
		TOTPSecret: u.TOTPSecret, TOTPURI: otpauthURI(u.UPN, u.TOTPSecret)}
}

// Emulator is a running emulator.
type Emulator struct {
	// URL is the base URL, e.g. https://127.0.0.1:10443: the authority host and the connection URI.
	URL  string
	Info Info

	store   store.Store
	srv     *http.Server
	ln      net.Listener
	tempDir string
	lock    *dataLock
	roots   *x509.CertPool
	done    chan error
	// background is closed when the registries Start left building are built.
	background chan struct{}
	// spares says Close makes the spare data folder and keys a new data folder takes.
	spares bool
	log    *slog.Logger

	stopOnCancel func() bool
	closeOnce    sync.Once
	closeErr     error
}

// Start locks the data folder, listens, then opens (or creates and seeds) the store and serves
// until Close or ctx ends. Nothing but the lock is written to the folder before the port is
// bound, and a folder another emulator holds is refused with that emulator's process id. The
// admin APIs' cmdlet registries are built in the background once serving has begun (requests
// for them wait). An emulator with a data folder of its own makes the spare data folder and
// keys the next new data folder takes (spare.go, token.SpareKeys) when it closes, so that its
// own requests never share the CPU or the memory with that work.
func Start(ctx context.Context, cfg Config) (*Emulator, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Emulator{done: make(chan error, 1)}
	dir := cfg.DataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "exoctl-emulator-")
		if err != nil {
			return nil, err
		}
		dir, e.tempDir = d, d
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			if e.srv != nil {
				_ = e.srv.Close()
			}
			e.cleanup()
		}
	}()
	var err error
	if e.lock, err = lockDataDir(dir); err != nil {
		return nil, err
	}

	addr := cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	if e.ln, err = net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another program using the port? use --addr 127.0.0.1:0 for a free port)", addr, err)
	}
	e.URL = "https://" + e.ln.Addr().String()

	// A temporary data folder may reuse this process's RSA keys: fresh starts in milliseconds.
	shared := cfg.DataDir == ""
	restored := false
	if shared {
		// And the data folder of this process's first throwaway emulator of the seed.
		if restored, err = restoreThrowaway(dir, cfg.Seed); err != nil {
			return nil, err
		}
	} else if demoSeed(cfg.Seed) && emptyDataDir(dir) {
		// A new data folder: a spare one made ahead, if there is one.
		if _, err := takeSpareFolder(dir); err != nil {
			log.Debug("emulator: no spare data folder taken", "err", err)
		}
	}
	p, err := loadOrCreatePKI(dir, shared)
	if err != nil {
		return nil, fmt.Errorf("emulator certificates in %s: %w", dir, err)
	}
	keys, err := token.LoadOrCreateKeys(filepath.Join(dir, "signing-key.pem"), shared)
	if err != nil {
		return nil, err
	}
	if e.store, err = store.Open(ctx, filepath.Join(dir, "emulator.db")); err != nil {
		return nil, fmt.Errorf("open emulator database: %w", err)
	}
	tenants, err := seedOnce(ctx, e.store, dir, cfg.Seed, p)
	if err != nil {
		return nil, err
	}
	if s, ok := e.store.(*store.SQLite); ok && shared && !restored {
		if err := keepThrowaway(ctx, s, dir, cfg.Seed); err != nil {
			log.Debug("emulator: the seeded folder is not kept for the next throwaway emulators", "err", err)
		}
	}
	e.roots = x509.NewCertPool()
	caPEM, err := os.ReadFile(p.caFile)
	if err != nil {
		return nil, err
	}
	e.roots.AppendCertsFromPEM(caPEM)

	rateLimit := cfg.RateLimit
	if cfg.RateLimitOff {
		rateLimit = -1
	}
	resources := append(append([]string{e.URL}, exchangeResources()...), compliance.Resources...)
	ex := lazyHandler(sync.OnceValue(func() http.Handler {
		return exchange.New(exchange.Config{
			Store: e.store, Keys: keys, BaseURL: e.URL, Audiences: append([]string{e.URL}, exchangeResources()...),
			RateLimit: rateLimit, RateWindow: cfg.RateWindow, Logger: log, AuthorizationURI: e.URL + "/common/oauth2/authorize",
			Registry: exchangeCmdlets(),
		})
	}))
	cc := compliance.New(compliance.Config{
		Store: e.store, Keys: keys, BaseURL: e.URL, Audiences: append([]string{e.URL}, compliance.Resources...),
		RateLimit: rateLimit, RateWindow: cfg.RateWindow, Logger: log, AuthorizationURI: e.URL + "/common/oauth2/authorize",
	})
	id := identity.New(identity.Config{
		Store: e.store, Keys: keys, BaseURL: e.URL, Resources: resources,
		TokenLifetime: cfg.TokenLifetime, Logger: log,
		LockoutThreshold: cfg.LockoutThreshold, LockoutDuration: cfg.LockoutDuration,
	})
	miInfo, mi, err := managedIdentities(dir, cfg, e.URL, p, tenants, managedidentity.Config{
		Store: e.store, Keys: keys, Resources: resources, TokenLifetime: cfg.TokenLifetime, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	readTimeout := cfg.ReadTimeout
	if readTimeout <= 0 {
		readTimeout = 2 * time.Minute
	}
	e.srv = &http.Server{
		Handler:           route(ex, cc, id, mi, log),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{p.serverCert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		// A client that sends its body a byte at a time, or keeps an idle connection open,
		// cannot hold a connection for ever.
		ReadTimeout:    readTimeout,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}

	e.Info = Info{
		URL:           e.URL,
		CAFile:        p.caFile,
		Authority:     e.URL + "/organizations",
		ConnectionURI: e.URL,
		Tenants:       tenants,
	}
	e.Info.ComplianceURI, e.Info.ComplianceRegionURI = e.URL, cc.RegionURL()
	e.Info.ManagedIdentity = miInfo
	go func() { e.done <- e.srv.ServeTLS(e.ln, "", "") }()
	// The admin APIs' cmdlet registries (the catalog, the schemas) are built while the first
	// requests come: a token request does not need them, an admin API request waits for them.
	e.background = make(chan struct{})
	go func() {
		defer close(e.background)
		ex()
		cc.Prepare()
	}()
	e.spares, e.log = !shared, log
	if err := writeJSON(filepath.Join(dir, InfoFile), e.Info); err != nil {
		return nil, err
	}
	e.stopOnCancel = context.AfterFunc(ctx, func() { _ = e.Close() })
	ok = true
	log.Info("emulator ready", "url", e.URL, "data", dir)
	return e, nil
}

// exchangeCmdlets is the process's Exchange Online registry, built once: a registry holds no
// state of one emulator, so every emulator of the process shares it.
var exchangeCmdlets = sync.OnceValue(exchange.Cmdlets)

// lazyHandler is a handler built on first use: concurrent first requests wait for the one build.
type lazyHandler func() http.Handler

func (h lazyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h().ServeHTTP(w, r) }

// exchangeResources are the Exchange audiences the emulator accepts besides its own URL: every
// cloud's Exchange resource (package cloud's table), outlook.office.com and Exchange Online's
// application id. Tokens for a compliance resource (compliance.Resources) are for the Security &
// Compliance endpoint only.
var exchangeResources = sync.OnceValue(func() []string {
	return append(cloud.ExchangeURIs(), "https://outlook.office.com", "00000002-0000-0ff1-ce00-000000000000")
})

// route sends Security & Compliance (region discovery, the region endpoint, compliance tokens at
// the front door) to cc, the rest of
// /adminapi/ to Exchange, the managed identity endpoints to mi and everything else to Entra ID.
// Every path is matched in its canonical form (exchange.CleanPath: dot segments, duplicate and
// trailing slashes; each endpoint matches its fixed words in any case, as the service does),
// and no answer carries a raw control byte in a header, whatever the request smuggled into a
// path or query.
func route(ex http.Handler, cc *compliance.Server, id, mi http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if p := exchange.CleanPath(r.URL.Path); p != r.URL.Path {
			r2, u := *r, *r.URL
			u.Path, u.RawPath = p, ""
			r2.URL = &u
			r = &r2
		}
		g := &headerGuard{ResponseWriter: w}
		w = g
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				// A bug met by some request: logged with its stack, answered as a generic
				// 500 (when nothing was sent yet) instead of a dropped connection.
				id := uuid.NewString()
				log.Error("emulator: request panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "request_id", id, "stack", string(debug.Stack()))
				if !g.sent {
					g.Header().Set("Content-Type", "application/json; charset=utf-8")
					g.WriteHeader(http.StatusInternalServerError)
					fmt.Fprintf(g, `{"error":{"code":"InternalServerError","message":"The emulator couldn't complete the request because of an internal error. Report the request id %s with its log."}}`, id)
				}
			}
		}()
		p := strings.ToLower(r.URL.Path)
		if cc.Handles(r) {
			cc.ServeHTTP(w, r)
		} else if strings.HasPrefix(p, "/adminapi/") {
			ex.ServeHTTP(w, r)
		} else if managedidentity.Handles(p) {
			mi.ServeHTTP(w, r)
		} else {
			id.ServeHTTP(w, r)
		}
		log.Debug("request", "method", r.Method, "path", r.URL.Path, "took", time.Since(start))
	})
}

// headerGuard escapes control bytes in the answer's header values before they are sent: Go's
// server replaces only line breaks, so a NUL a request put in a tenant segment or a
// client-request-id would otherwise reach the wire as it is.
type headerGuard struct {
	http.ResponseWriter
	sent bool
}

func (g *headerGuard) WriteHeader(code int) {
	if !g.sent && code >= 200 {
		g.sent = true
		for k, vs := range g.Header() {
			for i, v := range vs {
				vs[i] = headerSafe(v)
			}
			g.Header()[k] = vs
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *headerGuard) Write(b []byte) (int, error) {
	if !g.sent {
		g.WriteHeader(http.StatusOK)
	}
	return g.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (g *headerGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// headerSafe replaces the control bytes of a header value (all but tab) by %XX escapes.
func headerSafe(v string) string {
	if !strings.ContainsFunc(v, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// HTTPClient returns a client that trusts the emulator's CA.
func (e *Emulator) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: e.roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}
}

// Store returns the emulator's store, for tests that arrange data directly.
func (e *Emulator) Store() store.Store { return e.store }

// Wait blocks until the server stops.
func (e *Emulator) Wait() error {
	err := <-e.done
	e.done <- err
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops the server, closes the store and removes a temporary data folder; an emulator
// with a data folder of its own then makes the spare folder and keys for the next new one (a
// few hundred milliseconds of CPU, when there are none yet).
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		if e.stopOnCancel != nil {
			e.stopOnCancel()
		}
		var errs []error
		if e.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, ignoreClosed(e.srv.Shutdown(ctx)))
			cancel()
		}
		if e.background != nil {
			<-e.background
		}
		errs = append(errs, e.cleanup())
		if e.spares {
			if err := makeSpareFolder(context.Background()); err != nil {
				e.log.Warn("emulator: no spare data folder made", "err", err)
			}
			if err := token.RefillSpareKeys(); err != nil {
				e.log.Warn("emulator: no spare keys made", "err", err)
			}
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (e *Emulator) cleanup() error {
	var errs []error
	if e.ln != nil && e.srv == nil {
		errs = append(errs, ignoreClosed(e.ln.Close()))
	}
	if d, ok := e.store.(interface{ Discard() error }); ok && e.tempDir != "" {
		errs = append(errs, d.Discard()) // removed below
		e.store = nil
	} else if e.store != nil {
		errs = append(errs, e.store.Close())
		e.store = nil
	}
	if e.lock != nil {
		errs = append(errs, e.lock.release())
		e.lock = nil
	}
	if e.tempDir != "" {
		errs = append(errs, os.RemoveAll(e.tempDir))
		e.tempDir = ""
	}
	return errors.Join(errs...)
}

// seedFile remembers what the first start seeded, so emulator.json stays complete after restarts.
const seedFile = "seed.json"

func seedOnce(ctx context.Context, s store.Store, dir, seed string, p *pki) ([]TenantInfo, error) {
	path := filepath.Join(dir, seedFile)
	var tenants []TenantInfo
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &tenants); err != nil {
			return nil, fmt.Errorf("%s is damaged (%w): delete the data folder %s to start afresh", path, err, dir)
		}
		describeSeededUsers(tenants)
	} else {
		empty, err := store.IsEmpty(ctx, s)
		if err != nil {
			return nil, err
		}
		if !empty {
			return nil, fmt.Errorf("the database in %s has data but %s is missing: delete the folder to start afresh", dir, seedFile)
		}
		res, err := store.Seed(ctx, s, store.SeedOptions{Seed: seed, AppCertificateDER: p.appCert.Raw})
		if err != nil {
			return nil, fmt.Errorf("seed the emulator: %w", err)
		}
		if err := exchange.Seed(ctx, s, seed); err != nil {
			return nil, fmt.Errorf("seed the emulator: %w", err)
		}
		sha1Sum, _ := token.Thumbprints(p.appCert.Raw)
		t := TenantInfo{Name: res.TenantName, ID: res.TenantID, Apps: []AppInfo{{
			AppID:               res.AppID,
			CertificateFile:     filepath.Join(dir, "app.pfx"),
			CertificatePassword: randomPassword(),
			CertificatePEMFile:  filepath.Join(dir, "app.pem"),
			Thumbprint:          strings.ToUpper(hex.EncodeToString(sha1Sum)),
		}}}
		for _, u := range res.Users {
			t.Users = append(t.Users, userInfo(u))
		}
		for _, m := range res.ManagedIdentities {
			t.ManagedIdentities = append(t.ManagedIdentities, ManagedIdentityInfo{
				Name: m.Name, ClientID: m.ClientID, ObjectID: m.ObjectID, ResourceID: m.ResourceID,
				SystemAssigned: m.SystemAssigned, Roles: m.Roles, AppRoles: m.AppRoles, Description: m.Description,
			})
		}
		t.Guests = guestInfos(res.Guests)
		tenants = append([]TenantInfo{t}, partnerTenants(res, t.Apps[0])...)
		if err := writeJSON(path, tenants); err != nil {
			return nil, err
		}
	}
	for _, t := range tenants {
		for _, a := range t.Apps {
			if _, err := os.Stat(a.CertificateFile); err == nil {
				continue
			}
			if err := writeAppBundles(p, a.CertificateFile, a.CertificatePEMFile, a.CertificatePassword); err != nil {
				return nil, err
			}
		}
	}
	return tenants, nil
}

// describeSeededUsers fills in what a data folder seeded by an older emulator lacks: the
// seeded users' descriptions and MFA secrets, which the seed derives, never stores apart.
func describeSeededUsers(tenants []TenantInfo) {
	res, err := store.SeedInfo(store.SeedDemo)
	if err != nil {
		return
	}
	for i := range tenants {
		for j, u := range tenants[i].Users {
			for _, su := range res.Users {
				if strings.EqualFold(su.UPN, u.UPN) && u.Description == "" {
					d := userInfo(su)
					d.Password = u.Password
					tenants[i].Users[j] = d
				}
			}
		}
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes a file readable by its owner only, through a temporary file and a
// rename, so a reader never sees half of it.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
