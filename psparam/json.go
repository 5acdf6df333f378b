package psparam

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/exoctl/exoctl/internal/jsontext"
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
		buf = jsontext.AppendString(buf, name+odataTypeSuffix)
		buf = append(buf, ':')
		buf = jsontext.AppendString(buf, hashtableCollectionType)
		buf = append(buf, ',')
	}
	buf = jsontext.AppendString(buf, name)
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
		return jsontext.AppendString(buf, x), nil
	case ScriptBlock:
		return jsontext.AppendString(buf, string(x)), nil
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
