package exchange

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// A listing's page is printed while it is read (store.ListEach): no page of objects is held
// in memory, only the batch the store reads at a time, and a page in flight for a client
// that reads slowly holds no database connection. Objects are printed from their stored JSON
// (RawProps) without decoding it into a map: most of a printed object is its schema's
// defaults, encoded once per schema, and a stored value that prints as it is stored (a plain
// string, a list of them, a boolean) is copied. Everything else goes through the same
// Property encoding as a built page, so a streamed page is byte for byte the page
// Schema.Object and appendObject would build (TestStreamedPageEqualsBuiltPage).

// pageStream is a listing's page still in the store.
type pageStream struct {
	s    *Schema
	org  *org
	list func(ctx context.Context, start func(next string) error, fn func(o *store.Object) error) error
}

// schemaJSON is a schema's properties pre-encoded for streamed pages.
type schemaJSON struct {
	// defaults holds each property's default encoding followed by a comma; property i is
	// defaults[off[i]:off[i+1]], so a run of defaults is one copy.
	defaults []byte
	off      []int
	// key[i] is what a string or a boolean of property i starts with (`"Name":`), collKey[i]
	// and guidKey[i] what a collection and a GUID start with (their annotations, then that).
	key, collKey, guidKey [][]byte
}

func (s *Schema) json() *schemaJSON {
	s.jsonOnce.Do(func() {
		j := &schemaJSON{off: make([]int, 0, len(s.Props)+1)}
		for i := range s.Props {
			p := &s.Props[i]
			j.off = append(j.off, len(j.defaults))
			j.defaults = append(appendProperty(j.defaults, p.out), ',')
			// What appendProperty writes before a value of each shape.
			j.key = append(j.key, bytes.TrimSuffix(appendProperty(nil, Str(p.Name, "")), []byte(`""`)))
			j.collKey = append(j.collKey, bytes.TrimSuffix(appendProperty(nil, Strings(p.Name, nil)), []byte(`[]`)))
			j.guidKey = append(j.guidKey, bytes.TrimSuffix(appendProperty(nil, GUID(p.Name, "x")), []byte(`"x"`)))
		}
		j.off = append(j.off, len(j.defaults))
		s.enc = j
	})
	return s.enc
}

// rawProps are an object's stored properties as their JSON values, found by the position of
// the schema's property (others in extra). It is reused object after object.
type rawProps struct {
	slots []string // by position in Schema.Props; "" when the object does not store it
	used  []int    // the positions set, to clear them
	extra []rawMember
	err   error // the first value that did not decode
}

type rawMember struct{ name, value string }

// scan reads a RawProps object. It reports false for what it leaves to the store's decoder
// (escaped or repeated names, text that is not a JSON object).
func (rp *rawProps) scan(s *Schema, raw string) bool {
	for _, i := range rp.used {
		rp.slots[i] = ""
	}
	rp.used, rp.extra, rp.err = rp.used[:0], rp.extra[:0], nil
	if len(rp.slots) != len(s.Props) {
		rp.slots = make([]string, len(s.Props))
	}
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return skipSpace(raw, i+1) == len(raw)
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return false
		}
		end := strings.IndexByte(raw[i+1:], '"')
		if end < 0 {
			return false
		}
		name := raw[i+1 : i+1+end]
		if strings.IndexByte(name, '\\') >= 0 {
			return false
		}
		i = skipSpace(raw, i+end+2)
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		start := skipSpace(raw, i+1)
		stop := skipValue(raw, start)
		if stop < 0 {
			return false
		}
		value := raw[start:stop]
		if pos, ok := s.stored[name]; ok {
			if rp.slots[pos] != "" {
				return false
			}
			rp.slots[pos] = value
			rp.used = append(rp.used, pos)
		} else {
			for _, m := range rp.extra {
				if m.name == name {
					return false
				}
			}
			rp.extra = append(rp.extra, rawMember{name, value})
		}
		i = skipSpace(raw, stop)
		if i >= len(raw) {
			return false
		}
		if raw[i] == '}' {
			return skipSpace(raw, i+1) == len(raw)
		}
		if raw[i] != ',' {
			return false
		}
		i = skipSpace(raw, i+1)
	}
}

// lookup finds a stored property's JSON value by exact name.
func (rp *rawProps) lookup(s *Schema, name string) (string, bool) {
	if pos, ok := s.stored[name]; ok {
		v := rp.slots[pos]
		return v, v != ""
	}
	for _, m := range rp.extra {
		if m.name == name {
			return m.value, true
		}
	}
	return "", false
}

// value is a stored property as Props would hold it.
func (rp *rawProps) value(s *Schema, name string) (any, bool) {
	raw, ok := rp.lookup(s, name)
	if !ok {
		return nil, false
	}
	if str, ok := plainJSONString(raw); ok {
		return str, true
	}
	v, err := store.DecodeValue(raw)
	if err != nil {
		if rp.err == nil {
			rp.err = fmt.Errorf("property %s: %w", name, err)
		}
		return nil, false
	}
	return v, true
}

