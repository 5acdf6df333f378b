package identity

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// authorize serves GET (or POST) /{tenant}/oauth2/v2.0/authorize: the start of a browser
// sign-in with the authorization code grant. Errors that cannot be trusted to the redirect URI
// (unknown tenant or client, unregistered redirect URI) show an error page; the others go back
// to the client as error and error_description, as Entra does.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.errorPage(w, r, newErr(http.StatusMethodNotAllowed, "invalid_request", 900561,
			"The endpoint only accepts GET, POST requests. Received a %s request.", r.Method))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, errForm(err))
		return
	}
	// Entra refuses an authorize request naming a parameter twice (two prompt values, say)
	// on its error page, before anything else.
	if name := duplicated(r.Form); name != "" {
		s.errorPage(w, r, errDuplicated(name))
		return
	}
	ctx, q := r.Context(), r.Form
	ref, aerr := s.resolveTenant(ctx, tenant, "invalid_tenant")
	if aerr != nil {
		s.errorPage(w, r, aerr)
		return
	}
	clientID := strings.TrimSpace(q.Get("client_id"))
	if clientID == "" {
		s.errorPage(w, r, errMissingParam("client_id"))
		return
	}
	app, aerr := s.lookupApp(ctx, ref, clientID)
	if aerr != nil {
		s.errorPage(w, r, aerr)
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(app.RedirectURIs) == 1 {
		redirect = app.RedirectURIs[0]
	}
	if redirect == "" {
		s.errorPage(w, r, errMissingParam("redirect_uri"))
		return
	}
	if !redirectAllowed(app, redirect) {
		s.errorPage(w, r, newErr(http.StatusBadRequest, "invalid_request", 50011,
			"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal (registered: %s; for http://localhost any loopback port matches).",
			redirect, app.AppID, strings.Join(app.RedirectURIs, ", ")))
		return
	}
	sg := &signin{
		client: clientKey(r, app.AppID), tenantSeg: tenant, clientID: app.AppID, appName: app.DisplayName,
		redirectURI: redirect, state: q.Get("state"), username: strings.TrimSpace(q.Get("login_hint")),
		responseMode: strings.ToLower(q.Get("response_mode")), nonce: q.Get("nonce"),
	}
	switch sg.responseMode {
	case "":
		sg.responseMode = "query"
	case "query", "form_post", "fragment":
	default:
		sg.responseMode = "query"
		s.redirectError(w, r, sg, newErr(http.StatusBadRequest, "invalid_request", 900144,
			"The response_mode '%s' is not supported. Use form_post, query or fragment.", q.Get("response_mode")))
		return
	}
	if aerr := s.checkAuthorizeRequest(r, sg, ref); aerr != nil {
		s.redirectError(w, r, sg, aerr)
		return
	}
	s.showPassword(w, r, sg, "")
}

// checkAuthorizeRequest validates what goes back to the client when wrong: response type,
// scope, PKCE and prompt.
func (s *Server) checkAuthorizeRequest(r *http.Request, sg *signin, ref tenantRef) *aadError {
	q := r.Form
	switch rt := q.Get("response_type"); {
	case rt == "":
		return errMissingParam("response_type")
	case rt != "code":
		return newErr(http.StatusBadRequest, "unsupported_response_type", 700054,
			"response_type '%s' is not enabled for the application. The emulator signs users in with the authorization code flow: use response_type=code.", rt)
	}
	sg.scope = q.Get("scope")
	if res := strings.TrimSpace(q.Get("resource")); strings.TrimSpace(sg.scope) == "" && res != "" {
		// v1 (/oauth2/authorize) names a resource, not scopes.
		sg.scope = strings.TrimSuffix(res, "/") + "/.default"
	}
	if strings.TrimSpace(sg.scope) == "" {
		return errMissingParam("scope")
	}
	req := &tokenRequest{r: r, v2: true, ref: ref, clientID: sg.clientID, scope: sg.scope}
	if aerr := s.resolveResource(req, false); aerr != nil {
		return aerr
	}
	sg.challenge = q.Get("code_challenge")
	sg.challengeMethod = q.Get("code_challenge_method")
	if sg.challenge != "" {
		switch sg.challengeMethod {
		case "":
			sg.challengeMethod = "plain"
		case "S256", "plain":
		default:
			return newErr(http.StatusBadRequest, "invalid_request", 501491,
				"The code_challenge_method '%s' is not supported. Use S256 (or plain).", sg.challengeMethod)
		}
		if n := len(sg.challenge); n < 43 || n > 128 {
			return newErr(http.StatusBadRequest, "invalid_request", 501491,
				"Invalid size of Code_Challenge parameter: %d characters, it must have 43 to 128.", n)
		}
	}
	for _, p := range strings.Fields(q.Get("prompt")) {
		if p == "none" {
			return newErr(http.StatusBadRequest, "login_required", 50058,
				"A silent sign-in request was sent but no user is signed in. The emulator keeps no browser session: sign in without prompt=none.")
		}
	}
	return nil
}

