package exo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Time bounds of every request, so that a server that never answers, or answers one byte a
// second, fails in a bounded time that exoctl announces.
const (
	// DefaultDialTimeout bounds connecting and DefaultTLSHandshakeTimeout the TLS handshake.
	DefaultDialTimeout         = 10 * time.Second
	DefaultTLSHandshakeTimeout = 10 * time.Second
	// DefaultRequestTimeout bounds the wait for an answer's headers: the service itself stops
	// a cmdlet after 15 minutes.
	DefaultRequestTimeout = 15*time.Minute + 30*time.Second
	// DefaultReadTimeout bounds reading one answer's body once its headers came.
	DefaultReadTimeout = 5 * time.Minute
	// DefaultIdleTimeout bounds a pause between two reads of an answer's body.
	DefaultIdleTimeout = time.Minute
	// tokenTimeout bounds getting a token from the authority (or the cache).
	tokenTimeout = 2 * time.Minute
	// slowAfter is when a slow answer is first announced, and then every slowEvery.
	slowAfter = 30 * time.Second
	slowEvery = time.Minute
)

// HTTPClient returns an HTTP client trusting the system roots plus the PEM certificates in
// caFile (the emulator's CA, or a TLS-inspecting proxy's). Connecting and the TLS handshake are
// bounded, and it follows a redirect only within the same origin (scheme, host and port), so
// that a token or a client assertion never follows one to another host or to plain http.
func HTTPClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	// Records are decoded as the answer arrives: HTTP/2 need not read 4 MB ahead of them.
	tr.HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: maxReadAhead, MaxReceiveBufferPerConnection: 2 * maxReadAhead}
	tr.DialContext = (&net.Dialer{Timeout: DefaultDialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = DefaultTLSHandshakeTimeout
	tr.ResponseHeaderTimeout = DefaultRequestTimeout
	tr.ExpectContinueTimeout = time.Second
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		if err := trustCAFile(tr, caFile, pem); err != nil {
			return nil, err
		}
	}
	return &http.Client{Transport: tr, CheckRedirect: sameOriginRedirect}, nil
}

// sameOriginRedirect refuses a redirect that leaves the first request's origin.
func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("stopped after 5 redirects (last to %s)", redactURL(req.URL))
	}
	if !sameOrigin(req.URL, via[0].URL) {
		return &OriginError{URL: redactURL(req.URL), Reason: "a redirect from " + origin(via[0].URL)}
	}
	return nil
}

// OriginError is a request exoctl refused to send because its token does not belong there.
type OriginError struct {
	URL    string
	Reason string // what sent exoctl there: a nextLink, a redirect, region discovery
}

func (e *OriginError) Error() string {
	return fmt.Sprintf("refused to send the access token to %s (%s): exoctl sends it only to the connection's own address over https", e.URL, e.Reason)
}

// origin is scheme://host:port of u, with the scheme's default port made explicit.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

func sameOrigin(a, b *url.URL) bool { return origin(a) == origin(b) }

// redactURL drops a URL's query (opaque paging state) for messages.
func redactURL(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.User = "", "", nil
	return c.String()
}

// isLoopback reports whether host is a loopback name or address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkTarget refuses a token-bearing request to anywhere but the session's own origin.
func (s *Session) checkTarget(target, reason string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, &OriginError{URL: target, Reason: reason + " that is not an absolute URL"}
	}
	b, err := url.Parse(s.base)
	if err != nil {
		return nil, err
	}
	if !sameOrigin(u, b) {
		return nil, &OriginError{URL: redactURL(u), Reason: reason + "; the connection is " + origin(b)}
	}
	return u, nil
}

