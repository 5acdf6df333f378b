package exchange

import (
	"encoding/json"
	"testing"
	"time"
)

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{
		106300440576: "99 GB (106,300,440,576 bytes)",
		107374182400: "100 GB (107,374,182,400 bytes)",
		53150220288:  "49.5 GB (53,150,220,288 bytes)",
		262144:       "256 KB (262,144 bytes)",
		1077069952:   "1.003 GB (1,077,069,952 bytes)",
		0:            "0 B (0 bytes)",
		999:          "999 B (999 bytes)",
		-1:           "Unlimited",
	} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDates(t *testing.T) {
	d := time.Date(2022, 9, 21, 8, 7, 47, 0, time.UTC)
	if got := formatDate(d); got != "2022-09-21T08:07:47.0000000+00:00" {
		t.Errorf("formatDate %q", got)
	}
	if got := formatDateUTC(d.In(time.FixedZone("x", 3600))); got != "2022-09-21T08:07:47.0000000Z" {
		t.Errorf("formatDateUTC %q", got)
	}
}

// FuzzBind feeds arbitrary Parameters objects to the binder: it must answer, never panic.
func FuzzBind(f *testing.F) {
	for _, s := range []string{`{}`, `{"Identity":"a","ResultSize":"Unlimited"}`, `{"ResultSize":-1}`, `{"r":1}`,
		`{"RecipientTypeDetails":["UserMailbox",1,null]}`, `{"Identity":{"@odata.type":"#Exchange.GenericHashTable"}}`, `[1]`, `null`} {
		f.Add(s)
	}
	c := Cmdlets().Lookup("Get-Mailbox")
	f.Fuzz(func(t *testing.T, s string) {
		p, _, e := c.bind(json.RawMessage(s))
		if e == nil && p == nil {
			t.Errorf("no params and no error for %q", s)
		}
		if e != nil && (e.Status != 400 || e.Text == "") {
			t.Errorf("binding error %+v", e)
		}
	})
}
