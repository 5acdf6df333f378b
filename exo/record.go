package exo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Field is one property of a Record.
type Field struct {
	Name string
	// Value is the decoded JSON value: string, json.Number, bool, nil, []any or *Record.
	Value any
}

// Record is one object a cmdlet returned: its PowerShell properties in the order the service
// sent them. OData annotations ("Guid@data.type", "@odata.context", ...) are dropped: a client
// shows properties, never annotations.
type Record struct {
	Fields []Field
}

// Get returns a property's value, matching the name case-insensitively as PowerShell does.
func (r *Record) Get(name string) (any, bool) {
	if r == nil {
		return nil, false
	}
	for _, f := range r.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return nil, false
}

// String returns a property as text ("" when absent or null).
func (r *Record) String(name string) string {
	v, ok := r.Get(name)
	if !ok || v == nil {
		return ""
	}
	return FormatValue(v)
}

// FormatValue renders a decoded value the way PowerShell's default views show it: arrays as
// {a, b}, booleans as True/False, nested objects by their properties.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return string(AppendFormatValue(nil, v))
}

// AppendFormatValue appends FormatValue(v) to dst, for writers that print many values without
// a string each.
func AppendFormatValue(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return dst
	case string:
		return append(dst, x...)
	case bool:
		if x {
			return append(dst, "True"...)
		}
		return append(dst, "False"...)
	case json.Number:
		return append(dst, x...)
	case []any:
		dst = append(dst, '{')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = AppendFormatValue(dst, e)
		}
		return append(dst, '}')
	case *Record:
		dst = append(dst, "@{"...)
		for i, f := range x.Fields {
			if i > 0 {
				dst = append(dst, "; "...)
			}
			dst = append(dst, f.Name...)
			dst = append(dst, '=')
			dst = AppendFormatValue(dst, f.Value)
		}
		return append(dst, '}')
	default:
		return fmt.Append(dst, x)
	}
}

// UnmarshalJSON reads a JSON object, keeping property order and dropping annotations.
func (r *Record) UnmarshalJSON(b []byte) error {
	rec, err := parseRecord(b)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	r.Fields = rec.Fields
	return nil
}

// MarshalJSON writes the properties as one JSON object, in order.
func (r *Record) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range r.Fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(f.Name)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", f.Name, err)
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
