package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newDemoCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Start the built-in emulator, connect, run cmdlets, disconnect: a tour in a few seconds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.StartEmulator == nil {
				return f.runEmulatorBinary(cmd.Context())
			}
			return runDemo(cmd.Context(), f)
		},
	}
}

// runDemo runs the whole path against an in-process emulator in a temporary folder, touching
// none of the user's connections.
func runDemo(ctx context.Context, f *Factory) error {
	tmp, err := os.MkdirTemp("", "exoctl-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	say := func(format string, a ...any) { fmt.Fprintf(f.IO.ErrOut, "\n==> "+format+"\n", a...) }

	dataDir := filepath.Join(tmp, "emulator")
	say("Starting the Exchange Online emulator on a free port (data in a temporary folder)")
	e, err := f.StartEmulator(ctx, EmulatorConfig{Addr: "127.0.0.1:0", DataDir: dataDir})
	if err != nil {
		return err
	}
	defer e.Close()
	fmt.Fprintf(f.IO.ErrOut, "    %s, tenant %s\n", e.Info().URL, e.Info().Tenants[0].Name)

	demo := *f
	getenv := f.Getenv
	demo.Getenv = func(k string) string {
		if k == "EXOCTL_HOME" {
			return filepath.Join(tmp, "home")
		}
		return getenv(k)
	}
	df := &demo

	say("exoctl connect --emulator   (app-only: the seeded app's certificate, token from the emulator's Entra ID)")
	if err := runConnect(ctx, df, &ConnectOptions{Emulator: true, EmulatorDir: dataDir}); err != nil {
		return err
	}
	steps := [][]string{
		{"Get-AcceptedDomain"},
		{"Get-Mailbox", "-ResultSize", "5"},
	}
	for _, args := range steps {
		say("exoctl run %s", joinArgs(args))
		if err := runRun(ctx, df, &RunOptions{Args: args}); err != nil {
			return err
		}
	}
	say("exoctl connections -o list   (Get-ConnectionInformation)")
	root := NewRootCmd(df)
	root.SetArgs([]string{"connections", "-o", "list"})
	if err := root.ExecuteContext(ctx); err != nil {
		return err
	}
	say("exoctl disconnect --yes   (forgets the tokens; no server call)")
	root = NewRootCmd(df)
	root.SetArgs([]string{"disconnect", "--yes"})
	if err := root.ExecuteContext(ctx); err != nil {
		return err
	}
	say("Stopping the emulator. Run it yourself with: exoctl emulator start")
	return nil
}

func joinArgs(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}
