package exchange

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/catalog"
	"github.com/exoctl/exoctl/internal/jsontext"
)

// Error is a failed request as the service reports it: an HTTP status, the OData error code,
// and the PowerShell error id, exception class and text that end up in details[0].message as
// "ErrorId|ExceptionClass|text".
type Error struct {
	Status  int
	Code    string // NotFound, BadRequest, Forbidden, Unauthorized, TooManyRequests, ...
	ErrorID string
	Class   string // the .NET exception class, e.g. Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException
	Text    string
	// Target is details[0].code: "Client" for the caller's mistakes, "Server" otherwise.
	Target string
	// Message is error.message, which innererror.message repeats: "Error executing cmdlet"
	// when empty, "Invalid Operation" for a request the binder refused.
	Message string
	// Binding shapes the answer as the service's binder writes it: with no details when the
	// class is ParameterTransformationException (the text is only in innererror), and with
	// no warnings after an unknown parameter.
	Binding bool
}

func (e *Error) Error() string { return e.Text }

// Exception classes the emulator reports.
const (
	classNotFound   = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
	classAmbiguous  = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException"
	classBinding    = "System.Management.Automation.ParameterBindingException"
	classNoCommand  = "System.Management.Automation.CommandNotFoundException"
	classODataError = "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"
	classAuth       = "Microsoft.Exchange.Security.OAuth.OAuthTokenValidationException"
	classThrottled  = "Microsoft.Exchange.Admin.OData.Core.ThrottlingException"
	classServer     = "System.InvalidOperationException"
	classTask       = "Microsoft.Exchange.Configuration.Tasks.TaskArgumentException"
	// The REST front's binder: an unknown parameter, an argument it cannot convert.
	classParameterSet   = "Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException"
	classTransformation = "Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException"
)

func errNotFound(identity, dc string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "NotFound", ErrorID: "Ex6F9304", Class: classNotFound,
		Text: fmt.Sprintf("The operation couldn't be performed because object '%s' couldn't be found on '%s'.", identity, dc)}
}

func errAmbiguous(identity string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "Ex0B7A8C", Class: classAmbiguous,
		Text: fmt.Sprintf("The operation couldn't be performed because '%s' matches multiple entries.", identity)}
}

func errNoParameter(name string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "NamedParameterNotFound", Class: classBinding,
		Text: fmt.Sprintf("A parameter cannot be found that matches parameter name '%s'.", name)}
}

func errAmbiguousParameter(name string, matches []string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "AmbiguousParameter", Class: classBinding,
		Text: fmt.Sprintf("Parameter cannot be processed because the parameter name '%s' is ambiguous. Possible matches include: -%s.",
			name, strings.Join(matches, " -"))}
}

func errParameterTwice(name string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "ParameterAlreadyBound", Class: classBinding,
		Text: fmt.Sprintf("Cannot bind parameter because parameter '%s' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".", name)}
}

func errConvert(param, value, typ, why string) *Error {
	text := fmt.Sprintf("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type \"%s\".", param, value, typ)
	if why != "" {
		text += " Error: \"" + why + "\""
	}
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "ParameterArgumentTransformationError", Class: classBinding, Text: text}
}

func errNullArgument(param string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "ParameterArgumentValidationErrorNullNotAllowed", Class: classBinding,
		Text: fmt.Sprintf("Cannot validate argument on parameter '%s'. The argument is null. Provide a valid value for the argument, and then try running the command again.", param)}
}

func errMissingMandatory(cmdlet, param string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "MissingMandatoryParameter", Class: classBinding,
		Text: fmt.Sprintf("Cannot process command because of one or more missing mandatory parameters: %s.", param)}
}

// bindError is the binder's refusal as the service's REST front reports it (captured answers,
// exo/testdata/captures): error.message "Invalid Operation"; an unknown parameter as an
// AmbiguousParameterSetException with no error id, naming the parameter; an argument it cannot
// convert as a ParameterTransformationException, without details. Other refusals keep
// PowerShell's binder words.
func bindError(e *catalog.BindError) *Error {
	out := &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: e.ErrorID, Class: e.Class, Text: e.Text,
		Message: "Invalid Operation", Binding: true}
	switch e.ErrorID {
	case "NamedParameterNotFound":
		out.ErrorID, out.Class = "", classParameterSet
		out.Text = "Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. " + e.Param
	case "AmbiguousParameterSet":
		out.ErrorID, out.Class = "", classParameterSet
	case "ParameterArgumentTransformationError":
		out.Class = classTransformation
	}
	return out
}

