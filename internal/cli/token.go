package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newTokenCmd(f *Factory) *cobra.Command {
	var sel string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a current access token of a connection (for scripts that call the REST API by hand)",
		Long: `Print a current access token of a saved connection on standard output, refreshing it
silently if needed. The token is a secret: pipe it, do not paste it into logs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, _, err := openSession(cmd.Context(), f, sel)
			if err != nil {
				return err
			}
			defer s.Close()
			tok, err := s.Token(cmd.Context())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(f.IO.Out, tok.AccessToken)
			return err
		},
	}
	cmd.Flags().StringVarP(&sel, "connection", "c", "", "connection: Id, ConnectionId or prefix (default: the latest)")
	return cmd
}
