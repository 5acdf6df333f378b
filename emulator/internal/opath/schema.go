package opath

import (
	"slices"
	"strings"
)

// Kind is the type of a filterable property; it decides how a filter's literal is converted and
// how values compare, as the service converts a literal to the property's .NET type.
type Kind uint8

// The kinds of filterable properties. Multi is a flag OR-ed with a base kind for a multi-valued
// property (MultiValuedProperty, ProxyAddressCollection), on which a comparison holds when it holds
// for any element.
const (
	String Kind = 1 + iota // text; also enums, GUIDs, SMTP addresses and identities
	Int                    // int64; byte sizes in bytes
	Bool
	Date // time.Time

	Multi Kind = 0x80
)

// Base is k without the Multi flag.
func (k Kind) Base() Kind { return k &^ Multi }

// IsMulti reports whether k is multi-valued.
func (k Kind) IsMulti() bool { return k&Multi != 0 }

func (k Kind) String() string {
	s := ""
	switch k.Base() {
	case String:
		s = "System.String"
	case Int:
		s = "System.Int64"
	case Bool:
		s = "System.Boolean"
	case Date:
		s = "System.DateTime"
	default:
		s = "System.Object"
	}
	if k.IsMulti() {
		s = "Microsoft.Exchange.Data.MultiValuedProperty`1[" + s + "]"
	}
	return s
}

// Property is one filterable property of an object type.
type Property struct {
	Name string // canonical spelling, as Get- output shows it
	Kind Kind
	// Values, when set, are the names of an enum's members; a literal that is none of them is
	// refused as the service refuses a value it cannot convert to the enum.
	Values []string
	// TypeName is the .NET type named in a conversion error; empty means the Kind's type.
	TypeName string
}

func (p Property) typeName() string {
	if p.TypeName != "" {
		return p.TypeName
	}
	return p.Kind.String()
}

// Schema says which properties a cmdlet's -Filter accepts.
type Schema interface {
	// Property finds a filterable property by name in any case; false when it cannot be filtered.
	Property(name string) (Property, bool)
	// Names lists the filterable properties, as the service lists them in its error.
	Names() []string
}

// Properties builds a Schema from a list of properties.
func Properties(props ...Property) Schema {
	s := propertyList{byName: make(map[string]Property, len(props))}
	for _, p := range props {
		s.byName[strings.ToLower(p.Name)] = p
		s.names = append(s.names, p.Name)
	}
	slices.SortFunc(s.names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return s
}

type propertyList struct {
	byName map[string]Property
	names  []string
}

func (s propertyList) Property(name string) (Property, bool) {
	p, ok := s.byName[strings.ToLower(name)]
	return p, ok
}

func (s propertyList) Names() []string { return s.names }
