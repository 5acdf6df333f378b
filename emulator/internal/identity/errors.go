package identity

import (
	"fmt"
	"net/http"
	"time"
)

// aadError is one Microsoft Entra ID protocol error: an OAuth error string, an AADSTS code, the
// HTTP status Entra answers it with, and the description a user reads.
type aadError struct {
	Status int    // HTTP status
	Err    string // OAuth "error": invalid_request, invalid_client, ...
	Code   int    // AADSTS code
	Msg    string // description without the AADSTS prefix or the trace suffix
	// Suberror refines some errors for MSAL, e.g. basic_action on an MFA requirement.
	Suberror string
	// cause is an internal failure behind the error: logged with the trace id, never sent.
	cause error
}

func (e *aadError) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.Code, e.Msg) }

func newErr(status int, oauthErr string, code int, format string, args ...any) *aadError {
	return &aadError{Status: status, Err: oauthErr, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Constructors for the AADSTS errors the emulator answers, worded like Entra's and saying what
// to fix.

func errMissingParam(name string) *aadError {
	return newErr(http.StatusBadRequest, "invalid_request", 900144,
		"The request body must contain the following parameter: '%s'.", name)
}

func errTenantNotFound(oauthErr, tenant string) *aadError {
	return newErr(http.StatusBadRequest, oauthErr, 90002,
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

func errNoTenantInfo() *aadError {
	return newErr(http.StatusBadRequest, "invalid_request", 50059,
		"No tenant-identifying information found in either the request or implied by any provided credentials. Use a tenant-specific authority (the tenant ID or its domain) instead of 'organizations' or 'common' for an application sign-in.")
}

func errAppNotFound(appID, tenant string) *aadError {
	return newErr(http.StatusBadRequest, "unauthorized_client", 700016,
		"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", appID, tenant)
}

func errUnsupportedGrant(grant string) *aadError {
	return newErr(http.StatusBadRequest, "unsupported_grant_type", 70003,
		"The app requested an unsupported grant type '%s'.", grant)
}

func errBadAssertion(format string, args ...any) *aadError {
	return newErr(http.StatusUnauthorized, "invalid_client", 700027,
		"Client assertion contains an invalid signature. [Reason - "+format+"]", args...)
}

func errAssertionTime(now, nbf, exp time.Time) *aadError {
	return newErr(http.StatusUnauthorized, "invalid_client", 700024,
		"Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Check the clock of the machine that signs the assertion.",
		now.UTC().Format("2006-01-02T15:04:05.0000000Z"), fmtTime(nbf), fmtTime(exp))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "(not set)"
	}
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

func errAssertionAudience(got string, want []string) *aadError {
	return newErr(http.StatusUnauthorized, "invalid_client", 700023,
		"Client assertion audience claim does not match Realm issuer. The audience was '%s'; it must be the token endpoint, e.g. '%s'.", got, want[0])
}

func errAssertionIssuer(clientID, iss, sub string) *aadError {
	return newErr(http.StatusUnauthorized, "invalid_client", 700021,
		"Client assertion application identifier doesn't match 'client_id' parameter. The assertion's iss is '%s' and sub is '%s'; both must be the client id '%s'.", iss, sub, clientID)
}

func errInvalidScope(code int, format string, args ...any) *aadError {
	return newErr(http.StatusBadRequest, "invalid_scope", code, format, args...)
}
