package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/psparam"
)

// Version is set at build time.
var Version = "dev"

// NewRootCmd builds exoctl's command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "exoctl",
		Short: "Exchange Online administration from one fast binary",
		Long: `exoctl connects to Exchange Online like Connect-ExchangeOnline, runs cmdlets over its REST
API with PowerShell's parameter syntax, and ships a local emulator for offline testing.

` + exitCodesHelp,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.AddCommand(
		newConnectCmd(f),
		newRunCmd(f),
		newConnectionsCmd(f),
		newDisconnectCmd(f),
		newEnvironmentsCmd(f),
		newEmulatorCmd(f),
		newDemoCmd(f),
		newTokenCmd(f),
		newShellCmd(f),
		newBulkCmd(f),
	)
	// `exoctl Get-Mai<Tab>`: the shorthand's cmdlet names, beside the subcommands.
	root.ValidArgsFunction = completeCmdlet(f, &RunOptions{})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	strictCommands(root)
	return root
}

// Main runs exoctl with args and returns the process exit code.
func Main(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	f.args = args
	root.SetArgs(shorthand(root, args))
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	var syntax *psparam.SyntaxError
	var child *exitError
	switch {
	case err == nil:
	case errors.As(err, &child):
		// exoctl-emulator said what went wrong itself.
	case code == ExitInterrupted:
		fmt.Fprintln(f.IO.ErrOut, "exoctl: interrupted")
	case errors.As(err, &syntax):
		// The offending line with a caret under the token: meant to span lines.
		fmt.Fprintf(f.IO.ErrOut, "exoctl: %v\n", err)
	default:
		// One line, whatever the layers below put in their messages.
		fmt.Fprintf(f.IO.ErrOut, "exoctl: %s\n", strings.Join(strings.Fields(err.Error()), " "))
	}
	return code
}

var cmdletName = regexp.MustCompile(`^[A-Za-z]+-[A-Za-z0-9]+$`)

// shorthand turns `exoctl Get-Mailbox ...` into `exoctl run Get-Mailbox ...`.
func shorthand(root *cobra.Command, args []string) []string {
	if len(args) == 0 || !cmdletName.MatchString(args[0]) {
		return args
	}
	if c, _, err := root.Find(args[:1]); err == nil && c != root {
		return args
	}
	return append([]string{"run"}, args...)
}

// Run is a program's main: it runs os.Args with f and returns the exit code. The first Ctrl-C
// or SIGTERM cancels the command's context (run flushes what it printed, bulk lets the rows in
// flight finish); the second stops at once.
func Run(f *Factory) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		first := true
		for sig := range sigs {
			if sig == os.Interrupt && f.OwnsInterrupt() {
				continue // the shell cancels its running cmdlet itself
			}
			if first {
				first = false
				cancel()
				continue
			}
			fmt.Fprintln(os.Stderr, "exoctl: stopped at once")
			os.Exit(ExitInterrupted)
		}
	}()
	return Main(ctx, f, os.Args[1:])
}
