package psparam

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDepth bounds the nesting of @( ), @{ } and { } so a hostile line cannot exhaust the stack.
const maxDepth = 64

// parser reads PowerShell argument-mode text. Every method advances pos or fails, so parsing
// ends after at most len(src) steps.
type parser struct {
	src    string // the text being read: a whole line, or one argv element
	pos    int    // byte offset in src
	line   string // the text errors show
	base   int    // offset of src within line
	quoted bool   // src is shown single-quoted in line, each ' as '\''
	argv   bool   // src is one argv element
	depth  int
	// switches, when set, says which of the cmdlet's parameters are switches (Switches).
	switches func(cmdlet, param string) bool
}

// lineOff maps an offset in src to an offset in line.
func (p *parser) lineOff(off int) int {
	if off > len(p.src) {
		off = len(p.src)
	}
	if p.quoted {
		return p.base + off + 3*strings.Count(p.src[:off], "'")
	}
	return p.base + off
}

func (p *parser) errAt(off int, msg, hint string) *SyntaxError {
	return &SyntaxError{Line: p.line, Offset: p.lineOff(off), Msg: msg, Hint: hint}
}

// errAtLine is errAt for an offset already in line.
func (p *parser) errAtLine(off int, msg, hint string) *SyntaxError {
	return &SyntaxError{Line: p.line, Offset: off, Msg: msg, Hint: hint}
}

// incomplete is an error that more input would fix: an open quote, bracket or continuation.
func (p *parser) incomplete(off int, msg, hint string) *SyntaxError {
	e := p.errAt(off, msg, hint)
	e.Incomplete = true
	return e
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

// peek returns the rune at pos and its size; -1 at the end.
func (p *parser) peek() (rune, int) { return p.runeAt(p.pos) }

func (p *parser) runeAt(i int) (rune, int) {
	if i >= len(p.src) {
		return -1, 0
	}
	if c := p.src[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(p.src[i:])
}

func isNewline(r rune) bool { return r == '\n' || r == '\r' }

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r == '\t' || r == '\v' || r == '\f'
	}
	return unicode.IsSpace(r) || r == '\uFEFF'
}

// PowerShell accepts typographic quotes and dashes, as pasted from documents, like ASCII ones.
func isSingleQuote(r rune) bool {
	return r == '\'' || r == '\u2018' || r == '\u2019' || r == '\u201A' || r == '\u201B'
}

func isDoubleQuote(r rune) bool { return r == '"' || r == '\u201C' || r == '\u201D' || r == '\u201E' }

func isDash(r rune) bool { return r == '-' || r == '\u2013' || r == '\u2014' || r == '\u2015' }

func isNameStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isNameChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// isVarStart reports whether r after a $ starts a variable (or $( ), as PowerShell reads it.
func isVarStart(r rune) bool {
	return isNameChar(r) || r == '?' || r == '^' || r == '$' || r == '{' || r == '('
}

// continuation returns the size of a line continuation (a backtick and a line break) at i, or 0.
func (p *parser) continuation(i int) int {
	if i+1 >= len(p.src) || p.src[i] != '`' {
		return 0
	}
	switch {
	case strings.HasPrefix(p.src[i+1:], "\r\n"):
		return 3
	case p.src[i+1] == '\n' || p.src[i+1] == '\r':
		return 2
	}
	return 0
}

// skipBlank skips spaces, continuations and comments, and line breaks too when nl is set.
func (p *parser) skipBlank(nl bool) error {
	for !p.eof() {
		r, n := p.peek()
		switch {
		case isSpace(r):
			p.pos += n
		case isNewline(r):
			if !nl {
				return nil
			}
			p.pos += n
		case r == '`':
			if c := p.continuation(p.pos); c > 0 {
				p.pos += c
				continue
			}
			if p.pos+1 == len(p.src) {
				return p.incomplete(p.pos, "the line ends with a continuation backtick (`)",
					"add the rest of the command after it, or remove the backtick")
			}
			return nil
		case r == '#':
			for !p.eof() {
				if r, _ := p.peek(); isNewline(r) {
					break
				}
				p.pos++
			}
		case r == '<' && strings.HasPrefix(p.src[p.pos:], "<#"):
			end := strings.Index(p.src[p.pos+2:], "#>")
			if end < 0 {
				return p.incomplete(p.pos, "the block comment <# has no closing #>", "close the comment with #>")
			}
			p.pos += 2 + end + 2
		default:
			return nil
		}
	}
	return nil
}

// endOfStatement accepts what may end a line: ';' or line breaks, then only blanks and comments.
func (p *parser) endOfStatement() error {
	for {
		if err := p.skipBlank(true); err != nil {
			return err
		}
		if r, _ := p.peek(); r != ';' {
			break
		}
		p.pos++
	}
	if !p.eof() {
		return p.errAt(p.pos, "only one cmdlet per line is supported", "put each cmdlet on a line of its own")
	}
	return nil
}

