package format

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/exoctl/exoctl/exo"
)

// Options chooses how a Writer renders records.
type Options struct {
	// Format is one of Formats(), or "" for the type's default view: a table or a list chosen
	// by PowerShell's rules.
	Format string
	// TypeName is the object type the records belong to, the noun of the cmdlet that returned
	// them (see TypeNameFor). It picks the default view.
	TypeName string
	// Properties are the properties to show, in order, like Select-Object or
	// Format-Table -Property: names match case-insensitively and may hold the wildcards * and ?.
	// With the default format they are the columns of a table. Nil means the default view.
	Properties []string
	// Width is the terminal width a table and a list must fit; 0 means no limit.
	Width int
	// Warn, when set, receives the warnings PowerShell would print (without its "WARNING: "
	// prefix), such as columns that do not fit into Width. Nil drops them.
	Warn func(msg string)
}

// Writer renders a stream of records. Write takes one record; Flush marks the end of a page,
// and everything written so far reaches the output; Close ends the output. A Writer is not
// safe for concurrent use.
type Writer interface {
	Write(r *exo.Record) error
	Flush() error
	Close() error
}

// The output formats.
const (
	Table  = "table"
	List   = "list"
	JSON   = "json"
	NDJSON = "ndjson"
	CSV    = "csv"
)

// Formats returns the names New accepts, besides "" for the default view.
func Formats() []string {
	return []string{Table, List, JSON, NDJSON, CSV}
}

// ErrClosed is returned by Write and Flush after Close.
var ErrClosed = errors.New("format: writer is closed")

// New returns a Writer that renders records to w as opts says.
func New(w io.Writer, opts Options) (Writer, error) {
	out := bufio.NewWriterSize(w, 32<<10)
	opts.Properties = nonEmpty(opts.Properties)
	switch strings.ToLower(opts.Format) {
	case "":
		return &autoWriter{out: out, opts: opts}, nil
	case Table:
		return newTableWriter(out, opts, tableColumnsFor(opts)), nil
	case List:
		return newListWriter(out, opts), nil
	case JSON:
		return newJSONWriter(out, opts, false), nil
	case NDJSON:
		return newJSONWriter(out, opts, true), nil
	case CSV:
		return newCSVWriter(out, opts), nil
	}
	return nil, fmt.Errorf("unknown output format %q: use one of %s", opts.Format, strings.Join(Formats(), ", "))
}

// TypeNameFor returns the object type a cmdlet's output has: the noun of Verb-Noun
// (Get-AcceptedDomain -> AcceptedDomain), spelled as the view registry spells it when the
// type has a default view.
func TypeNameFor(cmdlet string) string {
	noun := strings.TrimSpace(cmdlet)
	if i := strings.IndexByte(noun, '-'); i >= 0 {
		noun = noun[i+1:]
	}
	if v, ok := lookupView(noun); ok {
		return v.typeName
	}
	return noun
}

// autoWriter is the default format: it picks a table or a list at the first record, because
// PowerShell's rule for a type without a view depends on how many properties its objects have.
type autoWriter struct {
	out    *bufio.Writer
	opts   Options
	inner  Writer
	closed bool
}

func (a *autoWriter) Write(r *exo.Record) error {
	if a.closed {
		return ErrClosed
	}
	if r == nil {
		return nil
	}
	// As in PowerShell, the view does not depend on how many objects come: one mailbox prints
	// as the type's table with one row (Format-List, -o list, shows every property).
	if a.inner == nil {
		a.inner = a.choose(r)
	}
	return a.inner.Write(r)
}

// choose applies PowerShell's rules: explicit properties make table columns; a registered
// view decides; otherwise a table for up to four properties and a list beyond.
func (a *autoWriter) choose(first *exo.Record) Writer {
	if a.opts.Properties != nil {
		return newTableWriter(a.out, a.opts, nil)
	}
	if v, ok := lookupView(a.opts.TypeName); ok {
		if v.list {
			return newListWriter(a.out, a.opts)
		}
		return newTableWriter(a.out, a.opts, v.columns)
	}
	if len(first.Fields) <= maxTableProperties {
		return newTableWriter(a.out, a.opts, nil)
	}
	return newListWriter(a.out, a.opts)
}

func (a *autoWriter) Flush() error {
	if a.closed {
		return ErrClosed
	}
	if a.inner == nil {
		return a.out.Flush()
	}
	return a.inner.Flush()
}

func (a *autoWriter) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	if a.inner == nil {
		return a.out.Flush()
	}
	return a.inner.Close()
}

func nonEmpty(props []string) []string {
	var out []string
	for _, p := range props {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
