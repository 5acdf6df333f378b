package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// ModuleAppID is the public client of Microsoft's ExchangeOnlineManagement module ("Microsoft
// Exchange REST API Based Powershell").
const ModuleAppID = "fb78d390-0c51-40cd-8e17-fdbfab77341b"

// RefreshTokenLifetime is how long a refresh token stays usable (Entra: 90 days of inactivity).
const RefreshTokenLifetime = 90 * 24 * time.Hour

// refreshAudience marks the emulator's refresh tokens so no resource ever takes one for an
// access token.
const refreshAudience = "urn:exoctl:emulator:refresh_token"

// refreshClaims are what a refresh token carries. The token is opaque to clients.
type refreshClaims struct {
	TenantID string   `json:"tid"`
	ObjectID string   `json:"oid"`
	ClientID string   `json:"cid"`
	AMR      []string `json:"amr"`
	jwt.RegisteredClaims
}

// refreshCodec mints and reads the emulator's refresh tokens: JWTs signed with the emulator's
// key, so they survive restarts without a table.
type refreshCodec struct {
	keys *token.Keys
}

func (c refreshCodec) mint(tid, oid, cid string, amr []string, now time.Time) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, refreshClaims{
		TenantID: tid, ObjectID: oid, ClientID: cid, AMR: amr,
		RegisteredClaims: jwt.RegisteredClaims{
			Audience:  jwt.ClaimStrings{refreshAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(RefreshTokenLifetime)),
		},
	})
	t.Header["kid"] = c.keys.KeyID
	return t.SignedString(c.keys.Private)
}

var errRefreshExpired = errors.New("refresh token expired")

func (c refreshCodec) read(raw string, now time.Time) (refreshClaims, error) {
	var rc refreshClaims
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(raw, &rc, func(*jwt.Token) (any, error) { return &c.keys.Private.PublicKey, nil })
	if err != nil || len(rc.Audience) != 1 || rc.Audience[0] != refreshAudience || rc.ObjectID == "" || rc.ExpiresAt == nil {
		return rc, fmt.Errorf("not a refresh token of this emulator: %v", err)
	}
	if now.After(rc.ExpiresAt.Time) {
		return rc, errRefreshExpired
	}
	return rc, nil
}

// passwordGrant is ROPC: a user's name and password, for public clients (and confidential ones
// that also authenticate themselves).
func (s *Server) passwordGrant(w http.ResponseWriter, req *tokenRequest) *aadError {
	ctx, f := req.r.Context(), req.r.PostForm
	for _, p := range []string{"client_id", "username", "password", "scope"} {
		if strings.TrimSpace(f.Get(p)) == "" && (p != "scope" || req.v2) {
			return errMissingParam(p)
		}
	}
	username := strings.TrimSpace(f.Get("username"))
	ref, aerr := s.userTenant(ctx, req, username)
	if aerr != nil {
		return aerr
	}
	req.ref = ref
	app, aerr := s.clientApp(ctx, req)
	if aerr != nil {
		return aerr
	}
	user, aerr := s.findSigninUser(ctx, ref, username)
	if aerr != nil {
		return aerr
	}
	if aerr := s.verifyPassword(ctx, user, f.Get("password"), "Check the password of '"+user.UPN+"'."); aerr != nil {
		return aerr
	}
	if aerr := userCanSignIn(user); aerr != nil {
		return aerr
	}
	if aerr := s.resolveResource(req, false); aerr != nil {
		return aerr
	}
	if user.MFARequired {
		if user.TOTPSecret == "" {
			return &aadError{Status: http.StatusBadRequest, Err: "invalid_grant", Code: 50079, Suberror: "basic_action",
				Msg: fmt.Sprintf("Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '%s'. A password alone (ROPC) cannot satisfy MFA: sign in interactively or with a device code.", req.resource)}
		}
		return &aadError{Status: http.StatusBadRequest, Err: "invalid_grant", Code: 50076, Suberror: "basic_action",
			Msg: fmt.Sprintf("Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'. A password alone (ROPC) cannot satisfy MFA: sign in interactively or with a device code.", req.resource)}
	}
	return s.issueUserTokens(w, req, app, user, []string{"pwd"})
}