// cmdletName reads the command's name: letters, digits, '-', '_' and '.'.
func (p *parser) cmdletName() (string, error) {
	start := p.pos
	for !p.eof() {
		r, n := p.peek()
		if r != '-' && r != '.' && !isNameChar(r) {
			break
		}
		p.pos += n
	}
	name := p.src[start:p.pos]
	r, _ := p.peek()
	switch {
	case name == "" || !isNameChar(rune(name[0])):
		p.pos = start
		return "", p.errAt(start, "the line must start with a cmdlet name",
			"start it with the cmdlet, e.g. Get-Mailbox -Identity alice")
	case p.argv:
		return name, nil
	case p.eof() || isSpace(r) || isNewline(r) || r == ';' || r == '#' || p.continuation(p.pos) > 0:
		return name, nil
	}
	return "", p.errAt(p.pos, "the cmdlet name "+quoteForMsg(name)+" is followed by "+quoteForMsg(string(r))+"; exoctl runs cmdlets only",
		"start the line with a cmdlet and a space, e.g. Get-Mailbox -Identity alice")
}

// rawToken reads one token of a raw line: a parameter, --, or a value. After --, every token
// is a value.
func (p *parser) rawToken(ended bool) (token, error) {
	start := p.pos
	r, n := p.peek()
	if isDash(r) && !ended {
		r2, _ := p.runeAt(start + n)
		if isNameStart(r2) {
			return p.param(start, n)
		}
		if r == '-' && r2 == '-' {
			if err := p.doubleDash(start); err != nil {
				return token{}, err
			}
			if p.termAt(start + 2) {
				p.pos = start + 2
				return token{kind: tokEnd, raw: "--", off: p.lineOff(start)}, nil
			}
		}
	}
	v, err := p.argValue()
	if err != nil {
		return token{}, err
	}
	return token{kind: tokValue, val: v, raw: p.src[start:p.pos], off: p.lineOff(start)}, nil
}

// doubleDash refuses --% and the GNU habit --name.
func (p *parser) doubleDash(start int) error {
	r3, _ := p.runeAt(start + 2)
	if r3 == '%' {
		return p.errAt(start, "the stop-parsing token --% is not supported",
			"quote the values instead: -Name 'text with $ and ;'")
	}
	if isNameStart(r3) {
		word := p.wordAt(start)
		return p.errAt(start, quoteForMsg(word)+": PowerShell parameters take a single dash",
			"write "+word[1:]+"; to pass the text "+word+" as a value, quote it: "+p.quoteHint(word))
	}
	return nil
}

// termAt reports whether a token may end at i in a raw line.
func (p *parser) termAt(i int) bool {
	r, _ := p.runeAt(i)
	return r < 0 || isSpace(r) || isNewline(r) || r == ';' || r == '#' || p.continuation(i) > 0
}

// wordAt returns the text from i to the next blank, for messages.
func (p *parser) wordAt(i int) string {
	j := i
	for j < len(p.src) {
		r, n := p.runeAt(j)
		if isSpace(r) || isNewline(r) {
			break
		}
		j += n
	}
	return p.src[i:j]
}

// valueText returns the value starting at i as far as a message needs it: the rest of an argv
// element, or up to the next blank in a line.
func (p *parser) valueText(i int) string {
	if p.argv && p.depth == 0 {
		return p.src[i:]
	}
	return p.wordAt(i)
}

// param reads -Name, -Name:value or -Name: value.
func (p *parser) param(start, dash int) (token, error) {
	i := start + dash
	for i < len(p.src) {
		r, n := p.runeAt(i)
		if !isNameChar(r) {
			break
		}
		i += n
	}
	name := p.src[start+dash : i]
	p.pos = i
	t := token{kind: tokParam, name: name, off: p.lineOff(start)}
	r, _ := p.peek()
	switch {
	case r == ':':
		p.pos++
		if p.argv {
			if p.eof() {
				t.colon = true
				t.raw = p.src[start:]
				return t, nil
			}
			v, err := p.argvValue()
			if err != nil {
				return t, err
			}
			t.hasVal, t.val, t.raw = true, v, p.src[start:]
			return t, nil
		}
		if err := p.skipBlank(false); err != nil {
			return t, err
		}
		r, n := p.peek()
		r2, _ := p.runeAt(p.pos + n)
		if p.eof() || isNewline(r) || r == ';' || (isDash(r) && isNameStart(r2)) {
			return t, p.errAt(start, "-"+name+": has no value after the colon",
				"write the value right after the colon, e.g. -"+name+":$false")
		}
		v, err := p.argValue()
		if err != nil {
			return t, err
		}
		t.hasVal, t.val, t.raw = true, v, p.src[start:p.pos]
		return t, nil
	case p.argv && p.eof(), !p.argv && p.termAt(i):
		t.raw = p.src[start:i]
		return t, nil
	case p.argv && (isSpace(r) || isNewline(r)):
		return t, p.errAt(i, quoteForMsg(p.src[start:])+" is one argument, but a parameter and its value must be two",
			"pass them as separate arguments, -"+name+" value, or join them with a colon: '-"+name+":value'")
	}
	word := p.wordAt(start)
	return t, p.errAt(i, "a parameter name cannot contain "+quoteForMsg(string(r)),
		"separate the value with a space or a colon: -"+name+" value, -"+name+":value; to pass "+word+" as a value, quote it: "+p.quoteHint(word))
}

