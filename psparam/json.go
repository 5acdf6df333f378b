package psparam

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	odataTypeSuffix         = "@odata.type"
	hashtableType           = "#Exchange.GenericHashTable"
	hashtableCollectionType = "#Collection(Exchange.GenericHashTable)"
)

// MarshalJSON encodes the hashtable as the service binds one: a JSON object tagged
// "@odata.type": "#Exchange.GenericHashTable", keys in order, nested hashtables tagged too.
func (h *Hashtable) MarshalJSON() ([]byte, error) {
	return appendHashtable(nil, h)
}

// MarshalJSON encodes the command's InvokeCommand "Parameters" object, keeping the user's
// parameter order: the same content as Parameters.
func (c *Command) MarshalJSON() ([]byte, error) {
	buf := []byte{'{'}
	var err error
	for i, p := range c.Params {
		if i > 0 {
			buf = append(buf, ',')
		}
		if buf, err = appendMember(buf, p.Name, p.Value); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// appendMember appends "name":value, preceded by the collection annotation for an array of
// hashtables (OData places annotations before the property they describe).
func appendMember(buf []byte, name string, v any) ([]byte, error) {
	if isHashtableArray(v) {
		buf = appendString(buf, name+odataTypeSuffix)
		buf = append(buf, ':')
		buf = appendString(buf, hashtableCollectionType)
		buf = append(buf, ',')
	}
	buf = appendString(buf, name)
	buf = append(buf, ':')
	return appendValue(buf, v)
}

// isHashtableArray reports whether v is a non-empty array of nothing but hashtables.
func isHashtableArray(v any) bool {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return false
	}
	for _, e := range a {
		if _, ok := e.(*Hashtable); !ok {
			return false
		}
	}
	return true
}

func appendHashtable(buf []byte, h *Hashtable) ([]byte, error) {
	if h == nil {
		return append(buf, "null"...), nil
	}
	buf = append(buf, `{"@odata.type":"`+hashtableType+`"`...)
	var err error
	for _, k := range h.Keys {
		buf = append(buf, ',')
		if buf, err = appendMember(buf, k, h.Values[k]); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

func appendValue(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case string:
		return appendString(buf, x), nil
	case ScriptBlock:
		return appendString(buf, string(x)), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, errors.New("psparam: " + strconv.FormatFloat(x, 'g', -1, 64) + " cannot be sent as JSON")
		}
		b, err := json.Marshal(x)
		return append(buf, b...), err
	case []any:
		buf = append(buf, '[')
		var err error
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendValue(buf, e); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case *Hashtable:
		return appendHashtable(buf, x)
	}
	b, err := json.Marshal(v)
	return append(buf, b...), err
}

// appendString appends s as a JSON string, invalid UTF-8 as U+FFFD.
func appendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c == '\b':
				buf = append(buf, '\\', 'b')
			case c == '\f':
				buf = append(buf, '\\', 'f')
			case c < 0x20 || c == 0x7f:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			buf = append(buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			buf = append(buf, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			buf = append(buf, s[i:i+n]...)
		}
		i += n
	}
	return append(buf, '"')
}

// String renders the command as a PowerShell line that ParseLine reads back to the same
// command: every value quoted or typed, every parameter in -Name:value form.
func (c *Command) String() string {
	var b strings.Builder
	b.WriteString(c.Name)
	for _, p := range c.Params {
		b.WriteString(" -")
		b.WriteString(p.Name)
		b.WriteByte(':')
		writePS(&b, p.Value)
	}
	return b.String()
}

func writePS(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("$null")
	case bool:
		b.WriteString(boolText(x))
	case string:
		b.WriteString(psQuote(x))
	case ScriptBlock:
		b.WriteString("{ ")
		b.WriteString(string(x))
		if strings.Contains(string(x), "#") {
			b.WriteByte('\n') // a trailing comment must not hide the }
		}
		b.WriteString(" }")
	case int64:
		if x == math.MinInt64 {
			b.WriteString("0x8000000000000000")
			return
		}
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0"
		}
		b.WriteString(s)
	case []any:
		b.WriteString("@(")
		if len(x) == 1 {
			if _, nested := x[0].([]any); nested {
				b.WriteByte(',')
			}
		}
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writePS(b, e)
		}
		b.WriteByte(')')
	case *Hashtable:
		if x == nil {
			b.WriteString("$null")
			return
		}
		b.WriteString("@{")
		for i, k := range x.Keys {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(psQuote(k))
			b.WriteByte('=')
			writePS(b, x.Values[k])
		}
		b.WriteByte('}')
	default:
		b.WriteString(psQuote(strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(jsonText(v), "\n", " "), "\r", " "))))
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
