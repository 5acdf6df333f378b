package exo

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CmdletError is an error answer of InvokeCommand, with the service's own words.
type CmdletError struct {
	Cmdlet     string
	StatusCode int
	Code       string // error.code: NotFound, BadRequest, ...
	ErrorID    string // first part of details[0].message, e.g. Ex6F9304
	Exception  string // e.g. Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException
	Message    string // the text a user sees
	Server     string // first label of X-CalculatedBETarget
	RequestID  string
	Time       time.Time
	RetryAfter time.Duration // for 429
}

func (e *CmdletError) Error() string {
	var b strings.Builder
	if e.Cmdlet != "" {
		b.WriteString(e.Cmdlet + ": ")
	}
	b.WriteString(e.Message)
	if h := e.hint(); h != "" {
		b.WriteString(" " + h)
	}
	if e.Server != "" || e.RequestID != "" {
		fmt.Fprintf(&b, " [Server=%s,RequestId=%s,TimeStamp=%s]", e.Server, e.RequestID, e.Time.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
	}
	return b.String()
}

func (e *CmdletError) hint() string {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return "The sign-in is no longer accepted: run exoctl connect again."
	case http.StatusForbidden:
		// An unknown cmdlet, or a refusal with no words at all (an app or user without the
		// role gets a body of NUL bytes, exo/testdata/captures/invoke-error-forbidden-nul).
		if strings.Contains(e.Message, "not recognized") || e.Code == "" {
			return "Check the cmdlet name, and that the account or app holds an Exchange role that includes it (Get-Command in exoctl shell lists the cmdlets it may run)."
		}
	case http.StatusTooManyRequests:
		return "The service is throttling this tenant: wait and run the command again."
	}
	return ""
}

// ServiceMessage is the service's own words, without exoctl's hint: for callers that explain
// the error themselves (a managed identity that lacks a role).
func (e *CmdletError) ServiceMessage() string { return e.Message }

// NotFound reports whether the service said the object does not exist.
func (e *CmdletError) NotFound() bool { return e.StatusCode == http.StatusNotFound }

// errorBody is the service's error document.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"details"`
		InnerError *struct {
			Message           string `json:"message"`
			Type              string `json:"type"`
			InternalException *struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"internalexception"`
		} `json:"innererror"`
	} `json:"error"`
}

// parseCmdletError builds a CmdletError from a non-2xx answer.
func parseCmdletError(cmdlet string, resp *http.Response, body []byte) *CmdletError {
	e := &CmdletError{
		Cmdlet:     cmdlet,
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get("request-id"),
		Time:       time.Now(),
	}
	if be := resp.Header.Get("X-CalculatedBETarget"); be != "" {
		e.Server, _, _ = strings.Cut(be, ".")
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		e.Time = d
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Code = eb.Error.Code
		if len(eb.Error.Details) > 0 {
			parts := strings.SplitN(eb.Error.Details[0].Message, "|", 3)
			if len(parts) == 3 {
				e.ErrorID, e.Exception, e.Message = parts[0], parts[1], parts[2]
			} else if eb.Error.Details[0].Message != "" {
				e.Message = eb.Error.Details[0].Message
			}
		}
		if ie := eb.Error.InnerError; ie != nil && ie.InternalException != nil {
			// A binding error has no details: its class and text are only here.
			if e.Message == "" {
				e.Message = ie.InternalException.Message
			}
			if e.Exception == "" {
				e.Exception = ie.InternalException.Type
			}
		}
		if e.Message == "" {
			e.Message = eb.Error.Message
		}
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("the service answered HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return e
}

// parseRetryAfter reads Retry-After as (possibly decimal) seconds or an HTTP date. A wait
// beyond what a Duration holds is capped (it is refused anyway, being over MaxRetryAfter).
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	const longest = 100 * 365 * 24 * time.Hour
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		switch {
		case math.IsNaN(secs) || secs <= 0:
			return 0
		case secs >= longest.Seconds():
			return longest
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			return 0
		}
		return min(d, longest)
	}
	return 0
}

// transientExceptions are server-side exceptions worth a retry (module behaviour).
var transientExceptions = []string{
	"DCOverloadedException", "ServerInMMException", "StorageTransientException",
	"ADTransientException", "TransientException", "ADServerSettingsChangedException",
	"maximum number of concurrent requests",
}

func (e *CmdletError) transient() bool {
	for _, t := range transientExceptions {
		if strings.Contains(e.Exception, t) || strings.Contains(e.Message, t) {
			return true
		}
	}
	return false
}
