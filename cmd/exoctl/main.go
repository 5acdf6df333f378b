// Command exoctl is Exchange Online administration from one binary: connect, run cmdlets,
// manage connections, and run a local emulator.
package main

import (
	"context"
	"os"

	"github.com/exoctl/exoctl/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), cli.NewFactory(), os.Args[1:]))
}