// refreshGrant redeems a refresh token for new tokens, for any resource the emulator knows.
func (s *Server) refreshGrant(w http.ResponseWriter, req *tokenRequest) *aadError {
	ctx, f := req.r.Context(), req.r.PostForm
	for _, p := range []string{"client_id", "refresh_token"} {
		if strings.TrimSpace(f.Get(p)) == "" {
			return errMissingParam(p)
		}
	}
	if req.v2 && strings.TrimSpace(req.scope) == "" {
		return errMissingParam("scope")
	}
	now := s.now()
	rc, err := s.refresh.read(f.Get("refresh_token"), now)
	if errors.Is(err, errRefreshExpired) {
		return newErr(http.StatusBadRequest, "invalid_grant", 700082,
			"The refresh token has expired due to inactivity. The token was issued on %s and was inactive for 90.00:00:00. Sign in again.", fmtTime(rc.IssuedAt.Time))
	}
	if err != nil {
		s.log.DebugContext(ctx, "identity: refresh token refused", "err", err)
		return newErr(http.StatusBadRequest, "invalid_grant", 9002313,
			"Invalid request. Request is malformed or invalid: the refresh_token was not issued by this emulator, or it was altered. Sign in again.")
	}
	if !strings.EqualFold(rc.ClientID, req.clientID) {
		return newErr(http.StatusBadRequest, "invalid_grant", 70000,
			"Provided grant is invalid or malformed: the refresh token was issued to client '%s', not '%s'.", rc.ClientID, req.clientID)
	}
	ref, aerr := s.resolveTenant(ctx, tenantOf(req.r), "invalid_request")
	if aerr != nil {
		return aerr
	}
	if ref.Meta {
		t, err := s.cfg.Store.Tenant(ctx, rc.TenantID)
		if err != nil {
			return errServer(err)
		}
		ref.Tenant = t
		ref.Meta = false
	}
	// A refresh token of another tenant's user asks for this tenant's token: a partner's or
	// guest's, which issueUserTokens allows only while a relationship or guest object does.
	req.ref = ref
	app, aerr := s.clientApp(ctx, req)
	if aerr != nil {
		return aerr
	}
	user, aerr := s.homeUser(ctx, ref, rc.TenantID, rc.ObjectID)
	if aerr != nil {
		return aerr
	}
	if aerr := userCanSignIn(user); aerr != nil {
		return aerr
	}
	if aerr := s.resolveResource(req, false); aerr != nil {
		return aerr
	}
	return s.issueUserTokens(w, req, app, user, rc.AMR)
}

// userTenant resolves the tenant of a user flow: the URL's, or for organizations/common the
// one that owns the user name's domain.
func (s *Server) userTenant(ctx context.Context, req *tokenRequest, username string) (tenantRef, *aadError) {
	return s.userTenantIn(ctx, tenantOf(req.r), username)
}

// userTenantIn resolves the tenant segment seg for a user: the named tenant, or for
// organizations/common the one that owns the user name's domain.
func (s *Server) userTenantIn(ctx context.Context, seg, username string) (tenantRef, *aadError) {
	ref, aerr := s.resolveTenant(ctx, seg, "invalid_request")
	if aerr != nil || !ref.Meta {
		return ref, aerr
	}
	domain := username[strings.LastIndexByte(username, '@')+1:]
	t, err := s.cfg.Store.Tenant(ctx, domain)
	if errors.Is(err, store.ErrNotFound) {
		return ref, errUserNotFound(username, ref.Segment)
	}
	if err != nil {
		return ref, errServer(err)
	}
	return tenantRef{Segment: ref.Segment, Tenant: t}, nil
}

func errUserNotFound(username, directory string) *aadError {
	return newErr(http.StatusBadRequest, "invalid_grant", 50034,
		"The user account %s does not exist in the %s directory. To sign into this application, the account must be added to the directory. Check the user name.", username, directory)
}

func (s *Server) findUser(ctx context.Context, ref tenantRef, id string) (store.User, *aadError) {
	u, err := s.cfg.Store.User(ctx, ref.Tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return u, errUserNotFound(id, ref.Tenant.Name)
	}
	if err != nil {
		return u, errServer(err)
	}
	return u, nil
}

func userCanSignIn(u store.User) *aadError {
	if !u.Enabled {
		return newErr(http.StatusBadRequest, "invalid_grant", 50057,
			"The user account is disabled. '%s' is blocked from sign-in: an administrator must enable the account.", u.UPN)
	}
	return nil
}