// argvToken reads one argv element: a parameter, --, or a value. After --, every element is a value.
func (p *parser) argvToken(ended bool) (token, error) {
	r, n := p.peek()
	if !ended && isDash(r) {
		r2, _ := p.runeAt(n)
		if isNameStart(r2) {
			return p.param(0, n)
		}
		if p.src == "--" {
			return token{kind: tokEnd, raw: "--", off: p.lineOff(0)}, nil
		}
		if r == '-' && r2 == '-' {
			if err := p.doubleDash(0); err != nil {
				return token{}, err
			}
		}
	}
	v, err := p.argvValue()
	if err != nil {
		return token{}, err
	}
	return token{kind: tokValue, val: v, raw: p.src, off: p.lineOff(0)}, nil
}

// argvStartsValue reports whether r starts a PowerShell value in an argv element, rather than text.
func argvStartsValue(r rune) bool {
	return isSingleQuote(r) || isDoubleQuote(r) || r == '@' || r == '{' || r == '$' || r == '(' || r == '[' || r == ','
}

// argvValue reads the rest of an argv element as a value.
func (p *parser) argvValue() (any, error) {
	rest := p.src[p.pos:]
	r, _ := p.peek()
	if !argvStartsValue(r) && !strings.Contains(rest, ",") {
		p.pos = len(p.src)
		if v, ok, err := parseNumber(rest); ok || err != nil {
			if err != nil {
				return nil, p.errAt(p.pos-len(rest), err.Error(), "quote it if you mean the text: "+p.quoteHint(rest))
			}
			return v, nil
		}
		return rest, nil
	}
	var items []any
	for {
		if err := p.skipSpaces(); err != nil {
			return nil, err
		}
		start := p.pos
		unary := false
		if r, _ := p.peek(); r == ',' && items == nil {
			unary = true
			p.pos++
			if err := p.skipSpaces(); err != nil {
				return nil, err
			}
		}
		if p.eof() || p.src[p.pos] == ',' {
			return nil, p.errAt(start, "a value is missing before or after a comma",
				"remove the extra comma, or quote the value if the comma is part of it: "+p.quoteHint(p.src))
		}
		var v any
		var err error
		if r, _ := p.peek(); argvStartsValue(r) {
			v, err = p.primary(false)
		} else {
			v, err = p.argvText()
		}
		if err != nil {
			return nil, err
		}
		if unary {
			v = []any{v}
		}
		items = append(items, v)
		if err := p.skipSpaces(); err != nil {
			return nil, err
		}
		if p.eof() {
			break
		}
		if p.src[p.pos] != ',' {
			r, _ := p.peek()
			return nil, p.errAt(p.pos, "unexpected "+quoteForMsg(string(r))+" after the value",
				"to pass the whole argument as text, quote it for PowerShell: "+p.quoteHint(p.src))
		}
		p.pos++
		if p.eof() {
			return nil, p.errAt(p.pos-1, "nothing follows the comma",
				"remove the trailing comma, or add the next value")
		}
	}
	if len(items) == 1 {
		return items[0], nil
	}
	return items, nil
}

// skipSpaces skips blanks and line breaks inside an argv element.
func (p *parser) skipSpaces() error {
	for !p.eof() {
		r, n := p.peek()
		if !isSpace(r) && !isNewline(r) {
			break
		}
		p.pos += n
	}
	return nil
}

// argvText reads text up to the next comma in an argv element, trimmed; it may be a number.
func (p *parser) argvText() (any, error) {
	start := p.pos
	end := strings.IndexByte(p.src[start:], ',')
	if end < 0 {
		end = len(p.src)
	} else {
		end += start
	}
	p.pos = end
	s := strings.TrimRightFunc(p.src[start:end], unicode.IsSpace)
	v, ok, err := parseNumber(s)
	if err != nil {
		return nil, p.errAt(start, err.Error(), "quote it if you mean the text: "+p.quoteHint(s))
	}
	if ok {
		return v, nil
	}
	return s, nil
}