// UnreachableError is a request that never reached the service: nothing answers at the
// address, the name is not known, or its certificate is not trusted. It is not retried.
type UnreachableError struct {
	Request string
	URL     string
	Err     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s: cannot reach %s: %v", e.Request, e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// unreachable reports whether a transport error means the service cannot be reached at all,
// so that retrying it only makes the user wait.
func unreachable(err error) bool {
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var oe *OriginError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		(errors.As(err, &dns) && dns.IsNotFound) || errors.As(err, &cert) || errors.As(err, &unknownCA) ||
		errors.As(err, &hostname) || errors.As(err, &oe)
}

// TimeoutError is a request the service did not answer, or answered too slowly, within
// exoctl's bounds.
type TimeoutError struct {
	Request string
	What    string // "did not answer within", "sent nothing more for", "did not finish its answer within"
	After   time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: the service %s %s: run the command again; the service itself stops a cmdlet after 15 minutes", e.Request, e.What, roundWait(e.After))
}

// Timeout reports that this is a timeout (net.Error's method).
func (e *TimeoutError) Timeout() bool { return true }

// bounds are a session's time bounds for one request.
type bounds struct {
	request, read, idle time.Duration
}

// exchange is one bounded request: its answer and the way to release it.
type exchange struct {
	resp *http.Response
	body io.Reader // decompressed, capped, bounded in time
	stop func()
}

// send sends req with the session's time bounds. The answer's body, read through x.body, is
// bounded too: no byte for the idle time, or the whole body taking longer than the read time,
// ends it with a TimeoutError. x.stop must be called when done.
func (s *Session) send(ctx context.Context, req *http.Request, what string) (*exchange, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	start := time.Now()
	var mu sync.Mutex
	answered := false
	// Announce a slow answer, then give up at the request bound.
	var slow *time.Timer
	var announce func()
	announce = func() {
		mu.Lock()
		defer mu.Unlock()
		if answered {
			return
		}
		waited := time.Since(start)
		s.notify(Notice{Request: what, Wait: waited, Message: fmt.Sprintf("waiting for the service to answer %s: %s so far (exoctl gives up after %s)", what, roundWait(waited), roundWait(s.bounds.request))})
		slow = time.AfterFunc(slowEvery, announce)
	}
	mu.Lock()
	slow = time.AfterFunc(min(slowAfter, s.bounds.request/2), announce)
	mu.Unlock()
	giveUp := time.AfterFunc(s.bounds.request, func() {
		cancel(&TimeoutError{Request: what, What: "did not answer within", After: s.bounds.request})
	})
	stopWaiting := func() {
		mu.Lock()
		answered = true
		slow.Stop()
		mu.Unlock()
		giveUp.Stop()
	}
	resp, err := s.hc.Do(req.WithContext(ctx))
	stopWaiting()
	if err != nil {
		defer cancel(nil)
		var te *TimeoutError
		if errors.As(context.Cause(ctx), &te) {
			return nil, te
		}
		return nil, err
	}
	x := &exchange{resp: resp}
	body := &boundedBody{r: resp.Body, ctx: ctx}
	body.idle = time.AfterFunc(time.Hour, func() {
		cancel(&TimeoutError{Request: what, What: "sent nothing more for", After: s.bounds.idle})
	})
	readAll := time.AfterFunc(s.bounds.read, func() {
		cancel(&TimeoutError{Request: what, What: "did not finish its answer within", After: s.bounds.read})
	})
	body.idle.Stop() // runs only inside Read
	body.d = s.bounds.idle
	bounded := *resp
	bounded.Body = struct {
		io.Reader
		io.Closer
	}{body, resp.Body}
	rd, err := answerBody(&bounded)
	if err != nil {
		body.idle.Stop()
		readAll.Stop()
		resp.Body.Close()
		cancel(nil)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	x.body = &capReader{r: rd, n: maxDecodedPage}
	x.stop = func() {
		body.idle.Stop()
		readAll.Stop()
		rd.Close()
		cancel(nil)
	}
	return x, nil
}

// boundedBody runs the idle timer while a read waits for the service (not while the caller
// works on what it read) and turns the cancellation of a timer into its TimeoutError.
type boundedBody struct {
	r    io.Reader
	ctx  context.Context
	idle *time.Timer
	d    time.Duration
}

func (b *boundedBody) Read(p []byte) (int, error) {
	b.idle.Reset(b.d)
	n, err := b.r.Read(p)
	b.idle.Stop()
	if err != nil && err != io.EOF {
		var te *TimeoutError
		if errors.As(context.Cause(b.ctx), &te) {
			return n, te
		}
	}
	return n, err
}

// notify passes a notice to Options.OnNotice, else logs it as a warning (the CLI's logger
// prints warnings on the error stream).
func (s *Session) notify(n Notice) {
	if s.onNotice != nil {
		s.onNotice(n)
		return
	}
	s.log.Warn(n.Message)
}
