package identity

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// OIDC scopes MSAL appends to every request; they never name a resource.
var oidcScopes = map[string]bool{"openid": true, "offline_access": true, "profile": true, "email": true}

// tokenRequest is a parsed token endpoint call.
type tokenRequest struct {
	r        *http.Request
	v2       bool
	ref      tenantRef
	clientID string
	scope    string // raw scope (v2)
	resource string // resolved resource URI (the token's aud)
	scopeOut string // scope echoed in the answer
	nonce    string // the authorize request's nonce (authorization code grant), for the id_token
}

// tokenEndpoint serves POST /{tenant}/oauth2/v2.0/token and the v1 /{tenant}/oauth2/token.
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	if !s.postForm(w, r) {
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")
	if grant == "" {
		s.writeError(w, r, errMissingParam("grant_type"))
		return
	}
	// client_secret_basic: the client id and secret in an Authorization: Basic header.
	if id, secret, ok := r.BasicAuth(); ok {
		if f.Get("client_id") == "" {
			f.Set("client_id", id)
		}
		if secret != "" && f.Get("client_secret") == "" {
			f.Set("client_secret", secret)
		}
	}
	req := &tokenRequest{r: r, v2: v2, clientID: strings.TrimSpace(f.Get("client_id")), scope: f.Get("scope")}
	var aerr *aadError
	switch grant {
	case "client_credentials":
		aerr = s.clientCredentials(w, req)
	case "password":
		aerr = s.passwordGrant(w, req)
	case "refresh_token":
		aerr = s.refreshGrant(w, req)
	case "authorization_code":
		aerr = s.authCodeGrant(w, req)
	case "device_code", "urn:ietf:params:oauth:grant-type:device_code":
		aerr = s.deviceCodeGrant(w, req)
	default:
		aerr = errUnsupportedGrant(grant)
	}
	if aerr != nil {
		s.writeError(w, r, aerr)
	}
}

