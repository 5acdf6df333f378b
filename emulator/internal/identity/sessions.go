package identity

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Lifetimes of the short-lived sign-in state.
const (
	// signinLifetime is how long one page of a sign-in (password, verification code) may stay
	// open before its form is refused (Entra's flow token lives about as long).
	signinLifetime = 15 * time.Minute
	// AuthCodeLifetime is how long an authorization code can be redeemed (Entra: 10 minutes).
	AuthCodeLifetime = 10 * time.Minute
	// maxPending bounds each table, so a flood of authorize calls cannot exhaust memory.
	maxPending = 20000
	// maxAttempts is how many wrong passwords or verification codes one sign-in may send.
	maxAttempts = 10
)

type signinStage int

const (
	stagePassword signinStage = iota // the user name and password page
	stageMFA                         // the verification code page
)

// signin is one sign-in transaction in a browser: what the authorize request (or device code)
// asked for, and how far the user got. Each page it renders carries a fresh random id in a
// hidden field; a POST consumes that id, so a form can be sent once and a forged one (without
// an id the emulator handed out) is refused.
type signin struct {
	expires   time.Time
	stage     signinStage
	tenantSeg string // the authority's tenant segment
	clientID  string
	appName   string
	attempts  int
	username  string // prefilled user name (login_hint, or what the user typed)

	// An authorize request's answer.
	redirectURI, responseMode, state string
	challenge, challengeMethod       string
	scope                            string
	nonce                            string // the authorize request's nonce, echoed in the id_token

	// deviceCode is set when the sign-in approves a device code instead.
	deviceCode string

	// After the password: who signs in.
	tenantID, userOID, upn string
}

// authCode is an issued authorization code, redeemable once.
type authCode struct {
	expires                    time.Time
	redeemed                   bool
	clientID, redirectURI      string
	challenge, challengeMethod string
	scope                      string
	nonce                      string
	tenantID, userOID          string
	amr                        []string
}

type deviceStatus int

const (
	devicePending deviceStatus = iota
	deviceApproved
	deviceDeclined
)

// deviceAuth is one device code: pending until a user signs in on the device login page
// (approved) or cancels there (declined).
type deviceAuth struct {
	expires   time.Time
	tenantSeg string
	clientID  string
	appName   string
	scope     string // v2 scope or v1 resource as requested
	userCode  string
	lastPoll  time.Time
	status    deviceStatus
	tenantID  string
	userOID   string
	amr       []string
}

// sessions is the in-memory state of browser and device sign-ins. Nothing in it needs to
// survive a restart: a user whose sign-in was cut short starts again, as with Entra.
type sessions struct {
	mu        sync.Mutex
	signins   map[string]*signin
	codes     map[string]*authCode
	devices   map[string]*deviceAuth // by device code
	userCodes map[string]string      // user code -> device code
	usedOTPs  map[string]time.Time   // tenant/oid/code -> when it can no longer be valid
	swept     time.Time
}

func newSessions() *sessions {
	return &sessions{
		signins:   map[string]*signin{},
		codes:     map[string]*authCode{},
		devices:   map[string]*deviceAuth{},
		userCodes: map[string]string{},
		usedOTPs:  map[string]time.Time{},
	}
}

// randomID is an unguessable id of n random bytes, base64url.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sweep drops expired entries, at most once a minute. Callers hold mu.
func (p *sessions) sweep(now time.Time) {
	if now.Sub(p.swept) < time.Minute && len(p.signins) < maxPending && len(p.codes) < maxPending && len(p.devices) < maxPending {
		return
	}
	p.swept = now
	for k, v := range p.signins {
		if now.After(v.expires) {
			delete(p.signins, k)
		}
	}
	for k, v := range p.codes {
		if now.After(v.expires) {
			delete(p.codes, k)
		}
	}
	for k, v := range p.usedOTPs {
		if now.After(v) {
			delete(p.usedOTPs, k)
		}
	}
	for k, v := range p.devices {
		// Keep expired device codes a while, so a late poll hears expired_token.
		if now.After(v.expires.Add(10 * time.Minute)) {
			delete(p.devices, k)
			delete(p.userCodes, v.userCode)
		}
	}
}

// putSignin stores sg under a new id and returns the id; false when the table is full.
func (p *sessions) putSignin(sg *signin, now time.Time) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	if len(p.signins) >= maxPending {
		return "", false
	}
	id := randomID(32)
	sg.expires = now.Add(signinLifetime)
	p.signins[id] = sg
	return id, true
}

