package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/emulator/emuinfo"
)

func newEmulatorCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run a local Microsoft Entra ID + Exchange Online emulator",
	}
	cmd.AddCommand(newEmulatorStartCmd(f), newEmulatorTOTPCmd(f))
	return cmd
}

// EmulatorStartOptions are `exoctl emulator start`'s flags.
type EmulatorStartOptions struct {
	Addr    string
	DataDir string
	Seed    string
	Verbose bool
	// ArcKeyDir is where the Azure Arc endpoint writes its challenge key files.
	ArcKeyDir string
	// RateLimit is the per-tenant request budget per RateWindow; 0 turns the limit off.
	RateLimit  int
	RateWindow time.Duration
}

func newEmulatorStartCmd(f *Factory) *cobra.Command {
	o := &EmulatorStartOptions{}
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the emulator in the foreground (Ctrl-C stops it; data are kept)",
		Long: fmt.Sprintf(`Start the emulator in the foreground on %s over HTTPS, with its CA, database and
emulator.json in --data (default $EXOCTL_HOME/emulator). An empty database is seeded with the
demo tenant contoso.onmicrosoft.com (--seed large: 100,000 mailboxes). Then, in another terminal:

  exoctl connect --emulator
  exoctl run Get-AcceptedDomain`, emuinfo.DefaultAddr),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.StartEmulator == nil {
				return f.runEmulatorBinary(cmd.Context())
			}
			return runEmulatorStart(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Addr, "addr", emuinfo.DefaultAddr, "listen address; 127.0.0.1:0 picks a free port")
	cmd.Flags().StringVar(&o.DataDir, "data", "", "data folder (default $EXOCTL_HOME/emulator)")
	cmd.Flags().StringVar(&o.Seed, "seed", "demo", "data for an empty database: demo, large or msp (a partner with 200 more customer tenants)")
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "log every request")
	cmd.Flags().StringVar(&o.ArcKeyDir, "arc-key-dir", "", "folder for the Azure Arc endpoint's challenge key files (default: the data folder's azcmagent-tokens; MSAL and azure-identity read them only from /var/opt/azcmagent/tokens on Linux)")
	cmd.Flags().IntVar(&o.RateLimit, "rate-limit", emuinfo.DefaultRateLimit, "requests per tenant per --rate-window before the admin API answers 429; 0 turns the limit off")
	cmd.Flags().DurationVar(&o.RateWindow, "rate-window", emuinfo.DefaultRateWindow, "the window of --rate-limit, e.g. 1m or 1h")
	return cmd
}

// config is the emulator's Config for these options: --rate-limit 0 turns the limit off.
func (o *EmulatorStartOptions) config(dir string, log *slog.Logger) (EmulatorConfig, error) {
	if o.RateLimit < 0 {
		return EmulatorConfig{}, usageErrorf("--rate-limit must be 0 (off) or a positive number of requests, not %d", o.RateLimit)
	}
	if o.RateWindow <= 0 {
		return EmulatorConfig{}, usageErrorf("--rate-window must be a positive duration such as 1m or 1h, not %s", o.RateWindow)
	}
	return EmulatorConfig{Addr: o.Addr, DataDir: dir, Seed: o.Seed, Logger: log, ArcKeyDir: o.ArcKeyDir,
		RateLimit: o.RateLimit, RateWindow: o.RateWindow, RateLimitOff: o.RateLimit == 0}, nil
}

func runEmulatorStart(ctx context.Context, f *Factory, o *EmulatorStartOptions) error {
	if _, err := o.config("", nil); err != nil {
		return err
	}
	dir := o.DataDir
	if dir == "" {
		home, err := f.Home()
		if err != nil {
			return err
		}
		dir = filepath.Join(home, "emulator")
	}
	level := slog.LevelInfo
	if o.Verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(f.IO.ErrOut, "Starting the emulator (data in %s)...\n", dir)
	cfg, err := o.config(dir, log)
	if err != nil {
		return err
	}
	e, err := f.StartEmulator(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "Emulator listening on %s\n  CA:        %s\n  settings:  %s\nConnect with: exoctl connect --emulator", e.Info().URL, e.Info().CAFile, filepath.Join(dir, emuinfo.FileName))
	if o.DataDir != "" {
		fmt.Fprintf(f.IO.Out, " %s", dir)
	}
	fmt.Fprintln(f.IO.Out, "\nPress Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(f.IO.ErrOut, "Stopping the emulator.")
	if err := e.Close(); err != nil {
		return err
	}
	return e.Wait()
}
