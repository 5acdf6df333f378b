package exo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// MoreResultsWarning is what the module prints when it stops before the last page.
const MoreResultsWarning = "There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter."

// Page is one page of a cmdlet's output.
type Page struct {
	Records  []*Record
	Warnings []string // @adminapi.warnings, plus exoctl's own paging warning
	Errors   []string // @adminapi.errors: non-terminating errors
	// Next is true when another page follows in this invocation.
	Next bool
	// ConfirmationMessage is the service's @adminapi.confirmationmessage: what the cmdlet would
	// do. Set on a -WhatIf answer (nothing was changed); questions asked without -WhatIf go to
	// WithConfirm instead.
	ConfirmationMessage string
}

// InvokeOption tunes one invocation.
type InvokeOption func(*invokeConfig)

type invokeConfig struct {
	selectProps []string
	confirm     ConfirmFunc
	each        func(*Record) error
}

// WithSelect asks the service for only these properties ($select).
func WithSelect(props ...string) InvokeOption {
	return func(c *invokeConfig) { c.selectProps = append(c.selectProps, props...) }
}

// WithRecords hands every record to fn as soon as it is read from the answer, and the pages
// InvokePages yields hold none: memory holds one record, not a page. A page is yielded after
// its last record. fn's error ends the invocation and is returned as it is. An answer that
// breaks off after records went to fn is not retried (they would be repeated). The Get-EXO*
// cmdlets (entity sets, exocmdlets.go) do not stream: their pages still hold their records.
func WithRecords(fn func(*Record) error) InvokeOption {
	return func(c *invokeConfig) { c.each = fn }
}

