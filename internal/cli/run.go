package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/format"
	"github.com/exoctl/exoctl/psparam"
)

// RunOptions are `exoctl run`'s flags; everything after the cmdlet name is PowerShell parameters.
type RunOptions struct {
	Output     string
	Connection string
	Select     []string
	Args       []string
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
prints "What if: ..." and changes nothing.`,
		Example: `  exoctl run Get-AcceptedDomain
  exoctl run -o json Get-Mailbox -ResultSize 5
  exoctl run Get-Mailbox alice@contoso.com
  exoctl run -o ndjson Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails SharedMailbox
  exoctl run Set-Mailbox alice -ProhibitSendQuota 49GB -EmailAddresses '@{Add="smtp:al@contoso.com"}'
  exoctl run Remove-Mailbox alice -WhatIf
  exoctl run Remove-Mailbox alice -Confirm:$false`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			return runRun(cmd.Context(), f, o)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: "+strings.Join(format.Formats(), ", ")+" (default: the type's view)")
	cmd.Flags().StringVarP(&o.Connection, "connection", "c", "", "connection to use: Id, ConnectionId or prefix (default: the latest)")
	cmd.Flags().StringSliceVar(&o.Select, "select", nil, "properties to ask for and show, comma-separated ($select)")
	return cmd
}

func runRun(ctx context.Context, f *Factory, o *RunOptions) error {
	c, err := psparam.ParseArgs(o.Args)
	if err != nil {
		return err
	}
	w, err := format.New(f.IO.Out, format.Options{
		Format: o.Output, TypeName: format.TypeNameFor(c.Name), Properties: o.Select, Width: f.IO.Width,
		Warn: f.warn,
	})
	if err != nil {
		return err
	}
	s, _, err := openSession(ctx, f, o.Connection)
	if err != nil {
		return err
	}
	defer s.Close()
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
	return err
}

// invoke runs one cmdlet, printing records page by page, warnings and non-terminating errors
// on the error stream.
func invoke(ctx context.Context, f *Factory, s *exo.Session, w format.Writer, cmdlet string, params exo.Params, opts ...exo.InvokeOption) error {
	var runErr error
	for page, err := range s.InvokePages(ctx, cmdlet, params, opts...) {
		if err != nil {
			runErr = err
			break
		}
		for _, r := range page.Records {
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
