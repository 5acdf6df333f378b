package format

import (
	"bufio"
	"strings"

	"github.com/exoctl/exoctl/exo"
)

// minWrapWidth is the narrowest value column a list wraps into; narrower, values run on.
const minWrapWidth = 20

// listWriter is Format-List: each record a block of "Name : value" lines, names padded to the
// longest name in the record, a blank line before each block and one at the end. Values
// spanning several lines, or wider than Width, continue under the value column.
type listWriter struct {
	out    *bufio.Writer
	opts   Options
	sel    *selector // nil: every property of each record
	names  []string
	values []string
	indent string
	any    bool
	closed bool
}

func newListWriter(out *bufio.Writer, opts Options) *listWriter {
	return &listWriter{out: out, opts: opts}
}

func (l *listWriter) Write(r *exo.Record) error {
	if l.closed {
		return ErrClosed
	}
	if r == nil {
		return nil
	}
	if l.sel == nil && l.opts.Properties != nil {
		l.sel = newSelector(l.opts.Properties, r)
	}
	l.names, l.values = l.names[:0], l.values[:0]
	if l.sel != nil {
		for k, n := range l.sel.names {
			l.names = append(l.names, n)
			l.values = append(l.values, displayValue(l.sel.get(r, k)))
		}
	} else {
		for _, f := range r.Fields {
			l.names = append(l.names, f.Name)
			l.values = append(l.values, displayValue(f.Value))
		}
	}
	if len(l.names) == 0 {
		return nil
	}
	pad := 0
	for i, n := range l.names {
		l.names[i] = cleanLine(n)
		pad = max(pad, displayWidth(l.names[i]))
	}
	if len(l.indent) != pad+3 {
		l.indent = strings.Repeat(" ", pad+3)
	}
	indent := l.indent
	wrap := 0
	if l.opts.Width > 0 && l.opts.Width-len(indent) >= minWrapWidth {
		wrap = l.opts.Width - len(indent)
	}
	l.any = true
	l.out.WriteByte('\n')
	for i, name := range l.names {
		l.out.WriteString(name)
		if n := pad - displayWidth(name); n > 0 {
			l.out.WriteString(spaces(n))
		}
		l.out.WriteString(" :")
		if v := l.values[i]; isPlainASCII(v) && (wrap == 0 || len(v) <= wrap) {
			// The common case: one short line.
			if v = strings.TrimRight(v, " "); v != "" {
				l.out.WriteByte(' ')
				l.out.WriteString(v)
			}
		} else {
			for j, line := range valueLines(v, wrap) {
				if j == 0 {
					if line != "" {
						l.out.WriteByte(' ')
					}
				} else {
					l.out.WriteByte('\n')
					if line != "" {
						l.out.WriteString(indent)
					}
				}
				l.out.WriteString(line)
			}
		}
		if err := l.out.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}

// valueLines splits a value at its line breaks and, when wrap > 0, cuts each line to wrap cells.
func valueLines(s string, wrap int) []string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		line = strings.TrimRight(cleanLine(line), " ")
		for wrap > 0 && displayWidth(line) > wrap {
			head := cutWidth(line, wrap)
			lines = append(lines, head)
			line = line[len(head):]
		}
		lines = append(lines, line)
	}
	return lines
}

// cutWidth returns the longest prefix of s at most width cells wide (at least one rune).
func cutWidth(s string, width int) string {
	n := 0
	for i, r := range s {
		w := runeWidth(r)
		if n+w > width && i > 0 {
			return s[:i]
		}
		n += w
	}
	return s
}

func (l *listWriter) Flush() error {
	if l.closed {
		return ErrClosed
	}
	return l.out.Flush()
}

func (l *listWriter) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	if l.any {
		l.out.WriteByte('\n')
	}
	return l.out.Flush()
}

const blanks = "                                                                "

// spaces returns n spaces.
func spaces(n int) string {
	if n <= len(blanks) {
		return blanks[:n]
	}
	return strings.Repeat(" ", n)
}