// Invoke runs a cmdlet and yields its records one by one as pages arrive. Iteration stops at the
// first error, which is yielded with a nil record.
func (s *Session) Invoke(ctx context.Context, cmdlet string, params Params, opts ...InvokeOption) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		for page, err := range s.InvokePages(ctx, cmdlet, params, opts...) {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range page.Records {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

// InvokePages runs a cmdlet and yields its output page by page, following @odata.nextLink as
// ResultSize says: absent, one page (with the module's warning when more exist); a number N,
// until N records; "Unlimited", to the end. Only one page is held in memory at a time.
func (s *Session) InvokePages(ctx context.Context, cmdlet string, params Params, opts ...InvokeOption) iter.Seq2[*Page, error] {
	if c := lookupEXO(cmdlet); c != nil {
		return s.invokeEXO(ctx, c, params, opts...) // the module's own REST cmdlets (exocmdlets.go)
	}
	return func(yield func(*Page, error) bool) {
		var cfg invokeConfig
		for _, o := range opts {
			o(&cfg)
		}
		if s.closed.Load() {
			yield(nil, ErrNotConnected)
			return
		}
		limit, unlimited, hasSize, err := resultSize(params)
		if err != nil {
			yield(nil, fmt.Errorf("%s: %w", cmdlet, err))
			return
		}
		body, err := invokeBody(cmdlet, params)
		if err != nil {
			yield(nil, err)
			return
		}
		asked := whatIf(params) // -WhatIf answers with the message: nothing to ask
		target := s.invokeURL()
		if len(cfg.selectProps) > 0 {
			target += "?$select=" + url.QueryEscape(strings.Join(cfg.selectProps, ","))
		}
		requestID := uuid.NewString()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type fetched struct {
			page *Page
			next string
			err  error
		}
		received, taken := 0, 0
		var each func(*Record) error
		if cfg.each != nil {
			each = func(r *Record) error {
				if hasSize && !unlimited && received+taken >= limit {
					return nil // a server that ignored Prefer
				}
				taken++
				return cfg.each(r)
			}
		}
		fetch := func(target string, want int) <-chan fetched {
			ch := make(chan fetched, 1)
			get := func() {
				page, next, err := s.post(ctx, target, cmdlet, requestID, body, want, each)
				ch <- fetched{page, next, err}
			}
			if each != nil {
				get() // records go to each as they arrive: no page ahead
			} else {
				go get()
			}
			return ch
		}
		want := func() int {
			if hasSize && !unlimited {
				return min(s.pageSize, limit-received)
			}
			return s.pageSize
		}
		var links nextLinks
		pending := fetch(target, want())
		for {
			f := <-pending
			if f.err != nil {
				yield(nil, f.err)
				return
			}
			page, next := f.page, f.next
			if next != "" {
				if err := links.check(s, next, len(page.Records)+taken); err != nil { // taken: streamed
					yield(nil, fmt.Errorf("%s: %w", cmdlet, err))
					return
				}
			}
			if page.ConfirmationMessage != "" && !asked {
				asked = true
				if cfg.confirm == nil {
					yield(nil, &ConfirmationRequiredError{Cmdlet: cmdlet, Message: page.ConfirmationMessage})
					return
				}
				yes, err := cfg.confirm(ctx, page.ConfirmationMessage)
				switch {
				case err != nil:
					yield(nil, fmt.Errorf("%s: confirm: %w", cmdlet, err))
					return
				case !yes:
					yield(nil, fmt.Errorf("%s: %w", cmdlet, ErrDeclined))
					return
				}
				if body, err = invokeBody(cmdlet, confirmed(params)); err != nil {
					yield(nil, err)
					return
				}
				pending = fetch(target, want())
				continue
			}
			if hasSize && !unlimited && received+len(page.Records) > limit {
				page.Records = page.Records[:limit-received] // a server that ignored Prefer
			}
			received += len(page.Records) + taken
			taken = 0
			more := next != ""
			switch {
			case !more:
			case !hasSize:
				// The module asks for one page when no ResultSize is given. The service may
				// have said so itself: the warning is shown once.
				if !slices.Contains(page.Warnings, MoreResultsWarning) {
					page.Warnings = append(page.Warnings, MoreResultsWarning)
				}
				more = false
			case !unlimited && received >= limit:
				more = false
			}
			page.Next = more
			if more && each == nil {
				// Fetch the next page while the caller handles this one: at most two pages
				// are in memory, and the network and the caller overlap.
				pending = fetch(next, want())
			}
			if !yield(page, nil) || !more {
				if more && each == nil {
					cancel()
					<-pending
				}
				return
			}
			if each != nil {
				pending = fetch(next, want())
			}
		}
	}
}

// invokeBody is the InvokeCommand request body.
func invokeBody(cmdlet string, params Params) ([]byte, error) {
	encoded, err := encodeParams(params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmdlet, err)
	}
	body, err := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": encoded}})
	if err != nil {
		return nil, fmt.Errorf("%s: encode parameters: %w", cmdlet, err)
	}
	return body, nil
}

// resultSize reads the ResultSize parameter: a number, "Unlimited", or absent.
func resultSize(p Params) (limit int, unlimited, present bool, err error) {
	for k, v := range p {
		if !strings.EqualFold(k, "ResultSize") {
			continue
		}
		switch x := v.(type) {
		case string:
			if strings.EqualFold(x, "Unlimited") {
				return 0, true, true, nil
			}
			n, err := strconv.Atoi(x)
			if err != nil || n < 1 {
				return 0, false, true, fmt.Errorf("-ResultSize must be a positive number or Unlimited, not %q", x)
			}
			return n, false, true, nil
		case int:
			return x, false, true, positive(int64(x))
		case int64:
			return int(x), false, true, positive(x)
		case float64:
			return int(x), false, true, positive(int64(x))
		case json.Number:
			n, err := x.Int64()
			if err != nil {
				return 0, false, true, fmt.Errorf("-ResultSize must be a whole number: %w", err)
			}
			return int(n), false, true, positive(n)
		default:
			return 0, false, true, fmt.Errorf("-ResultSize must be a number or Unlimited, not %T", v)
		}
	}
	return 0, false, false, nil
}

func positive(n int64) error {
	if n < 1 {
		return fmt.Errorf("-ResultSize must be at least 1, not %d", n)
	}
	return nil
}

// post sends one InvokeCommand request (a first page or a nextLink) with the module's retries.
func (s *Session) post(ctx context.Context, target, cmdlet, requestID string, body []byte, maxPage int, each func(*Record) error) (page *Page, next string, err error) {
	readOnly := IsReadOnly(cmdlet)
	var auth authState
	err = s.retrying(ctx, cmdlet, func() (bool, error) {
		var retry bool
		var err error
		page, next, retry, err = s.once(ctx, target, cmdlet, requestID, body, maxPage, readOnly, &auth, each)
		return retry, err
	})
	return page, next, err
}

// authState is what a request's attempts know of its token: whether the service already
// refused one (a 401 is retried once, with a token fetched anew) and its claims challenge.
type authState struct {
	refused bool
	fresh   bool
	claims  string
}

// retrying calls once until it succeeds, says not to retry, or the module's budget of retries
// is spent, waiting 2 s × 2^n between tries, or the server's Retry-After. A Retry-After over
// maxRetryAfter is not waited out: it fails at once with a ThrottledError. Waits of 2 s or more
// are announced through OnNotice.
func (s *Session) retrying(ctx context.Context, what string, once func() (retry bool, err error)) error {
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			wait := s.backoff << (attempt - 1)
			var ce *CmdletError
			throttled := errors.As(lastErr, &ce) && ce.StatusCode == http.StatusTooManyRequests
			switch {
			case ce != nil && ce.StatusCode == http.StatusUnauthorized:
				wait = 0 // a new token is all it takes
			case ce != nil && ce.RetryAfter > 0:
				wait = ce.RetryAfter
			}
			if throttled && wait > s.maxRetryAfter {
				return &ThrottledError{Request: what, RetryAfter: wait, Until: time.Now().Add(wait), Err: lastErr}
			}
			s.log.Debug("retrying", "request", what, "attempt", attempt, "wait", wait, "reason", lastErr)
			if wait >= noticeAfter {
				reason := "the service did not answer as it should"
				switch {
				case throttled:
					reason = "throttled by the service"
				case ce != nil && ce.StatusCode == http.StatusServiceUnavailable:
					reason = "the service is unavailable"
				}
				s.notify(Notice{Request: what, Wait: wait, Attempt: attempt + 1, Attempts: s.retries + 1,
					Message: fmt.Sprintf("%s: waiting %s (attempt %d of %d)", reason, roundWait(wait), attempt+1, s.retries+1)})
			}
			y := yielderFrom(ctx, wait)
			if y != nil {
				y.Yield()
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%s: %w (while waiting to retry after: %v)", what, ctx.Err(), lastErr)
			case <-t.C:
			}
			if y != nil {
				if err := y.Resume(ctx); err != nil {
					return fmt.Errorf("%s: %w (while waiting for a turn to retry after: %v)", what, err, lastErr)
				}
			}
		}
		retry, err := once()
		if err == nil {
			return nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			return err
		}
		if attempt >= s.retries {
			var ce *CmdletError
			if errors.As(err, &ce) && ce.StatusCode == http.StatusTooManyRequests {
				return &ThrottledError{Request: what, RetryAfter: ce.RetryAfter, Exhausted: true, Err: err}
			}
			return err
		}
	}
}

