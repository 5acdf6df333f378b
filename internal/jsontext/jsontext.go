// Package jsontext holds the one JSON string encoder that exoctl's writers share (the emulator's
// pages, the client's json/ndjson output and the cmdlet parameters it sends): encoding/json's
// escaping without its HTML escaping, as the service writes <, > and & as they are. It is a
// leaf of the standard library only, holding the wire's rule and no logic of either side, so
// both the client and the emulator import it.
package jsontext

import (
	"encoding/binary"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string: quotes, backslashes and control characters escaped,
// invalid UTF-8 replaced by U+FFFD, and U+2028/U+2029 escaped as encoding/json does. A run of
// printable ASCII, which property names and nearly all values are whole, is copied at once.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	i := plainPrefix(s)
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainPrefix returns the length of s's leading run of printable ASCII other than '"' and '\\'
// (bytes copied as they are), eight bytes at a time.
func plainPrefix(s string) int {
	const (
		lo7 = 0x0101010101010101
		hi  = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		// A byte is bad when it is >= 0x80, < 0x20, '"' (0x22) or '\\' (0x5c).
		bad := x | ((x - lo7*0x20) &^ x) // high bit: >= 0x80 or < 0x20
		q := x ^ (lo7 * '"')             // zero byte where '"'
		bs := x ^ (lo7 * '\\')           // zero byte where '\\'
		bad |= (q - lo7) &^ q            // high bit where q's byte was 0 (or >= 0x80)
		bad |= (bs - lo7) &^ bs
		if bad&hi != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return i
		}
	}
	return i
}