// redirectAllowed reports whether uri is one of the app's redirect URIs. As in Entra, a
// registered loopback URI (http://localhost) matches any port, and localhost, 127.0.0.1 and
// [::1] match each other.
func redirectAllowed(app store.App, uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Fragment != "" || u.User != nil || u.Scheme == "" || u.Host == "" {
		return false
	}
	trim := func(p string) string { return strings.TrimSuffix(p, "/") }
	for _, reg := range app.RedirectURIs {
		if trim(reg) == trim(uri) {
			return true
		}
		ru, err := url.Parse(reg)
		if err != nil || !isLoopback(ru) || !isLoopback(u) {
			continue
		}
		if strings.EqualFold(ru.Scheme, "http") && strings.EqualFold(u.Scheme, "http") &&
			trim(ru.Path) == trim(u.Path) && ru.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

func isLoopback(u *url.URL) bool {
	switch strings.ToLower(u.Hostname()) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// loginAction is where the sign-in pages post their forms.
func (s *Server) loginAction(sg *signin) string {
	return "/" + url.PathEscape(sg.tenantSeg) + "/login"
}

// formTargets are the origins a sign-in's pages may send the browser to.
func formTargets(sg *signin) []string {
	if sg.redirectURI == "" {
		return nil
	}
	return []string{sg.redirectURI}
}

// showPassword renders the user name and password page for sg with a fresh id.
func (s *Server) showPassword(w http.ResponseWriter, r *http.Request, sg *signin, errText string) {
	s.showStage(w, r, sg, stagePassword, "password", errText, page{User: sg.username})
}

// showMFA renders the verification code page for sg with a fresh id.
func (s *Server) showMFA(w http.ResponseWriter, r *http.Request, sg *signin, errText string) {
	s.showStage(w, r, sg, stageMFA, "otc", errText, page{Title: "Verify your identity", User: sg.upn})
}

// showStage moves sg to a stage and renders that stage's page under a fresh single-use id; an
// error text re-renders it with HTTP 400.
func (s *Server) showStage(w http.ResponseWriter, r *http.Request, sg *signin, st signinStage, name, errText string, pg page) {
	sg.stage = st
	id, ok := s.pending.putSignin(sg, s.now())
	if !ok {
		s.errorPage(w, r, errBusy())
		return
	}
	status := http.StatusOK
	if errText != "" {
		status = http.StatusBadRequest
	}
	pg.App, pg.Error, pg.Action, pg.Flow, pg.Cancel = sg.appName, errText, s.loginAction(sg), id, true
	s.renderPage(w, r, status, name, pg, formTargets(sg)...)
}

func errBusy() *aadError {
	return newErr(http.StatusServiceUnavailable, "temporarily_unavailable", 90033,
		"Too many sign-ins are in progress in the emulator. Finish or abandon some, then try again.")
}

// pageError is an error as the sign-in page shows it.
func pageError(e *aadError) string { return e.Error() }

// login serves POST /{tenant}/login: the forms of the password and verification code pages.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.errorPage(w, r, newErr(http.StatusMethodNotAllowed, "invalid_request", 900561,
			"The endpoint only accepts POST requests. Received a %s request. Start a sign-in at /{tenant}/oauth2/v2.0/authorize.", r.Method))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, errForm(err))
		return
	}
	f := r.PostForm
	if name := duplicated(f); name != "" {
		s.errorPage(w, r, errDuplicated(name))
		return
	}
	sg := s.pending.takeSignin(f.Get("flow"), s.now())
	if sg == nil {
		s.errorPage(w, r, newErr(http.StatusBadRequest, "invalid_request", 50089,
			"Flow token expired - Authentication Failed. The sign-in page was already submitted, has expired, or did not come from the emulator. Start the sign-in again from the application."))
		return
	}
	if f.Get("cancel") != "" {
		s.cancelSignin(w, r, sg)
		return
	}
	switch sg.stage {
	case stagePassword:
		s.checkPassword(w, r, sg)
	case stageMFA:
		s.checkCode(w, r, sg)
	}
}

