package jsontext

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppendString checks the encoder against encoding/json without HTML escaping.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\s`, "<a&b>", "\x00\x1f\n\t\b\f", "é€😀", "\xff\xfe", "\u2028\u2029", "山田"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendString(nil, s)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// FuzzPlainPrefix checks the eight-bytes-at-a-time scan against a byte-wise one.
func FuzzPlainPrefix(f *testing.F) {
	f.Add("abcdefgh\"ijklmnop")
	f.Add("\x1f\x20\x21\x22\x5b\x5c\x5d\x7e\x7f\x80")
	f.Add("~~~~~~~~ !#[]")
	f.Fuzz(func(t *testing.T, s string) {
		want := len(s)
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				want = i
				break
			}
		}
		if got := plainPrefix(s); got != want {
			t.Errorf("plainPrefix(%q) = %d, want %d", s, got, want)
		}
	})
}

func TestAppendStringCases(t *testing.T) {
	for _, s := range []string{"", "plain", "12345678", "123456789abcdefg", `q"b\s`, "<a&b>", "\x00\x1f\n", "é€😀",
		"\xff", "\u2028", "abcdefg\"", "abcdefgh\\", "abcdefgh\x7f", "abcdefgh\x80", "~~~~~~~~ !#[]", "\x1f1234567",
		"abcdefghijklmnop\u2029q", "abcdefgh\xffijkl"} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}
