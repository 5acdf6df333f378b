package managedidentity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// Paths the server answers. IMDSPath is IMDS's own path (a client reaches it by sending what it
// meant for 169.254.169.254 to the emulator); the others are what the emulator publishes as
// IDENTITY_ENDPOINT or MSI_ENDPOINT.
const (
	IMDSPath          = "/metadata/identity/oauth2/token"
	AppServicePath    = "/msi/appservice"
	CloudShellPath    = "/msi/cloudshell"
	ArcPath           = "/msi/arc"
	ServiceFabricPath = "/msi/servicefabric"
)

// API versions MSAL Go sends, which the endpoints require as the real ones do.
const (
	IMDSAPIVersion          = "2018-02-01"
	AppServiceAPIVersion    = "2019-08-01"
	ArcAPIVersion           = "2020-06-01"
	ServiceFabricAPIVersion = "2019-07-01-preview"
)

// arcAPIVersions are the versions Azure Arc's HIMDS answers: MSAL's 2020-06-01 and
// azure-identity's 2019-11-01 (its AzureArcCredential).
var arcAPIVersions = []string{ArcAPIVersion, "2019-11-01"}

// DefaultTokenLifetime is how long a managed identity token lasts unless configured: 24 hours,
// like IMDS's.
const DefaultTokenLifetime = 24 * time.Hour

// arcKeyLifetime is how long an Azure Arc challenge key may be used.
const arcKeyLifetime = time.Minute

// Identity is a managed identity the host offers: a service principal of the tenant (stored as
// an App whose AppID is ClientID) plus the Azure facts the endpoints select it by.
type Identity struct {
	Name           string
	ClientID       string
	ObjectID       string
	ResourceID     string // /subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/name
	SystemAssigned bool
}

// Config configures a Server.
type Config struct {
	Store    store.Store
	Keys     *token.Keys
	TenantID string
	// Identities the host offers: at most one system-assigned, any number of user-assigned.
	Identities []Identity
	// Resources are the accepted resources (token audiences), compared ignoring case and a
	// trailing slash; anything else is refused as Entra ID refuses an unknown resource.
	Resources []string
	// IdentityHeader is the secret App Service and Service Fabric clients must send
	// (X-IDENTITY-HEADER, Secret): the value of IDENTITY_HEADER.
	IdentityHeader string
	// ArcKeyDir is where Azure Arc challenge key files are written; Arc is off when empty. MSAL
	// reads keys only from /var/opt/azcmagent/tokens on Linux.
	ArcKeyDir string
	// CloudShellUser is the UPN of the user signed in to Cloud Shell: Cloud Shell's endpoint
	// answers with that user's delegated token, never an app-only one (and ignores identity
	// parameters). Cloud Shell is off when empty.
	CloudShellUser string
	TokenLifetime  time.Duration // DefaultTokenLifetime when 0
	Now            func() time.Time
	Logger         *slog.Logger
}

// Server is the http.Handler of the managed identity endpoints.
type Server struct {
	cfg  Config
	life time.Duration
	log  *slog.Logger

	mu      sync.Mutex
	arcKeys map[string]arcKey // secret -> key
}

type arcKey struct {
	path    string
	expires time.Time
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, life: cfg.TokenLifetime, log: cfg.Logger, arcKeys: map[string]arcKey{}}
	if s.life <= 0 {
		s.life = DefaultTokenLifetime
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Handles reports whether path is one of the server's endpoints (for the emulator's router).
func Handles(path string) bool {
	return strings.EqualFold(strings.TrimSuffix(path, "/"), IMDSPath) || strings.HasPrefix(strings.ToLower(path), "/msi/")
}

// ServeHTTP answers the endpoint the path names.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch strings.ToLower(strings.TrimSuffix(r.URL.Path, "/")) {
	case IMDSPath:
		s.imds(w, r)
	case AppServicePath:
		s.appService(w, r)
	case CloudShellPath:
		s.cloudShell(w, r)
	case ArcPath:
		s.arc(w, r)
	case ServiceFabricPath:
		s.serviceFabric(w, r)
	default:
		http.NotFound(w, r)
	}
}

// selector is how a request names a user-assigned identity; zero means system-assigned.
type selector struct {
	kind  string // client_id, object_id or resource_id
	value string
}

