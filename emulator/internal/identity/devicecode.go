package identity

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// deviceCode serves POST /{tenant}/oauth2/v2.0/devicecode (and the v1 /{tenant}/oauth2/devicecode,
// which names a resource and answers with strings and verification_url, as Entra's v1 does).
func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	if !s.postForm(w, r) {
		return
	}
	ctx, f := r.Context(), r.PostForm
	clientID := strings.TrimSpace(f.Get("client_id"))
	if clientID == "" {
		s.writeError(w, r, errMissingParam("client_id"))
		return
	}
	ref, aerr := s.resolveTenant(ctx, tenant, "invalid_request")
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	app, aerr := s.lookupApp(ctx, ref, clientID)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	req := &tokenRequest{r: r, v2: v2, ref: ref, clientID: clientID, scope: f.Get("scope")}
	if v2 && strings.TrimSpace(req.scope) == "" {
		s.writeError(w, r, errMissingParam("scope"))
		return
	}
	if aerr := s.resolveResource(req, false); aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	scope := req.scope
	if !v2 {
		scope = f.Get("resource")
	}
	now := s.now()
	dc, uc, ok := s.pending.putDevice(&deviceAuth{client: clientKey(r, app.AppID), tenantSeg: tenant, clientID: app.AppID, appName: app.DisplayName, scope: scope}, now, s.cfg.DeviceCodeLifetime)
	if !ok {
		s.writeError(w, r, errBusy())
		return
	}
	verify := s.base + "/common/oauth2/deviceauth"
	expires := int64(s.cfg.DeviceCodeLifetime / time.Second)
	interval := max(int64((s.cfg.DeviceCodeInterval+time.Second-1)/time.Second), 1)
	msg := fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, uc)
	s.log.InfoContext(ctx, "identity: device code issued", "app", app.AppID, "tenant", tenant)
	if v2 {
		s.writeJSON(w, r, http.StatusOK, map[string]any{
			"user_code": uc, "device_code": dc, "verification_uri": verify,
			"expires_in": expires, "interval": interval, "message": msg,
		})
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"user_code": uc, "device_code": dc, "verification_url": verify,
		"expires_in": strconv.FormatInt(expires, 10), "interval": strconv.FormatInt(interval, 10), "message": msg,
	})
}

func errDeviceCodeExpired() *aadError {
	return newErr(http.StatusBadRequest, "expired_token", 70020,
		"The provided value for the input parameter 'device_code' is not valid. This device code has expired. Start a new device code sign-in.")
}

// deviceCodeGrant is a poll of the device code grant (grant_type device_code, as MSAL Go and
// ADAL send it, or RFC 8628's urn). It answers authorization_pending until the user signs in,
// slow_down when polled far faster than the interval, then the user's tokens once.
func (s *Server) deviceCodeGrant(w http.ResponseWriter, req *tokenRequest) *aadError {
	f := req.r.PostForm
	if req.clientID == "" {
		return errMissingParam("client_id")
	}
	code := f.Get("device_code")
	if code == "" {
		code = f.Get("code") // ADAL and v1 clients
	}
	if code == "" {
		return errMissingParam("device_code")
	}
	d, st := s.pending.pollDevice(code, s.now(), s.cfg.DeviceCodeInterval)
	if st != pollUnknown && !strings.EqualFold(d.clientID, req.clientID) {
		return newErr(http.StatusBadRequest, "invalid_grant", 70000,
			"Provided grant is invalid or malformed: the device code was issued to client '%s', not '%s'.", d.clientID, req.clientID)
	}
	switch st {
	case pollUnknown:
		// Entra answers a device code it does not know (redeemed, or never issued) as expired:
		// RFC 8628 §3.5 expired_token, which every client takes as "start again".
		return newErr(http.StatusBadRequest, "expired_token", 70020,
			"The provided value for the input parameter 'device_code' is not valid. This device code has expired, was already redeemed, or was not issued by this emulator (or the emulator restarted since). Start a new device code sign-in.")
	case pollExpired:
		return errDeviceCodeExpired()
	case pollDeclined:
		return newErr(http.StatusBadRequest, "authorization_declined", 65004,
			"User declined to consent to access the app. The user cancelled the sign-in on the device login page.")
	case pollTooFast:
		return newErr(http.StatusBadRequest, "slow_down", 70016,
			"OAuth 2.0 device flow error. Authorization is pending, and the client polls faster than the interval of %s. Poll less often.", s.cfg.DeviceCodeInterval)
	case pollPending:
		return newErr(http.StatusBadRequest, "authorization_pending", 70016,
			"OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	if req.v2 && strings.TrimSpace(req.scope) == "" {
		req.scope = d.scope
	}
	if !req.v2 && f.Get("resource") == "" {
		f.Set("resource", d.scope)
	}
	return s.issueForSignin(req.r.Context(), w, req, d.tenantID, d.userOID, d.amr)
}

// deviceAuth serves /common/oauth2/deviceauth, the verification URI: a page to enter the user
// code, then the same sign-in pages as a browser sign-in (with Cancel to decline).
func (s *Server) deviceAuth(w http.ResponseWriter, r *http.Request) {
	action := "/common/oauth2/deviceauth"
	switch r.Method {
	case http.MethodGet:
		s.renderPage(w, r, http.StatusOK, "devicecode", page{Title: "Enter code", Action: action, Code: r.URL.Query().Get("code")})
		return
	case http.MethodPost:
	default:
		s.errorPage(w, r, newErr(http.StatusMethodNotAllowed, "invalid_request", 900561,
			"The endpoint only accepts GET, POST requests. Received a %s request.", r.Method))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, errForm(err))
		return
	}
	if name := duplicated(r.PostForm); name != "" {
		s.errorPage(w, r, errDuplicated(name))
		return
	}
	typed := r.PostForm.Get("user_code")
	uc := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(typed))
	now := s.now()
	dc, d, found := s.pending.deviceByUserCode(uc, now)
	if !found {
		s.renderPage(w, r, http.StatusBadRequest, "devicecode", page{Title: "Enter code", Action: action, Code: typed,
			Error: "That code didn't work. Check the code and try again. (AADSTS70018: Invalid verification code.)"})
		return
	}
	if now.After(d.expires) {
		s.renderPage(w, r, http.StatusBadRequest, "devicecode", page{Title: "Enter code", Action: action, Code: typed,
			Error: "The code you entered has expired. Get a new code from the device you're trying to sign in to and try again. (AADSTS70019: Verification code expired.)"})
		return
	}
	s.showPassword(w, r, &signin{client: clientKey(r, d.clientID), tenantSeg: d.tenantSeg, clientID: d.clientID, appName: d.appName, deviceCode: dc}, "")
}