// argValue reads a value in argument mode: one primary, or a comma list of them.
func (p *parser) argValue() (any, error) {
	first, err := p.listItem()
	if err != nil {
		return nil, err
	}
	save := p.pos
	if err := p.skipBlank(false); err != nil {
		return nil, err
	}
	if r, _ := p.peek(); r != ',' {
		p.pos = save
		return first, nil
	}
	items := []any{first}
	for {
		comma := p.pos
		p.pos++ // ','
		if err := p.skipBlank(true); err != nil {
			return nil, err
		}
		if p.eof() {
			return nil, p.incomplete(comma, "nothing follows the comma", "add the next value, or remove the comma")
		}
		if r, _ := p.peek(); r == ',' || r == ';' || r == ')' || r == '}' {
			return nil, p.errAt(comma, "a value is missing after the comma", "add the next value, or remove the comma")
		}
		v, err := p.listItem()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		save = p.pos
		if err := p.skipBlank(false); err != nil {
			return nil, err
		}
		if r, _ := p.peek(); r != ',' {
			p.pos = save
			return items, nil
		}
	}
}

// listItem reads a primary, or ",primary": an array of one element (PowerShell's unary comma).
func (p *parser) listItem() (any, error) {
	if r, _ := p.peek(); r != ',' {
		return p.primary(false)
	}
	comma := p.pos
	p.pos++
	if err := p.skipBlank(true); err != nil {
		return nil, err
	}
	if p.eof() {
		return nil, p.incomplete(comma, "nothing follows the comma", "add the value, or remove the comma")
	}
	if r, _ := p.peek(); r == ',' || r == ';' || r == ')' || r == '}' {
		return nil, p.errAt(comma, "a value is missing after the comma", "add the value, or remove the comma")
	}
	v, err := p.primary(false)
	if err != nil {
		return nil, err
	}
	return []any{v}, nil
}

// primary reads one value: a string, number, $true/$false/$null, @( ), @{ }, { } or a bare word.
// key is set for a hashtable key, where '=' ends a bare word.
func (p *parser) primary(key bool) (any, error) {
	start := p.pos
	r, n := p.peek()
	switch {
	case isSingleQuote(r), isDoubleQuote(r):
		s, err := p.readQuoted()
		if err != nil {
			return nil, err
		}
		return s, p.followed(start, key, s)
	case r == '@':
		return p.at()
	case r == '{':
		return p.scriptBlock()
	case r == '$':
		return p.dollar(key)
	case r == '(':
		return nil, p.errAt(start, "expressions in parentheses are not supported; exoctl does not evaluate PowerShell",
			"write the value itself; if the parentheses are part of the text, quote it: "+p.quoteHint(p.valueText(start)))
	case r == '[':
		return p.bracket()
	case r == ')' || r == '}':
		return nil, p.errAt(start, "unexpected "+string(r),
			"remove it; if it is part of the value, quote the value: "+p.quoteHint(p.valueText(start)))
	case r == '|', r == '&', r == '<', r == '>':
		return nil, p.operator(start, start, r)
	case r == ',' || r == ';' || r == '=' || isNewline(r) || r < 0:
		return nil, p.errAt(start, "a value is missing here", "write the value, e.g. 'text', 5 or $true")
	}
	_ = n
	return p.bareWord(key)
}

// operator refuses |, &, < and > at off, in a word that starts at word, with what to write instead.
func (p *parser) operator(word, off int, r rune) error {
	example := "'a" + string(r) + "b'"
	if word < off {
		example = p.quoteHint(p.valueText(word))
	}
	switch r {
	case '|':
		return p.errAt(off, "pipelines (|) are not supported",
			"run one cmdlet at a time and give the next one its objects by -Identity; if | is part of a value, quote it: "+example)
	case '&':
		return p.errAt(off, "& is an operator in PowerShell and is not supported",
			"if & is part of a value, quote it: "+example)
	}
	return p.errAt(off, "redirection ("+string(r)+") is not supported",
		"redirect exoctl's output with your shell instead; if "+string(r)+" is part of a value, quote it: "+example)
}

// followed checks that a complete value at start is not glued to more text, which PowerShell
// would read as a second argument. text is the value when it is a string.
func (p *parser) followed(start int, key bool, text ...string) error {
	r, _ := p.peek()
	switch {
	case r < 0, isSpace(r), isNewline(r), r == ',', r == ';', r == ')', r == '}', r == '#', r == '`':
		return nil
	case r == '|', r == '&', r == '<', r == '>':
		return nil // reported by the caller, with the operator's own message
	case key && r == '=':
		return nil
	}
	if len(text) > 0 {
		open, _ := p.runeAt(start)
		rest := p.src[p.pos:]
		if i := strings.IndexAny(rest, "\r\n"); i >= 0 {
			rest = rest[:i]
		}
		if i := strings.LastIndexFunc(rest, isSingleQuote); isSingleQuote(open) && i >= 0 {
			return p.errAt(p.pos, "text follows the closing quote",
				"to put a quote inside single quotes, write it twice: "+p.quoteHint(text[0]+"'"+rest[:i]))
		}
		return p.errAt(p.pos, "text follows the closing quote",
			"PowerShell reads that as two values; put the whole value in one pair of quotes: "+p.quoteHint(text[0]+p.wordAt(p.pos)))
	}
	_, n := utf8.DecodeLastRuneInString(p.src[:p.pos])
	return p.errAt(p.pos, "text follows the closing "+p.src[p.pos-n:p.pos],
		"put a space or a comma before the next value")
}

