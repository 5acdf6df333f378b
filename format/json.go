package format

import (
	"bufio"
	"encoding/json"
	"strconv"

	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/internal/jsontext"
)

// jsonWriter writes a JSON array streamed record by record ("[" at the first, "]" at Close,
// "[]" for none), or with ndjson one compact record per line. The output gets a page at its
// Flush (and whenever the buffer fills), not a write per record.
// Strings are not HTML-escaped: the output is for people and jq, not for a web page.
type jsonWriter struct {
	out    *bufio.Writer
	opts   Options
	ndjson bool
	sel    *selector
	fields []exo.Field
	buf    []byte
	n      int
	closed bool
}

func newJSONWriter(out *bufio.Writer, opts Options, ndjson bool) *jsonWriter {
	return &jsonWriter{out: out, opts: opts, ndjson: ndjson}
}

func (j *jsonWriter) Write(r *exo.Record) error {
	if j.closed {
		return ErrClosed
	}
	if r == nil {
		return nil
	}
	if j.opts.Properties != nil {
		if j.sel == nil {
			j.sel = newSelector(j.opts.Properties, r)
		}
		j.fields = j.fields[:0]
		for k, n := range j.sel.names {
			j.fields = append(j.fields, exo.Field{Name: n, Value: j.sel.get(r, k)})
		}
		r = &exo.Record{Fields: j.fields}
	}
	b := j.buf[:0]
	if j.ndjson {
		b = appendValue(b, r, -1)
		b = append(b, '\n')
		_, err := j.out.Write(b)
		j.buf = b
		j.n++
		return err
	}
	if j.n == 0 {
		b = append(b, "[\n  "...)
	} else {
		b = append(b, ",\n  "...)
	}
	b = appendValue(b, r, 1)
	_, err := j.out.Write(b)
	j.buf = b
	j.n++
	return err
}

func (j *jsonWriter) Flush() error {
	if j.closed {
		return ErrClosed
	}
	return j.out.Flush()
}

func (j *jsonWriter) Close() error {
	if j.closed {
		return nil
	}
	j.closed = true
	if !j.ndjson {
		if j.n == 0 {
			j.out.WriteString("[]\n")
		} else {
			j.out.WriteString("\n]\n")
		}
	}
	return j.out.Flush()
}

// appendValue appends v as JSON. depth < 0 writes compact JSON; otherwise the value is indented
// two spaces per level, its first line already placed at depth.
func appendValue(b []byte, v any, depth int) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return jsontext.AppendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case json.Number:
		if isJSONNumber(string(x)) {
			return append(b, x...)
		}
		return jsontext.AppendString(b, string(x))
	case []any:
		if len(x) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, depth, depth+1)
			b = appendValue(b, e, next(depth))
		}
		b = newline(b, depth, depth)
		return append(b, ']')
	case *exo.Record:
		if x == nil {
			return append(b, "null"...)
		}
		if len(x.Fields) == 0 {
			return append(b, "{}"...)
		}
		b = append(b, '{')
		for i, f := range x.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, depth, depth+1)
			b = jsontext.AppendString(b, f.Name)
			b = append(b, ':')
			if depth >= 0 {
				b = append(b, ' ')
			}
			b = appendValue(b, f.Value, next(depth))
		}
		b = newline(b, depth, depth)
		return append(b, '}')
	default:
		// Not a decoded JSON value; fall back to encoding/json.
		enc, err := json.Marshal(x)
		if err != nil {
			return jsontext.AppendString(b, exo.FormatValue(x))
		}
		return append(b, enc...)
	}
}

func next(depth int) int {
	if depth < 0 {
		return depth
	}
	return depth + 1
}

// newline starts a new line at depth, or does nothing in compact mode (parent < 0): the
// elements of a value at parent sit at parent+1, its closing bracket at parent.
func newline(b []byte, parent, depth int) []byte {
	if parent < 0 {
		return b
	}
	b = append(b, '\n')
	for i := 0; i < depth; i++ {
		b = append(b, "  "...)
	}
	return b
}

// isJSONNumber reports whether s is a valid JSON number literal.
func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case s[0] >= '1' && s[0] <= '9':
		for s != "" && s[0] >= '0' && s[0] <= '9' {
			s = s[1:]
		}
	default:
		return false
	}
	if s != "" && s[0] == '.' {
		s = s[1:]
		if s == "" || s[0] < '0' || s[0] > '9' {
			return false
		}
		for s != "" && s[0] >= '0' && s[0] <= '9' {
			s = s[1:]
		}
	}
	if s != "" && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s != "" && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
		if s == "" || s[0] < '0' || s[0] > '9' {
			return false
		}
		for s != "" && s[0] >= '0' && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}
