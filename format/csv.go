package format

import (
	"bufio"
	"unicode"
	"unicode/utf8"

	"github.com/exoctl/exoctl/exo"
)

// csvWriter is ConvertTo-Csv without the type line: a header of the first record's property
// names (or Properties), then one line per record, quoted only where RFC 4180 needs it (as
// encoding/csv quotes: a field with a comma, a quote, CR or LF, a leading space, or \.).
// Collections and nested objects are written as exo.FormatValue shows them. Fields are appended
// to one buffer and written straight to out: a 100,000-mailbox export allocates no string per
// field.
type csvWriter struct {
	out    *bufio.Writer
	opts   Options
	sel    *selector
	field  []byte
	closed bool
}

func newCSVWriter(out *bufio.Writer, opts Options) *csvWriter {
	return &csvWriter{out: out, opts: opts}
}

func (c *csvWriter) Write(r *exo.Record) error {
	if c.closed {
		return ErrClosed
	}
	if r == nil {
		return nil
	}
	if c.sel == nil {
		c.sel = newSelector(c.opts.Properties, r)
		for k, n := range c.sel.names {
			if k > 0 {
				c.out.WriteByte(',')
			}
			c.writeField(append(c.field[:0], n...))
		}
		if err := c.out.WriteByte('\n'); err != nil {
			return err
		}
	}
	for k := range c.sel.names {
		if k > 0 {
			c.out.WriteByte(',')
		}
		c.field = exo.AppendFormatValue(c.field[:0], c.sel.get(r, k))
		c.writeField(c.field)
	}
	return c.out.WriteByte('\n')
}

// writeField writes one field, quoted as encoding/csv quotes it.
func (c *csvWriter) writeField(f []byte) {
	if !csvNeedsQuotes(f) {
		c.out.Write(f)
		return
	}
	c.out.WriteByte('"')
	for len(f) > 0 {
		i := 0
		for i < len(f) && f[i] != '"' {
			i++
		}
		c.out.Write(f[:i])
		f = f[i:]
		if len(f) > 0 {
			c.out.WriteString(`""`)
			f = f[1:]
		}
	}
	c.out.WriteByte('"')
}

// csvNeedsQuotes is encoding/csv's rule for a comma-separated field.
func csvNeedsQuotes(f []byte) bool {
	if len(f) == 0 {
		return false
	}
	if string(f) == `\.` {
		return true
	}
	for _, c := range f {
		if c == '\n' || c == '\r' || c == '"' || c == ',' {
			return true
		}
	}
	r, _ := utf8.DecodeRune(f)
	return unicode.IsSpace(r)
}

func (c *csvWriter) Flush() error {
	if c.closed {
		return ErrClosed
	}
	return c.out.Flush()
}

func (c *csvWriter) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	return c.out.Flush()
}
