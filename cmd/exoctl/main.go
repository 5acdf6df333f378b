// Command exoctl is Exchange Online administration from one binary: connect, run cmdlets,
// manage connections, and run a local emulator.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/exoctl/exoctl/internal/cli"
)

func main() {
	f := cli.NewFactory()
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first Ctrl-C or SIGTERM cancels the command's context: run flushes what it
		// printed, bulk lets the rows in flight finish. The second stops at once.
		first := true
		for sig := range sigs {
			if sig == os.Interrupt && f.OwnsInterrupt() {
				continue // the shell cancels its running cmdlet itself
			}
			if first {
				first = false
				cancel()
				continue
			}
			fmt.Fprintln(os.Stderr, "exoctl: stopped at once")
			os.Exit(cli.ExitInterrupted)
		}
	}()
	os.Exit(cli.Main(ctx, f, os.Args[1:]))
}
