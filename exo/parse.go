package exo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// parseRecord reads one JSON object into a Record, keeping property order and dropping
// annotations. It is a small recursive-descent parser over the bytes: records are decoded by the
// hundred thousand, and json.Decoder's token API costs several times more.
func parseRecord(data []byte) (*Record, error) {
	p := parser{data: data}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	rec, ok := v.(*Record)
	if !ok {
		return nil, errors.New("a record must be a JSON object")
	}
	p.space()
	if p.pos != len(p.data) {
		return nil, p.errorf("unexpected data after the object")
	}
	return rec, nil
}

type parser struct {
	data []byte
	// text is data as one string, made on first need: plain strings are slices of it, so a
	// record's strings cost one allocation instead of one each.
	text  string
	pos   int
	names map[string]string // property names seen, so each is allocated once per page
	// fields is how many properties the last top-level record had: records of a page share
	// their shape, so the next one's Fields are allocated once, at that size.
	fields int
}

// reset points the parser at the next value to parse, keeping its interned names.
func (p *parser) reset(data []byte) {
	p.data, p.text, p.pos = data, "", 0
}

const maxDepth = 512

func (p *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("JSON at byte %d: %s", p.pos, fmt.Sprintf(format, a...))
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested too deeply")
	}
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.errorf("unexpected %q", c)
	}
}

func (p *parser) literal(s string) error {
	if len(p.data)-p.pos < len(s) || string(p.data[p.pos:p.pos+len(s)]) != s {
		return p.errorf("expected %s", s)
	}
	p.pos += len(s)
	return nil
}

func (p *parser) object(depth int) (*Record, error) {
	p.pos++ // {
	rec := &Record{}
	if depth == 0 && p.fields > 0 {
		rec.Fields = make([]Field, 0, p.fields)
	}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return rec, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("expected a property name")
		}
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("expected ':'")
		}
		p.pos++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if !isAnnotation(name) {
			rec.Fields = append(rec.Fields, Field{Name: name, Value: v})
		}
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end in an object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			if depth == 0 {
				p.fields = len(rec.Fields)
			}
			return rec, nil
		default:
			return nil, p.errorf("expected ',' or '}'")
		}
	}
}

func isAnnotation(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] == '@' {
			return true
		}
	}
	return false
}

func (p *parser) array(depth int) ([]any, error) {
	p.pos++ // [
	arr := []any{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return arr, nil
	}
	for {
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end in an array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return arr, nil
		default:
			return nil, p.errorf("expected ',' or ']'")
		}
	}
}

// name reads a property name, interned: the same few dozen names repeat in every record.
func (p *parser) name() (string, error) {
	start := p.pos
	end := start + 1
	for end < len(p.data) && p.data[end] != '"' && p.data[end] != '\\' && p.data[end] >= 0x20 {
		end++
	}
	if end < len(p.data) && p.data[end] == '"' {
		if s, ok := p.names[string(p.data[start+1:end])]; ok {
			p.pos = end + 1
			return s, nil
		}
	}
	s, err := p.str()
	if err == nil && len(p.names) < 4096 {
		if p.names == nil {
			p.names = make(map[string]string)
		}
		p.names[s] = s
	}
	return s, err
}

// str reads a JSON string; the common case (no escapes, ASCII or valid UTF-8) is a slice of
// the parser's text, no copy.
func (p *parser) str() (string, error) {
	start := p.pos
	d := p.data
	i := start + 1
	plain, ascii := true, true
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			raw := d[start:p.pos]
			if plain && (ascii || utf8.Valid(raw)) {
				if p.text == "" {
					p.text = string(d)
				}
				return p.text[start+1 : i], nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", p.errorf("bad string: %v", err)
			}
			return s, nil
		case c == '\\':
			plain = false
			i += 2
		case c < 0x20:
			p.pos = i
			return "", p.errorf("control character in a string")
		default:
			if c >= 0x80 {
				ascii = false
			}
			i++
		}
	}
	p.pos = i
	return "", p.errorf("unterminated string")
}

