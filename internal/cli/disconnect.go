package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newDisconnectCmd(f *Factory) *cobra.Command {
	var sel string
	var all, yes bool
	cmd := &cobra.Command{
		Use:   "disconnect",
		Short: "Forget a connection's tokens and state (Disconnect-ExchangeOnline)",
		Long: `Forget a connection: its tokens, certificate copy and settings. Like
Disconnect-ExchangeOnline it makes no call to the service. Without --connection it forgets the
latest connection only; --all forgets every one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.state()
			if err != nil {
				return err
			}
			unlock, err := st.lock()
			if err != nil {
				return err
			}
			defer unlock()
			var targets []*Profile
			if all {
				if targets, err = st.profiles(); err != nil {
					return err
				}
			} else {
				p, err := st.find(sel)
				if err != nil {
					return err
				}
				targets = []*Profile{p}
			}
			if len(targets) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No connections.")
				return nil
			}
			if !yes {
				if !f.IO.Interactive {
					return errors.New("disconnect asks for confirmation: add --yes (-Confirm:$false) to run it unattended")
				}
				fmt.Fprintf(f.IO.ErrOut, "Forget %d connection(s) (%s)? [y/N] ", len(targets), describe(targets))
				line, _ := bufio.NewReader(f.IO.In).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return errors.New("cancelled")
				}
			}
			for _, p := range targets {
				if err := st.remove(p); err != nil {
					return err
				}
				fmt.Fprintf(f.IO.ErrOut, "Disconnected connection %d (%s).\n", p.ID, p.ConnectionID)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&sel, "connection", "c", "", "connection to forget: Id, ConnectionId or prefix (default: the latest)")
	cmd.Flags().BoolVar(&all, "all", false, "forget every connection")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (-Confirm:$false)")
	return cmd
}

func describe(ps []*Profile) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%d %s", p.ID, p.UserPrincipalName)
	}
	return strings.Join(parts, ", ")
}