// selectorOf reads the identity parameters a source accepts (names maps a query parameter to
// its kind). More than one is an error, as on IMDS.
func selectorOf(r *http.Request, names map[string]string) (selector, error) {
	var sel selector
	q := r.URL.Query()
	for name, kind := range names {
		v := strings.TrimSpace(q.Get(name))
		if v == "" {
			continue
		}
		if sel.kind != "" {
			return sel, errors.New("Multiple identity parameters specified: use one of client_id, object_id or a resource id")
		}
		sel = selector{kind: kind, value: v}
	}
	return sel, nil
}

// errIdentityNotFound is returned by identity when nothing matches the selector.
var errIdentityNotFound = errors.New("identity not found")

// identity finds the managed identity the selector names and its service principal.
func (s *Server) identity(ctx context.Context, sel selector) (Identity, store.App, error) {
	var found *Identity
	ids := s.cfg.Identities
	for i := range ids {
		id := &ids[i]
		var ok bool
		switch sel.kind {
		case "":
			ok = id.SystemAssigned
		case "client_id":
			ok = strings.EqualFold(id.ClientID, sel.value)
		case "object_id":
			ok = strings.EqualFold(id.ObjectID, sel.value)
		case "resource_id":
			ok = !id.SystemAssigned && strings.EqualFold(strings.TrimSuffix(id.ResourceID, "/"), strings.TrimSuffix(sel.value, "/"))
		}
		if ok {
			found = id
			break
		}
	}
	// IMDS's rule: with no system-assigned identity, a lone user-assigned one is the default.
	if found == nil && sel.kind == "" && len(ids) == 1 {
		found = &ids[0]
	}
	if found == nil {
		return Identity{}, store.App{}, errIdentityNotFound
	}
	app, err := s.cfg.Store.App(ctx, s.cfg.TenantID, found.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, store.App{}, errIdentityNotFound
	}
	if err != nil {
		return Identity{}, store.App{}, err
	}
	return *found, app, nil
}

// resource returns the configured spelling of an accepted resource.
func (s *Server) resource(res string) (string, bool) {
	r := strings.TrimSuffix(strings.TrimSpace(res), "/")
	for _, k := range s.cfg.Resources {
		if strings.EqualFold(r, strings.TrimSuffix(k, "/")) {
			return strings.TrimSuffix(k, "/"), true
		}
	}
	return "", false
}

func (s *Server) unknownResource(res string) string {
	return fmt.Sprintf("AADSTS500011: The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant. The emulator accepts: %s.",
		res, s.cfg.TenantID, strings.Join(s.cfg.Resources, ", "))
}

// issued is a minted token and the facts every answer shape draws from.
type issued struct {
	accessToken string
	resource    string
	clientID    string
	id          Identity
	notBefore   time.Time
	expiresOn   time.Time
	expiresIn   int64
}

// mint signs an app-only v1 token for the identity's service principal, the shape Entra ID gives
// managed identities: appidacr 2, no idtyp, roles and wids of the service principal.
func (s *Server) mint(id Identity, app store.App, resource string) (issued, error) {
	now := s.cfg.Now().UTC()
	c := token.AppOnly(s.cfg.TenantID, app.AppID, app.ObjectID, resource, app.AppRoles, app.DirectoryRoles, now, s.life)
	at, err := s.cfg.Keys.Sign(c)
	if err != nil {
		return issued{}, err
	}
	return issued{
		accessToken: at, resource: resource, clientID: app.AppID, id: id,
		notBefore: time.Unix(c.NotBefore, 0), expiresOn: time.Unix(c.Expires, 0), expiresIn: int64(s.life / time.Second),
	}, nil
}

// imdsAnswer is IMDS's answer: every value a string.
func imdsAnswer(t issued) map[string]any {
	return map[string]any{
		"access_token":   t.accessToken,
		"client_id":      t.clientID,
		"expires_in":     strconv.FormatInt(t.expiresIn, 10),
		"expires_on":     strconv.FormatInt(t.expiresOn.Unix(), 10),
		"ext_expires_in": strconv.FormatInt(t.expiresIn, 10),
		"not_before":     strconv.FormatInt(t.notBefore.Unix(), 10),
		"resource":       t.resource,
		"token_type":     "Bearer",
	}
}

// imdsError is the error shape of IMDS, Cloud Shell and Azure Arc.
func imdsError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// imdsSelectors are IMDS's (and Arc's) identity parameters; mi_res_id is App Service's
// spelling, accepted as well.
var imdsSelectors = map[string]string{"client_id": "client_id", "object_id": "object_id", "principal_id": "object_id", "msi_res_id": "resource_id", "mi_res_id": "resource_id"}