func (p *parser) number() (json.Number, error) {
	start := p.pos
	d := p.data
	digits := func() int {
		n := 0
		for p.pos < len(d) && d[p.pos] >= '0' && d[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if d[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(d) && d[p.pos] == '0':
		p.pos++
	case digits() == 0:
		return "", p.errorf("bad number")
	}
	if p.pos < len(d) && d[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return "", p.errorf("bad number")
		}
	}
	if p.pos < len(d) && (d[p.pos] == 'e' || d[p.pos] == 'E') {
		p.pos++
		if p.pos < len(d) && (d[p.pos] == '+' || d[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return "", p.errorf("bad number")
		}
	}
	if p.text == "" {
		p.text = string(d)
	}
	return json.Number(p.text[start:p.pos]), nil
}

// maxPageBytes bounds one page's answer as it is read; a 1000-record page of full mailboxes
// is under 10 MB.
const maxPageBytes = 256 << 20

// errPageTooLarge is an answer longer than maxPageBytes.
var errPageTooLarge = fmt.Errorf("a page is larger than %d MB; ask for fewer records with a smaller page size", maxPageBytes>>20)

// scanner cuts the next JSON value out of a stream, reading more as it needs: a record is
// parsed from the bytes of that record alone, so a page never has to be in memory whole.
type scanner struct {
	r        io.Reader
	buf      []byte
	pos, end int   // buf[pos:end] is read and not yet consumed
	read     int64 // bytes read so far, for maxPageBytes
	err      error // the reader's error, once it returned one
}

const scanChunk = 64 << 10

// fill reads more, keeping buf[keep:end] (moved to the front); it reports whether any
// bytes came.
func (s *scanner) fill(keep int) bool {
	if s.err != nil {
		return false
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:s.end])
		s.pos -= keep
		s.end = n
	}
	if len(s.buf)-s.end < scanChunk/2 {
		nb := make([]byte, max(2*len(s.buf), s.end+scanChunk))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		s.read += int64(n)
		if s.read > maxPageBytes {
			s.err = errPageTooLarge
			return false
		}
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			s.err = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// failure is the error for an answer that ended early: the reader's, or a plain end.
func (s *scanner) failure(what string) error {
	if s.err != nil {
		return s.err
	}
	return fmt.Errorf("JSON at byte %d: unexpected end %s", s.read-int64(s.end-s.pos), what)
}

// next skips white space and returns the next byte, not consuming it; ok is false at the end.
func (s *scanner) next() (byte, bool) {
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, true
			}
		}
		if !s.fill(s.pos) {
			return 0, false
		}
	}
}

// expect consumes the byte c after white space.
func (s *scanner) expect(c byte, what string) error {
	got, ok := s.next()
	if !ok {
		return s.failure(what)
	}
	if got != c {
		return fmt.Errorf("JSON at byte %d: expected %q %s, not %q", s.read-int64(s.end-s.pos), c, what, got)
	}
	s.pos++
	return nil
}