// clientCredentials is the app-only grant with a certificate client assertion.
func (s *Server) clientCredentials(w http.ResponseWriter, req *tokenRequest) *aadError {
	ctx, f := req.r.Context(), req.r.PostForm
	if req.clientID == "" {
		return errMissingParam("client_id")
	}
	if req.v2 && strings.TrimSpace(req.scope) == "" {
		return errMissingParam("scope")
	}
	ref, aerr := s.resolveTenant(ctx, tenantOf(req.r), "invalid_request")
	if aerr != nil {
		return aerr
	}
	if ref.Meta {
		return errNoTenantInfo()
	}
	req.ref = ref
	app, err := s.cfg.Store.App(ctx, ref.Tenant.ID, req.clientID)
	if errors.Is(err, store.ErrNotFound) {
		return errAppNotFound(req.clientID, ref.Segment)
	}
	if err != nil {
		return errServer(err)
	}

	assertion, secret := f.Get("client_assertion"), f.Get("client_secret")
	switch {
	case app.Public && (assertion != "" || secret != ""):
		return newErr(http.StatusUnauthorized, "invalid_client", 700025,
			"Client is public so neither 'client_assertion' nor 'client_secret' should be presented. App '%s' is a public client: it cannot use the client credentials grant.", app.AppID)
	case secret != "":
		return newErr(http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'. The emulator's apps have no secrets: authenticate with a certificate (client_assertion).", app.AppID)
	case assertion == "":
		return newErr(http.StatusUnauthorized, "invalid_client", 7000216,
			"'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type. Send a client assertion signed with the certificate registered on app '%s'.", app.AppID)
	}
	if t := f.Get("client_assertion_type"); t != assertionType {
		if t == "" {
			return newErr(http.StatusBadRequest, "invalid_request", 90014,
				"The required field 'client_assertion_type' is missing from the credential. Ensure that you have all the necessary parameters for the login request: client_assertion_type=%s.", assertionType)
		}
		return newErr(http.StatusBadRequest, "invalid_request", 90014,
			"The client_assertion_type '%s' is not supported. Use '%s'.", t, assertionType)
	}
	if aerr := s.verifyAssertion(ctx, assertion, app, ref); aerr != nil {
		return aerr
	}
	if aerr := s.resolveResource(req, true); aerr != nil {
		return aerr
	}

	now := s.now()
	c := token.AppOnly(ref.Tenant.ID, app.AppID, app.ObjectID, req.resource, app.AppRoles, app.DirectoryRoles, now, s.life)
	at, err := s.cfg.Keys.SignShared(c) // one signature per app, resource and second
	if err != nil {
		return errServer(err)
	}
	s.log.InfoContext(ctx, "identity: token issued", "grant", "client_credentials", "tenant", ref.Tenant.ID, "app", app.AppID, "aud", req.resource)
	s.writeToken(w, req, at, now, nil)
	return nil
}

// tenantOf is the tenant segment of a token endpoint path.
func tenantOf(r *http.Request) string {
	p := strings.Trim(r.URL.Path, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// resolveResource finds the resource a request names: the first /.default scope (v2; MSAL adds
// openid offline_access profile) or resource= (v1). appOnly requires a /.default scope, as
// Entra does for client credentials.
func (s *Server) resolveResource(req *tokenRequest, appOnly bool) *aadError {
	var res, scopeOut string
	if req.v2 {
		var named []string
		for _, sc := range strings.Fields(req.scope) {
			if !oidcScopes[strings.ToLower(sc)] {
				named = append(named, sc)
			}
		}
		if len(named) == 0 {
			return errInvalidScope(70011,
				"The provided value for the input parameter 'scope' is not valid. The scope '%s' names no resource. Ask for '{resource}/.default', e.g. 'https://outlook.office365.com/.default'.", req.scope)
		}
		var defaults []string
		for _, sc := range named {
			if strings.HasSuffix(strings.ToLower(sc), "/.default") {
				defaults = append(defaults, sc)
			} else if appOnly {
				return errInvalidScope(1002012,
					"The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc)
			}
		}
		switch {
		case len(defaults) > 1:
			return errInvalidScope(70011,
				"The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid. static scope limit exceeded: ask for one resource's /.default at a time.", strings.Join(defaults, " "))
		case len(defaults) == 1:
			scopeOut = defaults[0]
			res = scopeOut[:len(scopeOut)-len("/.default")]
		default:
			// Delegated scopes such as https://outlook.office365.com/AdminApi.AccessAsUser.All.
			scopeOut = strings.Join(named, " ")
			sc := named[0]
			if i := strings.LastIndexByte(sc, '/'); i > 0 {
				res = sc[:i]
			} else {
				return errInvalidScope(70011,
					"The provided value for the input parameter 'scope' is not valid. The scope '%s' does not name a resource. Use '{resource}/{permission}' or '{resource}/.default'.", sc)
			}
		}
	} else {
		res = req.r.PostForm.Get("resource")
		if res == "" {
			return errMissingParam("resource")
		}
		scopeOut = ""
	}
	known, ok := s.knownResource(res)
	if !ok {
		tenantName := req.ref.Segment
		if !req.ref.Meta {
			tenantName = req.ref.Tenant.DisplayName
		}
		return newErr(http.StatusBadRequest, "invalid_resource", 500011,
			"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant. The emulator accepts: %s.",
			res, tenantName, strings.Join(s.cfg.Resources, ", "))
	}
	req.resource, req.scopeOut = known, scopeOut
	return nil
}

// knownResource matches res against the configured resources, ignoring case and a trailing
// slash, and returns the configured spelling.
func (s *Server) knownResource(res string) (string, bool) {
	r := strings.TrimSuffix(strings.TrimSpace(res), "/")
	for _, k := range s.cfg.Resources {
		if strings.EqualFold(r, strings.TrimSuffix(k, "/")) {
			return strings.TrimSuffix(k, "/"), true
		}
	}
	return "", false
}

// userTokens are the extra parts of a user-flow answer.
type userTokens struct {
	refresh, idToken, clientInfo string
}

// writeToken writes a token answer: v2 with numbers, v1 with strings and resource.
func (s *Server) writeToken(w http.ResponseWriter, req *tokenRequest, at string, now time.Time, u *userTokens) {
	life := int64(s.life / time.Second)
	var body map[string]any
	if req.v2 {
		body = map[string]any{
			"token_type":     "Bearer",
			"expires_in":     life,
			"ext_expires_in": life,
			"access_token":   at,
		}
		if req.scopeOut != "" && u != nil { // Entra's client-credentials answer has no scope
			body["scope"] = req.scopeOut
		}
	} else {
		body = map[string]any{
			"token_type":     "Bearer",
			"expires_in":     strconv.FormatInt(life, 10),
			"ext_expires_in": strconv.FormatInt(life, 10),
			"expires_on":     strconv.FormatInt(now.Add(s.life).Unix(), 10),
			"not_before":     strconv.FormatInt(now.Add(-5*time.Minute).Unix(), 10),
			"resource":       req.resource,
			"access_token":   at,
		}
	}
	if u != nil {
		body["refresh_token"] = u.refresh
		body["id_token"] = u.idToken
		body["client_info"] = u.clientInfo
		if !req.v2 {
			body["scope"] = req.scopeOut
		}
	}
	s.writeJSON(w, req.r, http.StatusOK, body)
}

// postForm reads a form-encoded POST of at most 1 MiB, answering Entra's error for anything
// else; it reports whether the handler may go on.
func (s *Server) postForm(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		s.writeError(w, r, newErr(http.StatusMethodNotAllowed, "invalid_request", 900561,
			"The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, errForm(err))
		return false
	}
	if name := duplicated(r.PostForm); name != "" {
		s.writeError(w, r, errDuplicated(name))
		return false
	}
	return true
}

// duplicated names a parameter a form carries more than once (the first in sorted order),
// or is empty. Entra refuses such a request rather than pick one of the values.
func duplicated(f url.Values) string {
	var names []string
	for k, v := range f {
		if len(v) > 1 {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	return names[0]
}

// errForm is the answer to a form that cannot be read, in the caller's terms.
func errForm(err error) *aadError {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return newErr(http.StatusRequestEntityTooLarge, "invalid_request", 900144,
			"The request body is larger than %d bytes. Send only the parameters of the request.", tooBig.Limit)
	}
	return newErr(http.StatusBadRequest, "invalid_request", 900144,
		"The request body must be application/x-www-form-urlencoded, with each name and value percent-encoded.")
}

func errDuplicated(name string) *aadError {
	return newErr(http.StatusBadRequest, "invalid_request", 9000411,
		"The request is not properly formatted. The parameter '%s' is duplicated.", name)
}
