package emulator_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/emulator"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The README's Go example is Example's body (which go test compiles and runs), so it builds
// and does what it says.
func TestREADMEGoExample(t *testing.T) {
	r := readme(t)
	i := strings.Index(r, "In Go tests, start it in-process")
	if i < 0 {
		t.Fatal("README has no in-process example")
	}
	m := regexp.MustCompile("(?s)```go\n(.*?)```").FindStringSubmatch(r[i:])
	if m == nil {
		t.Fatal("README's in-process example has no go block")
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body := string(src)
	body = body[strings.Index(body, "func Example() {\n")+len("func Example() {\n"):]
	body = body[:strings.Index(body, "\t// Unordered output:")]
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	if want := strings.Join(lines, "\n") + "\n"; m[1] != want {
		t.Errorf("README's Go example differs from Example in example_test.go:\nREADME:\n%s\nExample:\n%s", m[1], want)
	}
}

// The README's table of seeded accounts is every seeded user of the demo tenant with their
// password and description, and gives the MFA users' secret and otpauth:// URI.
func TestREADMESeededAccounts(t *testing.T) {
	r := readme(t)
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, u := range e.Info.Tenants[0].Users {
		row := "| `" + u.UPN + "` | `" + u.Password + "` |"
		if !strings.Contains(r, row) {
			t.Errorf("README's seeded accounts lack %s", row)
			continue
		}
		line := r[strings.Index(r, row):]
		line = line[:strings.IndexByte(line, '\n')]
		if !strings.HasSuffix(line, "| "+u.Description+" |") {
			t.Errorf("README's row for %s does not say %q: %s", u.UPN, u.Description, line)
		}
		if u.TOTPSecret != "" && (!strings.Contains(r, u.TOTPSecret) || !strings.Contains(r, u.TOTPURI)) {
			t.Errorf("README lacks %s's TOTP secret or its URI %s", u.UPN, u.TOTPURI)
		}
	}
}