func errUnknownCmdlet(name string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "Forbidden", ErrorID: "CommandNotFoundException", Class: classNoCommand,
		Text: fmt.Sprintf("The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", name)}
}

// classNotEmulated marks the answer for a real cmdlet the emulator does not run; scripts can
// tell it from the caller's mistakes (4xx) and from failures (500).
const classNotEmulated = "Exoctl.Emulator.CmdletNotEmulatedException"

// errNotEmulated is the answer for a catalogued cmdlet without a handler, after its parameters
// bound: 501 Not Implemented (the request is valid for the real service; this server lacks the
// function), which clients do not retry.
func errNotEmulated(name string, product catalog.Product) *Error {
	return &Error{Status: http.StatusNotImplemented, Code: "NotImplemented", ErrorID: "CmdletNotEmulated", Class: classNotEmulated, Target: "Server",
		Text: fmt.Sprintf("The cmdlet '%s' is a real %s cmdlet and its parameters are valid, but the exoctl emulator does not emulate it yet.", name, product)}
}

// errParameterNotEmulated is the answer for a valid parameter an emulated cmdlet does not
// implement: 501, rather than a result that silently ignored it.
func errParameterNotEmulated(cmdlet, param string, product catalog.Product) *Error {
	return &Error{Status: http.StatusNotImplemented, Code: "NotImplemented", ErrorID: "ParameterNotEmulated", Class: classNotEmulated, Target: "Server",
		Text: fmt.Sprintf("The parameter '%s' of %s is a real %s parameter, but the exoctl emulator does not emulate it yet.", param, cmdlet, product)}
}

func errBadRequest(text string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "BadRequest", Class: classODataError, Text: text}
}

func errUnauthorized(text string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "Unauthorized", ErrorID: "InvalidToken", Class: classAuth, Text: text}
}

func errForbidden(text string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "Forbidden", ErrorID: "AccessDenied", Class: classAuth, Text: text}
}

func errThrottled(text string) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "TooManyRequests", ErrorID: "Throttled", Class: classThrottled, Text: text, Target: "Server"}
}

func errInternal(text string) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "InternalServerError", ErrorID: "InternalError", Class: classServer, Text: text, Target: "Server"}
}

// appendError encodes the service's error body: details[0].message "Id|Class|text", innererror
// and its internalexception (lower-case keys), and the warnings inside error, as captured
// answers of the service have it (exo/testdata/captures).
func appendError(b []byte, e *Error) []byte {
	target := e.Target
	if target == "" {
		target = "Client"
	}
	msg := e.Message
	if msg == "" {
		msg = "Error executing cmdlet"
	}
	b = append(b, `{"error":{"code":`...)
	b = jsontext.AppendString(b, e.Code)
	b = append(b, `,"message":`...)
	b = jsontext.AppendString(b, msg)
	if !e.Binding || e.Class != classTransformation {
		b = append(b, `,"details":[{"code":`...)
		b = jsontext.AppendString(b, target)
		b = append(b, `,"target":"","message":`...)
		b = jsontext.AppendString(b, e.ErrorID+"|"+e.Class+"|"+e.Text)
		b = append(b, `}]`...)
	}
	b = append(b, `,"innererror":{"message":`...)
	b = jsontext.AppendString(b, msg)
	b = append(b, `,"type":`...)
	b = jsontext.AppendString(b, classODataError)
	b = append(b, `,"stacktrace":"","internalexception":{"message":`...)
	b = jsontext.AppendString(b, e.Text)
	b = append(b, `,"type":`...)
	b = jsontext.AppendString(b, e.Class)
	b = append(b, `,"stacktrace":""}}`...)
	if !e.Binding || e.Class != classParameterSet {
		b = append(b, `,"adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[]`...)
	}
	return append(b, `}}`...)
}