// takeSignin removes and returns the sign-in with id, or nil when it is unknown, used or
// expired.
func (p *sessions) takeSignin(id string, now time.Time) *signin {
	p.mu.Lock()
	defer p.mu.Unlock()
	sg := p.signins[id]
	delete(p.signins, id)
	if sg == nil || now.After(sg.expires) {
		return nil
	}
	return sg
}

// putCode stores an authorization code and returns it; false when the table is full.
func (p *sessions) putCode(c *authCode, now time.Time) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	if len(p.codes) >= maxPending {
		return "", false
	}
	code := "0.emu." + randomID(48)
	c.expires = now.Add(AuthCodeLifetime)
	p.codes[code] = c
	return code, true
}

type codeState int

const (
	codeUnknown codeState = iota
	codeExpired
	codeRedeemed
	codeValid
)

// redeemCode marks a code used and returns it with its state before this call.
func (p *sessions) redeemCode(code string, now time.Time) (authCode, codeState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.codes[code]
	switch {
	case c == nil:
		return authCode{}, codeUnknown
	case c.redeemed:
		return *c, codeRedeemed
	case now.After(c.expires):
		return *c, codeExpired
	}
	c.redeemed = true
	return *c, codeValid
}

// userCodeAlphabet leaves out letters and digits people confuse (0/O, 1/I).
const userCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func newUserCode() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b)
}

// putDevice stores a device code with a fresh user code and returns both.
func (p *sessions) putDevice(d *deviceAuth, now time.Time, life time.Duration) (deviceCode, userCode string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	if len(p.devices) >= maxPending {
		return "", "", false
	}
	for {
		userCode = newUserCode()
		if _, taken := p.userCodes[userCode]; !taken {
			break
		}
	}
	deviceCode = "DAQABIQEAAAD" + randomID(96)
	d.userCode = userCode
	d.expires = now.Add(life)
	p.devices[deviceCode] = d
	p.userCodes[userCode] = deviceCode
	return deviceCode, userCode, true
}

// deviceByUserCode finds the pending device code a user typed.
func (p *sessions) deviceByUserCode(userCode string, now time.Time) (deviceCode string, d deviceAuth, found bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	deviceCode, found = p.userCodes[userCode]
	if !found {
		return "", d, false
	}
	dp := p.devices[deviceCode]
	if dp == nil {
		return "", d, false
	}
	return deviceCode, *dp, true
}

// settleDevice approves (oid set) or declines (oid empty) a pending, unexpired device code.
func (p *sessions) settleDevice(deviceCode string, now time.Time, tenantID, oid string, amr []string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.devices[deviceCode]
	if d == nil || d.status != devicePending || now.After(d.expires) {
		return false
	}
	if oid == "" {
		d.status = deviceDeclined
	} else {
		d.status, d.tenantID, d.userOID, d.amr = deviceApproved, tenantID, oid, amr
	}
	// The user code is spent either way.
	delete(p.userCodes, d.userCode)
	return true
}

type pollState int

const (
	pollUnknown pollState = iota
	pollExpired
	pollDeclined
	pollApproved
	pollTooFast
	pollPending
)

// pollDevice answers one poll of a device code. An approved or declined code is removed, so
// it gives one answer only.
func (p *sessions) pollDevice(deviceCode string, now time.Time, interval time.Duration) (deviceAuth, pollState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.devices[deviceCode]
	if d == nil {
		return deviceAuth{}, pollUnknown
	}
	last := d.lastPoll
	d.lastPoll = now
	switch {
	case now.After(d.expires):
		return *d, pollExpired
	case d.status == deviceDeclined:
		delete(p.devices, deviceCode)
		return *d, pollDeclined
	case d.status == deviceApproved:
		delete(p.devices, deviceCode)
		return *d, pollApproved
	case !last.IsZero() && now.Sub(last) < interval/5:
		// Only a client far faster than the interval hears slow_down: MSAL Node treats it as
		// fatal, and clients that keep the interval (give or take timer drift) never see it.
		return *d, pollTooFast
	}
	return *d, pollPending
}

// useOTP records a verification code as used and reports whether it was unused. A TOTP code
// is valid for at most three 30-second steps, so it is remembered that long.
func (p *sessions) useOTP(key string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	if until, used := p.usedOTPs[key]; used && now.Before(until) {
		return false
	}
	p.usedOTPs[key] = now.Add(2 * time.Minute)
	return true
}
