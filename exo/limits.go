package exo

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// DefaultMaxRetryAfter is the longest Retry-After exoctl waits out. The service asks for a
// few seconds when it throttles; an hour-long wait is a tenant-wide problem a person should
// know about, not a pause to sit through in silence.
const DefaultMaxRetryAfter = 2 * time.Minute

// ThrottledError is a throttling answer exoctl does not wait out: the service asked for a
// longer pause than MaxRetryAfter, or it kept throttling through every retry.
type ThrottledError struct {
	Request string
	// RetryAfter is the server's wait; 0 when it gave none.
	RetryAfter time.Duration
	// Until is when the server said to come back (zero when unknown).
	Until time.Time
	// Exhausted is true when every retry was throttled.
	Exhausted bool
	Err       error // the last answer, a *CmdletError
}

func (e *ThrottledError) Error() string {
	when := ""
	if !e.Until.IsZero() {
		when = " (at " + e.Until.UTC().Format("15:04:05 UTC") + ")"
	}
	if e.Exhausted {
		return fmt.Sprintf("%s: the service kept throttling this tenant through every retry: run the command again later%s, or spread the work over more time (exoctl bulk --parallel 1)", e.Request, when)
	}
	return fmt.Sprintf("%s: the service is throttling this tenant and asks to wait %s before the next request, longer than exoctl waits: run the command again after that%s, or spread the work over more time (exoctl bulk --parallel 1)",
		e.Request, roundWait(e.RetryAfter), when)
}

func (e *ThrottledError) Unwrap() error { return e.Err }

// roundWait prints a wait the way a person reads it: 42s, 3m5s, 58m29s.
func roundWait(d time.Duration) string {
	if d >= time.Second {
		d = d.Round(time.Second)
	} else {
		d = d.Round(100 * time.Millisecond)
	}
	return d.String()
}

// Notice is a wait a person should hear about: a retry's pause (throttling, a service that is
// unavailable) or an answer that is slow to come. Options.OnNotice receives it.
type Notice struct {
	Request string
	// Wait is how long exoctl pauses (a retry) or has waited so far (a slow answer).
	Wait time.Duration
	// Attempt and Attempts count retries: the coming attempt and the most there will be.
	Attempt, Attempts int
	// Message is one line for a person, e.g. "throttled by the service: waiting 42s (attempt 2 of 6)".
	Message string
}

// noticeAfter is the shortest wait worth announcing.
const noticeAfter = 2 * time.Second

// ErrPageTooLarge is a page whose answer, once decompressed, exceeds the page limit.
var ErrPageTooLarge = errors.New("the service's answer is larger than exoctl accepts for one page")

// maxDecodedPage bounds one page after decompression. A 1000-record page of full mailboxes
// is under 10 MB; a gzip bomb stops here, not when memory runs out.
const maxDecodedPage = 64 << 20

// capReader fails with ErrPageTooLarge once more than n bytes were read through it.
type capReader struct {
	r io.Reader
	n int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, ErrPageTooLarge
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n < 0 {
		return n, fmt.Errorf("%w (%d MB): ask for fewer records at a time (exoctl run ... -ResultSize 100) or fewer properties (--select)", ErrPageTooLarge, maxDecodedPage>>20)
	}
	return n, err
}