// plainString is a stored property that is a plain JSON string, without boxing it.
func (rp *rawProps) plainString(s *Schema, name string) (string, bool) {
	raw, ok := rp.lookup(s, name)
	if !ok {
		return "", false
	}
	return plainJSONString(raw)
}

// plainJSONString reports whether raw is a JSON string of printable ASCII without escapes,
// which decodes to its text and encodes (jsontext) back to raw; it returns the text.
func plainJSONString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if plainASCII(body) != len(body) {
		return "", false
	}
	return body, true
}

// plainASCII is the length of s's leading run of bytes jsontext copies as they are: printable
// ASCII other than '"' and '\\'.
func plainASCII(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return i
		}
	}
	return len(s)
}

// plainStringList reports whether raw is a JSON array of plain strings written without
// spaces (as the store writes a list), which prints as it is.
func plainStringList(raw string) bool {
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return false
	}
	body := raw[1 : len(raw)-1]
	for body != "" {
		if body[0] != '"' {
			return false
		}
		end := strings.IndexByte(body[1:], '"')
		if end < 0 || plainASCII(body[1:1+end]) != end {
			return false
		}
		body = body[end+2:]
		if body == "" {
			break
		}
		if body[0] != ',' || len(body) == 1 {
			return false
		}
		body = body[1:]
	}
	return true
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at i, or -1. It checks the shape only
// as far as finding the end needs: values are decoded (and checked) when they are printed.
func skipValue(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				if i = skipString(s, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(s) && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// skipString returns the end of the JSON string starting at s[i] == '"', or -1.
func skipString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '"':
			return j + 1
		case '\\':
			j++
		}
	}
	return -1
}

// rawPrinter prints a streamed page's objects through their schema.
type rawPrinter struct {
	s   *Schema
	j   *schemaJSON
	org *org
	sel selection
	rp  rawProps
	buf Object
}

func newRawPrinter(s *Schema, g *org, sel selection) *rawPrinter {
	return &rawPrinter{s: s, j: s.json(), org: g, sel: sel}
}

// append prints o (from ListEach) as a JSON object onto b.
func (p *rawPrinter) append(b []byte, o *store.Object) ([]byte, error) {
	if len(p.sel) > 0 || !p.rp.scan(p.s, o.RawProps) {
		// A $select, or stored JSON the scanner leaves alone: the built object.
		props, err := store.DecodeProps(o.RawProps)
		if err != nil {
			return b, fmt.Errorf("properties of %s %s: %w", o.Type, o.ID, err)
		}
		m := *o
		m.Props, m.RawProps = props, ""
		p.buf = p.s.Object(p.buf[:0], &m, p.org)
		return appendObject(b, p.buf, p.sel), nil
	}
	r := render{s: p.s, o: o, org: p.org, raw: &p.rp}
	s, j := p.s, p.j
	b = append(b, '{')
	run := 0 // the first property of the run of defaults not yet copied
	for i := range s.Props {
		q := &s.Props[i]
		stored := q.Stored()
		if stored && p.rp.slots[i] == "" {
			continue
		}
		b = append(b, j.defaults[j.off[run]:j.off[i]]...)
		run = i + 1
		switch {
		case !stored && q.compute != nil:
			b = appendProperty(b, q.compute(&r, q))
		case !stored:
			b = appendProperty(b, r.copied(q))
		default:
			b = p.appendStored(b, i, q, p.rp.slots[i])
		}
		b = append(b, ',')
	}
	b = append(b, j.defaults[j.off[run]:j.off[len(s.Props)]]...)
	if p.rp.err != nil {
		return b, fmt.Errorf("properties of %s %s: %w", o.Type, o.ID, p.rp.err)
	}
	if b[len(b)-1] == ',' {
		b[len(b)-1] = '}'
		return b, nil
	}
	return append(b, '}'), nil
}

// appendStored prints a stored property from its JSON value raw, as appendProperty prints
// q.property of the decoded value.
func (p *rawPrinter) appendStored(b []byte, i int, q *prop, raw string) []byte {
	switch {
	case raw[0] == '"':
		str, ok := plainJSONString(raw)
		if !ok {
			break
		}
		switch q.Type {
		case tString:
			return append(append(b, p.j.key[i]...), raw...)
		case tGUID:
			if str == "" {
				return append(append(b, p.j.key[i]...), "null"...)
			}
			return append(append(b, p.j.guidKey[i]...), raw...)
		}
		return appendProperty(b, q.property(str))
	case raw == "true" || raw == "false":
		if q.Type == tBool {
			return append(append(b, p.j.key[i]...), raw...)
		}
		return appendProperty(b, q.property(raw == "true"))
	case raw == "null":
		return appendProperty(b, q.property(nil))
	case raw[0] == '[' && q.Type == tStrings && plainStringList(raw):
		return append(append(b, p.j.collKey[i]...), raw...)
	}
	v, err := store.DecodeValue(raw)
	if err != nil {
		if p.rp.err == nil {
			p.rp.err = fmt.Errorf("property %s: %w", q.Name, err)
		}
		return appendProperty(b, Null(q.Name))
	}
	return appendProperty(b, q.property(v))
}
