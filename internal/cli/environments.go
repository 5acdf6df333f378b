package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/cloud"
	"github.com/exoctl/exoctl/format"
)

// EnvironmentsOptions are `exoctl environments`' flags.
type EnvironmentsOptions struct {
	Output string
}

func newEnvironmentsCmd(f *Factory) *cobra.Command {
	o := &EnvironmentsOptions{}
	cmd := &cobra.Command{
		Use:   "environments",
		Short: "List the Exchange Online clouds (--environment values) and their endpoints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEnvironments(f, o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: "+strings.Join(format.Formats(), ", "))
	return cmd
}

func runEnvironments(f *Factory, o *EnvironmentsOptions) error {
	w, err := format.New(f.IO.Out, format.Options{Format: o.Output, TypeName: "Environment", Width: f.IO.Width, Warn: f.warn})
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
}
