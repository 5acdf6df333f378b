package catalog

import (
	"fmt"
	"strings"
)

// BindError is a parameter binding failure with the words PowerShell's binder uses: the error
// id and exception class the service reports in details[0].message ("Id|Class|text").
type BindError struct {
	ErrorID string
	Class   string
	Text    string
	Param   string // the parameter an unknown-parameter error names
}

func (e *BindError) Error() string { return e.Text }

// Exception classes of binding errors.
const (
	ClassBinding    = "System.Management.Automation.ParameterBindingException"
	ClassValidation = "System.Management.Automation.ParameterBindingValidationException"
	ClassArgument   = "System.Management.Automation.ParameterBindingArgumentTransformationException"
)

func errNoParameter(name string) *BindError {
	return &BindError{ErrorID: "NamedParameterNotFound", Class: ClassBinding, Param: name,
		Text: fmt.Sprintf("A parameter cannot be found that matches parameter name '%s'.", name)}
}

func errAmbiguousParameter(name string, matches []string) *BindError {
	return &BindError{ErrorID: "AmbiguousParameter", Class: ClassBinding,
		Text: fmt.Sprintf("Parameter cannot be processed because the parameter name '%s' is ambiguous. Possible matches include: -%s.",
			name, strings.Join(matches, " -"))}
}

func errParameterTwice(name string) *BindError {
	return &BindError{ErrorID: "ParameterAlreadyBound", Class: ClassBinding,
		Text: fmt.Sprintf("Cannot bind parameter because parameter '%s' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".", name)}
}

func errParameterSet() *BindError {
	return &BindError{ErrorID: "AmbiguousParameterSet", Class: ClassBinding,
		Text: "Parameter set cannot be resolved using the specified named parameters."}
}

// errConvert is an argument transformation failure; why is the inner exception's text.
func errConvert(param, value, typ, why string) *BindError {
	text := fmt.Sprintf("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type \"%s\".", param, value, typ)
	if why != "" {
		text += " Error: \"" + why + "\""
	}
	return &BindError{ErrorID: "ParameterArgumentTransformationError", Class: ClassBinding, Text: text}
}

func errBoolean(param, value, typ string) *BindError {
	return &BindError{ErrorID: "ParameterArgumentTransformationError", Class: ClassBinding,
		Text: fmt.Sprintf("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type \"%s\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.", param, value, typ)}
}

func errNullArgument(param string) *BindError {
	return &BindError{ErrorID: "ParameterArgumentValidationErrorNullNotAllowed", Class: ClassBinding,
		Text: fmt.Sprintf("Cannot validate argument on parameter '%s'. The argument is null. Provide a valid value for the argument, and then try running the command again.", param)}
}

func errNullMandatory(param string) *BindError {
	return &BindError{ErrorID: "ParameterArgumentValidationErrorNullNotAllowed", Class: ClassBinding,
		Text: fmt.Sprintf("Cannot bind argument to parameter '%s' because it is null.", param)}
}

func errEmptyArgument(param string) *BindError {
	return &BindError{ErrorID: "ParameterArgumentValidationErrorEmptyStringNotAllowed", Class: ClassBinding,
		Text: fmt.Sprintf("Cannot validate argument on parameter '%s'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.", param)}
}

// errMissingMandatory names the missing parameters separated by spaces, as PowerShell does.
func errMissingMandatory(params []string) *BindError {
	return &BindError{ErrorID: "MissingMandatoryParameter", Class: ClassBinding,
		Text: fmt.Sprintf("Cannot process command because of one or more missing mandatory parameters: %s.", strings.Join(params, " "))}
}

func errTooManyValues(param string, limit, n int) *BindError {
	return &BindError{ErrorID: "ParameterArgumentValidationError", Class: ClassBinding,
		Text: fmt.Sprintf("Cannot validate argument on parameter '%s'. The parameter requires at least 0 value(s) and no more than %d value(s) - %d value(s) were provided.", param, limit, n)}
}

func errTooLong(param string, limit, n int) *BindError {
	return &BindError{ErrorID: "ParameterArgumentValidationError", Class: ClassBinding,
		Text: fmt.Sprintf("Cannot validate argument on parameter '%s'. The character length of the %d argument is too long. Shorten the character length of the argument so it is fewer than or equal to \"%d\" characters, and then try the command again.", param, n, limit)}
}

func errBadParameters() *BindError {
	return &BindError{ErrorID: "BadRequest", Class: "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
		Text: "The request body isn't valid: Parameters must be a JSON object."}
}
