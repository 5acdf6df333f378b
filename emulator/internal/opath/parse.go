package opath

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Op is a comparison operator.
type Op string

// The comparison operators OPATH has.
const (
	Eq      Op = "eq"
	Ne      Op = "ne"
	Lt      Op = "lt"
	Gt      Op = "gt"
	Le      Op = "le"
	Ge      Op = "ge"
	Like    Op = "like"
	NotLike Op = "notlike"
)

// Expr is a parsed filter.
type Expr interface {
	// Eval reports whether an object matches; get returns a property's value by its canonical
	// name (string, int/int64/float64, bool, time.Time, []string or []any for a multi-valued
	// property, nil; ok=false counts as nil). It fails only when a value has a type the
	// property's kind cannot hold.
	Eval(get func(prop string) (any, bool)) (bool, error)
	// String is the filter in OPATH, every statement in parentheses, as the service stores one.
	String() string
}

// And holds when both sides hold.
type And struct{ L, R Expr }

// Or holds when either side holds.
type Or struct{ L, R Expr }

// Not holds when X does not.
type Not struct{ X Expr }

// Compare is one statement: Prop Op Value.
type Compare struct {
	Prop Property
	Op   Op
	// Value is the literal converted to the property's kind: nil ($null or ''), string, int64,
	// bool or time.Time; for -like and -notlike always the pattern as a string.
	Value any
	// Raw is the literal as written, unquoted.
	Raw string
}

// Parse parses filter as the service parses -Filter, resolving property names with s (nil accepts
// any property as a String). The script-block form "{ ... }" is accepted; as PowerShell sends a
// script block's text without its braces, an error then quotes and counts positions in the text
// inside them. Errors are *Error.
func Parse(filter string, s Schema) (Expr, error) {
	start, end := trimSpace(filter)
	if end-start >= 2 && filter[start] == '{' && filter[end-1] == '}' {
		filter = filter[start+1 : end-1]
		start, end = trimSpace(filter)
	}
	toks, lerr := lex(filter, start, end)
	if lerr != nil {
		return nil, lerr
	}
	p := &parser{src: filter, toks: toks, schema: s}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tEOF {
		return nil, p.syntax(p.peek())
	}
	if p.refused != nil {
		return nil, p.refused
	}
	return e, nil
}

func trimSpace(s string) (start, end int) {
	start, end = 0, len(s)
	for start < end {
		r, n := utf8.DecodeRuneInString(s[start:])
		if !unicode.IsSpace(r) {
			break
		}
		start += n
	}
	for end > start {
		r, n := utf8.DecodeLastRuneInString(s[:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= n
	}
	return start, end
}

// maxDepth bounds nesting so a hostile filter cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	src    string
	toks   []token
	i      int
	depth  int
	schema Schema
	// refused is the first property or value the service refuses; a syntax error found later
	// is reported instead, as the service checks the syntax of the whole filter first.
	refused *Error
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) syntax(t token) *Error {
	return &Error{Kind: SyntaxError, Filter: p.src, Position: t.pos + 1}
}

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &Or{l, r}
	}
	return l, nil
}

func (p *parser) and() (Expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAnd {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &And{l, r}
	}
	return l, nil
}

func (p *parser) unary() (Expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.syntax(p.peek())
	}
	switch t := p.peek(); t.kind {
	case tNot:
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{x}, nil
	case tLParen:
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, p.syntax(p.peek())
		}
		p.next()
		return e, nil
	case tWord:
		return p.comparison()
	default:
		return nil, p.syntax(t)
	}
}

func (p *parser) comparison() (Expr, error) {
	name := p.next()
	for _, r := range name.text {
		if !isNameRune(r) {
			return nil, p.syntax(name)
		}
	}
	prop := p.property(name.text)
	op := p.peek()
	if op.kind != tOp {
		switch op.kind {
		case tEOF, tAnd, tOr, tRParen:
			// A property alone: a Boolean one that is $true, any other one that has a value.
			if prop.Kind == Bool {
				return &Compare{Prop: prop, Op: Eq, Value: true, Raw: "$true"}, nil
			}
			return &Compare{Prop: prop, Op: Ne, Value: nil, Raw: "$null"}, nil
		}
		return nil, p.syntax(op)
	}
	p.next()
	lit := p.next()
	c := &Compare{Prop: prop, Op: Op(op.text), Raw: lit.text}
	switch lit.kind {
	case tNull:
	case tTrue, tFalse:
		if prop.Kind.Base() != Bool {
			c.Raw = strings.TrimPrefix(lit.text, "$")
		}
		fallthrough
	case tString, tWord:
		v, err := convert(prop, c.Op, lit, p.src)
		if err != nil && p.refused == nil {
			p.refused = err
		}
		c.Value = v
	default:
		return nil, p.syntax(lit)
	}
	if c.Value == nil { // -like $null is -eq $null
		if c.Op == Like {
			c.Op = Eq
		} else if c.Op == NotLike {
			c.Op = Ne
		}
	}
	return c, nil
}

func (p *parser) property(name string) Property {
	if p.schema == nil {
		return Property{Name: name, Kind: String}
	}
	prop, ok := p.schema.Property(name)
	if !ok {
		if p.refused == nil {
			p.refused = &Error{Kind: UnknownProperty, Filter: p.src, Property: name, valid: p.schema.Names()}
		}
		return Property{Name: name, Kind: String}
	}
	return prop
}

// convert turns a literal into the property's kind, as the service converts it to the
// property's .NET type.
func convert(prop Property, op Op, lit token, filter string) (any, *Error) {
	text := lit.text
	if lit.kind == tTrue {
		text = "True"
	} else if lit.kind == tFalse {
		text = "False"
	}
	if op == Like || op == NotLike {
		if text == "" {
			return nil, nil
		}
		return text, nil
	}
	if text == "" {
		return nil, nil
	}
	bad := &Error{Kind: BadValue, Filter: filter, Property: prop.Name, Value: text, TypeName: prop.typeName()}
	switch prop.Kind.Base() {
	case Int:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return nil, bad
		}
		return n, nil
	case Bool:
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "true", "$true":
			return true, nil
		case "false", "$false":
			return false, nil
		}
		return nil, bad
	case Date:
		t, ok := ParseTime(text)
		if !ok {
			return nil, bad
		}
		return t, nil
	default:
		if len(prop.Values) > 0 {
			for _, v := range prop.Values {
				if strings.EqualFold(v, text) {
					return v, nil
				}
			}
			return nil, bad
		}
		return text, nil
	}
}

// dateLayouts are the forms a date literal takes: ISO 8601, and the en-US forms the service's
// culture parses ("1/31/2024", "1/31/2024 5:00:00 PM").
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"1/2/2006 3:04:05 PM",
	"1/2/2006 3:04 PM",
	"1/2/2006 15:04:05",
	"1/2/2006 15:04",
	"1/2/2006",
}

// ParseTime reads a date literal; one without a zone is UTC.
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// FormatTime is how a date is kept in SQL for ToSQL to compare it: UTC, to the millisecond, fixed
// width, so that text order is time order.
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}
