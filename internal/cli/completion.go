package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/exo"
)

// completeCmdlet is shell completion (exoctl completion bash|zsh|fish|powershell) for
// `exoctl run`: the first word completes to the cmdlets the saved connection may run, later
// -words to that cmdlet's parameters, both from the connection's module file (EXOModuleFile).
// The copy connect kept answers at once, offline; only without one does a key press reach the
// service (and the copy read then is kept). Without a connection it offers nothing rather than
// failing the shell.
func completeCmdlet(f *Factory, o *RunOptions) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 && !strings.HasPrefix(toComplete, "-") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cat, err := completionCatalog(cmd.Context(), f, o.Connection())
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

// completionCatalog is the module file of connection sel for completion: the kept copy, else
// the service's (kept for the next key press).
func completionCatalog(ctx context.Context, f *Factory, sel string) (*exo.Catalog, error) {
	st, err := f.connections()
	if err != nil {
		return nil, err
	}
	p, err := st.Find(sel)
	if err != nil {
		return nil, err
	}
	if cat := savedCatalog(st, p); cat != nil {
		return cat, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := st.Session(ctx, p)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	cat, err := s.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	saveCatalog(ctx, st, p, s)
	return cat, nil
}
