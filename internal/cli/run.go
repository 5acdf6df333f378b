package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/connection"
	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/format"
	"github.com/exoctl/exoctl/psparam"
)

// RunOptions are `exoctl run`'s flags; everything after the cmdlet name is PowerShell parameters.
type RunOptions struct {
	Output string
	// Connections select saved connections: Id, ConnectionId or prefix each, comma lists
	// ("1,3,5") or prefix patterns ("contoso*"). More than one runs the cmdlet in each.
	Connections []string
	// All runs the cmdlet in every saved connection.
	All bool
	// Tenants runs the cmdlet in each of these tenants (a file of names or ids, one a line, or
	// a comma list) from one connection's sign-in.
	Tenants string
	// Parallel bounds how many tenants run at once (connection.DefaultParallel when 0).
	Parallel int
	Select   []string
	// Timeout bounds the whole command (0: none).
	Timeout time.Duration
	Args    []string
}

// Connection is the single connection the options select ("" for the latest).
func (o *RunOptions) Connection() string {
	if len(o.Connections) == 0 {
		return ""
	}
	return o.Connections[0]
}

// fanOut reports whether the options run the cmdlet in more than one tenant.
func (o *RunOptions) fanOut() bool {
	return o.Tenants != "" || o.All || len(o.Connections) > 1 ||
		(len(o.Connections) == 1 && strings.ContainsAny(o.Connections[0], ",*?"))
}