// imds serves GET /metadata/identity/oauth2/token with Metadata: true.
func (s *Server) imds(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		imdsError(w, http.StatusMethodNotAllowed, "invalid_request", "The request method "+r.Method+" is not allowed: use GET.")
		return
	}
	if !metadataHeader(r) {
		imdsError(w, http.StatusBadRequest, "invalid_request", "Required metadata header not specified")
		return
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		imdsError(w, http.StatusBadRequest, "invalid_request", "Request contains X-Forwarded-For header: IMDS answers only direct requests")
		return
	}
	t, ok := s.imdsToken(w, r, r.URL.Query().Get("api-version"), IMDSAPIVersion, r.URL.Query().Get("resource"), "imds")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, imdsAnswer(t))
}

// imdsToken checks an IMDS-shaped request (api-version, resource, identity) and mints its
// token, or writes IMDS's error and returns false.
func (s *Server) imdsToken(w http.ResponseWriter, r *http.Request, apiVersion, wantVersion, res, source string) (issued, bool) {
	switch {
	case apiVersion == "":
		imdsError(w, http.StatusBadRequest, "invalid_request", "Required query variable 'api-version' is missing")
		return issued{}, false
	case apiVersion != wantVersion:
		imdsError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("Invalid api-version '%s': this endpoint supports %s", apiVersion, wantVersion))
		return issued{}, false
	}
	sel := selector{}
	if source != "cloudshell" {
		var err error
		if sel, err = selectorOf(r, imdsSelectors); err != nil {
			imdsError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return issued{}, false
		}
	}
	return s.issue(r, sel, res, source, func(status int, code, msg string) { imdsError(w, status, code, msg) })
}

// issue resolves the identity and resource and mints a token; fail writes the source's error.
func (s *Server) issue(r *http.Request, sel selector, res, source string, fail func(status int, code, msg string)) (issued, bool) {
	if strings.TrimSpace(res) == "" {
		fail(http.StatusBadRequest, "invalid_request", "Required audience parameter not specified")
		return issued{}, false
	}
	id, app, err := s.identity(r.Context(), sel)
	if errors.Is(err, errIdentityNotFound) {
		s.log.InfoContext(r.Context(), "managedidentity: identity not found", "source", source, "selector", sel.kind, "value", sel.value)
		fail(http.StatusBadRequest, "invalid_request", "Identity not found")
		return issued{}, false
	}
	if err != nil {
		fail(http.StatusInternalServerError, "server_error", "The identity couldn't be read: "+err.Error())
		return issued{}, false
	}
	known, ok := s.resource(res)
	if !ok {
		fail(http.StatusBadRequest, "invalid_resource", s.unknownResource(res))
		return issued{}, false
	}
	t, err := s.mint(id, app, known)
	if err != nil {
		fail(http.StatusInternalServerError, "server_error", "The token couldn't be signed: "+err.Error())
		return issued{}, false
	}
	s.log.InfoContext(r.Context(), "managedidentity: token issued", "source", source, "identity", id.Name, "client_id", id.ClientID, "aud", known)
	return t, true
}

// appServiceSelectors are App Service's identity parameters (2019-08-01).
var appServiceSelectors = map[string]string{"client_id": "client_id", "object_id": "object_id", "principal_id": "object_id", "mi_res_id": "resource_id", "msi_res_id": "resource_id"}

// appService serves App Service and Functions: GET with X-IDENTITY-HEADER, api-version 2019-08-01.
func (s *Server) appService(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, _, msg string) {
		writeJSON(w, status, map[string]any{"statusCode": status, "message": msg, "correlationId": uuid.NewString()})
	}
	if r.Method != http.MethodGet {
		fail(http.StatusMethodNotAllowed, "", "The request method "+r.Method+" is not allowed: use GET.")
		return
	}
	if !s.secretMatches(r.Header.Get("X-IDENTITY-HEADER")) {
		fail(http.StatusUnauthorized, "", "The X-IDENTITY-HEADER header is missing or isn't the value of IDENTITY_HEADER.")
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v != AppServiceAPIVersion {
		fail(http.StatusBadRequest, "", fmt.Sprintf("The api-version '%s' is not supported: use %s.", v, AppServiceAPIVersion))
		return
	}
	sel, err := selectorOf(r, appServiceSelectors)
	if err != nil {
		fail(http.StatusBadRequest, "", err.Error())
		return
	}
	t, ok := s.issue(r, sel, q.Get("resource"), "appservice", func(status int, code, msg string) {
		if code == "invalid_request" && msg == "Identity not found" {
			msg = "Unable to load the proper Managed Identity."
		}
		fail(status, code, msg)
	})
	if !ok {
		return
	}
	// App Service's expires_on is a string of epoch seconds.
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": t.accessToken,
		"expires_on":   strconv.FormatInt(t.expiresOn.Unix(), 10),
		"resource":     t.resource,
		"token_type":   "Bearer",
		"client_id":    t.clientID,
	})
}

