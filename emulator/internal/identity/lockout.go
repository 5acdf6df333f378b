package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// Entra's smart lockout defaults: ten wrong passwords lock an account for a minute.
const (
	DefaultLockoutThreshold = 10
	DefaultLockoutDuration  = time.Minute
	// maxLockoutDuration caps the growth of repeated lockouts.
	maxLockoutDuration = time.Hour
	// rememberedBadPasswords is how many recent wrong passwords smart lockout recognises:
	// the same wrong password sent again (a client retrying a stale password) does not count
	// twice.
	rememberedBadPasswords = 3
)

// lockout is Entra's smart lockout for the emulator's accounts: after Threshold wrong
// passwords an account is locked for Duration, whatever password comes during it (the right
// one included); a wrong password right after a lockout locks it again for twice as long; a
// good sign-in starts over. It counts across every way of sending a password (the password
// grant and the sign-in pages) and across sign-ins, so starting a new sign-in resets nothing.
// The state is in memory: a restarted emulator forgets it, as it forgets pending sign-ins.
type lockout struct {
	threshold int
	duration  time.Duration
	key       []byte // keys the remembered wrong passwords; never leaves the process

	mu       sync.Mutex
	accounts map[string]*accountLock
}

type accountLock struct {
	failures    int
	lockedUntil time.Time
	lockedFor   time.Duration // the last lockout's length; 0 before the first
	recent      [][]byte      // MACs of the last wrong passwords
}

func newLockout(threshold int, duration time.Duration) *lockout {
	if threshold <= 0 {
		threshold = DefaultLockoutThreshold
	}
	if duration <= 0 {
		duration = DefaultLockoutDuration
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &lockout{threshold: threshold, duration: duration, key: key, accounts: map[string]*accountLock{}}
}

func accountKey(tenantID, oid string) string { return strings.ToLower(tenantID + "/" + oid) }

// locked reports whether the account is locked at now.
func (l *lockout) locked(account string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.accounts[account]
	return a != nil && now.Before(a.lockedUntil)
}

// fail records a wrong password and reports whether the account is now locked.
func (l *lockout) fail(account, password string, now time.Time) bool {
	mac := hmac.New(sha256.New, l.key)
	mac.Write([]byte(password))
	sum := mac.Sum(nil)
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.accounts[account]
	if a == nil {
		a = &accountLock{}
		l.accounts[account] = a
	}
	if now.Before(a.lockedUntil) {
		return true
	}
	if slices.ContainsFunc(a.recent, func(m []byte) bool { return hmac.Equal(m, sum) }) {
		return false
	}
	a.recent = append(a.recent, sum)
	if len(a.recent) > rememberedBadPasswords {
		a.recent = a.recent[1:]
	}
	a.failures++
	// The first failure after a lockout locks again; otherwise the threshold decides.
	if a.lockedFor > 0 || a.failures >= l.threshold {
		a.lockedFor = min(max(a.lockedFor*2, l.duration), maxLockoutDuration)
		a.lockedUntil = now.Add(a.lockedFor)
		a.failures = 0
		return true
	}
	return false
}

// succeed forgets the account's failures after a good password.
func (l *lockout) succeed(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.accounts, account)
}

func errLocked() *aadError {
	return newErr(http.StatusBadRequest, "invalid_grant", 50053,
		"The account is locked, you've tried to sign in too many times with an incorrect user ID or password. Wait a minute (longer after repeated lockouts) and sign in again with the right password.")
}

func errBadPassword(detail string) *aadError {
	return newErr(http.StatusBadRequest, "invalid_grant", 50126,
		"Error validating credentials due to invalid username or password. %s", detail)
}

// verifyPassword checks a user's password under smart lockout: a locked account gets 50053
// whatever the password, a wrong one 50126 (or 50053 when it locks the account). The
// comparison is exact: a password with a NUL byte is wrong, since the store's PBKDF2 (an HMAC
// keyed with the password) cannot tell "secret" from "secret\x00".
func (s *Server) verifyPassword(ctx context.Context, user store.User, password, wrongDetail string) *aadError {
	now := s.now()
	account := accountKey(user.TenantID, user.ObjectID)
	if s.lock.locked(account, now) {
		s.log.InfoContext(ctx, "identity: sign-in to a locked account", "user", user.UPN)
		return errLocked()
	}
	ok := false
	if !strings.ContainsRune(password, 0) {
		var err error
		if ok, err = s.cfg.Store.CheckPassword(ctx, user.TenantID, user.UPN, password); err != nil {
			return errServer(err)
		}
	}
	// A lock that engaged while the password was being checked (guesses sent in parallel)
	// holds for this one too.
	if ok && !s.lock.locked(account, s.now()) {
		s.lock.succeed(account)
		return nil
	}
	if ok {
		return errLocked()
	}
	if s.lock.fail(account, password, now) {
		s.log.InfoContext(ctx, "identity: account locked after wrong passwords", "user", user.UPN)
		return errLocked()
	}
	return errBadPassword(wrongDetail)
}
