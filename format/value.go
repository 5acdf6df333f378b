package format

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/exoctl/exoctl/exo"
)

// enumerationLimit is PowerShell's $FormatEnumerationLimit: tables and lists show the first
// four elements of a collection, then an ellipsis.
const enumerationLimit = 4

const ellipsis = "…"

// displayValue renders a value for a table or a list, as PowerShell's views do: exo.FormatValue
// with collections cut at enumerationLimit ("{a, b, c, d…}").
func displayValue(v any) string {
	arr, ok := v.([]any)
	if !ok || len(arr) <= enumerationLimit {
		return exo.FormatValue(v)
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range arr[:enumerationLimit] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(exo.FormatValue(e))
	}
	b.WriteString(ellipsis + "}")
	return b.String()
}

// isNumber reports whether a value is numeric, which PowerShell aligns right.
func isNumber(v any) bool {
	_, ok := v.(json.Number)
	return ok
}

// cleanCell makes a value one safe table line: like PowerShell it cuts at the first line break
// and marks the cut with an ellipsis; tabs become spaces and other control characters become
// U+FFFD, so a value from the service cannot move the cursor or send escape sequences.
func cleanCell(s string) string {
	if isPlainASCII(s) {
		return s
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i] + ellipsis
	}
	return cleanLine(s)
}

// isPlainASCII reports whether s is printable ASCII, which needs no cleaning.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// cleanLine replaces control characters in one line of text.
func cleanLine(s string) string {
	if isPlainASCII(s) {
		return s
	}
	clean := true
	for _, r := range s {
		if isControl(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case isControl(r):
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
}

func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0)
}

// runeWidth is the number of terminal cells a rune takes: 0 for combining marks and zero-width
// characters, 2 for East Asian wide and fullwidth characters and most emoji, else 1.
func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case r == 0x200b || r == 0x200c || r == 0x200d || r == 0x2060 || r == 0xfeff,
		r >= 0xfe00 && r <= 0xfe0f,
		unicode.In(r, unicode.Mn, unicode.Me):
		return 0
	case r >= 0x1100 && r <= 0x115f, // Hangul Jamo
		r >= 0x2e80 && r <= 0x303e, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33ff, // kana, CJK compatibility
		r >= 0x3400 && r <= 0x4dbf, // CJK extension A
		r >= 0x4e00 && r <= 0x9fff, // CJK unified ideographs
		r >= 0xa000 && r <= 0xa4cf, // Yi
		r >= 0xac00 && r <= 0xd7a3, // Hangul syllables
		r >= 0xf900 && r <= 0xfaff, // CJK compatibility ideographs
		r >= 0xfe30 && r <= 0xfe4f, // CJK compatibility forms
		r >= 0xff00 && r <= 0xff60, // fullwidth forms
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, // pictographs, emoticons
		r >= 0x1f900 && r <= 0x1f9ff,
		r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

// displayWidth is the number of terminal cells s takes.
func displayWidth(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return n + wideWidth(s[i:])
		}
		n++
	}
	return n
}

func wideWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// truncateTail cuts s to at most width cells, ending with an ellipsis when there is room for
// one ("abcdef" -> "abc…"), as PowerShell 7 does for left-aligned cells.
func truncateTail(s string, width int) string {
	if displayWidth(s) <= width {
		return s
	}
	room := width - 1
	if room <= 0 {
		room = width
	}
	n, end := 0, 0
	for i, r := range s {
		w := runeWidth(r)
		if n+w > room {
			break
		}
		n += w
		end = i + utf8.RuneLen(r)
	}
	if room < width {
		return s[:end] + ellipsis
	}
	return s[:end]
}

// truncateHead keeps the end of s within width cells ("abcdef" -> "…def"), as PowerShell
// does for right-aligned cells.
func truncateHead(s string, width int) string {
	if displayWidth(s) <= width {
		return s
	}
	room := width - 1
	if room <= 0 {
		room = width
	}
	n, start := 0, len(s)
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:start])
		w := runeWidth(r)
		if n+w > room {
			break
		}
		n += w
		start -= size
	}
	if room < width {
		return ellipsis + s[start:]
	}
	return s[start:]
}