// clientApp finds the client of a user flow, in the tenant or (multi-tenant apps such as the
// module's own) in any tenant, and authenticates it if it is confidential.
func (s *Server) clientApp(ctx context.Context, req *tokenRequest) (store.App, *aadError) {
	app, aerr := s.lookupApp(ctx, req.ref, req.clientID)
	if aerr != nil {
		return app, aerr
	}
	if app.Public {
		return app, nil
	}
	f := req.r.PostForm
	switch {
	case f.Get("client_secret") != "":
		return app, newErr(http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'. The emulator's apps have no secrets: use a client assertion.", app.AppID)
	case f.Get("client_assertion") == "":
		return app, newErr(http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'. App '%s' is a confidential client; register it as a public client to sign users in without a credential.", app.AppID)
	}
	if aerr := s.verifyAssertion(ctx, f.Get("client_assertion"), app, req.ref); aerr != nil {
		return app, aerr
	}
	return app, nil
}

// lookupApp finds a user flow's client in the tenant or, for multi-tenant apps such as the
// module's own, in any tenant, without authenticating it.
func (s *Server) lookupApp(ctx context.Context, ref tenantRef, clientID string) (store.App, *aadError) {
	app, err := s.cfg.Store.App(ctx, ref.Tenant.ID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		app, err = s.cfg.Store.AppAnyTenant(ctx, clientID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return app, errAppNotFound(clientID, ref.Segment)
	}
	if err != nil {
		return app, errServer(err)
	}
	return app, nil
}

// delegatedScopes is the scp claim for a request: the permissions it names, or for /.default
// (and v1 requests, which name only a resource) what the app is consented to (the module's
// app: its AdminApi permissions).
func delegatedScopes(app store.App, scopeOut string) string {
	consented := "Exchange.Manage"
	if strings.EqualFold(app.AppID, ModuleAppID) {
		consented = "AdminApi.AccessAsUser.All FfoPowerShell.AccessAsUser.All RemotePowerShell.AccessAsUser.All VivaFeatureAccessPolicy.Manage.All"
	}
	var perms []string
	for _, sc := range strings.Fields(scopeOut) {
		p := sc[strings.LastIndexByte(sc, '/')+1:]
		if strings.EqualFold(p, ".default") {
			return consented
		}
		perms = append(perms, p)
	}
	if len(perms) == 0 {
		return consented
	}
	return strings.Join(perms, " ")
}

// issueUserTokens answers a user flow: access token, refresh token, id token and client_info,
// which MSAL needs on every answer (refresh ones too) to file the tokens under the account.
func (s *Server) issueUserTokens(w http.ResponseWriter, req *tokenRequest, app store.App, user store.User, amr []string) *aadError {
	now := s.now()
	tid := req.ref.Tenant.ID
	acr := "0"
	if !app.Public {
		acr = "2"
	}
	var fa *foreignAccess
	if !strings.EqualFold(user.TenantID, tid) {
		a, aerr := s.foreignAccessOf(req.r.Context(), req.ref.Tenant, user, app)
		if aerr != nil {
			return aerr
		}
		fa = &a
	}
	claims := token.Claims{
		Audience:   req.resource,
		Issuer:     token.Issuer(tid),
		IssuedAt:   now.Add(-5 * time.Minute).Unix(),
		NotBefore:  now.Add(-5 * time.Minute).Unix(),
		Expires:    now.Add(s.life).Unix(),
		TenantID:   tid,
		ObjectID:   user.ObjectID,
		Subject:    pairwiseSub(user.ObjectID, app.AppID),
		AppID:      app.AppID,
		AppIDACR:   acr,
		Scope:      delegatedScopes(app, req.scopeOut),
		WIDs:       user.DirectoryRoles,
		UPN:        user.UPN,
		UniqueName: user.UPN,
		Name:       user.DisplayName,
		AMR:        amr,
		Version:    "1.0",
		UTI:        token.NewUTI(),
	}
	if fa != nil {
		foreignClaims(&claims, *fa)
	}
	at, err := s.cfg.Keys.Sign(claims)
	if err != nil {
		return errServer(err)
	}
	// The refresh token stays the home user's: it redeems at any tenant's authority.
	rt, err := s.refresh.mint(user.TenantID, user.ObjectID, app.AppID, amr, now)
	if err != nil {
		return errServer(err)
	}
	idClaims := jwt.MapClaims{
		"aud": app.AppID, "iss": s.base + "/" + tid + "/v2.0",
		"iat": now.Add(-5 * time.Minute).Unix(), "nbf": now.Add(-5 * time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		"name": user.DisplayName, "oid": claims.ObjectID, "preferred_username": user.UPN,
		"sub": pairwiseSub(user.ObjectID, app.AppID), "tid": tid, "uti": token.NewUTI(), "ver": "2.0",
	}
	if req.nonce != "" {
		idClaims["nonce"] = req.nonce // OpenID Connect Core §3.1.3.6: the authorize request's nonce
	}
	idt := jwt.NewWithClaims(jwt.SigningMethodRS256, idClaims)
	idt.Header["kid"] = s.cfg.Keys.KeyID
	idToken, err := idt.SignedString(s.cfg.Keys.Private)
	if err != nil {
		return errServer(err)
	}
	// client_info names the home account (MSAL's home account id), whatever tenant the token is for.
	ci, _ := json.Marshal(map[string]string{"uid": user.ObjectID, "utid": user.TenantID})
	s.log.InfoContext(req.r.Context(), "identity: token issued", "grant", req.r.PostForm.Get("grant_type"), "tenant", tid, "user", user.UPN, "app", app.AppID, "aud", req.resource)
	s.writeToken(w, req, at, now, &userTokens{
		refresh:    rt,
		idToken:    idToken,
		clientInfo: base64.RawURLEncoding.EncodeToString(ci),
	})
	return nil
}

// pairwiseSub is a user's subject for one app: stable, and different per app, as Entra's is.
func pairwiseSub(oid, appID string) string {
	h := sha256.Sum256([]byte(strings.ToLower(oid) + "|" + strings.ToLower(appID)))
	return base64.RawURLEncoding.EncodeToString(h[:])[:43]
}