// setModuleHeaders sets what the module sends on every admin API request.
func (s *Session) setModuleHeaders(h http.Header, token, requestID string) {
	h.Set("Authorization", "Bearer "+token)
	h.Set("Accept", "application/json")
	h.Set("X-AnchorMailbox", s.anchor)
	h.Set("client-request-id", requestID)
	h.Set("connection-id", s.id)
	h.Set("X-ClientApplication", "ExoManagementModule")
	h.Set("X-ClientModuleVersion", ModuleVersion)
	h.Set("Accept-Language", "en-US")
	h.Set("User-Agent", "exoctl/"+ModuleVersion)
}

// request is one admin API request of a session: an InvokeCommand page, an entity set's page,
// the module file or region discovery.
type request struct {
	method, target string
	body           []byte
	header         func(http.Header) // the request's own headers, set after the module's
	what           string            // names the request in errors: the cmdlet, or "cmdlet catalog"
	cmdlet         string            // the cmdlet a service error is reported for
	link           string            // what target is, for checkTarget: "a page link of Get-Mailbox"
	// readOnly: sending it again changes nothing, so a failure in transit, a 503, a 504 and a
	// transient service error are retried.
	readOnly bool
	// redirect: a 3xx is the answer (region discovery), handed to the caller like a 2xx.
	redirect bool
}

