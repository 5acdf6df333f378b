package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// TokenOptions are `exoctl token`'s flags.
type TokenOptions struct {
	Connection string
}

func newTokenCmd(f *Factory) *cobra.Command {
	o := &TokenOptions{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a current access token of a connection (for scripts that call the REST API by hand)",
		Long: `Print a current access token of a saved connection on standard output, refreshing it
silently if needed. The token is a secret: pipe it, do not paste it into logs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runToken(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVarP(&o.Connection, "connection", "c", "", "connection: Id, ConnectionId or prefix (default: the latest)")
	return cmd
}

func runToken(ctx context.Context, f *Factory, o *TokenOptions) error {
	s, _, err := openSession(ctx, f, o.Connection)
	if err != nil {
		return err
	}
	defer s.Close()
	tok, err := s.Token(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f.IO.Out, tok.AccessToken)
	return err
}
