package compliance

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/exoctl/exoctl/cloud"
	"github.com/exoctl/exoctl/emulator/internal/exchange"
	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
	"github.com/exoctl/exoctl/internal/jsontext"
)

// Defaults for Config fields left empty.
const (
	// DefaultRegion is the region discovery sends clients to.
	DefaultRegion = "eur01b"
	// DefaultBackend is the X-CalculatedBETarget of compliance answers.
	DefaultBackend = "AM7PR01MB5678.eurprd01.prod.outlook.com"
	// PathPrefix starts the path of every region endpoint: /compliance/{region}/adminapi/...
	PathPrefix = "/compliance/"
)

// Resources are the compliance resource URIs of every cloud: the token audiences the endpoint
// accepts besides the emulator's own URL (package cloud's table).
var Resources = cloud.ComplianceURIs()

// Config configures the Security & Compliance endpoint.
type Config struct {
	Store store.Store
	Keys  *token.Keys
	// BaseURL is the emulator's scheme and host (https://127.0.0.1:10443), where discovery is
	// answered; the region endpoint is BaseURL/compliance/{Region}.
	BaseURL string
	// Region names the region endpoint (DefaultRegion when empty).
	Region string
	// Audiences are the token audiences accepted; empty means Resources and BaseURL.
	Audiences []string
	// Backend is the X-CalculatedBETarget FQDN (DefaultBackend when empty).
	Backend          string
	AuthorizationURI string
	RateLimit        int
	RateWindow       time.Duration
	Now              func() time.Time
	Logger           *slog.Logger
}

// Server answers region discovery and the region's admin API. It is safe for concurrent use.
type Server struct {
	region    string
	regionURL string
	// api is the region's admin API, built on first use (its cmdlet registry takes
	// milliseconds of CPU a token request does not need): see Prepare.
	api func() *exchange.Server
}

// New returns a Server for cfg, filling in defaults.
func New(cfg Config) *Server {
	base := strings.TrimSuffix(cfg.BaseURL, "/")
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	auds := cfg.Audiences
	if len(auds) == 0 {
		auds = append([]string{base}, Resources...)
	}
	backend := cfg.Backend
	if backend == "" {
		backend = DefaultBackend
	}
	regionURL := base + PathPrefix + region
	return &Server{
		region:    strings.ToLower(region),
		regionURL: regionURL,
		api: sync.OnceValue(func() *exchange.Server {
			return exchange.New(exchange.Config{
				Store: cfg.Store, Keys: cfg.Keys, BaseURL: regionURL, Audiences: auds, Backend: backend,
				AuthorizationURI: cfg.AuthorizationURI, RateLimit: cfg.RateLimit, RateWindow: cfg.RateWindow, Registry: sharedCmdlets(),
				Now: cfg.Now, Logger: cfg.Logger,
			})
		}),
	}
}

// sharedCmdlets is the process's Security & Compliance registry, built once: a registry holds
// no state of one server, so every server of the process shares it.
var sharedCmdlets = sync.OnceValue(Cmdlets)

// Prepare builds the admin API now rather than on the first request that needs it; requests
// that come meanwhile wait for it.
func (s *Server) Prepare() { s.api() }

// RegionURL is the base of the region endpoint, where InvokeCommand is answered.
func (s *Server) RegionURL() string { return s.regionURL }

// Handles reports whether a request belongs to this endpoint: region discovery
// (/adminapi/{version}/{tenant}/EXOBanner(...)), a region endpoint (the /compliance/{region}
// path, or a host whose first label is the region: eur01b.localhost), or an admin API call at
// the front door with a compliance token, which the service redirects to the region.
func (s *Server) Handles(r *http.Request) bool {
	p := strings.ToLower(r.URL.Path)
	if strings.HasPrefix(p, PathPrefix) || s.regionHost(r.Host) {
		return true
	}
	if _, ok := bannerTenant(p); ok {
		return true
	}
	return strings.HasPrefix(p, "/adminapi/") && complianceAudience(r)
}

// regionHost reports whether host (with or without port) is {region}.localhost: the region
// endpoint addressed as the service addresses it, by the host's first label. Names under
// localhost resolve to loopback (RFC 6761) where the resolver follows that RFC.
func (s *Server) regionHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	label, rest, ok := strings.Cut(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	return ok && label == s.region && rest == "localhost"
}

