package cli

import (
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/connection"
	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/format"
)

// ConnectionsOptions are `exoctl connections`' flags (Get-ConnectionInformation's filters).
type ConnectionsOptions struct {
	Output       string
	Connection   string // Id, ConnectionId or prefix
	ConnectionID string // -ConnectionId
	ModulePrefix string // -ModulePrefix
}

func newConnectionsCmd(f *Factory) *cobra.Command {
	o := &ConnectionsOptions{}
	cmd := &cobra.Command{
		Use:     "connections",
		Aliases: []string{"connection-info"},
		Short:   "List saved connections (Get-ConnectionInformation)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConnections(f, o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: "+strings.Join(format.Formats(), ", "))
	cmd.Flags().StringVarP(&o.Connection, "connection", "c", "", "only this connection: Id, ConnectionId or prefix")
	cmd.Flags().StringVar(&o.ConnectionID, "connection-id", "", "only the connection with this ConnectionId (-ConnectionId)")
	cmd.Flags().StringVar(&o.ModulePrefix, "module-prefix", "", "only the connection with this prefix (-ModulePrefix)")
	return cmd
}

func runConnections(f *Factory, o *ConnectionsOptions) error {
	st, err := f.connections()
	if err != nil {
		return err
	}
	ps, err := st.List()
	if err != nil {
		return err
	}
	return writeConnections(f, o.Output, filterConnections(ps, o.Connection, o.ConnectionID, o.ModulePrefix))
}

// filterConnections keeps the connections a selector and Get-ConnectionInformation's
// -ConnectionId and -ModulePrefix filters name (empty: any).
func filterConnections(ps []*connection.Profile, sel, connectionID, prefix string) []*connection.Profile {
	var out []*connection.Profile
	for _, p := range ps {
		if (sel == "" || p.Matches(sel)) && (connectionID == "" || strings.EqualFold(p.ConnectionID, connectionID)) &&
			(prefix == "" || strings.EqualFold(p.Prefix, prefix)) {
			out = append(out, p)
		}
	}
	return out
}

func writeConnections(f *Factory, output string, ps []*connection.Profile) error {
	w, err := format.New(f.IO.Out, format.Options{Format: output, TypeName: "ConnectionInformation", Width: f.IO.Width, Warn: f.warn})
	if err != nil {
		return err
	}
	for _, p := range ps {
		rec, err := recordOf(p.Info())
		if err != nil {
			return err
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	return w.Close()
}

// recordOf turns a struct into a Record, keeping its field order.
func recordOf(v any) (*exo.Record, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	r := &exo.Record{}
	return r, r.UnmarshalJSON(b)
}
