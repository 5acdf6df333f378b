package exo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
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
		pending := fetch(target, want())
		for {
			f := <-pending
			if f.err != nil {
				yield(nil, f.err)
				return
			}
			page, next := f.page, f.next
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
				// The module asks for one page when no ResultSize is given.
				page.Warnings = append(page.Warnings, MoreResultsWarning)
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
	readOnly := isReadOnly(cmdlet)
	reauthed := false
	err = s.retrying(ctx, cmdlet, func() (bool, error) {
		var retry bool
		var err error
		page, next, retry, err = s.once(ctx, target, cmdlet, requestID, body, maxPage, readOnly, &reauthed, each)
		return retry, err
	})
	return page, next, err
}

// retrying calls once until it succeeds, says not to retry, or the module's budget of retries
// is spent, waiting 2 s × 2^n between tries, or the server's Retry-After.
func (s *Session) retrying(ctx context.Context, what string, once func() (retry bool, err error)) error {
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			wait := s.backoff << (attempt - 1)
			var ce *CmdletError
			if errors.As(lastErr, &ce) && ce.RetryAfter > 0 {
				wait = ce.RetryAfter
			}
			s.log.Debug("retrying", "request", what, "attempt", attempt, "wait", wait, "reason", lastErr)
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s: %w (while waiting to retry after: %v)", what, ctx.Err(), lastErr)
			case <-time.After(wait):
			}
		}
		retry, err := once()
		if err == nil {
			return nil
		}
		lastErr = err
		if !retry || attempt >= s.retries || ctx.Err() != nil {
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

// once makes one request; retry says whether the module would try again.
func (s *Session) once(ctx context.Context, target, cmdlet, requestID string, body []byte, maxPage int, readOnly bool, reauthed *bool, each func(*Record) error) (*Page, string, bool, error) {
	if s.closed.Load() {
		return nil, "", false, ErrNotConnected
	}
	tok, err := s.src.Token(ctx, s.scope)
	if err != nil {
		return nil, "", false, fmt.Errorf("%s: get a token: %w", cmdlet, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, "", false, fmt.Errorf("%s: %w", cmdlet, err)
	}
	h := req.Header
	s.setModuleHeaders(h, tok.AccessToken, requestID)
	h.Set("Content-Type", "application/json")
	h.Set("Prefer", "odata.maxpagesize="+strconv.Itoa(max(maxPage, 1)))
	h.Set("X-CmdletName", cmdlet)
	h.Set("X-ResponseFormat", "json")
	h.Set("X-SerializationLevel", "Partial")
	h.Set("Accept-Encoding", "gzip")

	resp, err := s.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", false, fmt.Errorf("%s: %w", cmdlet, ctx.Err())
		}
		return nil, "", readOnly, fmt.Errorf("%s: cannot reach %s: %w", cmdlet, s.base, err)
	}
	rd, err := answerBody(resp)
	if err != nil {
		resp.Body.Close()
		return nil, "", readOnly, fmt.Errorf("%s: %w", cmdlet, err)
	}
	defer rd.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(rd, 1<<20))
		ce := parseCmdletError(cmdlet, resp, b)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !*reauthed:
			*reauthed = true
			return nil, "", true, ce
		case resp.StatusCode == http.StatusTooManyRequests:
			return nil, "", true, ce
		case resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout:
			return nil, "", readOnly, ce
		case ce.transient():
			return nil, "", readOnly, ce
		}
		return nil, "", false, ce
	}
	page, next, delivered, err := decodePage(rd, each)
	if fe := (*recordFuncError)(nil); errors.As(err, &fe) {
		return nil, "", false, fe.err
	}
	if err != nil {
		return nil, "", readOnly && delivered == 0, fmt.Errorf("%s: the answer broke off or is not valid JSON (%w); run the command again", cmdlet, err)
	}
	return page, next, false, nil
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