// value returns the bytes of the next JSON value (valid until the next call) without checking
// more than its extent: strings and nesting are followed, the parser checks the rest.
func (s *scanner) value() ([]byte, error) {
	c, ok := s.next()
	if !ok {
		return nil, s.failure("before a value")
	}
	switch c {
	case ',', ':', ']', '}':
		return nil, fmt.Errorf("JSON at byte %d: expected a value, not %q", s.read-int64(s.end-s.pos), c)
	}
	i := s.pos // index of the value's next byte to look at
	depth := 0
	resume := -1 // in a string cut by the end of the buffer: where the search for its quote goes on
	for {
		for i < s.end {
			c = s.buf[i]
			switch c {
			case '"':
				// To the closing quote: the next quote not escaped.
				j := i + 1
				if resume > j {
					j = resume // the bytes before were searched already: a long string stays linear
				}
				for {
					k := bytes.IndexByte(s.buf[j:s.end], '"')
					if k < 0 {
						resume = s.end
						j = -1
						break
					}
					j += k
					bs := 0
					for b := j - 1; b > i && s.buf[b] == '\\'; b-- {
						bs++
					}
					if bs%2 == 0 {
						break
					}
					j++
				}
				if j < 0 {
					goto more
				}
				resume = -1
				i = j + 1
				if depth == 0 {
					return s.take(i), nil
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth == 0 {
					return s.take(i), nil // the end of the object holding a literal
				}
				depth--
				if depth == 0 {
					return s.take(i + 1), nil
				}
			case ',', ' ', '\t', '\n', '\r', ':':
				if depth == 0 {
					return s.take(i), nil
				}
			}
			i++
		}
	more:
		start := s.pos
		if !s.fill(start) {
			if depth == 0 && i > s.pos && s.err == nil {
				return s.take(s.end), nil // a literal at the very end
			}
			return nil, s.failure("in a value")
		}
		i -= start
		if resume >= 0 {
			resume -= start
		}
	}
}

// take consumes buf[pos:end] and returns it.
func (s *scanner) take(end int) []byte {
	v := s.buf[s.pos:end]
	s.pos = end
	return v
}

// decodePage reads one InvokeCommand answer into a Page, from the stream as it arrives. With
// each, every record of "value" goes to each as soon as its closing brace is read and the
// Page holds none; without, they are collected in Page.Records. delivered counts the records
// given to each (so a caller knows whether a failure came before any output).
func decodePage(r io.Reader, each func(*Record) error) (page *Page, next string, delivered int, err error) {
	s := &scanner{r: r}
	p := &parser{}
	page = &Page{}
	if err := s.expect('{', "at the start of the answer"); err != nil {
		return nil, "", 0, err
	}
	for first := true; ; first = false {
		c, ok := s.next()
		if !ok {
			return nil, "", delivered, s.failure("in the answer")
		}
		if c == '}' && first {
			s.pos++
			break
		}
		if c != '"' {
			return nil, "", delivered, fmt.Errorf("JSON: expected a property name in the answer, not %q", c)
		}
		raw, err := s.value()
		if err != nil {
			return nil, "", delivered, err
		}
		p.reset(raw)
		key, err := p.str()
		if err != nil {
			return nil, "", delivered, err
		}
		if err := s.expect(':', "after "+key); err != nil {
			return nil, "", delivered, err
		}
		if key == "value" {
			n, err := decodeRecords(s, p, page, each)
			delivered += n
			if err != nil {
				return nil, "", delivered, err
			}
		} else {
			raw, err := s.value()
			if err != nil {
				return nil, "", delivered, err
			}
			p.reset(raw)
			v, err := p.value(0)
			if err == nil && p.pos != len(raw) {
				err = p.errorf("unexpected data after the value of %s", key)
			}
			if err != nil {
				return nil, "", delivered, err
			}
			switch key {
			case "@odata.nextLink":
				next, _ = v.(string)
			case "@adminapi.warnings":
				page.Warnings = append(page.Warnings, texts(v)...)
			case "@adminapi.errors":
				page.Errors = append(page.Errors, texts(v)...)
			case "@adminapi.confirmationmessage":
				page.ConfirmationMessage, _ = v.(string)
			}
		}
		c, ok = s.next()
		if !ok {
			return nil, "", delivered, s.failure("in the answer")
		}
		s.pos++
		if c == ',' {
			continue
		}
		if c == '}' {
			break
		}
		return nil, "", delivered, fmt.Errorf("JSON: expected ',' or '}' in the answer, not %q", c)
	}
	if _, ok := s.next(); ok {
		return nil, "", delivered, errors.New("JSON: unexpected data after the answer")
	}
	if s.err != nil {
		return nil, "", delivered, s.err
	}
	return page, next, delivered, nil
}

// decodeRecords reads the "value" array record by record.
func decodeRecords(s *scanner, p *parser, page *Page, each func(*Record) error) (delivered int, err error) {
	if err := s.expect('[', "for value"); err != nil {
		return 0, err
	}
	if c, ok := s.next(); ok && c == ']' {
		s.pos++
		return 0, nil
	}
	for {
		raw, err := s.value()
		if err != nil {
			return delivered, err
		}
		if raw[0] != '{' {
			return delivered, fmt.Errorf("value holds a %s, not an object", kindOf(raw[0]))
		}
		p.reset(raw)
		rec, err := p.object(0)
		if err == nil && p.pos != len(raw) {
			err = p.errorf("unexpected data after a record")
		}
		if err != nil {
			return delivered, err
		}
		if each != nil {
			if err := each(rec); err != nil {
				return delivered, &recordFuncError{err}
			}
			delivered++
		} else {
			page.Records = append(page.Records, rec)
		}
		c, ok := s.next()
		if !ok {
			return delivered, s.failure("in value")
		}
		s.pos++
		switch c {
		case ',':
		case ']':
			return delivered, nil
		default:
			return delivered, fmt.Errorf("JSON: expected ',' or ']' in value, not %q", c)
		}
	}
}

// recordFuncError carries the error of WithRecords' function through the decoder unchanged.
type recordFuncError struct{ err error }

func (e *recordFuncError) Error() string { return e.err.Error() }
func (e *recordFuncError) Unwrap() error { return e.err }

func kindOf(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}
