// Package cli is exoctl's command line: one file per command, each an options struct plus a run
// function, with IO streams injected so tests run commands in-process.
package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"

	"golang.org/x/term"

	"github.com/exoctl/exoctl/connection"
)

// IOStreams are a command's standard streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Interactive reports whether In and Out are terminals (prompts, colours, widths).
	Interactive bool
	// Width is the terminal width, 0 when not a terminal.
	Width int
}

// SystemIO returns the process's streams.
func SystemIO() *IOStreams {
	io := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	if term.IsTerminal(int(os.Stdout.Fd())) && term.IsTerminal(int(os.Stdin.Fd())) {
		io.Interactive = true
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			io.Width = w
		}
	}
	return io
}

// Factory holds what commands share: streams, environment, the state folder.
type Factory struct {
	IO     *IOStreams
	Getenv func(string) string
	Logger *slog.Logger

	// StartEmulator starts the built-in emulator for `demo` and `emulator start`. It is nil in
	// exoctl, which links no emulator and runs exoctl-emulator for those commands instead.
	StartEmulator EmulatorStarter

	// args are the command line Main runs, for handing it to exoctl-emulator.
	args []string
	// replaceProcess lets exoctl-emulator take over the process (NewFactory's real process only).
	replaceProcess bool

	// ownsInterrupt is set while a command handles Ctrl-C itself (the shell cancels the
	// running cmdlet and goes on): the process then does not cancel the command on SIGINT.
	// Nil in tests that build a Factory by hand.
	ownsInterrupt *atomic.Bool
}

// OwnsInterrupt reports whether the running command handles Ctrl-C itself.
func (f *Factory) OwnsInterrupt() bool { return f.ownsInterrupt != nil && f.ownsInterrupt.Load() }

// handleInterrupt says that the running command handles Ctrl-C itself until done is called.
func (f *Factory) handleInterrupt() (done func()) {
	if f.ownsInterrupt == nil {
		return func() {}
	}
	f.ownsInterrupt.Store(true)
	return func() { f.ownsInterrupt.Store(false) }
}

// Home is exoctl's state folder: EXOCTL_HOME, else the user config folder + /exoctl.
func (f *Factory) Home() (string, error) { return connection.DefaultHome(f.Getenv) }

// connections opens the saved connections in exoctl's folder.
func (f *Factory) connections() (*connection.Store, error) {
	home, err := f.Home()
	if err != nil {
		return nil, err
	}
	return connection.Open(home, connection.Options{Getenv: f.Getenv, Logger: f.Logger})
}

// warn prints a warning the way PowerShell does, on the error stream.
func (f *Factory) warn(msg string) {
	fmt.Fprintf(f.IO.ErrOut, "WARNING: %s\n", msg)
}

// NewFactory returns a Factory for the real process.
func NewFactory() *Factory {
	io := SystemIO()
	return &Factory{IO: io, Getenv: os.Getenv, Logger: newWarnLogger(io.ErrOut, os.Getenv("EXOCTL_VERBOSE") != ""), ownsInterrupt: new(atomic.Bool), replaceProcess: true}
}
