package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/exoctl/exoctl/internal/jsontext"
)

// Limits of a batch. The service takes at most ten requests per batch; the emulator also
// bounds the whole answer, so a small request can never make a huge one.
const (
	maxBatch = 10
	// DefaultMaxBatchAnswer is the largest $batch answer, all inner answers together.
	DefaultMaxBatchAnswer = 32 << 20
)

// batchBody is a $batch request: up to ten InvokeCommand requests.
type batchBody struct {
	Requests []struct {
		ID     string          `json:"id"`
		Method string          `json:"method"`
		URL    string          `json:"url"`
		Body   json.RawMessage `json:"body"`
		// Headers are the inner request's headers. Their values are not always strings:
		// CIPP sends "parameter-based-routing": true.
		Headers map[string]json.RawMessage `json:"headers"`
	} `json:"requests"`
}

// headerValue is a batch header's JSON value as header text: a string as it is, a number or
// boolean as written, null as nothing.
func headerValue(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	return string(raw), true
}

// recorder captures one inner answer of a batch, up to limit bytes of body.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
	limit  int
	tooBig bool
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.body.Len()+len(b) > r.limit {
		r.tooBig = true
		return 0, errBatchTooBig
	}
	return r.body.Write(b)
}

var errBatchTooBig = errors.New("the batch answer is too large")

// inBatch marks the context of a batch's inner requests: a batch inside a batch is refused
// however its URL is spelled.
type inBatch struct{}

// batch answers $batch: each inner request is served as if it had been sent alone, with the
// outer request's headers (Authorization, Prefer, ...) overlaid by its own.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, rt route) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", ErrorID: "MethodNotAllowed", Class: classODataError,
			Text: "Only POST is allowed for $batch."})
		return
	}
	if r.Context().Value(inBatch{}) != nil {
		s.fail(w, r, errBadRequest("A batch request can't contain another batch."))
		return
	}
	raw, e := s.readBody(w, r)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	var in batchBody
	if err := json.Unmarshal(raw, &in); err != nil {
		s.fail(w, r, badJSON(err))
		return
	}
	if len(in.Requests) == 0 || len(in.Requests) > maxBatch {
		s.fail(w, r, errBadRequest(fmt.Sprintf("A batch holds 1 to %d requests; this one has %d.", maxBatch, len(in.Requests))))
		return
	}
	ctx := context.WithValue(r.Context(), inBatch{}, true)
	b := []byte(`{"responses":[`)
	for i, sub := range in.Requests {
		if i > 0 {
			b = append(b, ',')
		}
		rec := &recorder{h: http.Header{}, limit: max(s.cfg.MaxBatchAnswer-len(b)-1024, 0)}
		method := strings.ToUpper(strings.TrimSpace(sub.Method))
		if method == "" {
			method = http.MethodPost
		}
		body := sub.Body
		if len(body) > 0 && body[0] == '"' { // a body sent as a JSON string
			var str string
			if json.Unmarshal(body, &str) == nil {
				body = []byte(str)
			}
		}
		target, ok := s.batchTarget(sub.URL, rt)
		req, err := http.NewRequestWithContext(ctx, method, "/", bytes.NewReader(body))
		switch {
		case !ok:
			s.fail(rec, r, errBadRequest(fmt.Sprintf("The url '%s' of batch request '%s' isn't valid.", sub.URL, sub.ID)))
		case err != nil:
			s.fail(rec, r, errBadRequest(fmt.Sprintf("The method '%s' of batch request '%s' isn't valid.", sub.Method, sub.ID)))
		default:
			req.URL = target
			req.RequestURI = target.RequestURI()
			req.Header = r.Header.Clone()
			req.Header.Del("Content-Length")
			req.RemoteAddr = r.RemoteAddr
			for k, raw := range sub.Headers {
				if v, ok := headerValue(raw); ok {
					req.Header.Set(k, v)
				}
			}
			req.Header.Del("Accept-Encoding") // a response body is embedded as JSON
			s.ServeHTTP(rec, req)
		}
		if rec.tooBig {
			rec = &recorder{h: http.Header{}, limit: 64 << 10}
			s.fail(rec, r, &Error{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLarge", ErrorID: "BatchAnswerTooLarge", Class: classODataError,
				Text: fmt.Sprintf("The answers of this batch would exceed %d bytes, so request '%s' wasn't answered in full. Send fewer requests per batch or ask for smaller pages (Prefer: odata.maxpagesize=N).", s.cfg.MaxBatchAnswer, sub.ID)})
		}
		b = append(b, `{"id":`...)
		b = jsontext.AppendString(b, sub.ID)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(rec.status), 10)
		b = append(b, `,"headers":{`...)
		first := true
		for _, k := range []string{"Content-Type", "request-id", "Retry-After", "WWW-Authenticate", "Preference-Applied"} {
			if v := rec.h.Get(k); v != "" {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = jsontext.AppendString(b, k)
				b = append(b, ':')
				b = jsontext.AppendString(b, v)
			}
		}
		b = append(b, `},"body":`...)
		if rec.body.Len() == 0 {
			b = append(b, "null"...)
		} else {
			b = append(b, rec.body.Bytes()...)
		}
		b = append(b, '}')
	}
	b = append(b, `]}`...)
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// batchTarget resolves an inner request's URL: absolute, rooted, or relative to the batch
// ("InvokeCommand", "beta/{tenant}/InvokeCommand"). It must name an operation of the admin
// API other than $batch, in any spelling of its path.
func (s *Server) batchTarget(raw string, rt route) (*url.URL, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, false
	}
	p := u.Path
	if !strings.HasPrefix(p, "/") {
		base := "/adminapi/" + rt.version + "/" + rt.tenant + "/"
		if low := strings.ToLower(p); strings.HasPrefix(low, "beta/") || strings.HasPrefix(low, "v1.0/") {
			base = "/adminapi/"
		}
		p = base + p
	}
	p = CleanPath(p)
	inner, ok := parseRoute(p)
	if !ok || strings.EqualFold(inner.op, "$batch") {
		return nil, false
	}
	return &url.URL{Path: p, RawQuery: u.RawQuery}, true
}
