package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/exoctl/exoctl/connection"
	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/format"
	"github.com/exoctl/exoctl/psparam"
)

// tenantProperty is the property every record of a fan-out carries first: the tenant it came
// from, as the user named it.
const tenantProperty = "Tenant"

// runFanOut runs one cmdlet in many tenants: customers of one sign-in (--tenants) or several
// saved connections (-c 1,3,5, -c 'prefix*', --all).
func runFanOut(ctx context.Context, f *Factory, o *RunOptions, c *psparam.Command) error {
	st, err := f.connections()
	if err != nil {
		return err
	}
	var targets []connection.Target
	save := func(context.Context) error { return nil }
	switch {
	case o.Tenants != "":
		if o.All || len(o.Connections) > 1 {
			return errors.New("--tenants runs from one connection's sign-in: give at most one --connection with it, and no --all")
		}
		tenants, err := readTenants(o.Tenants)
		if err != nil {
			return err
		}
		p, err := st.Find(o.Connection())
		if err != nil {
			return err
		}
		if targets, save, err = st.Tenants(p, tenants); err != nil {
			return err
		}
	default:
		var ps []*connection.Profile
		if o.All {
			if ps, err = st.List(); err != nil {
				return err
			}
			if len(ps) == 0 {
				return errors.New("no connection: run exoctl connect first (or exoctl connect --emulator to use the local emulator)")
			}
		} else if ps, err = st.Select(o.Connections); err != nil {
			return err
		}
		targets = st.Targets(ps)
	}

	props := o.Select
	if o.Output == "" || strings.EqualFold(o.Output, format.Table) {
		// The tenant leads the type's table view (or the chosen properties).
		if cols := props; len(cols) > 0 || len(format.TableColumns(format.TypeNameFor(c.Name))) > 0 {
			if len(cols) == 0 {
				cols = format.TableColumns(format.TypeNameFor(c.Name))
			}
			props = append([]string{tenantProperty}, cols...)
		}
	} else if len(props) > 0 {
		props = append([]string{tenantProperty}, props...)
	}
	w, err := format.New(f.IO.Out, format.Options{
		Format: o.Output, TypeName: format.TypeNameFor(c.Name), Properties: props, Width: f.IO.Width, Warn: f.warn,
	})
	if err != nil {
		return err
	}
	var opts []exo.InvokeOption
	if len(o.Select) > 0 {
		opts = append(opts, exo.WithSelect(o.Select...))
	}
	params := exo.Params(c.Parameters())
	var mu sync.Mutex // one writer, one error stream
	results := connection.FanOut(ctx, targets, o.Parallel, func(ctx context.Context, t connection.Target, s *exo.Session) error {
		for page, err := range s.InvokePages(ctx, c.Name, params, opts...) {
			if err != nil {
				return err
			}
			mu.Lock()
			err := writeTenantPage(f, w, t.Tenant, page)
			mu.Unlock()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err := save(context.WithoutCancel(ctx)); err != nil {
		f.warn("the customers' tokens could not be saved for the next run: " + err.Error())
	}
	var failed []string
	notRun := 0
	for _, r := range results {
		switch {
		case r.Err == nil:
		case ctx.Err() != nil && errors.Is(r.Err, ctx.Err()):
			notRun++ // interrupted: said once below
		default:
			failed = append(failed, r.Tenant)
			fmt.Fprintf(f.IO.ErrOut, "ERROR: %s: %s\n", r.Tenant, r.Err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if notRun > 0 {
		fmt.Fprintf(f.IO.ErrOut, "%s ran in %d tenant(s): %d succeeded, %d failed, %d interrupted.\n", c.Name, len(results), len(results)-len(failed)-notRun, len(failed), notRun)
		return ctx.Err()
	}
	fmt.Fprintf(f.IO.ErrOut, "%s ran in %d tenant(s): %d succeeded, %d failed.\n", c.Name, len(results), len(results)-len(failed), len(failed))
	if len(failed) > 0 {
		return fmt.Errorf("%s failed in %d of %d tenants (%s): see the errors above", c.Name, len(failed), len(results), strings.Join(failed, ", "))
	}
	return nil
}

// writeTenantPage writes one page of a tenant's records, each with the tenant first, and the
// page's warnings and non-terminating errors naming the tenant.
func writeTenantPage(f *Factory, w format.Writer, tenant string, page *exo.Page) error {
	for _, r := range page.Records {
		tagged := &exo.Record{Fields: make([]exo.Field, 0, len(r.Fields)+1)}
		tagged.Fields = append(tagged.Fields, exo.Field{Name: tenantProperty, Value: tenant})
		tagged.Fields = append(tagged.Fields, r.Fields...)
		if err := w.Write(tagged); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if page.ConfirmationMessage != "" {
		fmt.Fprintf(f.IO.Out, "What if: [%s] %s\n", tenant, page.ConfirmationMessage)
	}
	for _, m := range page.Errors {
		fmt.Fprintf(f.IO.ErrOut, "ERROR: %s: %s\n", tenant, m)
	}
	for _, m := range page.Warnings {
		f.warn(tenant + ": " + m)
	}
	return nil
}

// readTenants reads --tenants: a file with one tenant (domain or GUID) a line, blank lines and
// # comments skipped, or else a comma-separated list. A tenant named twice runs once.
func readTenants(arg string) ([]string, error) {
	tenants, err := readTenantList(arg)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(tenants))
	out := tenants[:0]
	for _, t := range tenants {
		if k := strings.ToLower(t); !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out, nil
}

func readTenantList(arg string) ([]string, error) {
	var tenants []string
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		fh, err := os.Open(arg)
		if err != nil {
			return nil, fmt.Errorf("read --tenants: %w", err)
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			if line != "" {
				tenants = append(tenants, line)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read --tenants %s: %w", arg, err)
		}
		if len(tenants) == 0 {
			return nil, fmt.Errorf("--tenants %s names no tenant: write one tenant (domain or id) a line", arg)
		}
		return tenants, nil
	}
	for _, t := range strings.Split(arg, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tenants = append(tenants, t)
		}
	}
	if len(tenants) == 0 {
		return nil, errors.New("--tenants names no tenant: give a file (one tenant a line) or a comma list")
	}
	if len(tenants) == 1 && !strings.Contains(tenants[0], ".") && !looksLikeGUID(tenants[0]) {
		return nil, fmt.Errorf("--tenants %s: no such file, and not a tenant name (contoso.onmicrosoft.com) or id", arg)
	}
	return tenants, nil
}

func looksLikeGUID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}
