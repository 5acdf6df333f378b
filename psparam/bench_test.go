package psparam

import (
	"fmt"
	"strings"
	"testing"
)

// line40 is a 40-parameter line mixing the kinds of values admins write.
var line40 = func() string {
	var b strings.Builder
	b.WriteString("Set-Mailbox -Identity 'o''brien@contoso.com'")
	kinds := []string{
		"'quoted text'", `"double ` + "`t" + ` quoted"`, "49GB", "$false", "Unlimited",
		"a,b,'c d'", `@{Add="smtp:a@contoso.com","smtp:b@contoso.com"; Remove='smtp:c@contoso.com'}`,
		"{ RecipientTypeDetails -eq 'SharedMailbox' }", "0x1F", "@('x','y',@{k=1})",
	}
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&b, " -Param%d %s", i, kinds[i%len(kinds)])
	}
	return b.String()
}()

func BenchmarkParseLine40(b *testing.B) {
	b.SetBytes(int64(len(line40)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := ParseLine(line40)
		if err != nil || len(c.Params) != 40 {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal40(b *testing.B) {
	c, err := ParseLine(line40)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