// readQuoted reads a single- or double-quoted string at pos.
func (p *parser) readQuoted() (string, error) {
	r, _ := p.peek()
	if isSingleQuote(r) {
		return p.singleQuoted()
	}
	return p.doubleQuoted()
}

// singleQuoted reads '...': text as is, with two quotes for one.
func (p *parser) singleQuoted() (string, error) {
	start := p.pos
	_, n := p.peek()
	p.pos += n
	var b strings.Builder
	for {
		r, n := p.peek()
		if r < 0 {
			return "", p.incomplete(start, "the string has no closing quote (')",
				"end it with '; inside single quotes write '' for a quote: 'o''brien'")
		}
		p.pos += n
		if isSingleQuote(r) {
			r2, n2 := p.peek()
			if !isSingleQuote(r2) {
				return b.String(), nil
			}
			p.pos += n2
			b.WriteRune(r2)
			continue
		}
		b.WriteString(p.src[p.pos-n : p.pos])
	}
}

// doubleQuoted reads "...": backtick escapes, "" for a quote, and no variables.
func (p *parser) doubleQuoted() (string, error) {
	start := p.pos
	_, n := p.peek()
	p.pos += n
	var b strings.Builder
	for {
		r, n := p.peek()
		switch {
		case r < 0:
			return "", p.incomplete(start, `the string has no closing quote (")`,
				"end it with \"; inside double quotes write `\" or \"\" for a quote")
		case isDoubleQuote(r):
			p.pos += n
			r2, n2 := p.peek()
			if !isDoubleQuote(r2) {
				return b.String(), nil
			}
			p.pos += n2
			b.WriteRune(r2)
		case r == '`':
			if err := p.escape(&b, start); err != nil {
				return "", err
			}
		case r == '$':
			if r2, _ := p.runeAt(p.pos + 1); isVarStart(r2) {
				return "", p.variable(p.pos, true)
			}
			p.pos++
			b.WriteByte('$')
		default:
			p.pos += n
			b.WriteString(p.src[p.pos-n : p.pos])
		}
	}
}

// escape reads a backtick escape at pos into b. open is where the string or word began.
func (p *parser) escape(b *strings.Builder, open int) error {
	at := p.pos
	p.pos++ // '`'
	r, n := p.peek()
	if r < 0 {
		return p.incomplete(at, "a backtick (`) ends the text with nothing to escape",
			"remove the backtick, or write `` for a backtick itself")
	}
	p.pos += n
	switch r {
	case '0':
		b.WriteByte(0)
	case 'a':
		b.WriteByte('\a')
	case 'b':
		b.WriteByte('\b')
	case 'e':
		b.WriteByte(0x1b)
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'v':
		b.WriteByte('\v')
	case 'u':
		if r2, _ := p.peek(); r2 != '{' {
			b.WriteByte('u')
			return nil
		}
		end := strings.IndexByte(p.src[p.pos:], '}')
		hex := ""
		if end > 0 {
			hex = p.src[p.pos+1 : p.pos+end]
		}
		c, err := strconv.ParseUint(hex, 16, 32)
		if end < 0 || len(hex) == 0 || len(hex) > 6 || err != nil || c > unicode.MaxRune {
			return p.errAt(at, "`u{...} needs 1 to 6 hex digits of a Unicode code point",
				"write it like `u{2713}, or write `` for a backtick itself")
		}
		p.pos += end + 1
		b.WriteRune(rune(c))
	default:
		b.WriteString(p.src[p.pos-n : p.pos])
	}
	_ = open
	return nil
}

// variable refuses $name, ${name} and $( ) at off.
func (p *parser) variable(off int, inString bool) error {
	r, _ := p.runeAt(off + 1)
	if r == '(' {
		return p.errAt(off, "sub-expressions $( ) are not supported; exoctl does not evaluate PowerShell",
			"write the value itself")
	}
	end := off + 1
	switch {
	case r == '{':
		if i := strings.IndexByte(p.src[off:], '}'); i > 0 {
			end = off + i + 1
		} else {
			end = off + 2
		}
	case r == '?' || r == '^' || r == '$':
		end = off + 2
	default:
		for end < len(p.src) {
			r, n := p.runeAt(end)
			if !isNameChar(r) && r != ':' {
				break
			}
			end += n
		}
	}
	name := p.src[off:end]
	literal := name
	if p.argv && p.depth == 0 && off == 0 {
		literal = p.src
	}
	hint := "write the value itself; for a literal $, use single quotes: " + p.quoteHint(literal)
	if inString {
		hint = "write the value itself; for a literal $ inside double quotes write `$, or use single quotes"
	}
	return p.errAt(off, name+" is a variable, and exoctl has no variables", hint)
}

