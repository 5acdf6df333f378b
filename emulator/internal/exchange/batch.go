package exchange

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/exoctl/exoctl/internal/jsontext"
)

// batchBody is a $batch request: up to ten InvokeCommand requests.
type batchBody struct {
	Requests []struct {
		ID      string            `json:"id"`
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Body    json.RawMessage   `json:"body"`
		Headers map[string]string `json:"headers"`
	} `json:"requests"`
}

// recorder captures one inner answer of a batch.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
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
	return r.body.Write(b)
}

// batch answers $batch: each inner request is served as if it had been sent alone, with the
// outer request's headers (Authorization, Prefer, ...) overlaid by its own.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, rt route) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", ErrorID: "MethodNotAllowed", Class: classODataError,
			Text: "Only POST is allowed for $batch."})
		return
	}
	raw, e := s.readBody(w, r)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	var in batchBody
	if err := json.Unmarshal(raw, &in); err != nil {
		s.fail(w, r, errBadRequest("The request body isn't valid JSON: "+err.Error()))
		return
	}
	if len(in.Requests) == 0 || len(in.Requests) > maxBatch {
		s.fail(w, r, errBadRequest(fmt.Sprintf("A batch holds 1 to %d requests; this one has %d.", maxBatch, len(in.Requests))))
		return
	}
	b := []byte(`{"responses":[`)
	for i, sub := range in.Requests {
		if i > 0 {
			b = append(b, ',')
		}
		rec := &recorder{h: http.Header{}}
		u, err := url.Parse(sub.URL)
		method := strings.ToUpper(strings.TrimSpace(sub.Method))
		if method == "" {
			method = http.MethodPost
		}
		if err != nil || strings.HasSuffix(strings.ToLower(u.Path), "/$batch") {
			s.fail(rec, r, errBadRequest(fmt.Sprintf("The url '%s' of batch request '%s' isn't valid.", sub.URL, sub.ID)))
		} else {
			if !strings.HasPrefix(u.Path, "/") {
				// Relative to the batch: "InvokeCommand" or "beta/{tenant}/InvokeCommand".
				base := "/adminapi/" + rt.version + "/" + rt.tenant + "/"
				if strings.HasPrefix(strings.ToLower(u.Path), "beta/") || strings.HasPrefix(strings.ToLower(u.Path), "v1.0/") {
					base = "/adminapi/"
				}
				u.Path = base + u.Path
			}
			body := sub.Body
			if len(body) > 0 && body[0] == '"' { // a body sent as a JSON string
				var str string
				if json.Unmarshal(body, &str) == nil {
					body = []byte(str)
				}
			}
			req, _ := http.NewRequestWithContext(r.Context(), method, u.RequestURI(), bytes.NewReader(body))
			req.URL.Path = u.Path
			req.Header = r.Header.Clone()
			req.Header.Del("Content-Length")
			req.RemoteAddr = r.RemoteAddr
			for k, v := range sub.Headers {
				req.Header.Set(k, v)
			}
			req.Header.Del("Accept-Encoding") // a response body is embedded as JSON
			s.ServeHTTP(rec, req)
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
