package psparam

import (
	"errors"
	"strings"
)

// Command is one cmdlet invocation: its name as typed and its parameters in order.
type Command struct {
	Name   string
	Params []Param
}

// Param is one named parameter. Value is one of: string, int64, float64, bool, nil,
// []any (elements of these types), *Hashtable, ScriptBlock.
type Param struct {
	Name  string // as typed, without the leading '-'
	Value any
}

// Hashtable is a PowerShell hashtable literal, @{Key=Value; ...}, with its keys in the order
// typed. Keys are unique regardless of case, as in PowerShell.
type Hashtable struct {
	Keys   []string
	Values map[string]any
}

// ScriptBlock is the inner text of { ... }, trimmed. The module sends a script block (how
// admins write -Filter) as its text, and so does exoctl.
type ScriptBlock string

// ErrEmptyLine is what ParseLine returns for a line with nothing but blanks and comments, so an
// interactive shell can skip it quietly.
var ErrEmptyLine = errors.New("psparam: the line has no cmdlet")

// Get returns the value of key, matched regardless of case as PowerShell does.
func (h *Hashtable) Get(key string) (any, bool) {
	if h == nil {
		return nil, false
	}
	if v, ok := h.Values[key]; ok {
		return v, true
	}
	for _, k := range h.Keys {
		if strings.EqualFold(k, key) {
			return h.Values[k], true
		}
	}
	return nil, false
}

