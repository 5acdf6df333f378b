package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/internal/bulk"
)

// BulkOptions are `exoctl bulk`'s flags: the run's, and the connection it runs over.
type BulkOptions struct {
	bulk.Options
	Connection string
}

func newBulkCmd(f *Factory) *cobra.Command {
	o := &BulkOptions{Options: bulk.Options{Grace: 30 * time.Second}}
	cmd := &cobra.Command{
		Use:   "bulk --csv FILE [flags] -- CMDLET-TEMPLATE",
		Short: "Run a cmdlet once per row of a CSV file, resumably",
		Long: `Run a cmdlet once per row of a CSV file over one connection. The template is a cmdlet line in
PowerShell syntax where {Column} stands for that row's value of Column. A value is always one
string argument, whatever quotes, commas, $ or ; it holds: it is never read as PowerShell. Inside
a quoted string or a script block {Column} is replaced as text. An empty cell is an empty string
(or $null with --empty-null when the cell is the whole argument).

Every row is recorded in a journal (default <csv>.exoctl-journal), written to disk before
its request is sent and again when it ends. Running the same command again skips the rows
already done; failed rows run again only with --retry-failed, and rows whose outcome is unknown
(started by a run that was interrupted or killed before the service answered: they may or may
not have changed something) only with --retry-unknown. No row runs twice unless asked. A
journal belongs to one template: another template needs another --journal file. A failing row
does not stop the run; the exit code is 1 when any row failed. Throttling is waited out; a
state-changing call that may have reached the service is never retried.

Ctrl-C (or SIGTERM) stops starting rows, lets the rows in flight finish for up to --grace,
records the others as unknown, prints the summary and exits 130; a second Ctrl-C stops at once
(the journal still knows which rows had started).

Output is one JSON line per row ({"row":N,"status":"ok","records":[...]}) or, with -o csv, the
input columns plus Status and Error. A summary goes to the error stream.

Cmdlets that ask for confirmation (most Remove-*) need -Confirm:$false in the template.`,
		Example: `  exoctl bulk --csv users.csv -- 'Set-Mailbox -Identity {Identity} -CustomAttribute1 {Department}'
  exoctl bulk --csv users.csv --parallel 4 -o csv -- Get-Mailbox -Identity {Alias} > report.csv
  exoctl bulk --csv leavers.csv --retry-failed -- 'Remove-Mailbox {UPN} -Confirm:$false'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Template = args
			return runBulk(cmd.Context(), f, o)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&o.CSV, "csv", "", "CSV file with a header row (required)")
	cmd.Flags().StringVar(&o.Journal, "journal", "", "journal file of finished rows (default: <csv>.exoctl-journal)")
	cmd.Flags().IntVarP(&o.Parallel, "parallel", "p", 1, fmt.Sprintf("rows run at once (1-%d)", bulk.MaxParallel))
	cmd.Flags().StringVarP(&o.Output, "output", "o", "ndjson", "per-row results: ndjson or csv")
	cmd.Flags().StringVarP(&o.Connection, "connection", "c", "", "connection to use: Id, ConnectionId or prefix (default: the latest)")
	cmd.Flags().StringVar(&o.TenantColumn, "tenant-column", "", "CSV column with each row's tenant: rows run in their tenant from the connection's sign-in")
	cmd.Flags().BoolVar(&o.RetryFailed, "retry-failed", false, "run again the rows the journal records as failed")
	cmd.Flags().BoolVar(&o.RetryUnknown, "retry-unknown", false, "run again the rows whose outcome is unknown (started, never finished): check them first")
	cmd.Flags().DurationVar(&o.Grace, "grace", o.Grace, "after Ctrl-C, how long rows in flight may take to finish")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, "for each row: "+timeoutUsage)
	cmd.Flags().BoolVar(&o.EmptyNull, "empty-null", false, "an empty cell that is a whole argument is $null instead of an empty string")
	_ = cmd.MarkFlagRequired("csv")
	return cmd
}

// runBulk runs the bulk engine over the connection o names, printing to the factory's streams.
func runBulk(ctx context.Context, f *Factory, o *BulkOptions) error {
	return bulk.Run(ctx, o.Options, bulk.Env{
		Out:    f.IO.Out,
		ErrOut: f.IO.ErrOut,
		Open: func(ctx context.Context) (*exo.Session, error) {
			s, p, err := openSession(ctx, f, o.Connection)
			if err != nil {
				return nil, explain(err, p, 0)
			}
			return s, nil
		},
		Tenants: func(col int, header []string, rows [][]string) (bulk.Tenants, error) {
			return newBulkTenants(f, o.Connection, col, rows)
		},
	})
}
