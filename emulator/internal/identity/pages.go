package identity

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// page is what one sign-in page shows. The pages are plain, accessible HTML with stable
// element ids (username, password, submit, otc, code, cancel, error) that tests and browser
// automation rely on.
type page struct {
	Title   string
	Heading string
	App     string // the client's display name
	Error   string // shown in #error (role=alert)
	Message string
	Action  string // form action
	Flow    string // the sign-in's single-use id
	User    string // prefilled user name
	Code    string // prefilled device user code
	Cancel  bool   // offer a Cancel button
	// The auto-submitting answer to the redirect URI.
	Redirect string
	Fields   []field
	Nonce    string // CSP nonce of the auto-submit script
}

type field struct{ Name, Value string }

// pages are the sign-in pages' templates, parsed on first use: processes that never serve a
// sign-in page (every client) never pay for it.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("layout").Parse(`{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{.Title}}</title>
<style>
body{font-family:"Segoe UI",system-ui,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{max-width:440px;margin:8vh auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.5rem;font-weight:600;margin:0 0 1rem}
label{display:block;margin:1rem 0 .25rem}
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #666}
.buttons{margin-top:1.5rem;display:flex;gap:.5rem;justify-content:flex-end}
button{padding:.5rem 1.5rem;font-size:1rem;border:1px solid #0067b8;background:#0067b8;color:#fff;cursor:pointer}
button.secondary{background:#ccc;border-color:#ccc;color:#1b1b1b}
#error{color:#a4262c;margin:1rem 0}
.note{font-size:.85rem;color:#555}
</style>
</head>
<body>
<main>
<p class="note">exoctl emulator &middot; Microsoft Entra ID</p>
{{end}}
{{define "foot"}}</main>
</body>
</html>
{{end}}
{{define "error-line"}}{{if .Error}}<p id="error" role="alert">{{.Error}}</p>{{end}}{{end}}

{{define "password"}}{{template "head" .}}<h1>Sign in</h1>
{{if .App}}<p id="app">to continue to {{.App}}</p>{{end}}
{{template "error-line" .}}
<form method="post" action="{{.Action}}" autocomplete="on">
<input type="hidden" name="flow" value="{{.Flow}}">
<label for="username">Email, phone, or Skype</label>
<input type="email" id="username" name="username" value="{{.User}}" autocomplete="username" required{{if not .User}} autofocus{{end}}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required{{if .User}} autofocus{{end}}>
<div class="buttons">
{{if .Cancel}}<button type="submit" class="secondary" id="cancel" name="cancel" value="1" formnovalidate>Cancel</button>{{end}}
<button type="submit" id="submit">Sign in</button>
</div>
</form>
{{template "foot" .}}{{end}}

{{define "otc"}}{{template "head" .}}<h1>Enter code</h1>
<p>Enter the code displayed in the authenticator app on your mobile device for <strong id="user">{{.User}}</strong>.</p>
{{template "error-line" .}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="flow" value="{{.Flow}}">
<label for="otc">Code</label>
<input type="text" id="otc" name="otc" inputmode="numeric" pattern="[0-9 ]{6,7}" maxlength="7" autocomplete="one-time-code" required autofocus>
<div class="buttons">
{{if .Cancel}}<button type="submit" class="secondary" id="cancel" name="cancel" value="1" formnovalidate>Cancel</button>{{end}}
<button type="submit" id="submit">Verify</button>
</div>
</form>
{{template "foot" .}}{{end}}

{{define "devicecode"}}{{template "head" .}}<h1>Enter code</h1>
<p>Enter the code displayed on your app or device.</p>
{{template "error-line" .}}
<form method="post" action="{{.Action}}">
<label for="code">Code</label>
<input type="text" id="code" name="user_code" value="{{.Code}}" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus>
<div class="buttons"><button type="submit" id="submit">Next</button></div>
</form>
{{template "foot" .}}{{end}}

{{define "message"}}{{template "head" .}}<h1>{{.Heading}}</h1>
{{template "error-line" .}}
{{if .Message}}<p id="message">{{.Message}}</p>{{end}}
{{template "foot" .}}{{end}}

{{define "autopost"}}{{template "head" .}}<h1>Signing you in</h1>
<form method="post" action="{{.Redirect}}" id="response">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>Script is disabled. Select Continue to finish signing in.</p><button type="submit" id="submit">Continue</button></noscript>
</form>
<script nonce="{{.Nonce}}">document.getElementById("response").submit();</script>
{{template "foot" .}}{{end}}
`))
})

// renderPage writes the named page with security headers. formTargets are the origins, beside
// the emulator's own, that the page's forms (or a redirect after them) may reach.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, p page, formTargets ...string) {
	if p.Title == "" {
		p.Title = "Sign in to your account"
	}
	var buf bytes.Buffer
	if err := pages().ExecuteTemplate(&buf, name, p); err != nil {
		s.log.ErrorContext(r.Context(), "identity: render page", "page", name, "err", err)
		http.Error(w, "The emulator could not render its sign-in page; its log says why.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	script := "'none'"
	if p.Nonce != "" {
		script = "'nonce-" + p.Nonce + "'"
	}
	forms := []string{"'self'"}
	for _, t := range formTargets {
		if o := origin(t); o != "" {
			forms = append(forms, o)
		}
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src "+script+
		"; form-action "+strings.Join(forms, " ")+"; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// origin is the scheme://host:port of a URL, or "" when it has none.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// errorPage shows an error the browser cannot be redirected with (unknown client, redirect URI
// not registered), as Entra's error page does.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, e *aadError) {
	t := s.trace(r, e)
	s.renderPage(w, r, e.Status, "message", page{
		Title:   "Sign in to your account",
		Heading: "Sorry, but we're having trouble signing you in.",
		Error:   strings.ReplaceAll(t.desc, "\r\n", " "),
	})
}
