package opath

import (
	"fmt"
	"strings"
)

// ErrorKind says why the service refuses a filter.
type ErrorKind int

// The ways a filter is refused.
const (
	// SyntaxError: the text is not an OPATH filter.
	SyntaxError ErrorKind = 1 + iota
	// UnknownProperty: the property is not one the cmdlet can filter on.
	UnknownProperty
	// BadValue: the literal cannot be converted to the property's type.
	BadValue
)

// Error is a filter the service refuses. Its message is the text the service puts inside
// `Exception setting "Filter": "..."`; Bind gives the whole line.
type Error struct {
	Kind     ErrorKind
	Filter   string // the filter as given
	Position int    // 1-based position in Filter where parsing stopped (SyntaxError)
	Property string // the property named (UnknownProperty, BadValue)
	Value    string // the literal (BadValue)
	TypeName string // the type the literal should convert to (BadValue)
	valid    []string
}

func (e *Error) Error() string {
	switch e.Kind {
	case UnknownProperty:
		msg := `"` + e.Property + `" is not a recognized filterable property.`
		if len(e.valid) > 0 {
			msg += " Valid property names are: " + strings.Join(e.valid, ", ") + "."
		}
		return msg
	case BadValue:
		return `The value "` + e.Value + `" could not be converted to type ` + e.TypeName + "."
	default:
		return "Invalid filter syntax. For a description of the filter parameter syntax see the command help.\n\"" +
			e.Filter + fmt.Sprintf("\" at position %d.", e.Position)
	}
}

// Bind is the service's whole error line for the filter given to parameter param (Filter,
// RecipientFilter, ...).
func (e *Error) Bind(param string) string {
	return fmt.Sprintf("Cannot bind parameter '%s' to the target. Exception setting \"%s\": \"%s\"", param, param, e.Error())
}
