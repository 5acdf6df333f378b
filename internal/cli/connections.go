package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/cloud"
	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/format"
)

func newConnectionsCmd(f *Factory) *cobra.Command {
	var output, sel string
	cmd := &cobra.Command{
		Use:     "connections",
		Aliases: []string{"connection-info"},
		Short:   "List saved connections (Get-ConnectionInformation)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.state()
			if err != nil {
				return err
			}
			ps, err := st.profiles()
			if err != nil {
				return err
			}
			w, err := format.New(f.IO.Out, format.Options{Format: output, TypeName: "ConnectionInformation", Width: f.IO.Width, Warn: f.warn})
			if err != nil {
				return err
			}
			for _, p := range ps {
				if sel != "" && !matches(p, sel) {
					continue
				}
				rec, err := recordOf(connectionInfo(p))
				if err != nil {
					return err
				}
				if err := w.Write(rec); err != nil {
					return err
				}
			}
			return w.Close()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: "+strings.Join(format.Formats(), ", "))
	cmd.Flags().StringVarP(&sel, "connection", "c", "", "only this connection: Id, ConnectionId or prefix")
	return cmd
}

func matches(p *Profile, sel string) bool {
	return fmt.Sprint(p.ID) == sel || strings.EqualFold(p.ConnectionID, sel) || (p.Prefix != "" && strings.EqualFold(p.Prefix, sel))
}

// connectionInfo is a saved connection as Get-ConnectionInformation shows it.
func connectionInfo(p *Profile) exo.ConnectionInfo {
	upn := p.UserPrincipalName
	name, uri := fmt.Sprintf("ExchangeOnline_%d", p.ID), orDefault(p.ConnectionURI, "https://outlook.office365.com")
	if p.Compliance {
		name = fmt.Sprintf("ExchangeOnlineProtection_%d", p.ID)
		if p.ConnectionURI == "" {
			env, _ := cloud.Lookup(p.Environment)
			uri = orDefault(env.ComplianceURI, "https://ps.compliance.protection.outlook.com")
		}
	}
	status := "Active"
	if time.Now().After(p.TokenExpiry) {
		// The next command refreshes it silently where the method allows.
		status = "Expired"
	}
	return exo.ConnectionInfo{
		ConnectionID:                    p.ConnectionID,
		State:                           "Connected",
		ID:                              p.ID,
		Name:                            name,
		UserPrincipalName:               upn,
		ConnectionURI:                   uri,
		AzureAdAuthorizationEndpointURI: orDefault(p.AuthorityURI, "https://login.microsoftonline.com/organizations"),
		TokenExpiryTimeUTC:              p.TokenExpiry.UTC().Truncate(time.Second),
		CertificateAuthentication:       p.Method == "certificate",
		ModuleName:                      "exoctl",
		ModulePrefix:                    p.Prefix,
		Organization:                    p.Organization,
		DelegatedOrganization:           p.DelegatedOrganization,
		AppID:                           p.AppID,
		PageSize:                        orDefaultInt(p.PageSize, exo.DefaultPageSize),
		TenantID:                        p.TenantID,
		TokenStatus:                     status,
		ConnectionUsedForInbuiltCmdlets: true,
		IsEopSession:                    p.Compliance,
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func orDefaultInt(n, d int) int {
	if n == 0 {
		return d
	}
	return n
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
