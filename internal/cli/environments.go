package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/cloud"
	"github.com/exoctl/exoctl/format"
)

func newEnvironmentsCmd(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "environments",
		Short: "List the Exchange Online clouds (--environment values) and their endpoints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := format.New(f.IO.Out, format.Options{Format: output, TypeName: "Environment", Width: f.IO.Width, Warn: f.warn})
			if err != nil {
				return err
			}
			for _, e := range cloud.Environments() {
				rec, err := recordOf(e)
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
	return cmd
}