// CloudShellAppID is the client the emulator names in Cloud Shell's user tokens (appid): the
// Azure portal, in which Cloud Shell runs.
const CloudShellAppID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"

// cloudShellScopes are the delegated scopes of a Cloud Shell token: the portal's
// user_impersonation, and the admin API's, so Exchange accepts it as it accepts the module's.
const cloudShellScopes = "AdminApi.AccessAsUser.All user_impersonation"

// cloudShell serves Cloud Shell: POST form resource= with Metadata: true. The answer is the
// signed-in user's delegated token (Cloud Shell ignores identity parameters); an audience it
// does not know gets Cloud Shell's AudienceNotSupported.
func (s *Server) cloudShell(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		imdsError(w, http.StatusMethodNotAllowed, "invalid_request", "The request method "+r.Method+" is not allowed: use POST.")
		return
	}
	if !metadataHeader(r) {
		imdsError(w, http.StatusBadRequest, "invalid_request", "Required metadata header not specified")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		imdsError(w, http.StatusBadRequest, "invalid_request", "The request body is not a form: "+err.Error())
		return
	}
	res := r.PostForm.Get("resource")
	if strings.TrimSpace(res) == "" {
		imdsError(w, http.StatusBadRequest, "invalid_request", "Required audience parameter not specified")
		return
	}
	known, ok := s.resource(res)
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{
			"code": "AudienceNotSupported", "message": "Audience " + res + " is not a supported MSI token audience."}})
		return
	}
	t, err := s.mintUser(r.Context(), known)
	if err != nil {
		imdsError(w, http.StatusInternalServerError, "server_error", "The signed-in user's token couldn't be made: "+err.Error())
		return
	}
	s.log.InfoContext(r.Context(), "managedidentity: Cloud Shell user token issued", "user", s.cfg.CloudShellUser, "aud", known)
	writeJSON(w, http.StatusOK, imdsAnswer(t))
}

// mintUser signs the Cloud Shell user's delegated v1 token for resource.
func (s *Server) mintUser(ctx context.Context, resource string) (issued, error) {
	if s.cfg.CloudShellUser == "" {
		return issued{}, errors.New("no user is signed in to this Cloud Shell")
	}
	u, err := s.cfg.Store.User(ctx, s.cfg.TenantID, s.cfg.CloudShellUser)
	if err != nil {
		return issued{}, fmt.Errorf("user %s: %w", s.cfg.CloudShellUser, err)
	}
	now := s.cfg.Now().UTC()
	c := token.Claims{
		Audience: resource, Issuer: token.Issuer(s.cfg.TenantID),
		IssuedAt: now.Add(-5 * time.Minute).Unix(), NotBefore: now.Add(-5 * time.Minute).Unix(), Expires: now.Add(s.life).Unix(),
		TenantID: s.cfg.TenantID, ObjectID: u.ObjectID, Subject: u.ObjectID, AppID: CloudShellAppID, AppIDACR: "0",
		Scope: cloudShellScopes, WIDs: u.DirectoryRoles, UPN: u.UPN, UniqueName: u.UPN, Name: u.DisplayName,
		AMR: []string{"pwd"}, Version: "1.0", UTI: token.NewUTI(),
	}
	at, err := s.cfg.Keys.Sign(c)
	if err != nil {
		return issued{}, err
	}
	return issued{accessToken: at, resource: resource, clientID: CloudShellAppID,
		notBefore: time.Unix(c.NotBefore, 0), expiresOn: time.Unix(c.Expires, 0), expiresIn: int64(s.life / time.Second)}, nil
}

