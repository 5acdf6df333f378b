package identity

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
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
	// defaultMaxPending bounds the sign-ins and device codes in progress, so a flood of
	// authorize calls cannot exhaust memory; defaultMaxPendingPerClient bounds one client's.
	defaultMaxPending          = 20000
	defaultMaxPendingPerClient = 100
	// maxCodes bounds the issued authorization codes (each needs a completed sign-in).
	maxCodes = 20000
	// maxAttempts is how many wrong verification codes one sign-in may send (wrong passwords
	// count per account, in lockout).
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
	client    string // who started it: clientKey
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
	client    string // who asked for it: clientKey
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
	signins   *pool[*signin]
	codes     map[string]*authCode
	devices   *pool[*deviceAuth]   // by device code
	userCodes map[string]string    // user code -> device code
	usedOTPs  map[string]time.Time // tenant/oid/code -> when it can no longer be valid
	swept     time.Time
}

func newSessions(maxPending, perClient int) *sessions {
	if maxPending <= 0 {
		maxPending = defaultMaxPending
	}
	if perClient <= 0 {
		perClient = defaultMaxPendingPerClient
	}
	p := &sessions{
		codes:     map[string]*authCode{},
		userCodes: map[string]string{},
		usedOTPs:  map[string]time.Time{},
	}
	p.signins = newPool[*signin](maxPending, perClient, nil)
	p.devices = newPool(maxPending, perClient, func(d *deviceAuth) {
		// The user code may already belong to a newer device code.
		if cur, live := p.devices.get(p.userCodes[d.userCode]); !live || cur == d {
			delete(p.userCodes, d.userCode)
		}
	})
	return p
}

// clientKey names who starts a sign-in, for the per-client bound: the source address and the
// client id. Keying on the address alone would let one app's flood lock out every other app
// behind the same address (all of a machine's tools, or a test suite's clients on loopback).
func clientKey(r *http.Request, clientID string) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return host + "|" + strings.ToLower(clientID)
}

// pool is a table of pending entries bounded overall and per client. A client over its bound
// loses its own oldest entry; a full table loses the oldest entry of the client holding the
// most. Callers hold sessions.mu.
type pool[T any] struct {
	max, perClient int
	items          map[string]poolItem[T]
	byClient       map[string][]string // ids in the order they were added; some may be gone
	evicted        func(T)
}

type poolItem[T any] struct {
	v      T
	client string
}

func newPool[T any](max, perClient int, evicted func(T)) *pool[T] {
	return &pool[T]{max: max, perClient: perClient, items: map[string]poolItem[T]{}, byClient: map[string][]string{}, evicted: evicted}
}

func (p *pool[T]) get(id string) (T, bool) {
	it, ok := p.items[id]
	return it.v, ok
}

func (p *pool[T]) remove(id string) { delete(p.items, id) }

func (p *pool[T]) full() bool { return len(p.items) >= p.max }

// live is the client's ids still in the table, oldest first.
func (p *pool[T]) live(client string) []string {
	q := p.byClient[client][:0]
	for _, id := range p.byClient[client] {
		if _, ok := p.items[id]; ok {
			q = append(q, id)
		}
	}
	if len(q) == 0 {
		delete(p.byClient, client)
		return nil
	}
	p.byClient[client] = q
	return q
}

func (p *pool[T]) evictOldest(client string) {
	q := p.live(client)
	if len(q) == 0 {
		return
	}
	it := p.items[q[0]]
	delete(p.items, q[0])
	p.byClient[client] = q[1:]
	if p.evicted != nil {
		p.evicted(it.v)
	}
}

// put adds v under id for client, making room as the bounds require.
func (p *pool[T]) put(id, client string, v T) {
	for len(p.live(client)) >= p.perClient {
		p.evictOldest(client)
	}
	for len(p.items) >= p.max {
		heaviest, n := "", 0
		for c, ids := range p.byClient {
			if len(ids) > n {
				heaviest, n = c, len(ids)
			}
		}
		if heaviest == "" {
			break
		}
		p.evictOldest(heaviest)
		p.live(heaviest)
	}
	p.items[id] = poolItem[T]{v: v, client: client}
	p.byClient[client] = append(p.byClient[client], id)
}

// sweep removes the entries drop selects and forgets ids that are gone.
func (p *pool[T]) sweep(drop func(T) bool) {
	for id, it := range p.items {
		if drop(it.v) {
			delete(p.items, id)
			if p.evicted != nil {
				p.evicted(it.v)
			}
		}
	}
	for c := range p.byClient {
		p.live(c)
	}
}

// randomID is an unguessable id of n random bytes, base64url.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sweep drops expired entries, at most once a minute unless a table is full. Callers hold mu.
func (p *sessions) sweep(now time.Time) {
	if now.Sub(p.swept) < time.Minute && !p.signins.full() && len(p.codes) < maxCodes && !p.devices.full() {
		return
	}
	p.swept = now
	p.signins.sweep(func(sg *signin) bool { return now.After(sg.expires) })
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
	// Keep expired device codes a while, so a late poll hears expired_token.
	p.devices.sweep(func(d *deviceAuth) bool { return now.After(d.expires.Add(10 * time.Minute)) })
}

// putSignin stores sg under a new id and returns the id. A client with too many sign-ins in
// progress loses its oldest.
func (p *sessions) putSignin(sg *signin, now time.Time) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	id := randomID(32)
	sg.expires = now.Add(signinLifetime)
	p.signins.put(id, sg.client, sg)
	return id, true
}

// takeSignin removes and returns the sign-in with id, or nil when it is unknown, used or
// expired.
func (p *sessions) takeSignin(id string, now time.Time) *signin {
	p.mu.Lock()
	defer p.mu.Unlock()
	sg, _ := p.signins.get(id)
	p.signins.remove(id)
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
	if len(p.codes) >= maxCodes {
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
	for {
		userCode = newUserCode()
		if _, taken := p.userCodes[userCode]; !taken {
			break
		}
	}
	deviceCode = "DAQABIQEAAAD" + randomID(96)
	d.userCode = userCode
	d.expires = now.Add(life)
	p.devices.put(deviceCode, d.client, d)
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
	dp, _ := p.devices.get(deviceCode)
	if dp == nil {
		return "", d, false
	}
	return deviceCode, *dp, true
}

// settleDevice approves (oid set) or declines (oid empty) a pending, unexpired device code.
func (p *sessions) settleDevice(deviceCode string, now time.Time, tenantID, oid string, amr []string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, _ := p.devices.get(deviceCode)
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
	d, _ := p.devices.get(deviceCode)
	if d == nil {
		return deviceAuth{}, pollUnknown
	}
	last := d.lastPoll
	d.lastPoll = now
	switch {
	case now.After(d.expires):
		return *d, pollExpired
	case d.status == deviceDeclined:
		p.devices.remove(deviceCode)
		return *d, pollDeclined
	case d.status == deviceApproved:
		p.devices.remove(deviceCode)
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
