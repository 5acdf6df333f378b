package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// warnHandler prints warnings and errors from the layers below (a corrupt token cache moved
// aside, a key file readable by others) as PowerShell prints warnings: one line on the error
// stream. Lower levels are dropped unless verbose.
type warnHandler struct {
	mu      *sync.Mutex
	w       io.Writer
	level   slog.Level
	attrs   []slog.Attr
	verbose bool
}

func newWarnLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(&warnHandler{mu: &sync.Mutex{}, w: w, level: level, verbose: verbose})
}

func (h *warnHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *warnHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("ERROR: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("WARNING: ")
	default:
		b.WriteString("VERBOSE: ")
	}
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *warnHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

func (h *warnHandler) WithGroup(string) slog.Handler { return h }
