package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// authCodeGrant redeems an authorization code (with its PKCE verifier) for the user's tokens.
// A code works once, for ten minutes, for the client and redirect URI it was issued to.
func (s *Server) authCodeGrant(w http.ResponseWriter, req *tokenRequest) *aadError {
	ctx, f := req.r.Context(), req.r.PostForm
	for _, p := range []string{"client_id", "code", "redirect_uri"} {
		if strings.TrimSpace(f.Get(p)) == "" {
			return errMissingParam(p)
		}
	}
	ac, st := s.pending.redeemCode(f.Get("code"), s.now())
	switch st {
	case codeUnknown:
		return newErr(http.StatusBadRequest, "invalid_grant", 9002313,
			"Invalid request. Request is malformed or invalid: the authorization code was not issued by this emulator (or the emulator restarted since). Sign in again.")
	case codeRedeemed:
		return newErr(http.StatusBadRequest, "invalid_grant", 54005,
			"OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case codeExpired:
		return newErr(http.StatusBadRequest, "invalid_grant", 70008,
			"The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	}
	if !strings.EqualFold(ac.clientID, req.clientID) {
		return newErr(http.StatusBadRequest, "invalid_grant", 70000,
			"Provided grant is invalid or malformed: the authorization code was issued to client '%s', not '%s'.", ac.clientID, req.clientID)
	}
	if got := f.Get("redirect_uri"); strings.TrimSuffix(got, "/") != strings.TrimSuffix(ac.redirectURI, "/") {
		return newErr(http.StatusBadRequest, "invalid_grant", 500112,
			"The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", got, ac.redirectURI)
	}
	if ac.challenge != "" {
		verifier := f.Get("code_verifier")
		if verifier == "" {
			return newErr(http.StatusBadRequest, "invalid_grant", 50148,
				"The code_verifier does not match the code_challenge supplied in the authorization request for PKCE: the request has no code_verifier.")
		}
		if !pkceMatches(ac.challenge, ac.challengeMethod, verifier) {
			return newErr(http.StatusBadRequest, "invalid_grant", 501481,
				"The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
	}
	if strings.TrimSpace(req.scope) == "" {
		req.scope = ac.scope
	}
	req.nonce = ac.nonce
	return s.issueForSignin(ctx, w, req, ac.tenantID, ac.userOID, ac.amr)
}

// pkceMatches checks a PKCE code_verifier against the authorize request's challenge (RFC 7636).
func pkceMatches(challenge, method, verifier string) bool {
	want := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// issueForSignin answers a grant that redeems a finished browser sign-in (authorization code,
// device code): the token URL's tenant must be the user's (or organizations/common), the client
// authenticates if confidential, and the user must still be able to sign in.
func (s *Server) issueForSignin(ctx context.Context, w http.ResponseWriter, req *tokenRequest, tenantID, oid string, amr []string) *aadError {
	ref, aerr := s.resolveTenant(ctx, tenantOf(req.r), "invalid_request")
	if aerr != nil {
		return aerr
	}
	if ref.Meta {
		t, err := s.cfg.Store.Tenant(ctx, tenantID)
		if err != nil {
			return errServer(err)
		}
		ref.Tenant, ref.Meta = t, false
	}
	// A user of another tenant (partner, guest) who signed in at this tenant's authority:
	// issueUserTokens decides whether a relationship lets them in.
	req.ref = ref
	app, aerr := s.clientApp(ctx, req)
	if aerr != nil {
		return aerr
	}
	user, aerr := s.homeUser(ctx, ref, tenantID, oid)
	if aerr != nil {
		return aerr
	}
	if aerr := userCanSignIn(user); aerr != nil {
		return aerr
	}
	if aerr := s.resolveResource(req, false); aerr != nil {
		return aerr
	}
	return s.issueUserTokens(w, req, app, user, amr)
}
