package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// User plays a person on the emulator's sign-in pages over plain HTTP, so that tests of
// interactive (browser) and device-code sign-in run unattended: it types the device code, the
// user name and password, the authenticator code, or presses Cancel, and posts the final
// auto-submitting answer to the client's loopback redirect as the page's script would.
type User struct {
	// Client must trust the emulator (Emulator.HTTPClient).
	Client *http.Client
	UPN    string
	// Password and TOTPSecret (for users who must pass MFA: emulator.json's totp_secret)
	// answer the sign-in pages.
	Password, TOTPSecret string
	// UserCode answers the device login page.
	UserCode string
	// Cancel presses Cancel instead of signing in.
	Cancel bool
}

// The sign-in pages' patterns, compiled on first use (package initialisation stays free).
var pagePatterns = sync.OnceValue(func() struct{ form, input, attr, err *regexp.Regexp } {
	return struct{ form, input, attr, err *regexp.Regexp }{
		form:  regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`),
		input: regexp.MustCompile(`<input\b[^>]*>`),
		attr:  regexp.MustCompile(`([a-zA-Z_-]+)="([^"]*)"`),
		err:   regexp.MustCompile(`(?s)id="error"[^>]*>(.*?)</p>`),
	}
})

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range pagePatterns().attr.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// SignIn starts at u (an authorize URL, or the device login page) and goes on until the
// sign-in is answered. It returns the last page's text, or an error with the text the page
// showed (a wrong password, say).
func (b *User) SignIn(u string) (string, error) {
	c := *b.Client
	c.Jar, _ = cookiejar.New(nil)
	resp, err := c.Get(u)
	// A code signs in only once, and the emulator accepts the 30-second steps around now:
	// after a refused code, the user types the next step's, then the last one's.
	otcTries, otcSteps := 0, []int{0, 1, -1}
	for step := 0; step < 10; step++ {
		if err != nil {
			return "", err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		if m := pagePatterns().err.FindStringSubmatch(page); m != nil && !(strings.Contains(page, `id="otc"`) && otcTries < 3) {
			return page, fmt.Errorf("sign-in page says: %s", html.UnescapeString(strings.TrimSpace(m[1])))
		}
		fm := pagePatterns().form.FindStringSubmatch(page)
		if fm == nil {
			return page, nil // a final message page
		}
		form := attrs(fm[1])
		v := url.Values{}
		for _, in := range pagePatterns().input.FindAllString(fm[2], -1) {
			a := attrs(in)
			if a["name"] != "" {
				v.Set(a["name"], a["value"])
			}
		}
		action, err := resp.Request.URL.Parse(form["action"])
		if err != nil {
			return page, err
		}
		switch {
		case form["id"] == "response":
			// The answer to the client's loopback listener.
			r, err := c.PostForm(action.String(), v)
			if err != nil {
				return page, err
			}
			body, _ := io.ReadAll(r.Body)
			r.Body.Close()
			return string(body), nil
		case b.Cancel && strings.Contains(fm[2], `id="cancel"`):
			v.Set("cancel", "1")
		case strings.Contains(fm[2], `id="code"`):
			v.Set("user_code", b.UserCode)
		case strings.Contains(fm[2], `id="otc"`):
			v.Set("otc", TOTP(b.TOTPSecret, time.Now().Add(time.Duration(otcSteps[otcTries])*30*time.Second)))
			otcTries++
		case strings.Contains(fm[2], `id="password"`):
			v.Set("username", b.UPN)
			v.Set("password", b.Password)
		}
		resp, err = c.PostForm(action.String(), v)
	}
	return "", fmt.Errorf("the sign-in did not end after 10 pages")
}

// TOTP is an authenticator app's code at t (RFC 6238: SHA-1, 30 s, 6 digits).
func TOTP(secret string, t time.Time) string {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		return "000000"
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	h := hmac.New(sha1.New, key)
	h.Write(msg[:])
	sum := h.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1000000)
}
