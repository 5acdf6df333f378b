package store

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/exoctl/exoctl/internal/jsontext"
)

// The JSON columns (email addresses, Extra) are written and read for every recipient of a
// seed or a page, so they have their own encoder and decoder for the shapes they hold: flat
// objects and arrays of strings, numbers, booleans and nulls. Both give exactly what
// encoding/json gives (FuzzJSONColumns checks), and hand anything unusual to it.

var errJSONShape = errors.New("store: unusual JSON shape")

// appendJSON appends v encoded as json.Marshal would.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case []string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		var keys [32]string
		ks := keys[:0]
		for k := range x {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		b = append(b, '{')
		for i, k := range ks {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, x[k]); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}

// appendJSONString is encoding/json's string encoding, HTML escaping included.
func appendJSONString(b []byte, s string) []byte {
	if strings.ContainsAny(s, "<>&") {
		j, _ := json.Marshal(s)
		return append(b, j...)
	}
	return jsontext.AppendString(b, s)
}

// interner hands out one boxed value for equal strings, so that a page of recipients that
// repeat the same few values (a city, a server, "None") boxes each once.
type interner map[string]any

func (in interner) box(s string) any {
	if in == nil || len(s) > 64 {
		return s
	}
	if v, ok := in[s]; ok {
		return v
	}
	var v any = s
	if len(in) < 4096 {
		in[s] = v
	}
	return v
}

// jsonDecoder parses one JSON text the way json.Unmarshal into an any does.
type jsonDecoder struct {
	s     string
	i     int
	depth int
	in    interner
	ints  bool // integral numbers as int64 (object Props), not float64
}

// decodeExtra decodes an Extra column: what json.Unmarshal(s, &map[string]any) gives.
func decodeExtra(s string, in interner) (map[string]any, error) {
	d := jsonDecoder{s: s, in: in}
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '{' {
		if v, err := d.object(); err == nil {
			if d.space(); d.i == len(d.s) {
				return v, nil
			}
		}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeProps decodes an object's Props column: decodeExtra, with integral numbers as int64.
func decodeProps(s string, in interner) (map[string]any, error) {
	d := jsonDecoder{s: s, in: in, ints: true}
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '{' {
		if v, err := d.object(); err == nil {
			if d.space(); d.i == len(d.s) {
				return v, nil
			}
		}
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("store: trailing data after the properties")
	}
	for k, v := range m {
		m[k] = intsFromNumbers(v)
	}
	return m, nil
}

// DecodeProps decodes an object's RawProps into the Props List would have given.
func DecodeProps(raw string) (map[string]any, error) { return decodeProps(raw, nil) }

// DecodeValue decodes one property's JSON value (a member of RawProps) as Props hold it: nil,
// bool, string, int64, float64, []any or map[string]any.
func DecodeValue(raw string) (any, error) {
	d := jsonDecoder{s: raw, ints: true}
	if v, err := d.value(); err == nil {
		if d.space(); d.i == len(d.s) {
			return v, nil
		}
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("store: trailing data after the value")
	}
	return intsFromNumbers(v), nil
}

// intsFromNumbers turns the json.Numbers of a UseNumber decoding into int64 (integral) or
// float64, as decodeProps gives them.
func intsFromNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			if n, err := x.Int64(); err == nil {
				return n
			}
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = intsFromNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = intsFromNumbers(x[k])
		}
	}
	return v
}

// decodeStrings decodes a JSON array of strings: what json.Unmarshal(s, &[]string) gives.
func decodeStrings(s string, in interner) ([]string, error) {
	d := jsonDecoder{s: s, in: in}
	if list, ok := d.strings(); ok {
		return list, nil
	}
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	return v, nil
}

func (d *jsonDecoder) strings() ([]string, bool) {
	d.space()
	if !d.eat('[') {
		return nil, false
	}
	list := []string{}
	if d.space(); d.eat(']') {
		d.space()
		return list, d.i == len(d.s)
	}
	for {
		d.space()
		s, err := d.str()
		if err != nil {
			return nil, false
		}
		list = append(list, s)
		d.space()
		if d.eat(']') {
			break
		}
		if !d.eat(',') {
			return nil, false
		}
	}
	d.space()
	return list, d.i == len(d.s)
}

func (d *jsonDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) eat(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *jsonDecoder) value() (any, error) {
	d.space()
	if d.i >= len(d.s) {
		return nil, errJSONShape
	}
	switch c := d.s[d.i]; {
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return d.in.box(s), nil
	case c == '{' || c == '[':
		if d.depth++; d.depth > 64 {
			return nil, errJSONShape
		}
		defer func() { d.depth-- }()
		if c == '{' {
			return d.object()
		}
		return d.array()
	case c == 't' && strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return true, nil
	case c == 'f' && strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return false, nil
	case c == 'n' && strings.HasPrefix(d.s[d.i:], "null"):
		d.i += 4
		return nil, nil
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, errJSONShape
}

func (d *jsonDecoder) object() (map[string]any, error) {
	d.i++ // {
	m := make(map[string]any, 12)
	if d.space(); d.eat('}') {
		return m, nil
	}
	for {
		d.space()
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if d.space(); !d.eat(':') {
			return nil, errJSONShape
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, errJSONShape // encoding/json's merging rules: let it decide
		}
		m[k] = v
		d.space()
		if d.eat('}') {
			return m, nil
		}
		if !d.eat(',') {
			return nil, errJSONShape
		}
	}
}

func (d *jsonDecoder) array() ([]any, error) {
	d.i++ // [
	list := []any{}
	if d.space(); d.eat(']') {
		return list, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		d.space()
		if d.eat(']') {
			return list, nil
		}
		if !d.eat(',') {
			return nil, errJSONShape
		}
	}
}

// str reads a string without escapes, or leaves it to encoding/json. The string is a
// substring of the column value: no copy.
func (d *jsonDecoder) str() (string, error) {
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		return "", errJSONShape
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.s); j++ {
		switch c := d.s[j]; {
		case c == '"':
			d.i = j + 1
			raw := d.s[start:j]
			if !ascii && !utf8.ValidString(raw) {
				return "", errJSONShape // encoding/json replaces invalid bytes
			}
			return raw, nil
		case c == '\\', c < 0x20:
			return "", errJSONShape
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", errJSONShape
}

func (d *jsonDecoder) number() (any, error) {
	start := d.i
	for d.i < len(d.s) {
		switch c := d.s[d.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			d.i++
			continue
		}
		break
	}
	lit := d.s[start:d.i]
	if !validNumber(lit) {
		return nil, errJSONShape
	}
	if d.ints && !strings.ContainsAny(lit, ".eE") {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return nil, errJSONShape
	}
	return f, nil
}

// validNumber reports whether s is a JSON number (RFC 8259 grammar).
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}
