package format

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/exoctl/exoctl/exo"
)

// tableWriter is Format-Table: a blank line, the header, a line of dashes, the rows, and a
// blank line at the end. Column widths come from the header and the first page's values
// (PowerShell measures the first objects it sees); later pages reuse them, so rows print as
// pages arrive.
// minCapWidth is the narrowest a column is capped to when the table must fit Width, unless its
// header or its values are narrower still.
const minCapWidth = 8

type tableWriter struct {
	out     *bufio.Writer
	opts    Options
	columns []string // the view's columns; nil: the selected properties
	sel     *selector
	right   []bool // numeric columns, aligned right as PowerShell does
	pending [][]string
	widths  []int // fixed at the first page; -1 marks a column that does not fit
	lastCol int   // the last visible column
	lastMax int   // how wide the last column may run; 0: no limit
	line    []byte
	started bool // the header is out
	closed  bool
}

func newTableWriter(out *bufio.Writer, opts Options, columns []string) *tableWriter {
	return &tableWriter{out: out, opts: opts, columns: columns}
}

func (t *tableWriter) Write(r *exo.Record) error {
	if t.closed {
		return ErrClosed
	}
	if r == nil {
		return nil
	}
	if t.sel == nil {
		names := t.opts.Properties
		if names == nil {
			names = t.columns
		}
		t.sel = newSelector(names, r)
		t.right = make([]bool, len(t.sel.names))
		for k := range t.sel.names {
			t.right[k] = isNumber(t.sel.get(r, k))
		}
	}
	cells := make([]string, len(t.sel.names))
	for k := range cells {
		cells[k] = cleanCell(displayValue(t.sel.get(r, k)))
	}
	if t.widths == nil {
		t.pending = append(t.pending, cells)
		return nil
	}
	return t.writeRow(cells, false)
}

// Flush prints the page: on the first page with rows it fixes the column widths and prints
// the header first.
func (t *tableWriter) Flush() error {
	if t.closed {
		return ErrClosed
	}
	return t.flush()
}

func (t *tableWriter) flush() error {
	if t.widths == nil && len(t.pending) > 0 {
		t.layout()
		if t.lastCol < 0 {
			t.pending = nil // nothing to show: no columns, or none fits
			return t.out.Flush()
		}
		t.started = true
		t.out.WriteByte('\n')
		header := make([]string, len(t.sel.names))
		dashes := make([]string, len(t.sel.names))
		for k, name := range t.sel.names {
			header[k] = cleanCell(name)
			if t.widths[k] > 0 {
				dashes[k] = strings.Repeat("-", min(t.widths[k], displayWidth(header[k])))
			}
		}
		t.writeRow(header, true)
		t.writeRow(dashes, true)
		for _, cells := range t.pending {
			t.writeRow(cells, false)
		}
		t.pending = nil
	}
	return t.out.Flush()
}

func (t *tableWriter) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	if err := t.flush(); err != nil {
		return err
	}
	if t.started {
		t.out.WriteByte('\n')
	}
	return t.out.Flush()
}

// layout sets the column widths from the header and the first page, then fits them into
// Width: first it caps the widest columns, one cell at a time, down to their header's width
// (at least minCapWidth cells) so every column stays; only if that is not enough does it do
// what PowerShell's ColumnWidthManager does, shrinking the last visible column and hiding it
// when it would be narrower than one cell.
func (t *tableWriter) layout() {
	t.widths = make([]int, len(t.sel.names))
	floor := make([]int, len(t.sel.names))
	for k, name := range t.sel.names {
		t.widths[k] = displayWidth(cleanCell(name))
		floor[k] = max(t.widths[k], minCapWidth)
	}
	for _, cells := range t.pending {
		for k, c := range cells {
			t.widths[k] = max(t.widths[k], displayWidth(c))
		}
	}
	for k := range t.widths {
		t.widths[k] = max(t.widths[k], 1)
		floor[k] = min(floor[k], t.widths[k])
	}
	hidden := 0
	if t.opts.Width > 0 {
		for t.tableWidth() > t.opts.Width {
			widest := -1
			for k, w := range t.widths {
				if w > floor[k] && (widest < 0 || w > t.widths[widest]) {
					widest = k
				}
			}
			if widest < 0 {
				break
			}
			t.widths[widest]--
		}
		for {
			excess := t.tableWidth() - t.opts.Width
			last := t.lastVisible()
			if excess <= 0 || last < 0 {
				break
			}
			if t.widths[last]-excess < 1 {
				t.widths[last] = -1
				hidden++
				continue
			}
			t.widths[last] -= excess
		}
	}
	t.lastCol = t.lastVisible()
	if t.opts.Width > 0 && t.lastCol >= 0 {
		t.lastMax = t.opts.Width - (t.tableWidth() - t.widths[t.lastCol])
	}
	if hidden > 0 && t.opts.Warn != nil {
		t.opts.Warn(fmt.Sprintf("%d columns do not fit into the display and were removed.", hidden))
	}
}

// tableWidth is the width of the visible columns and the spaces between them.
func (t *tableWriter) tableWidth() int {
	sum, n := 0, 0
	for _, w := range t.widths {
		if w > 0 {
			sum += w
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum + n - 1
}

func (t *tableWriter) lastVisible() int {
	for k, w := range t.widths {
		if w < 0 {
			return k - 1
		}
	}
	return len(t.widths) - 1
}

// writeRow prints one line: cells padded to their column, truncated with an ellipsis when too
// long. The last column is not padded and may run on (up to Width, when one is set).
func (t *tableWriter) writeRow(cells []string, header bool) error {
	if t.lastCol < 0 {
		return nil
	}
	b := t.line[:0]
	for k := 0; k <= t.lastCol; k++ {
		if k > 0 {
			b = append(b, ' ')
		}
		s, width, right := cells[k], t.widths[k], t.right[k]
		limit := width
		if k == t.lastCol && !header {
			limit = t.lastMax
		}
		if limit > 0 && displayWidth(s) > limit {
			if right && !header {
				s = truncateHead(s, limit)
			} else {
				s = truncateTail(s, limit)
			}
		}
		pad := width - displayWidth(s)
		if right && pad > 0 {
			b = append(b, spaces(pad)...)
		}
		b = append(b, s...)
		if !right && k < t.lastCol && pad > 0 {
			b = append(b, spaces(pad)...)
		}
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	b = append(b, '\n')
	t.line = b
	_, err := t.out.Write(b)
	return err
}