// dollar reads $true, $false or $null, refusing other variables.
func (p *parser) dollar(key bool) (any, error) {
	start := p.pos
	r, _ := p.runeAt(start + 1)
	if !isVarStart(r) {
		return p.bareWord(key) // a lone $ is text
	}
	end := start + 1
	for end < len(p.src) {
		r, n := p.runeAt(end)
		if !isNameChar(r) {
			break
		}
		end += n
	}
	var v any
	switch strings.ToLower(p.src[start+1 : end]) {
	case "true":
		v = true
	case "false":
		v = false
	case "null":
		v = nil
	default:
		return nil, p.variable(start, false)
	}
	p.pos = end
	if r, _ := p.peek(); r == ':' || r == '.' || r == '[' {
		return nil, p.variable(start, false)
	}
	return v, p.followed(start, key)
}

// bareWord reads an unquoted word. As in PowerShell, quoted parts inside it join the word
// (a'b c'd is "ab cd") and backticks escape. A plain word that reads as a number is one.
func (p *parser) bareWord(key bool) (any, error) {
	start := p.pos
	var b strings.Builder
	plain := true
loop:
	for !p.eof() {
		r, n := p.peek()
		switch {
		case isSpace(r), isNewline(r), r == ',', r == ';', r == ')', r == '}':
			break loop
		case key && r == '=':
			break loop
		case r == '(', r == '{':
			return nil, p.errAt(p.pos, "unexpected "+string(r)+" in a value",
				"if it is part of the text, quote the whole value: "+p.quoteHint(p.valueText(start)))
		case r == '|', r == '&', r == '<', r == '>':
			return nil, p.operator(start, p.pos, r)
		case isSingleQuote(r), isDoubleQuote(r):
			plain = false
			s, err := p.readQuoted()
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
		case r == '`':
			if p.continuation(p.pos) > 0 {
				break loop
			}
			plain = false
			if err := p.escape(&b, start); err != nil {
				return nil, err
			}
		case r == '$':
			if r2, _ := p.runeAt(p.pos + 1); isVarStart(r2) {
				return nil, p.variable(p.pos, false)
			}
			p.pos++
			b.WriteByte('$')
		default:
			p.pos += n
			b.WriteString(p.src[p.pos-n : p.pos])
		}
	}
	if p.pos == start {
		r, _ := p.peek()
		return nil, p.errAt(start, "unexpected "+quoteForMsg(string(r)), "write a value here, or quote it")
	}
	s := b.String()
	if plain {
		v, ok, err := parseNumber(s)
		if err != nil {
			return nil, p.errAt(start, err.Error(), "quote it if you mean the text: "+p.quoteHint(s))
		}
		if ok {
			return v, nil
		}
		if s == "--%" {
			return nil, p.errAt(start, "the stop-parsing token --% is not supported",
				"quote the values instead: -Name 'text with $ and ;'")
		}
	}
	return s, nil
}

// at reads what starts with @: @( ), @{ }, here-strings; @name (splatting) is refused.
func (p *parser) at() (any, error) {
	start := p.pos
	r, _ := p.runeAt(start + 1)
	switch {
	case r == '(':
		return p.arrayExpr()
	case r == '{':
		return p.hashtable()
	case isSingleQuote(r), isDoubleQuote(r):
		return p.hereString()
	case isNameChar(r):
		return nil, p.errAt(start, "splatting ("+p.wordAt(start)+") is not supported; exoctl has no variables",
			"write the parameters out: -Name value ...")
	}
	return nil, p.errAt(start, "unexpected @",
		"write @( ) for an array or @{ } for a hashtable; if @ is part of the text, quote it: "+p.quoteHint(p.wordAt(start)))
}

func (p *parser) enter(open int) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(open, "values are nested more than "+strconv.Itoa(maxDepth)+" deep", "flatten the value")
	}
	return nil
}

// skipSeparators skips blanks, line breaks, comments and ';' inside @( ) and @{ }.
func (p *parser) skipSeparators() error {
	for {
		if err := p.skipBlank(true); err != nil {
			return err
		}
		if r, _ := p.peek(); r != ';' {
			return nil
		}
		p.pos++
	}
}

// arrayExpr reads @( ): statements separated by ';' or line breaks, each value's elements
// joining the array, as PowerShell's array sub-expression unrolls them.
func (p *parser) arrayExpr() (any, error) {
	open := p.pos
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.pos += 2
	items := []any{}
	for {
		if err := p.skipSeparators(); err != nil {
			return nil, err
		}
		r, _ := p.peek()
		switch r {
		case -1:
			return nil, p.incomplete(open, "@( has no closing )", "close the array with ), e.g. @('a','b')")
		case ')':
			p.pos++
			return items, p.followed(open, false)
		}
		v, err := p.argValue()
		if err != nil {
			return nil, err
		}
		if a, ok := v.([]any); ok {
			items = append(items, a...)
		} else {
			items = append(items, v)
		}
		if err := p.skipBlank(false); err != nil {
			return nil, err
		}
		switch r, _ := p.peek(); {
		case r < 0:
			return nil, p.incomplete(open, "@( has no closing )", "close the array with ), e.g. @('a','b')")
		case r == ')' || r == ';' || isNewline(r):
		default:
			return nil, p.errAt(p.pos, "expected , or ) after an element of @( )",
				"separate elements with commas: @('a','b')")
		}
	}
}

