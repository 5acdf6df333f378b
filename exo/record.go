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
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue(e)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *Record:
		parts := make([]string, len(x.Fields))
		for i, f := range x.Fields {
			parts[i] = f.Name + "=" + FormatValue(f.Value)
		}
		return "@{" + strings.Join(parts, "; ") + "}"
	default:
		return fmt.Sprint(x)
	}
}

// UnmarshalJSON reads a JSON object, keeping property order and dropping annotations.
func (r *Record) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return r.decode(dec)
}

// decode reads one JSON object from dec into r.
func (r *Record) decode(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("record: expected a JSON object, got %v", tok)
	}
	r.Fields = r.Fields[:0]
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		v, err := decodeValue(dec)
		if err != nil {
			return fmt.Errorf("record property %q: %w", name, err)
		}
		if strings.Contains(name, "@") {
			continue
		}
		r.Fields = append(r.Fields, Field{Name: name, Value: v})
	}
	_, err = dec.Token() // '}'
	return err
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token()
		return arr, err
	case '{':
		rec := &Record{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			name, _ := tok.(string)
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			if strings.Contains(name, "@") {
				continue
			}
			rec.Fields = append(rec.Fields, Field{Name: name, Value: v})
		}
		_, err := dec.Token()
		return rec, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
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
