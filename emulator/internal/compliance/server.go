package compliance

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

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
// accepts besides the emulator's own URL.
var Resources = []string{
	"https://ps.compliance.protection.outlook.com",
	"https://ps.compliance.protection.office365.us",
	"https://l5.ps.compliance.protection.office365.us",
	"https://ps.compliance.protection.outlook.de",
	"https://ps.compliance.protection.partner.outlook.cn",
}

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
	Now              func() time.Time
	Logger           *slog.Logger
}

// Server answers region discovery and the region's admin API. It is safe for concurrent use.
type Server struct {
	region    string
	regionURL string
	api       *exchange.Server
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
		api: exchange.New(exchange.Config{
			Store: cfg.Store, Keys: cfg.Keys, BaseURL: regionURL, Audiences: auds, Backend: backend,
			AuthorizationURI: cfg.AuthorizationURI, RateLimit: cfg.RateLimit, Registry: Cmdlets(),
			Now: cfg.Now, Logger: cfg.Logger,
		}),
	}
}

// RegionURL is the base of the region endpoint, where InvokeCommand is answered.
func (s *Server) RegionURL() string { return s.regionURL }

// Handles reports whether a request path belongs to this endpoint: region discovery
// (/adminapi/{version}/{tenant}/EXOBanner(...)) or a region endpoint (/compliance/...).
func Handles(path string) bool {
	p := strings.ToLower(path)
	if strings.HasPrefix(p, PathPrefix) {
		return true
	}
	_, ok := bannerTenant(p)
	return ok
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
	if rest, ok := cutPrefixFold(r.URL.Path, PathPrefix+s.region); ok && (rest == "" || rest[0] == '/') {
		// The region endpoint: the admin API under a path prefix.
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = rest, ""
		if tenant, ok := bannerTenant(rest); ok {
			s.banner(w, r2, tenant, false)
			return
		}
		s.api.ServeHTTP(w, r2)
		return
	}
	if tenant, ok := bannerTenant(r.URL.Path); ok {
		s.banner(w, r, tenant, true)
		return
	}
	// Another region, or nothing known: the admin API's 404.
	s.api.ServeHTTP(w, r)
}

// banner answers EXOBanner: at the discovery endpoint a 302 to the tenant's region, at the
// region endpoint the (empty) banner itself. Both need a valid token, as the service's do.
func (s *Server) banner(w http.ResponseWriter, r *http.Request, tenant string, discover bool) {
	if _, _, ok := s.api.Authorize(w, r, tenant); !ok {
		return
	}
	if discover {
		loc := s.regionURL + r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusFound)
		w.Write([]byte(`<html><head><title>Object moved</title></head><body><h2>Object moved to <a href="` +
			strings.ReplaceAll(loc, `"`, "%22") + `">here</a>.</h2></body></html>`))
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
