package format

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"testing"

	"github.com/exoctl/exoctl/exo"
)

// The CSV writer quotes exactly as encoding/csv does, field by field, whatever the field holds.
func TestCSVQuotesAsEncodingCSV(t *testing.T) {
	fields := []string{"", "plain", "a,b", `say "hi"`, "two\nlines", "cr\rhere", " lead", "\tlead", "trail ",
		`\.`, `\.x`, "\u00a0nbsp", "é", `"`, ",", "99 GB (106,300,440,576 bytes)", "\u2028sep"}
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "ab ,\"\r\n\t\\.é"
	for range 3000 {
		r := []rune(alphabet)
		b := make([]rune, rng.IntN(8))
		for i := range b {
			b[i] = r[rng.IntN(len(r))]
		}
		fields = append(fields, string(b))
	}
	for _, f := range fields {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		if err := cw.Write([]string{"h"}); err != nil {
			t.Fatal(err)
		}
		if err := cw.Write([]string{f}); err != nil {
			t.Fatal(err)
		}
		cw.Flush()
		var got bytes.Buffer
		out := bufio.NewWriter(&got)
		w := newCSVWriter(out, Options{})
		if err := w.Write(&exo.Record{Fields: []exo.Field{{Name: "h", Value: f}}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("field %q: wrote %q, encoding/csv writes %q", f, got.String(), want.String())
		}
	}
}