// arc serves Azure Arc's HIMDS: a first request gets 401 with WWW-Authenticate naming a key
// file the agent just wrote; the retry sends the file's content as Authorization: Basic.
func (s *Server) arc(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ArcKeyDir == "" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		imdsError(w, http.StatusMethodNotAllowed, "invalid_request", "The request method "+r.Method+" is not allowed: use GET.")
		return
	}
	if !metadataHeader(r) {
		imdsError(w, http.StatusBadRequest, "invalid_request", "Required metadata header not specified")
		return
	}
	q := r.URL.Query()
	version := q.Get("api-version")
	if !slices.Contains(arcAPIVersions, version) {
		imdsError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("Invalid api-version '%s': this endpoint supports %s", version, strings.Join(arcAPIVersions, ", ")))
		return
	}
	scheme, secret, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Basic") || !s.useArcKey(strings.TrimSpace(secret)) {
		path, err := s.newArcKey()
		if err != nil {
			imdsError(w, http.StatusInternalServerError, "server_error", "The challenge key file couldn't be written: "+err.Error())
			return
		}
		w.Header().Set("WWW-Authenticate", "Basic realm="+path)
		imdsError(w, http.StatusUnauthorized, "unauthorized_client", "Read the key file named by the WWW-Authenticate header and send its content as Authorization: Basic.")
		return
	}
	t, ok := s.imdsToken(w, r, version, version, q.Get("resource"), "arc")
	if !ok {
		return
	}
	body := imdsAnswer(t)
	// Arc echoes the user-assigned identity it used; MSAL refuses a token that doesn't.
	if !t.id.SystemAssigned {
		body["object_id"] = t.id.ObjectID
		body["msi_res_id"] = t.id.ResourceID
	}
	writeJSON(w, http.StatusOK, body)
}

// newArcKey writes a fresh secret to a .key file (0600) and returns the file's path.
func (s *Server) newArcKey() (string, error) {
	if err := os.MkdirAll(s.cfg.ArcKeyDir, 0o700); err != nil {
		return "", err
	}
	secret := newSecret(32)
	path := filepath.Join(s.cfg.ArcKeyDir, uuid.NewString()+".key")
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		return "", err
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.arcKeys {
		if now.After(v.expires) {
			_ = os.Remove(v.path)
			delete(s.arcKeys, k)
		}
	}
	s.arcKeys[secret] = arcKey{path: path, expires: now.Add(arcKeyLifetime)}
	return path, nil
}

// useArcKey reports whether secret is a live challenge key, and retires it (and its file).
func (s *Server) useArcKey(secret string) bool {
	if secret == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.arcKeys[secret]
	if !ok {
		return false
	}
	delete(s.arcKeys, secret)
	_ = os.Remove(k.path)
	return !s.cfg.Now().After(k.expires)
}

// serviceFabric serves Service Fabric: GET with Secret: IDENTITY_HEADER, the cluster's identity.
func (s *Server) serviceFabric(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		writeJSON(w, status, map[string]any{"error": map[string]string{"correlationId": uuid.NewString(), "code": code, "message": msg}})
	}
	if r.Method != http.MethodGet {
		fail(http.StatusMethodNotAllowed, "MethodNotAllowed", "The request method "+r.Method+" is not allowed: use GET.")
		return
	}
	if r.Header.Get("Secret") == "" {
		fail(http.StatusUnauthorized, "SecretHeaderNotFound", "Secret is not found in the request headers.")
		return
	}
	if !s.secretMatches(r.Header.Get("Secret")) {
		fail(http.StatusUnauthorized, "SecretHeaderNotValid", "The Secret header isn't the value of IDENTITY_HEADER.")
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v != ServiceFabricAPIVersion {
		fail(http.StatusBadRequest, "InvalidApiVersion", fmt.Sprintf("The api-version '%s' is not supported: use %s.", v, ServiceFabricAPIVersion))
		return
	}
	t, ok := s.issue(r, selector{}, q.Get("resource"), "servicefabric", func(status int, code, msg string) {
		fail(status, code, msg)
	})
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":   "Bearer",
		"access_token": t.accessToken,
		"expires_on":   t.expiresOn.Unix(),
		"resource":     t.resource,
	})
}

func (s *Server) secretMatches(got string) bool {
	want := s.cfg.IdentityHeader
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func metadataHeader(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("Metadata")), "true")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newSecret returns n random bytes, base64url.
func newSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewIdentityHeader returns a fresh IDENTITY_HEADER secret.
func NewIdentityHeader() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}