func newRunCmd(f *Factory) *cobra.Command {
	o := &RunOptions{}
	cmd := &cobra.Command{
		Use:   "run [flags] CMDLET [PARAMETERS...]",
		Short: "Run an Exchange Online cmdlet with PowerShell parameter syntax",
		Long: `Run a cmdlet over the Exchange Online REST API, with PowerShell's parameter syntax.
Flags of exoctl go before the cmdlet name; everything after it is the cmdlet's parameters.
Records print as pages arrive.

Cmdlets that ask for confirmation (most Remove-*, or any with -Confirm) prompt like PowerShell
on a terminal; elsewhere they fail and change nothing unless given -Confirm:$false. -WhatIf
prints "What if: ..." and changes nothing.

Many tenants: --tenants (a file of tenant names or ids, one a line, or a comma list) runs the
cmdlet in each customer from one saved sign-in (a partner's user, whose customer tokens are
fetched silently, or a multi-tenant app's certificate); -c 1,3,5, -c 'prefix*' or --all run it
in several saved connections. At most --parallel tenants run at once, each with its own
throttling and retries; every record carries a Tenant property; a tenant's errors go to
standard error without stopping the others, and the exit code is non-zero if any failed.

Get-ConnectionInformation and Disconnect-ExchangeOnline are answered locally, with their
-ConnectionId and -ModulePrefix filters. As with the module's -Prefix, Get-ContosoMailbox runs
Get-Mailbox on the connection saved with --prefix Contoso.`,
		Example: `  exoctl run Get-AcceptedDomain
  exoctl run -o json Get-Mailbox -ResultSize 5
  exoctl run Get-Mailbox alice@contoso.com
  exoctl run -o ndjson Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails SharedMailbox
  exoctl run Set-Mailbox alice -ProhibitSendQuota 49GB -EmailAddresses '@{Add="smtp:al@contoso.com"}'
  exoctl run Remove-Mailbox alice -WhatIf
  exoctl run Remove-Mailbox alice -Confirm:$false
  exoctl run --tenants customers.txt Get-AcceptedDomain
  exoctl run -c 1,3,5 -o csv Get-Mailbox -ResultSize 10
  exoctl run --all Get-ConnectionInformation`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			return runRun(cmd.Context(), f, o)
		},
	}
	cmd.ValidArgsFunction = completeCmdlet(f, o)
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: "+strings.Join(format.Formats(), ", ")+" (default: the type's view)")
	cmd.Flags().StringArrayVarP(&o.Connections, "connection", "c", nil, "connection to use: Id, ConnectionId or prefix (default: the latest); a comma list or a prefix pattern runs in each")
	cmd.Flags().BoolVar(&o.All, "all", false, "run in every saved connection")
	cmd.Flags().StringVar(&o.Tenants, "tenants", "", "run in each tenant of this file (one name or id a line) or comma list, from one connection's sign-in")
	cmd.Flags().IntVar(&o.Parallel, "parallel", connection.DefaultParallel, "tenants at once with --tenants, --all or several connections")
	cmd.Flags().StringSliceVar(&o.Select, "select", nil, "properties to ask for and show, comma-separated ($select)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, timeoutUsage)
	return cmd
}

func runRun(ctx context.Context, f *Factory, o *RunOptions) error {
	c, err := psparam.ParseArgs(o.Args)
	if err != nil {
		return err
	}
	if local, err := runLocalCmdlet(f, o, c); local {
		return err
	}
	ctx, cancel := withTimeout(ctx, o.Timeout)
	defer cancel()
	if o.fanOut() {
		return runFanOut(ctx, f, o, c)
	}
	if _, err := format.New(io.Discard, format.Options{Format: o.Output}); err != nil {
		return err // a wrong -o fails before any sign-in
	}
	st, err := f.connections()
	if err != nil {
		return err
	}
	// One call from here to a session; Get-ContosoMailbox comes back as Get-Mailbox when the
	// connection is the one with prefix Contoso (the module's -Prefix).
	s, prof, name, err := st.ReopenFor(ctx, o.Connection(), c.Name)
	if err != nil {
		return explain(err, prof, o.Timeout)
	}
	defer s.Close()
	c = reparseWithSwitches(st, prof, name, o.Args, c)
	c.Name = name
	w, err := format.New(f.IO.Out, format.Options{
		Format: o.Output, TypeName: format.TypeNameFor(c.Name), Properties: o.Select, Width: f.IO.Width,
		Warn: f.warn,
	})
	if err != nil {
		return err
	}
	var opts []exo.InvokeOption
	if len(o.Select) > 0 {
		opts = append(opts, exo.WithSelect(o.Select...))
	}
	if f.IO.Interactive {
		opts = append(opts, exo.WithConfirm(promptConfirm(f)))
	}
	err = invoke(ctx, f, s, w, c.Name, exo.Params(c.Parameters()), opts...)
	if errors.Is(err, exo.ErrDeclined) {
		return nil // as in PowerShell: answering No prints nothing and is no error
	}
	if err != nil && auth.IsManagedIdentity(s.Credential()) {
		// Say what the identity lacks, not only that the service refused it.
		tok, _ := s.Token(ctx)
		err = auth.ExplainManagedIdentityRefusal(s.Credential(), tok, err)
	}
	return explain(err, prof, o.Timeout)
}

// invoke runs one cmdlet, printing records page by page, warnings and non-terminating errors
// on the error stream.
func invoke(ctx context.Context, f *Factory, s *exo.Session, w format.Writer, cmdlet string, params exo.Params, opts ...exo.InvokeOption) error {
	var runErr, writeErr error
	// Records print as they are read from the answer; each page ends with one Flush.
	opts = append(opts[:len(opts):len(opts)], exo.WithRecords(func(r *exo.Record) error {
		writeErr = w.Write(r)
		return writeErr
	}))
	for page, err := range s.InvokePages(ctx, cmdlet, params, opts...) {
		if writeErr != nil {
			return fmt.Errorf("write output: %w", writeErr)
		}
		if err != nil {
			runErr = err
			break
		}
		for _, r := range page.Records { // a cmdlet that does not stream (Get-EXO*)
			if err := w.Write(r); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		if page.ConfirmationMessage != "" {
			fmt.Fprintf(f.IO.Out, "What if: %s\n", page.ConfirmationMessage)
		}
		for _, m := range page.Errors {
			fmt.Fprintf(f.IO.ErrOut, "ERROR: %s\n", m)
		}
		for _, m := range page.Warnings {
			f.warn(m)
		}
	}
	return errors.Join(runErr, w.Close())
}
