// Command exoctl is Exchange Online administration from one binary: connect, run cmdlets,
// manage connections. It links no emulator, so that a run starts fast: `exoctl demo` and
// `exoctl emulator start` run exoctl-emulator.
package main

import (
	"os"

	"github.com/exoctl/exoctl/internal/cli"
)

func main() {
	os.Exit(cli.Run(cli.NewFactory()))
}