// hashtable reads @{ key = value; ... }: bare or quoted keys, ';' or line breaks between entries.
func (p *parser) hashtable() (any, error) {
	open := p.pos
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.pos += 2
	h := &Hashtable{Keys: []string{}, Values: map[string]any{}}
	folded := map[string]bool{} // keys in lower case: PowerShell's keys ignore case
	for {
		if err := p.skipSeparators(); err != nil {
			return nil, err
		}
		r, _ := p.peek()
		switch r {
		case -1:
			return nil, p.incomplete(open, "@{ has no closing }", "close the hashtable with }, e.g. @{Add='a'; Remove='b'}")
		case '}':
			p.pos++
			return h, p.followed(open, false)
		}
		keyOff := p.pos
		key, err := p.hashKey()
		if err != nil {
			return nil, err
		}
		if err := p.skipBlank(false); err != nil {
			return nil, err
		}
		if r, _ := p.peek(); r != '=' {
			if r < 0 {
				return nil, p.incomplete(open, "@{ has no closing }", "close the hashtable with }, e.g. @{Add='a'; Remove='b'}")
			}
			return nil, p.errAt(p.pos, "expected = after the key "+quoteForMsg(key),
				"write each entry as key = value, e.g. @{"+key+"='value'}")
		}
		p.pos++
		if err := p.skipBlank(true); err != nil {
			return nil, err
		}
		if r, _ := p.peek(); r < 0 || r == ';' || r == '}' {
			if r < 0 {
				return nil, p.incomplete(open, "@{ has no closing }", "close the hashtable with }, e.g. @{Add='a'; Remove='b'}")
			}
			return nil, p.errAt(p.pos, "the key "+quoteForMsg(key)+" has no value",
				"write "+key+"=value, or "+key+"=$null for no value")
		}
		v, err := p.argValue()
		if err != nil {
			return nil, err
		}
		if folded[strings.ToLower(key)] {
			return nil, p.errAt(keyOff, "the key "+quoteForMsg(key)+" appears twice in the hashtable",
				"give each key once; for several values use a comma list: "+key+"='a','b'")
		}
		folded[strings.ToLower(key)] = true
		h.Keys = append(h.Keys, key)
		h.Values[key] = v
		if err := p.skipBlank(false); err != nil {
			return nil, err
		}
		switch r, _ := p.peek(); {
		case r < 0:
			return nil, p.incomplete(open, "@{ has no closing }", "close the hashtable with }, e.g. @{Add='a'; Remove='b'}")
		case r == '}' || r == ';' || isNewline(r):
		default:
			return nil, p.errAt(p.pos, "expected ; or } after the value of "+quoteForMsg(key),
				"separate entries with ; or a line break: @{Add='a'; Remove='b'}")
		}
	}
}

// hashKey reads a key: quoted, or a bare word.
func (p *parser) hashKey() (string, error) {
	start := p.pos
	r, _ := p.peek()
	var key string
	if isSingleQuote(r) || isDoubleQuote(r) {
		s, err := p.readQuoted()
		if err != nil {
			return "", err
		}
		if err := p.followed(start, true, s); err != nil {
			return "", err
		}
		key = s
	} else {
		for !p.eof() {
			r, n := p.peek()
			if isSpace(r) || isNewline(r) || strings.ContainsRune("=;}{()[],|&<>'\"`$@#", r) || isSingleQuote(r) || isDoubleQuote(r) {
				break
			}
			p.pos += n
		}
		key = p.src[start:p.pos]
		if key == "" {
			r, _ := p.peek()
			return "", p.errAt(start, "expected a key, found "+quoteForMsg(string(r)),
				"write each entry as key = value; quote a key with unusual characters: @{'my key'='value'}")
		}
	}
	if strings.EqualFold(key, "@odata.type") {
		return "", p.errAt(start, "the key @odata.type is reserved for the hashtable's type tag", "remove this entry")
	}
	return key, nil
}