// checkPassword handles the password page: unknown user (50034), wrong password (50126) and
// disabled account (50057) re-render it with the error; MFA users go on to the code page.
func (s *Server) checkPassword(w http.ResponseWriter, r *http.Request, sg *signin) {
	ctx, f := r.Context(), r.PostForm
	username := strings.TrimSpace(f.Get("username"))
	sg.username = username
	if username == "" {
		s.showPassword(w, r, sg, "Enter a valid email address, phone number, or Skype name.")
		return
	}
	ref, aerr := s.userTenantIn(ctx, sg.tenantSeg, username)
	if aerr != nil {
		s.showPasswordErr(w, r, sg, aerr)
		return
	}
	user, aerr := s.findSigninUser(ctx, ref, username)
	if aerr != nil {
		s.showPasswordErr(w, r, sg, aerr)
		return
	}
	if aerr := s.verifyPassword(ctx, user, f.Get("password"), "Your account or password is incorrect."); aerr != nil {
		s.showPasswordErr(w, r, sg, aerr)
		return
	}
	if aerr := userCanSignIn(user); aerr != nil {
		s.showPasswordErr(w, r, sg, aerr)
		return
	}
	// The app must be usable in the user's tenant.
	app, aerr := s.lookupApp(ctx, ref, sg.clientID)
	if aerr != nil {
		s.failSignin(w, r, sg, aerr)
		return
	}
	// A partner or guest at another tenant's authority: refused here, as Entra does, when
	// no relationship or guest object lets them in.
	if !ref.Meta && user.TenantID != ref.Tenant.ID {
		if _, aerr := s.foreignAccessOf(ctx, ref.Tenant, user, app); aerr != nil {
			s.failSignin(w, r, sg, aerr)
			return
		}
	}
	sg.tenantID, sg.userOID, sg.upn = user.TenantID, user.ObjectID, user.UPN
	if !user.MFARequired {
		s.completeSignin(w, r, sg, []string{"pwd"})
		return
	}
	if user.TOTPSecret == "" {
		s.failSignin(w, r, sg, &aadError{Status: http.StatusBadRequest, Err: "interaction_required", Code: 50079,
			Msg: "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication. The emulator cannot enroll an authenticator: give the user a TOTP secret in the emulator's store."})
		return
	}
	s.showMFA(w, r, sg, "")
}

func (s *Server) showPasswordErr(w http.ResponseWriter, r *http.Request, sg *signin, e *aadError) {
	s.trace(r, e) // logs it
	s.showPassword(w, r, sg, pageError(e))
}

