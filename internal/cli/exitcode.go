package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/exo"
)

// Exit codes of exoctl, like gh's: scripts tell a failure that needs a person (sign in again)
// from one worth retrying later (throttled) without reading the message.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2   // unknown command or flag, wrong arguments
	ExitSignIn      = 4   // sign-in needed, expired or no longer accepted
	ExitThrottled   = 5   // the service throttled the tenant for longer than exoctl waits
	ExitInterrupted = 130 // Ctrl-C or SIGTERM
)

// exitCodesHelp is the table printed by --help and in the README.
const exitCodesHelp = `Exit codes:
  0    success
  1    error
  2    usage: unknown command or flag, wrong arguments
  4    sign-in needed or expired: run exoctl connect again
  5    throttled by the service for longer than exoctl waits: run again later
  130  interrupted (Ctrl-C, SIGTERM)`

// usageError is a command line exoctl cannot read: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// cobraUsage are the beginnings of the usage errors cobra makes itself.
var cobraUsage = []string{
	"unknown command ", "unknown flag: ", "unknown shorthand flag: ", "required flag(s) ",
	"flag needs an argument: ", "invalid argument ", "accepts ", "requires at least ",
	"accepts at most ", "if any flags in the group ",
}

// exitCode maps a command's error to the process exit code.
func exitCode(err error) int {
	var ue *usageError
	var te *exo.ThrottledError
	var ce *exo.CmdletError
	var child *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &child):
		return child.code
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &te):
		return ExitThrottled
	case errors.Is(err, auth.ErrSignInRequired):
		return ExitSignIn
	case errors.As(err, &ce) && ce.StatusCode == http.StatusUnauthorized:
		return ExitSignIn
	}
	msg := err.Error()
	for _, p := range cobraUsage {
		if strings.HasPrefix(msg, p) {
			return ExitUsage
		}
	}
	return ExitError
}

// strictCommands makes every command of the tree refuse what it cannot read with a usage
// error: a group command (exoctl emulator) given an unknown subcommand, a command given the
// wrong number of arguments, an unknown flag.
func strictCommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		strictCommands(sub)
	}
	c.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%w (%s --help lists the flags)", err, cmd.CommandPath())}
	})
	if !c.Runnable() && c.HasSubCommands() {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(": did you mean %s %s?", cmd.CommandPath(), s[0])
			} else {
				msg += fmt.Sprintf(": %s --help lists its commands", cmd.CommandPath())
			}
			return &usageError{errors.New(msg)}
		}
		c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
		return
	}
	if inner := c.Args; inner != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := inner(cmd, args); err != nil {
				return &usageError{fmt.Errorf("%w (%s --help shows how to use it)", err, cmd.CommandPath())}
			}
			return nil
		}
	}
}
