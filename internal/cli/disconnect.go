package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/connection"
)

// DisconnectOptions are `exoctl disconnect`'s flags (Disconnect-ExchangeOnline's filters).
type DisconnectOptions struct {
	Connection   string // Id, ConnectionId or prefix; the latest when empty
	ConnectionID string // -ConnectionId
	ModulePrefix string // -ModulePrefix
	All          bool
	Yes          bool // -Confirm:$false
}

func newDisconnectCmd(f *Factory) *cobra.Command {
	o := &DisconnectOptions{}
	cmd := &cobra.Command{
		Use:   "disconnect",
		Short: "Forget a connection's tokens and state (Disconnect-ExchangeOnline)",
		Long: `Forget a connection: its tokens, certificate copy and settings. Like
Disconnect-ExchangeOnline it makes no call to the service. Without --connection it forgets the
latest connection only; --all forgets every one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDisconnect(f, o)
		},
	}
	cmd.Flags().StringVarP(&o.Connection, "connection", "c", "", "connection to forget: Id, ConnectionId or prefix (default: the latest)")
	cmd.Flags().StringVar(&o.ConnectionID, "connection-id", "", "forget the connection with this ConnectionId (-ConnectionId)")
	cmd.Flags().StringVar(&o.ModulePrefix, "module-prefix", "", "forget the connection with this prefix (-ModulePrefix)")
	cmd.Flags().BoolVar(&o.All, "all", false, "forget every connection")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation (-Confirm:$false)")
	return cmd
}

func runDisconnect(f *Factory, o *DisconnectOptions) error {
	st, err := f.connections()
	if err != nil {
		return err
	}
	unlock, err := st.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	var targets []*connection.Profile
	switch {
	case o.All || o.ConnectionID != "" || o.ModulePrefix != "":
		ps, err := st.List()
		if err != nil {
			return err
		}
		if targets = filterConnections(ps, o.Connection, o.ConnectionID, o.ModulePrefix); len(targets) == 0 && !o.All {
			return errors.New("no connection has that ConnectionId or prefix: exoctl connections lists them")
		}
	default:
		p, err := st.Find(o.Connection)
		if err != nil {
			return err
		}
		targets = []*connection.Profile{p}
	}
	return disconnect(f, st, targets, o.Yes)
}

// disconnect forgets the targets after asking, unless yes.
func disconnect(f *Factory, st *connection.Store, targets []*connection.Profile, yes bool) error {
	if len(targets) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "No connections.")
		return nil
	}
	if !yes {
		ok, err := f.ask(fmt.Sprintf("Forget %d connection(s) (%s)?", len(targets), describe(targets)))
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("cancelled")
		}
	}
	for _, p := range targets {
		if err := st.Remove(p); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "Disconnected connection %d (%s).\n", p.ID, p.ConnectionID)
	}
	return nil
}

// ask puts a yes/no question on the error stream and reads the answer from the command's
// input; off a terminal it fails, saying how to run unattended.
func (f *Factory) ask(question string) (bool, error) {
	if !f.IO.Interactive {
		return false, errors.New("disconnecting asks for confirmation: add --yes to exoctl disconnect (-Confirm:$false to Disconnect-ExchangeOnline) to run it unattended")
	}
	fmt.Fprintf(f.IO.ErrOut, "%s [y/N] ", question)
	line, _ := bufio.NewReader(f.IO.In).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

func describe(ps []*connection.Profile) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%d %s", p.ID, p.UserPrincipalName)
	}
	return strings.Join(parts, ", ")
}
