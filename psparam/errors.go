package psparam

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SyntaxError is a line exoctl cannot read as PowerShell parameters. Its message shows the
// line with a caret under the offending token and says what to write instead.
type SyntaxError struct {
	Line   string // the line as typed; for ParseArgs, the arguments joined and shell-quoted
	Offset int    // byte offset in Line of the offending token
	Msg    string // what is wrong
	Hint   string // what to write instead
	// Incomplete is set when more input could complete the line: an open quote, bracket or
	// block, a trailing comma or continuation backtick. A shell may then read another line.
	Incomplete bool
}

// Error returns the message, the line with a caret under the offending token, and the hint:
//
//	$user is a variable, and exoctl has no variables
//	  Get-Mailbox -Identity $user
//	                        ^
//	write the value itself; for a literal $, use single quotes: '$user'
func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	if e.Line != "" {
		text, caret := excerpt(e.Line, e.Offset)
		b.WriteString("\n  ")
		b.WriteString(text)
		b.WriteString("\n  ")
		b.WriteString(caret)
		b.WriteByte('^')
	}
	if e.Hint != "" {
		b.WriteByte('\n')
		b.WriteString(e.Hint)
	}
	return b.String()
}

// excerptWidth is how many characters of a long line an error shows around the offset.
const excerptWidth = 72

// excerpt returns the physical line of line holding off, cut to excerptWidth characters around
// it and with control characters made visible, and the padding that puts a caret under off.
func excerpt(line string, off int) (text, pad string) {
	off = max(0, min(off, len(line)))
	for off > 0 && off < len(line) && !utf8.RuneStart(line[off]) {
		off--
	}
	start := strings.LastIndexAny(line[:off], "\r\n") + 1
	end := strings.IndexAny(line[off:], "\r\n")
	if end < 0 {
		end = len(line)
	} else {
		end += off
	}
	before := []rune(line[start:off])
	after := []rune(line[off:end])
	prefix, suffix := "", ""
	if len(before) > excerptWidth/2 {
		before = before[len(before)-excerptWidth/2:]
		prefix = "..."
	}
	if len(before)+len(after) > excerptWidth {
		after = after[:excerptWidth-len(before)]
		suffix = "..."
	}
	var t, c strings.Builder
	t.WriteString(prefix)
	c.WriteString(strings.Repeat(" ", len(prefix)))
	for _, r := range before {
		r = visible(r)
		t.WriteRune(r)
		if r == '\t' {
			c.WriteByte('\t')
		} else {
			c.WriteByte(' ')
		}
	}
	for _, r := range after {
		t.WriteRune(visible(r))
	}
	t.WriteString(suffix)
	return t.String(), c.String()
}

func visible(r rune) rune {
	if r == '\t' {
		return r
	}
	if r == utf8.RuneError || !unicode.IsPrint(r) && !unicode.IsSpace(r) {
		return '?'
	}
	if unicode.IsSpace(r) {
		return ' '
	}
	return r
}

// quoteForMsg quotes s in a message, shortening it.
func quoteForMsg(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		s = string(r[:37]) + "..."
	}
	return psQuote(s)
}

// psQuote quotes s as a PowerShell single-quoted string.
func psQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i, r := range s {
		if isSingleQuote(r) {
			b.WriteRune(r)
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+n]) // invalid UTF-8 stays as it was
	}
	b.WriteByte('\'')
	return b.String()
}

// quoteHint quotes s for PowerShell, and for argv also for a POSIX shell around it.
func (p *parser) quoteHint(s string) string {
	q := psQuote(s)
	if !p.argv {
		return q
	}
	if strings.ContainsRune(q, '!') {
		return shQuote(q)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range q {
		if strings.ContainsRune("\"$`\\", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellArgs is argv shown as one line, for errors.
type shellArgs struct {
	text    string
	offsets []int  // where each element's text starts in text
	quoted  []bool // the element is shown single-quoted
}

// displayArgs joins argv with spaces, shell-quoting the elements that need it, so an error can
// point into the command as the user typed it.
func displayArgs(argv []string) shellArgs {
	var b strings.Builder
	a := shellArgs{offsets: make([]int, len(argv)), quoted: make([]bool, len(argv))}
	for i, el := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if el == "" || strings.ContainsFunc(el, needsShellQuote) {
			b.WriteByte('\'')
			a.offsets[i] = b.Len()
			a.quoted[i] = true
			b.WriteString(strings.ReplaceAll(el, "'", `'\''`))
			b.WriteByte('\'')
			continue
		}
		a.offsets[i] = b.Len()
		b.WriteString(el)
	}
	a.text = b.String()
	return a
}

func needsShellQuote(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("'\"`$\\;&|<>(){}[]*?#~!", r)
}
