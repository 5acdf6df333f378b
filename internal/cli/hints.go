package cli

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/exoctl/exoctl/connection"
)

// hintError puts what to do next in place of a low-level error's text, keeping the error
// for errors.Is and errors.As (and so for the exit code).
type hintError struct {
	msg string
	err error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

// withTimeout bounds a command, a bulk row or a shell line by --timeout; 0 is no bound.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// timeoutUsage is the help of every --timeout flag.
const timeoutUsage = "give up after this long, e.g. 90s or 10m (0: no limit; the service itself stops a cmdlet after 15 minutes)"

// explain says what to do next about a cmdlet call's error: the --timeout it ran out of, or
// the service (the emulator) that does not answer.
func explain(err error, p *connection.Profile, timeout time.Duration) error {
	switch {
	case err == nil:
		return nil
	case timeout > 0 && errors.Is(err, context.DeadlineExceeded):
		return &hintError{fmt.Sprintf("%v: gave up after --timeout %s; give it more time with a longer --timeout (0: no limit)", err, timeout), err}
	case p != nil && errors.Is(err, syscall.ECONNREFUSED):
		if p.Emulator {
			return &hintError{fmt.Sprintf("the emulator at %s is not running: start it with exoctl emulator start", p.ConnectionURI), err}
		}
		return &hintError{fmt.Sprintf("nothing answers at %s (connection refused): check the network, or connect again with exoctl connect --connection-uri", p.ConnectionURI), err}
	}
	return err
}