// hereString reads @'...'@ or @"..."@: the lines between the opening and the closing line.
func (p *parser) hereString() (any, error) {
	start := p.pos
	q, n := p.runeAt(start + 1)
	double := isDoubleQuote(q)
	i := start + 1 + n
	for i < len(p.src) {
		r, n := p.runeAt(i)
		if !isSpace(r) {
			break
		}
		i += n
	}
	nl := 0
	if strings.HasPrefix(p.src[i:], "\r\n") {
		nl = 2
	} else if i < len(p.src) && (p.src[i] == '\n' || p.src[i] == '\r') {
		nl = 1
	}
	if nl == 0 {
		if i >= len(p.src) {
			return nil, p.incomplete(start, "a here-string continues on the next line",
				"write the text on the lines after @"+string(q)+" and end it with "+string(q)+"@ at the start of a line")
		}
		return nil, p.errAt(start, "a here-string's text must start on the next line after @"+string(q),
			"break the line after @"+string(q)+", or use an ordinary quoted string")
	}
	body := i + nl
	// The closing quote and @ start a line.
	for j := body; j <= len(p.src); {
		k := j
		for k < len(p.src) {
			r, n := p.runeAt(k)
			if !isSpace(r) {
				break
			}
			k += n
		}
		r, n := p.runeAt(k)
		if (double && isDoubleQuote(r) || !double && isSingleQuote(r)) && k+n < len(p.src) && p.src[k+n] == '@' {
			text := ""
			if j > body {
				end := j - 1
				if end > body && p.src[end-1] == '\r' && p.src[end] == '\n' {
					end--
				}
				text = p.src[body:end]
			}
			p.pos = k + n + 1
			if double {
				sub := &parser{src: text, line: p.line, base: p.lineOff(body), argv: p.argv}
				s, err := sub.expand()
				if err != nil {
					return nil, err
				}
				text = s
			}
			return text, p.followed(start, false, text)
		}
		nl := strings.IndexAny(p.src[j:], "\r\n")
		if nl < 0 {
			break
		}
		j += nl + 1
		if p.src[j-1] == '\r' && j < len(p.src) && p.src[j] == '\n' {
			j++
		}
	}
	return nil, p.incomplete(start, "the here-string has no closing "+string(q)+"@",
		"end it with "+string(q)+"@ at the start of a line")
}

// expand applies double-quote rules (backtick escapes, no variables) to all of src.
func (p *parser) expand() (string, error) {
	var b strings.Builder
	for !p.eof() {
		r, n := p.peek()
		switch {
		case r == '`':
			if err := p.escape(&b, 0); err != nil {
				return "", err
			}
		case r == '$':
			if r2, _ := p.runeAt(p.pos + 1); isVarStart(r2) {
				return "", p.variable(p.pos, true)
			}
			p.pos++
			b.WriteByte('$')
		default:
			p.pos += n
			b.WriteString(p.src[p.pos-n : p.pos])
		}
	}
	return b.String(), nil
}

// scriptBlock reads { ... } and returns its inner text, trimmed; braces inside strings and
// comments do not count.
func (p *parser) scriptBlock() (any, error) {
	open := p.pos
	depth := 0
	i := open
	for i < len(p.src) {
		r, n := p.runeAt(i)
		switch {
		case r == '{':
			depth++
			i++
		case r == '}':
			depth--
			i++
			if depth == 0 {
				p.pos = i
				return ScriptBlock(strings.TrimSpace(p.src[open+1 : i-1])), p.followed(open, false)
			}
		case r == '`':
			_, n2 := p.runeAt(i + 1)
			i += 1 + n2
		case isSingleQuote(r), isDoubleQuote(r):
			i += n
			for i < len(p.src) {
				r2, n2 := p.runeAt(i)
				i += n2
				if isDoubleQuote(r) && r2 == '`' {
					_, n3 := p.runeAt(i)
					i += n3
					continue
				}
				if isSingleQuote(r) && isSingleQuote(r2) || isDoubleQuote(r) && isDoubleQuote(r2) {
					break
				}
			}
		case r == '#' && (i == open+1 || strings.ContainsRune(" \t\r\n;{(", rune(p.src[i-1]))):
			for i < len(p.src) && p.src[i] != '\n' && p.src[i] != '\r' {
				i++
			}
		case r == '<' && strings.HasPrefix(p.src[i:], "<#"):
			end := strings.Index(p.src[i+2:], "#>")
			if end < 0 {
				i = len(p.src)
			} else {
				i += 2 + end + 2
			}
		default:
			i += n
		}
	}
	return nil, p.incomplete(open, "the script block { has no closing }", "close it with }, e.g. { Name -like 'a*' }")
}

// bracket accepts [ordered]@{ } (hashtables keep their order anyway) and refuses casts.
func (p *parser) bracket() (any, error) {
	start := p.pos
	const ordered = "[ordered]"
	if len(p.src)-start >= len(ordered) && strings.EqualFold(p.src[start:start+len(ordered)], ordered) {
		p.pos += len(ordered)
		if err := p.skipBlank(false); err != nil {
			return nil, err
		}
		if strings.HasPrefix(p.src[p.pos:], "@{") {
			return p.hashtable()
		}
		p.pos = start
	}
	end := strings.IndexByte(p.src[start:], ']')
	cast := p.wordAt(start)
	if end > 0 {
		cast = p.src[start : start+end+1]
	}
	return nil, p.errAt(start, "type casts like "+cast+" are not supported",
		"write the value itself: numbers, $true/$false and quoted strings carry their type; if the brackets are part of the text, quote it: "+p.quoteHint(p.valueText(start)))
}
