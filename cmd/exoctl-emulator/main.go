// Command exoctl-emulator is exoctl with the emulator built in: every exoctl command, and
// `exoctl-emulator demo` and `exoctl-emulator emulator start` run the local Entra ID, Exchange
// Online and Security & Compliance in this process. exoctl runs it for those commands.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/emulator/emuinfo"
	"github.com/exoctl/exoctl/internal/cli"
)

func main() {
	f := cli.NewFactory()
	f.StartEmulator = start
	os.Exit(cli.Run(f))
}

// start starts the emulator a command asked for.
func start(ctx context.Context, c cli.EmulatorConfig) (cli.Emulator, error) {
	// This process now serves the emulator: its heap grows to half again its live size
	// between collections instead of twice (unless GOGC says otherwise), some MiB less under
	// load for a little more GC work.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	// The command line makes spare keys and seeded folders ahead in the user's cache, so that the
	// next new data folder starts at once; a Go program's emulators do not unless told.
	if os.Getenv(emulator.SpareEnv) == "" {
		_ = os.Setenv(emulator.SpareEnv, "auto")
	}
	e, err := emulator.Start(ctx, emulator.Config{
		Addr: c.Addr, DataDir: c.DataDir, Seed: c.Seed, Logger: c.Logger, ArcKeyDir: c.ArcKeyDir,
		RateLimit: c.RateLimit, RateWindow: c.RateWindow, RateLimitOff: c.RateLimitOff,
	})
	if err != nil {
		return nil, err
	}
	return running{e}, nil
}

type running struct{ *emulator.Emulator }

func (r running) Info() *emuinfo.Info { return &r.Emulator.Info }
