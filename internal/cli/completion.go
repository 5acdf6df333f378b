package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// completeCmdlet is shell completion (exoctl completion bash|zsh|fish|powershell) for
// `exoctl run`: the first word completes to the cmdlets the saved connection may run, later
// -words to that cmdlet's parameters, both from the connection's module file (EXOModuleFile).
// Without a connection it offers nothing rather than failing the shell.
func completeCmdlet(f *Factory, o *RunOptions) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 && !strings.HasPrefix(toComplete, "-") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 20*time.Second)
		defer cancel()
		s, _, err := openSession(ctx, f, o.Connection())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		defer s.Close()
		cat, err := s.Catalog(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		var out []string
		if len(args) == 0 {
			for _, n := range cat.Cmdlets() {
				if strings.HasPrefix(strings.ToLower(n), strings.ToLower(toComplete)) {
					out = append(out, n)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		word := strings.TrimPrefix(toComplete, "-")
		for _, p := range cat.Parameters(args[0]) {
			if strings.HasPrefix(strings.ToLower(p), strings.ToLower(word)) {
				out = append(out, "-"+p)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