// complianceAudience reports whether the request's bearer token is for a compliance resource.
// It only routes: the region endpoint verifies the token.
func complianceAudience(r *http.Request) bool {
	scheme, raw, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return false
	}
	var c struct {
		Aud string `json:"aud"`
	}
	if json.Unmarshal(b, &c) != nil {
		return false
	}
	aud := strings.TrimSuffix(c.Aud, "/")
	for _, res := range Resources {
		if strings.EqualFold(aud, res) {
			return true
		}
	}
	return false
}

// bannerTenant parses /adminapi/{version}/{tenant}/EXOBanner('...') and returns the tenant.
func bannerTenant(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/adminapi/")
	if !ok {
		return "", false
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) != 3 || parts[1] == "" || !strings.HasPrefix(strings.ToLower(parts[2]), "exobanner") {
		return "", false
	}
	return parts[1], true
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.regionHost(r.Host) {
		if tenant, ok := bannerTenant(r.URL.Path); ok {
			s.banner(w, r, tenant, false)
			return
		}
		s.api().ServeHTTP(w, r)
		return
	}
	if rest, ok := cutPrefixFold(r.URL.Path, PathPrefix+s.region); ok && (rest == "" || rest[0] == '/') {
		// The region endpoint: the admin API under a path prefix.
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = rest, ""
		if tenant, ok := bannerTenant(rest); ok {
			s.banner(w, r2, tenant, false)
			return
		}
		s.api().ServeHTTP(w, r2)
		return
	}
	if tenant, ok := bannerTenant(r.URL.Path); ok {
		s.banner(w, r, tenant, true)
		return
	}
	if rest, ok := cutPrefixFold(r.URL.Path, "/adminapi/"); ok && !strings.HasPrefix(strings.ToLower(r.URL.Path), PathPrefix) {
		// The front door with a compliance token: InvokeCommand, EXOModuleFile, $metadata...
		// answer the redirect to the tenant's region, as the service's do.
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) >= 2 && parts[1] != "" {
			s.redirect(w, r, parts[1])
			return
		}
	}
	// Another region, or nothing known: the admin API's 404.
	s.api().ServeHTTP(w, r)
}

// regionLocation is where the front door sends a request: the same path and query at the
// region endpoint. Reached by a host name (localhost), the region is the first label of the
// Location's host, as the service's {region}.admin.protection.outlook.com; reached by an IP,
// which has no labels, it is the path prefix /compliance/{region}.
func (s *Server) regionLocation(r *http.Request) string {
	loc := s.regionURL + r.URL.EscapedPath()
	host, port := r.Host, ""
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		host, port = h, p
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		h := s.region + ".localhost"
		if port != "" {
			h = net.JoinHostPort(h, port)
		}
		loc = "https://" + h + r.URL.EscapedPath()
	}
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	return loc
}

// redirect answers 302 to the region, after checking the token as the service does.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, tenant string) {
	if _, _, ok := s.api().Authorize(w, r, tenant); !ok {
		return
	}
	loc := s.regionLocation(r)
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusFound)
	w.Write([]byte(`<html><head><title>Object moved</title></head><body><h2>Object moved to <a href="` +
		strings.ReplaceAll(loc, `"`, "%22") + `">here</a>.</h2></body></html>`))
}

// banner answers EXOBanner: at the discovery endpoint a 302 to the tenant's region, at the
// region endpoint the (empty) banner itself. Both need a valid token, as the service's do.
func (s *Server) banner(w http.ResponseWriter, r *http.Request, tenant string, discover bool) {
	if discover {
		s.redirect(w, r, tenant)
		return
	}
	if _, _, ok := s.api().Authorize(w, r, tenant); !ok {
		return
	}
	version := "beta"
	if rest, ok := strings.CutPrefix(strings.ToLower(r.URL.Path), "/adminapi/"); ok {
		version, _, _ = strings.Cut(rest, "/")
	}
	b := []byte(`{"@odata.context":`)
	b = jsontext.AppendString(b, s.regionURL+"/adminapi/"+version+"/"+tenant+"/$metadata#Edm.String")
	b = append(b, `,"value":""}`...)
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}
