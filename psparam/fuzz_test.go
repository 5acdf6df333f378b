package psparam

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseLine checks that ParseLine never panics or hangs, that whatever it accepts encodes
// as valid JSON and renders (String) to a line that parses back to the same command, and that
// whatever it refuses is a *SyntaxError with an offset inside the line.
func FuzzParseLine(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.line)
	}
	for _, tc := range rawOnlyCases {
		f.Add(tc.line)
	}
	for _, tc := range errorCases {
		if tc.argv == nil {
			f.Add(tc.line)
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseLine(line)
		if err != nil {
			if errors.Is(err, ErrEmptyLine) {
				return
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is %T, want *SyntaxError: %v", err, err)
			}
			if se.Offset < 0 || se.Offset > len(line) || se.Msg == "" || se.Hint == "" {
				t.Fatalf("bad SyntaxError %#v", se)
			}
			_ = se.Error()
			return
		}
		b, err := json.Marshal(c)
		if err != nil || !json.Valid(b) {
			t.Fatalf("JSON %s: %v", b, err)
		}
		if _, err := json.Marshal(c.Parameters()); err != nil {
			t.Fatalf("Parameters: %v", err)
		}
		checkRoundTrip(t, c)
	})
}

// FuzzParseArgs splits its input at NUL into argv and checks the same properties.
func FuzzParseArgs(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(strings.Join(tc.argv, "\x00"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseArgs(strings.Split(s, "\x00"))
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is %T, want *SyntaxError: %v", err, err)
			}
			if se.Offset < 0 || se.Offset > len(se.Line) {
				t.Fatalf("offset %d outside %q", se.Offset, se.Line)
			}
			_ = se.Error()
			return
		}
		b, err := json.Marshal(c)
		if err != nil || !json.Valid(b) {
			t.Fatalf("JSON %s: %v", b, err)
		}
		checkRoundTrip(t, c)
	})
}

// TestLargeInputs checks that hostile sizes and nesting end quickly with a result or an error.
func TestLargeInputs(t *testing.T) {
	const n = 100000
	keys := make([]string, 0, n/10)
	for i := range n / 10 {
		keys = append(keys, "k"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strconv.Itoa(i))
	}
	params := make([]string, 0, n/10)
	for i := range n / 10 {
		params = append(params, "-P"+strconv.Itoa(i)+" "+strconv.Itoa(i))
	}
	for name, line := range map[string]string{
		"deep arrays":          "Set-X -A " + strings.Repeat("@(", n) + strings.Repeat(")", n),
		"deep hashtables":      "Set-X -A " + strings.Repeat("@{a=", n),
		"deep script block":    "Set-X -A " + strings.Repeat("{", n) + strings.Repeat("}", n),
		"many quotes":          "Set-X -A " + strings.Repeat("'", n),
		"many backticks":       "Set-X -A " + strings.Repeat("`", n),
		"many commas":          "Set-X -A " + strings.Repeat("a,", n) + "a",
		"many keys":            "Set-X -A @{" + strings.Join(keys, "=1;") + "=1}",
		"many parameters":      "Set-X " + strings.Join(params, " "),
		"long word":            "Set-X -A " + strings.Repeat("a", 10*n),
		"long here-string":     "Set-X -A @'\n" + strings.Repeat("x\n", n),
		"many block comments":  "Set-X " + strings.Repeat("<# #>", n),
		"unclosed sub-strings": "Set-X -A {" + strings.Repeat("\"`", n),
	} {
		start := time.Now()
		_, err := ParseLine(line)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
		if err != nil {
			_ = err.Error()
		}
	}
}
