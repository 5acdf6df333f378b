package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
)

// EntraError is an error answer of Microsoft Entra ID's token endpoint, with its AADSTS code.
type EntraError struct {
	StatusCode  int
	Code        string // OAuth2 error: invalid_grant, invalid_client, ...
	AADSTS      int    // first of error_codes, e.g. 50126
	Description string // error_description without the trace suffix
	TraceID     string
	Err         error // what MSAL returned
}

func (e *EntraError) Error() string {
	msg := e.Description
	if msg == "" {
		msg = e.Code
	}
	if h := e.Hint(); h != "" {
		return msg + " " + h
	}
	return msg
}

func (e *EntraError) Unwrap() error { return e.Err }

// Hint says what the user can do next for the codes admins meet most.
func (e *EntraError) Hint() string {
	switch e.AADSTS {
	case 50126:
		return "Check the user name and password."
	case 50076, 50079:
		return "This account needs multi-factor authentication: sign in interactively (exoctl connect without a password) or with --device."
	case 50053:
		return "The account is locked; wait or ask an administrator to unlock it."
	case 50057:
		return "The account is disabled; an administrator must enable it."
	case 50034:
		return "Check the user principal name."
	case 700016:
		return "Check --app-id and --organization: the application must be registered in that tenant (or consented to it)."
	case 700027:
		return "The certificate is not the one registered on the application: upload its public key to the app registration, or use the registered certificate."
	case 7000215:
		return "Check the client secret."
	case 90002:
		return "Check --organization: use the tenant's GUID or a verified domain such as contoso.onmicrosoft.com."
	case 70011:
		return "The scope is not valid for this tenant: check --connection-uri and --environment."
	}
	return ""
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// FromMSAL turns an MSAL error into an EntraError when the authority answered, or into an error
// that says the authority could not be reached.
func FromMSAL(err error) error {
	if err == nil {
		return nil
	}
	var call msalerrors.CallErr
	if errors.As(err, &call) && call.Resp != nil {
		ee := &EntraError{StatusCode: call.Resp.StatusCode, Err: err}
		if call.Resp.Body != nil {
			b, _ := io.ReadAll(io.LimitReader(call.Resp.Body, 1<<20))
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
				Codes       []int  `json:"error_codes"`
				TraceID     string `json:"trace_id"`
			}
			if json.Unmarshal(b, &body) == nil {
				ee.Code, ee.TraceID = body.Error, body.TraceID
				ee.Description = trimTrace(body.Description)
				if len(body.Codes) > 0 {
					ee.AADSTS = body.Codes[0]
				}
			}
		}
		if ee.AADSTS == 0 {
			if m := aadstsRE.FindStringSubmatch(ee.Description); m != nil {
				fmt.Sscan(m[1], &ee.AADSTS)
			}
		}
		if ee.Description == "" && ee.Code == "" {
			ee.Description = fmt.Sprintf("the sign-in service answered HTTP %d", call.Resp.StatusCode)
		}
		return ee
	}
	var nerr net.Error
	var operr *net.OpError
	if errors.As(err, &operr) || errors.As(err, &nerr) {
		return fmt.Errorf("cannot reach the sign-in service: %w; check the network, --authority and --ca-file", err)
	}
	return fmt.Errorf("sign-in failed: %w", err)
}

// trimTrace drops Entra's "Trace ID: ... Correlation ID: ... Timestamp: ..." suffix.
func trimTrace(s string) string {
	if i := strings.Index(s, " Trace ID:"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "\r\nTrace ID:"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
