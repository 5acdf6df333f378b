package format

import (
	"bufio"
	"encoding/csv"

	"github.com/exoctl/exoctl/exo"
)

// csvWriter is ConvertTo-Csv without the type line: a header of the first record's property
// names (or Properties), then one line per record, quoted only where RFC 4180 needs it.
// Collections and nested objects are written as exo.FormatValue shows them.
type csvWriter struct {
	out    *bufio.Writer
	cw     *csv.Writer
	opts   Options
	sel    *selector
	row    []string
	closed bool
}

func newCSVWriter(out *bufio.Writer, opts Options) *csvWriter {
	return &csvWriter{out: out, cw: csv.NewWriter(out), opts: opts}
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
		if err := c.cw.Write(c.sel.names); err != nil {
			return err
		}
	}
	c.row = c.row[:0]
	for k := range c.sel.names {
		c.row = append(c.row, exo.FormatValue(c.sel.get(r, k)))
	}
	return c.cw.Write(c.row)
}

func (c *csvWriter) Flush() error {
	if c.closed {
		return ErrClosed
	}
	return c.flush()
}

func (c *csvWriter) flush() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.out.Flush()
}

func (c *csvWriter) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	return c.flush()
}
