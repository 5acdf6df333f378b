package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/exoctl/exoctl/exo"
)

// confirmChoices is PowerShell's ShouldProcess prompt line.
const confirmChoices = `[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is "Y"): `

const confirmHelp = `Y - Continue with only the next step of the operation.
A - Continue with all the steps of the operation.
N - Skip this operation and proceed with the next operation.
L - Skip this operation and all subsequent operations.
`

// promptConfirm asks on the terminal as PowerShell does, on the error stream so that output
// stays clean. One invocation asks one question, so Yes to All is Yes and No to All is No.
// End of input or an interrupt declines.
func promptConfirm(f *Factory) exo.ConfirmFunc {
	in := bufio.NewReader(f.IO.In)
	return func(ctx context.Context, message string) (bool, error) {
		fmt.Fprintf(f.IO.ErrOut, "\nConfirm\nAre you sure you want to perform this action?\n%s\n", message)
		for {
			fmt.Fprint(f.IO.ErrOut, confirmChoices)
			line, err := readLine(ctx, in)
			if err != nil {
				fmt.Fprintln(f.IO.ErrOut)
				if err == io.EOF {
					return false, nil
				}
				return false, err
			}
			switch strings.ToUpper(strings.TrimSpace(line)) {
			case "", "Y", "A":
				return true, nil
			case "N", "L":
				return false, nil
			case "?":
				fmt.Fprint(f.IO.ErrOut, confirmHelp)
			}
		}
	}
}

// readLine reads one line, giving up when ctx ends (the read itself stays blocked on the
// terminal until the process exits).
func readLine(ctx context.Context, in *bufio.Reader) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := in.ReadString('\n')
		if err == io.EOF && line != "" {
			err = nil
		}
		ch <- result{line, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		return r.line, r.err
	}
}