// Lookup returns the value of parameter name, matched regardless of case as the service does.
func (c *Command) Lookup(name string) (any, bool) {
	for _, p := range c.Params {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return nil, false
}

// Parameters returns the InvokeCommand "Parameters" object: parameter name to a JSON-ready
// value, plus the sibling "Name@odata.type" annotation for an array of hashtables. Use
// MarshalJSON instead when the user's parameter order matters.
func (c *Command) Parameters() map[string]any {
	m := make(map[string]any, len(c.Params))
	for _, p := range c.Params {
		m[p.Name] = p.Value
		if isHashtableArray(p.Value) {
			m[p.Name+odataTypeSuffix] = hashtableCollectionType
		}
	}
	return m
}

// ParseLine reads one cmdlet invocation typed as in PowerShell: a cmdlet name and its parameters
// in argument mode. The line may span several physical lines through a trailing backtick or an
// open @{ }, @( ), { } or string. It returns ErrEmptyLine for a blank or comment-only line and a
// *SyntaxError for anything it cannot read.
func ParseLine(line string, opts ...Option) (*Command, error) {
	p := &parser{src: line, line: line, switches: options(opts)}
	if err := p.skipBlank(true); err != nil {
		return nil, err
	}
	if p.eof() {
		return nil, ErrEmptyLine
	}
	name, err := p.cmdletName()
	if err != nil {
		return nil, err
	}
	var toks []token
	ended := false
	for {
		if err := p.skipBlank(false); err != nil {
			return nil, err
		}
		if p.eof() {
			break
		}
		if r, _ := p.peek(); isNewline(r) || r == ';' {
			if err := p.endOfStatement(); err != nil {
				return nil, err
			}
			break
		}
		t, err := p.rawToken(ended)
		if err != nil {
			return nil, err
		}
		ended = ended || t.kind == tokEnd
		toks = append(toks, t)
	}
	return bind(name, toks, p)
}

// Option tunes parsing.
type Option func(*parseOptions)

type parseOptions struct {
	isSwitch func(cmdlet, param string) bool
}

// Switches tells the parser which parameters are switches (the module file knows: a
// [switch] in the cmdlet's param block), so that a switch followed by a value does not take
// it, as in PowerShell: Get-Mailbox -Archive alice is -Archive plus the unnamed alice.
func Switches(isSwitch func(cmdlet, param string) bool) Option {
	return func(o *parseOptions) { o.isSwitch = isSwitch }
}

func options(opts []Option) func(cmdlet, param string) bool {
	var o parseOptions
	for _, f := range opts {
		f(&o)
	}
	return o.isSwitch
}

// ParseArgs reads a cmdlet invocation from argv: argv[0] is the cmdlet name and each later
// element is one PowerShell argument-mode token, after a POSIX shell removed its own quotes.
// An element that starts like a PowerShell value (a quote, @, {, $, (, [ or a comma) is read
// as PowerShell reads it; anything else is text, or a number, split into an array at commas.
// So `-Identity "o'brien"` works as typed in bash, and `'@{Add="smtp:a@x.com"}'` is a hashtable.
func ParseArgs(argv []string, opts ...Option) (*Command, error) {
	line := displayArgs(argv)
	if len(argv) == 0 {
		return nil, &SyntaxError{Msg: "no cmdlet given", Hint: "name the cmdlet first, e.g. Get-Mailbox -Identity alice"}
	}
	p0 := &parser{src: argv[0], line: line.text, base: line.offsets[0], argv: true, switches: options(opts)}
	name, err := p0.cmdletName()
	if err != nil {
		return nil, err
	}
	if !p0.eof() {
		return nil, p0.errAt(p0.pos, "the cmdlet name "+quoteForMsg(argv[0])+" has characters a cmdlet name cannot have",
			"pass the cmdlet name alone as the first argument, e.g. Get-Mailbox")
	}
	toks := make([]token, 0, len(argv)-1)
	ended := false
	for i, el := range argv[1:] {
		p := &parser{src: el, line: line.text, base: line.offsets[i+1], argv: true, quoted: line.quoted[i+1]}
		t, err := p.argvToken(ended)
		if err != nil {
			return nil, err
		}
		if t.kind == tokEnd {
			ended = true
		}
		toks = append(toks, t)
	}
	return bind(name, toks, p0)
}

// switchParams are PowerShell's common switch parameters. Unlike other parameters they never
// take the next token as their value, as in PowerShell: Remove-Mailbox -Force alice.
var switchParams = map[string]bool{"confirm": true, "whatif": true, "force": true, "verbose": true, "debug": true}

// bind turns tokens into parameters: a parameter takes the value that follows it, a parameter
// followed by another parameter (or by nothing) is a switch, and one unnamed value is Identity.
func bind(name string, toks []token, p *parser) (*Command, error) {
	cmd := &Command{Name: name, Params: make([]Param, 0, len(toks))}
	seen := make(map[string]bool, len(toks))
	positional := -1 // index in toks of the unnamed value bound to Identity
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.kind {
		case tokEnd:
			continue
		case tokValue:
			if positional >= 0 {
				return nil, p.errAtLine(t.off, quoteForMsg(t.raw)+" is a second value without a parameter name",
					"only one unnamed value is allowed, and it binds to -Identity; name the parameter this one is for, e.g. -DisplayName "+t.raw)
			}
			if seen["identity"] {
				return nil, p.errAtLine(t.off, quoteForMsg(t.raw)+" has no parameter name, and -Identity is already given",
					"name the parameter this value is for, e.g. -DisplayName "+t.raw)
			}
			seen["identity"] = true
			positional = i
			cmd.Params = append(cmd.Params, Param{Name: "Identity", Value: t.val})
			continue
		}
		key := strings.ToLower(t.name)
		if seen[key] {
			msg := "-" + t.name + " is given twice"
			if key == "identity" && positional >= 0 {
				msg += " (the unnamed value " + quoteForMsg(toks[positional].raw) + " binds to -Identity)"
			}
			return nil, p.errAtLine(t.off, msg, "give each parameter once; for several values use a comma list: -"+t.name+" a,b")
		}
		seen[key] = true
		var v any
		switch {
		case t.hasVal:
			v = t.val
		case t.colon:
			if i+1 >= len(toks) || toks[i+1].kind != tokValue {
				hint := "write the value right after the colon, e.g. -" + t.name + ":$false"
				if p.argv {
					hint += "; if your shell turned $false into nothing, quote the argument: '-" + t.name + ":$false'"
				}
				return nil, p.errAtLine(t.off, "-"+t.name+": has no value after the colon", hint)
			}
			i++
			v = toks[i].val
		case switchParams[key] || (p.switches != nil && p.switches(name, t.name)):
			v = true
			if i+1 < len(toks) && toks[i+1].kind == tokValue {
				if b, ok := toks[i+1].val.(bool); ok {
					return nil, p.errAtLine(toks[i+1].off, quoteForMsg(toks[i+1].raw)+" after -"+t.name+" would be a separate value: -"+t.name+" is a switch",
						"join them with a colon: -"+t.name+":"+boolText(b))
				}
			}
		default:
			j := i + 1
			if j < len(toks) && toks[j].kind == tokEnd {
				j++
			}
			if j < len(toks) && toks[j].kind == tokValue {
				v = toks[j].val
				i = j
			} else {
				v = true
			}
		}
		cmd.Params = append(cmd.Params, Param{Name: t.name, Value: v})
	}
	return cmd, nil
}

func boolText(b bool) string {
	if b {
		return "$true"
	}
	return "$false"
}

type tokKind uint8

const (
	tokValue tokKind = iota // a value
	tokParam                // -Name or -Name:value
	tokEnd                  // --, the end of parameters
)

// token is one argument-mode token.
type token struct {
	kind   tokKind
	name   string // parameter name, without the dash
	colon  bool   // -Name: with the value in the next token
	hasVal bool   // -Name:value
	val    any
	raw    string // the source text, for messages
	off    int    // offset in the displayed line
}