// attempt makes one attempt of r and classifies how it failed: retry says whether the module
// would try again (a 401 once with a token fetched anew, a 429 always, the rest as r.readOnly
// allows). On success the caller reads x.body and calls x.stop.
func (s *Session) attempt(ctx context.Context, r request, requestID string, as *authState) (x *exchange, retry bool, err error) {
	if s.closed.Load() {
		return nil, false, ErrNotConnected
	}
	if _, err := s.checkTarget(r.target, r.link); err != nil {
		return nil, false, fmt.Errorf("%s: %w", r.what, err)
	}
	tok, err := s.token(ctx, as.fresh, as.claims)
	if err != nil {
		return nil, false, fmt.Errorf("%s: get a token: %w", r.what, err)
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.target, body)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", r.what, err)
	}
	s.setModuleHeaders(req.Header, tok.AccessToken, requestID)
	r.header(req.Header)

	x, err = s.send(ctx, req, r.what)
	if err != nil {
		if err, ok := stopped(ctx, r.what, err); ok {
			return nil, false, err
		}
		if unreachable(err) {
			return nil, false, &UnreachableError{Request: r.what, URL: s.base, Err: err}
		}
		return nil, r.readOnly, fmt.Errorf("%s: cannot reach %s: %w", r.what, s.base, err)
	}
	resp := x.resp
	if resp.StatusCode/100 == 3 && r.redirect {
		return x, false, nil
	}
	if resp.StatusCode/100 == 3 {
		x.stop()
		return nil, false, redirected(r.what, resp)
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(x.body, 1<<20))
		x.stop()
		ce := parseCmdletError(r.cmdlet, resp, b)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !as.refused:
			// The token may be revoked though not expired: once more, with one fetched anew.
			as.refused, as.fresh, as.claims = true, true, claimsChallenge(resp.Header)
			return nil, true, ce
		case resp.StatusCode == http.StatusTooManyRequests:
			return nil, true, ce
		case resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout, ce.transient():
			return nil, r.readOnly, ce
		}
		return nil, false, ce
	}
	as.fresh, as.claims = false, ""
	return x, false, nil
}

// once makes one InvokeCommand request; retry says whether the module would try again.
func (s *Session) once(ctx context.Context, target, cmdlet, requestID string, body []byte, maxPage int, readOnly bool, as *authState, each func(*Record) error) (*Page, string, bool, error) {
	x, retry, err := s.attempt(ctx, request{
		method: http.MethodPost, target: target, body: body,
		what: cmdlet, cmdlet: cmdlet, link: "a page link of " + cmdlet, readOnly: readOnly,
		header: func(h http.Header) {
			h.Set("Content-Type", "application/json")
			h.Set("Prefer", "odata.maxpagesize="+strconv.Itoa(max(maxPage, 1)))
			h.Set("X-CmdletName", cmdlet)
			h.Set("X-ResponseFormat", "json")
			h.Set("X-SerializationLevel", "Partial")
			h.Set("Accept-Encoding", "gzip")
		},
	}, requestID, as)
	if err != nil {
		return nil, "", retry, err
	}
	defer x.stop()
	page, next, delivered, err := decodePage(x.body, each)
	if fe := (*recordFuncError)(nil); errors.As(err, &fe) {
		return nil, "", false, fe.err
	}
	if err != nil {
		if err, ok := stopped(ctx, cmdlet, err); ok {
			return nil, "", false, err
		}
		if errors.Is(err, ErrPageTooLarge) {
			return nil, "", false, fmt.Errorf("%s: %w", cmdlet, err)
		}
		return nil, "", readOnly && delivered == 0, fmt.Errorf("%s: the answer broke off or is not valid JSON (%w); run the command again", cmdlet, err)
	}
	return page, next, false, nil
}