// checkCode handles the verification code page: a TOTP code of the user's authenticator,
// accepted one 30-second step early or late.
func (s *Server) checkCode(w http.ResponseWriter, r *http.Request, sg *signin) {
	ctx := r.Context()
	code := strings.Join(strings.Fields(r.PostForm.Get("otc")), "")
	user, err := s.cfg.Store.User(ctx, sg.tenantID, sg.userOID)
	if err != nil {
		s.failSignin(w, r, sg, errServer(err))
		return
	}
	if aerr := userCanSignIn(user); aerr != nil {
		s.failSignin(w, r, sg, aerr)
		return
	}
	valid, _ := totp.ValidateCustom(code, user.TOTPSecret, s.now().UTC(), totp.ValidateOpts{
		Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if valid && !s.pending.useOTP(user.TenantID+"/"+user.ObjectID+"/"+code, s.now()) {
		// Entra refuses a code that was already used, so a code seen over a shoulder (or
		// replayed from a captured form) does not sign in twice.
		s.log.InfoContext(ctx, "identity: verification code replayed", "user", user.UPN)
		valid = false
	}
	if !valid {
		sg.attempts++
		if sg.attempts >= maxAttempts {
			s.failSignin(w, r, sg, newErr(http.StatusBadRequest, "invalid_grant", 500121,
				"Authentication failed during strong authentication request: too many wrong verification codes. Start the sign-in again."))
			return
		}
		s.log.InfoContext(ctx, "identity: wrong verification code", "user", user.UPN)
		s.showMFA(w, r, sg, "You didn't enter the expected verification code. Please try again.")
		return
	}
	s.completeSignin(w, r, sg, []string{"pwd", "mfa"})
}

// completeSignin ends a successful sign-in: an authorization code to the redirect URI, or an
// approved device code.
func (s *Server) completeSignin(w http.ResponseWriter, r *http.Request, sg *signin, amr []string) {
	now := s.now()
	if sg.deviceCode != "" {
		if !s.pending.settleDevice(sg.deviceCode, now, sg.tenantID, sg.userOID, amr) {
			s.errorPage(w, r, errDeviceCodeExpired())
			return
		}
		s.log.InfoContext(r.Context(), "identity: device code approved", "user", sg.upn, "app", sg.clientID)
		s.renderPage(w, r, http.StatusOK, "message", page{
			Title:   "Microsoft Entra ID",
			Heading: sg.appName,
			Message: "You have signed in to the " + sg.appName + " application on your device. You may now close this window.",
		})
		return
	}
	code, ok := s.pending.putCode(&authCode{
		clientID: sg.clientID, redirectURI: sg.redirectURI, challenge: sg.challenge, challengeMethod: sg.challengeMethod,
		scope: sg.scope, nonce: sg.nonce, tenantID: sg.tenantID, userOID: sg.userOID, amr: amr,
	}, now)
	if !ok {
		s.errorPage(w, r, errBusy())
		return
	}
	s.log.InfoContext(r.Context(), "identity: authorization code issued", "user", sg.upn, "app", sg.clientID)
	s.deliver(w, r, sg, url.Values{"code": {code}})
}

// cancelSignin is the Cancel button: the device code is declined, or the client hears
// access_denied.
func (s *Server) cancelSignin(w http.ResponseWriter, r *http.Request, sg *signin) {
	if sg.deviceCode != "" {
		s.pending.settleDevice(sg.deviceCode, s.now(), "", "", nil)
		s.renderPage(w, r, http.StatusOK, "message", page{
			Title:   "Microsoft Entra ID",
			Heading: sg.appName,
			Message: "You cancelled the sign-in to the " + sg.appName + " application on your device. You may now close this window.",
		})
		return
	}
	s.redirectError(w, r, sg, errDeclined())
}

func errDeclined() *aadError {
	return newErr(http.StatusBadRequest, "access_denied", 65004,
		"User declined to consent to access the app. The user cancelled the sign-in.")
}

// failSignin ends a sign-in that cannot go on: the client hears the error (authorize flows),
// the device user reads it (device flows).
func (s *Server) failSignin(w http.ResponseWriter, r *http.Request, sg *signin, e *aadError) {
	if sg.deviceCode != "" || sg.redirectURI == "" {
		s.errorPage(w, r, e)
		return
	}
	s.redirectError(w, r, sg, e)
}

// redirectError sends an error back to the client's redirect URI.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, sg *signin, e *aadError) {
	t := s.trace(r, e)
	s.deliver(w, r, sg, url.Values{"error": {e.Err}, "error_description": {t.desc}, "error_uri": {t.uri}})
}

// deliver answers the client through the browser in the requested response mode: an
// auto-submitting form (form_post, which MSAL's loopback listener requires) or a redirect with
// the values in the query or fragment. state is added when the request had one.
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, sg *signin, v url.Values) {
	if sg.state != "" {
		v.Set("state", sg.state)
	}
	switch sg.responseMode {
	case "form_post":
		fields := make([]field, 0, len(v))
		for _, k := range []string{"code", "error", "error_description", "error_uri", "state"} {
			if val := v.Get(k); val != "" {
				fields = append(fields, field{k, val})
			}
		}
		s.renderPage(w, r, http.StatusOK, "autopost", page{
			Title: "Working...", Redirect: sg.redirectURI, Fields: fields, Nonce: randomID(16),
		}, sg.redirectURI)
	case "fragment":
		u, _ := url.Parse(sg.redirectURI)
		u.Fragment = ""
		http.Redirect(w, r, u.String()+"#"+v.Encode(), http.StatusFound)
	default:
		u, _ := url.Parse(sg.redirectURI)
		q := u.Query()
		for k, vs := range v {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
}
