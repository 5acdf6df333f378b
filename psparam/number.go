package psparam

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseNumber reads s as a PowerShell numeric literal: an optional dash, then a decimal integer,
// a real (1.5, .5, 1e3), hex (0x1F) or binary (0b101), an optional type suffix l (long) or d
// (decimal), and an optional multiplier KB, MB, GB, TB or PB. ok is false when s is not a number,
// and then PowerShell reads it as text. Integers are int64 and reals float64; hex and binary of up
// to 32 bits are an Int32, so 0xFFFFFFFF is -1, as in PowerShell.
func parseNumber(s string) (v any, ok bool, err error) {
	t := s
	neg := false
	if r, n := utf8.DecodeRuneInString(t); isDash(r) {
		neg, t = true, t[n:]
	}
	if t == "" || !(isDigit(t[0]) || t[0] == '.') {
		return nil, false, nil
	}
	mult := int64(1)
	if len(t) > 2 {
		switch strings.ToLower(t[len(t)-2:]) {
		case "kb":
			mult = 1 << 10
		case "mb":
			mult = 1 << 20
		case "gb":
			mult = 1 << 30
		case "tb":
			mult = 1 << 40
		case "pb":
			mult = 1 << 50
		}
		if mult > 1 {
			t = t[:len(t)-2]
		}
	}
	if len(t) > 2 && t[0] == '0' && (t[1]|0x20 == 'x' || t[1]|0x20 == 'b') {
		return radix(t, mult, neg)
	}
	long, dec := false, false
	switch t[len(t)-1] | 0x20 {
	case 'l':
		long, t = true, t[:len(t)-1]
	case 'd':
		dec, t = true, t[:len(t)-1]
	}
	isInt, valid := decimalShape(t)
	if !valid || long && !isInt {
		return nil, false, nil
	}
	if isInt && !dec {
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return scaleInt(n, mult, neg), true, nil
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f*float64(mult), 0) {
		return nil, false, errors.New(s + " is too large for a number")
	}
	f *= float64(mult)
	if neg {
		f = -f
	}
	return f, true, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// decimalShape reports whether t is digits[.digits][e[+-]digits] (with a digit somewhere before
// the exponent), and whether it is a plain integer.
func decimalShape(t string) (isInt, valid bool) {
	i, digits := 0, 0
	for i < len(t) && isDigit(t[i]) {
		i++
		digits++
	}
	isInt = true
	if i < len(t) && t[i] == '.' {
		isInt = false
		i++
		for i < len(t) && isDigit(t[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false, false
	}
	if i < len(t) && t[i]|0x20 == 'e' {
		isInt = false
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		exp := i
		for i < len(t) && isDigit(t[i]) {
			i++
		}
		if i == exp {
			return false, false
		}
	}
	return isInt, i == len(t)
}

// radix reads 0x... or 0b... with an optional l suffix.
func radix(t string, mult int64, neg bool) (any, bool, error) {
	base := 16
	if t[1]|0x20 == 'b' {
		base = 2
	}
	digits := t[2:]
	long := false
	if n := len(digits); n > 1 && digits[n-1]|0x20 == 'l' {
		long, digits = true, digits[:n-1]
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i] | 0x20
		if !(isDigit(digits[i]) && (base == 16 || c <= '1') || base == 16 && 'a' <= c && c <= 'f') {
			return nil, false, nil
		}
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return nil, false, errors.New(t + " is too large for a number")
	}
	var n int64
	if u <= math.MaxUint32 && !long {
		n = int64(int32(uint32(u)))
	} else {
		n = int64(u)
	}
	return scaleInt(n, mult, neg), true, nil
}

// scaleInt returns n*mult, negated if neg; a float64 when that overflows an int64.
func scaleInt(n, mult int64, neg bool) any {
	if mult > 1 && (n > math.MaxInt64/mult || n < math.MinInt64/mult) {
		f := float64(n) * float64(mult)
		if neg {
			f = -f
		}
		return f
	}
	n *= mult
	if neg {
		if n == math.MinInt64 {
			return -float64(n)
		}
		n = -n
	}
	return n
}