// stopped is the error of a request cut short by the caller (its context) or by one of the
// session's time bounds; ok is false for any other error. Neither is retried.
func stopped(ctx context.Context, what string, err error) (_ error, ok bool) {
	var te *TimeoutError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", what, ctx.Err()), true
	case errors.As(err, &te):
		return te, true
	}
	return nil, false
}

// redirected is the error of an answer that sends the request elsewhere: exoctl follows no
// redirect with its token (Security & Compliance's region is found once, at connect).
func redirected(what string, resp *http.Response) error {
	loc := resp.Header.Get("Location")
	if u, err := resp.Location(); err == nil {
		loc = redactURL(u)
	}
	return fmt.Errorf("%s: %w", what, &OriginError{URL: loc, Reason: fmt.Sprintf("an HTTP %d redirect, which exoctl does not follow with its token; check --connection-uri", resp.StatusCode)})
}

// claimsChallenge is the claims of a 401's WWW-Authenticate (base64 JSON), decoded, or "".
func claimsChallenge(h http.Header) string {
	for _, v := range h.Values("WWW-Authenticate") {
		i := strings.Index(strings.ToLower(v), "claims=\"")
		if i < 0 {
			continue
		}
		rest := v[i+len("claims=\""):]
		enc, _, ok := strings.Cut(rest, "\"")
		if !ok {
			continue
		}
		for _, dec := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := dec.DecodeString(enc); err == nil && json.Valid(b) {
				return string(b)
			}
		}
	}
	return ""
}

// nextLinks checks the chain of @odata.nextLink of one invocation: each on the session's
// origin, none seen before, no endless run of empty pages, at most maxPages.
type nextLinks struct {
	seen  map[uint64]bool // hashes, not the links: a long chain stays small
	empty int
}

var linkSeed = maphash.MakeSeed()

const (
	maxPages      = 1_000_000 // a billion records at 1000 a page
	maxEmptyPages = 10
)

func (l *nextLinks) check(s *Session, next string, records int) error {
	if _, err := s.checkTarget(next, "an @odata.nextLink"); err != nil {
		return err
	}
	if l.seen == nil {
		l.seen = map[uint64]bool{}
	}
	h := maphash.String(linkSeed, next)
	if l.seen[h] {
		return fmt.Errorf("the service sent the same @odata.nextLink twice (%s): paging would never end; run the command again", redactNext(next))
	}
	if len(l.seen) >= maxPages {
		return fmt.Errorf("the service sent over %d pages: stopped", maxPages)
	}
	l.seen[h] = true
	if records == 0 {
		l.empty++
	} else {
		l.empty = 0
	}
	if l.empty > maxEmptyPages {
		return fmt.Errorf("the service sent %d empty pages in a row, each with a next link: stopped; run the command again", l.empty)
	}
	return nil
}

func redactNext(next string) string {
	if u, err := url.Parse(next); err == nil {
		return redactURL(u)
	}
	return next
}

// texts renders the strings (or objects) of an annotation array.
func texts(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
			continue
		}
		if rec, ok := e.(*Record); ok {
			b, _ := json.Marshal(rec)
			out = append(out, string(b))
			continue
		}
		out = append(out, FormatValue(e))
	}
	return out
}
