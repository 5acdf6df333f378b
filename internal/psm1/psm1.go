package psm1

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Module is a parsed module file.
type Module struct {
	Functions []*Function
}

// Function is one cmdlet proxy: a function with a param() block.
type Function struct {
	Name       string
	DefaultSet string // DefaultParameterSetName of [CmdletBinding()], "" when none
	Params     []*Param
}

// Param is one declared parameter.
type Param struct {
	Name        string
	Type        string // as written: string, switch, bool, int, System.Object, System.Object[], ...
	Aliases     []string
	ValidateSet []string
	// Sets are the parameter's [Parameter()] attributes; a parameter with none (or with no
	// ParameterSetName) is in every set, which Sets reports as AllSets.
	Sets []SetParam
}

// AllSets is the name PowerShell gives the implicit set of a parameter declared without
// ParameterSetName.
const AllSets = "__AllParameterSets"

// SetParam is a parameter's role in one set.
type SetParam struct {
	Set                             string
	Mandatory                       bool
	Position                        int // -1 when named
	ValueFromPipeline               bool
	ValueFromPipelineByPropertyName bool
}

// Switch reports whether the parameter is a switch (takes no value).
func (p *Param) Switch() bool {
	t := strings.ToLower(strings.TrimSpace(p.Type))
	return t == "switch" || t == "system.management.automation.switchparameter" || t == "switchparameter"
}

// CommonParameters are the parameters every advanced function ([CmdletBinding()]) has, with
// whether each is a switch; they are PowerShell's, not the module's, so the file does not list
// them.
var CommonParameters = []struct {
	Name   string
	Switch bool
}{
	{"Verbose", true}, {"Debug", true}, {"ErrorAction", false}, {"WarningAction", false},
	{"InformationAction", false}, {"ProgressAction", false}, {"ErrorVariable", false},
	{"WarningVariable", false}, {"InformationVariable", false}, {"OutVariable", false},
	{"OutBuffer", false}, {"PipelineVariable", false},
}

// Function finds a function by name, case-insensitively.
func (m *Module) Function(name string) *Function {
	for _, f := range m.Functions {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// Names are the functions' names in file order.
func (m *Module) Names() []string {
	out := make([]string, len(m.Functions))
	for i, f := range m.Functions {
		out[i] = f.Name
	}
	return out
}

// Param finds a declared parameter by name or alias, case-insensitively (common parameters
// are not declared; see CommonParameters).
func (f *Function) Param(name string) *Param {
	for _, p := range f.Params {
		if strings.EqualFold(p.Name, name) || slices.ContainsFunc(p.Aliases, func(a string) bool { return strings.EqualFold(a, name) }) {
			return p
		}
	}
	return nil
}

// IsSwitch reports whether -name is a switch of the function: a declared switch or a common
// switch (Verbose, Debug).
func (f *Function) IsSwitch(name string) bool {
	if p := f.Param(name); p != nil {
		return p.Switch()
	}
	for _, c := range CommonParameters {
		if strings.EqualFold(c.Name, name) {
			return c.Switch
		}
	}
	return false
}

// Sets are the named parameter sets of the function, in order of first appearance (AllSets
// only when no parameter names a set).
func (f *Function) Sets() []string {
	var out []string
	for _, p := range f.Params {
		for _, s := range p.Sets {
			if s.Set != AllSets && !slices.Contains(out, s.Set) {
				out = append(out, s.Set)
			}
		}
	}
	if len(out) == 0 {
		out = []string{AllSets}
	}
	return out
}

// InSet reports whether the parameter belongs to set (directly, or as a parameter of every
// set).
func (p *Param) InSet(set string) (SetParam, bool) {
	for _, s := range p.Sets {
		if s.Set == set || s.Set == AllSets {
			return s, true
		}
	}
	return SetParam{}, false
}

// Parse reads a module file. It understands what a generated proxy module holds — functions
// with [CmdletBinding()] and a param() block of attributed, typed parameters — and skips
// everything else (function bodies, comments, other statements).
func Parse(text string) (*Module, error) {
	m := &Module{}
	s := &scanner{src: text}
	for {
		name, ok := s.nextFunction()
		if !ok {
			break
		}
		f := &Function{Name: name}
		if err := s.function(f); err != nil {
			return nil, fmt.Errorf("function %s: %w", name, err)
		}
		m.Functions = append(m.Functions, f)
	}
	return m, nil
}

// scanner walks the text, skipping comments and strings where they could hide syntax.
type scanner struct {
	src string
	pos int
}

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

// skipSpace skips whitespace, line continuations and comments.
func (s *scanner) skipSpace() {
	for !s.eof() {
		c := s.src[s.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			s.pos++
		case c == '`' && s.pos+1 < len(s.src) && (s.src[s.pos+1] == '\n' || s.src[s.pos+1] == '\r'):
			s.pos += 2
		case strings.HasPrefix(s.src[s.pos:], "<#"):
			end := strings.Index(s.src[s.pos+2:], "#>")
			if end < 0 {
				s.pos = len(s.src)
				return
			}
			s.pos += end + 4
		case c == '#':
			end := strings.IndexByte(s.src[s.pos:], '\n')
			if end < 0 {
				s.pos = len(s.src)
				return
			}
			s.pos += end
		default:
			return
		}
	}
}

// nextFunction finds the next "function [script:|global:]Name" at the start of a statement and
// returns Name.
func (s *scanner) nextFunction() (string, bool) {
	for !s.eof() {
		s.skipSpace()
		if s.eof() {
			break
		}
		line := s.src[s.pos:]
		if len(line) > 9 && strings.EqualFold(line[:8], "function") && (line[8] == ' ' || line[8] == '\t') {
			s.pos += 9
			s.skipSpace()
			start := s.pos
			for !s.eof() && !strings.ContainsRune(" \t\r\n{(", rune(s.src[s.pos])) {
				s.pos++
			}
			name := s.src[start:s.pos]
			if i := strings.LastIndexByte(name, ':'); i >= 0 {
				name = name[i+1:]
			}
			if name != "" {
				return name, true
			}
			continue
		}
		// Skip to the next line.
		end := strings.IndexByte(line, '\n')
		if end < 0 {
			s.pos = len(s.src)
			break
		}
		s.pos += end + 1
	}
	return "", false
}

// function reads a function's [CmdletBinding()] and param() block, then skips its body.
func (s *scanner) function(f *Function) error {
	s.skipSpace()
	if s.eof() || s.src[s.pos] != '{' {
		return fmt.Errorf("expected { at offset %d", s.pos)
	}
	bodyStart := s.pos
	s.pos++
	for {
		s.skipSpace()
		if s.eof() {
			return fmt.Errorf("unterminated function")
		}
		switch c := s.src[s.pos]; {
		case c == '[':
			text, err := s.bracket()
			if err != nil {
				return err
			}
			name, args := splitAttribute(text)
			if strings.EqualFold(name, "CmdletBinding") {
				for _, a := range args {
					if strings.EqualFold(a.name, "DefaultParameterSetName") {
						f.DefaultSet = a.value
					}
				}
			}
		case len(s.src)-s.pos >= 5 && strings.EqualFold(s.src[s.pos:s.pos+5], "param"):
			s.pos += 5
			s.skipSpace()
			if s.eof() || s.src[s.pos] != '(' {
				return fmt.Errorf("expected ( after param at offset %d", s.pos)
			}
			if err := s.params(f); err != nil {
				return err
			}
			return s.skipBody(bodyStart)
		default:
			// A function without a param() block: skip it.
			return s.skipBody(bodyStart)
		}
	}
}

// skipBody moves past the function body that starts at the brace at start.
func (s *scanner) skipBody(start int) error {
	s.pos = start
	_, err := s.balanced('{', '}')
	return err
}

// bracket reads a [ ... ] group (nested brackets, parentheses and strings respected) and
// returns its inside.
func (s *scanner) bracket() (string, error) { return s.balanced('[', ']') }

// balanced reads from an opening character to its matching closing one.
func (s *scanner) balanced(open, close byte) (string, error) {
	if s.eof() || s.src[s.pos] != open {
		return "", fmt.Errorf("expected %c at offset %d", open, s.pos)
	}
	start := s.pos
	depth := 0
	for !s.eof() {
		c := s.src[s.pos]
		switch {
		case c == '\'' || c == '"':
			s.skipString()
			continue
		case c == '#' && (open == '{' || open == '('):
			s.skipSpace()
			continue
		case c == '`':
			s.pos += 2
			continue
		case c == '[' || c == '(' || c == '{':
			depth++
		case c == ']' || c == ')' || c == '}':
			depth--
			if depth == 0 {
				s.pos++
				return s.src[start+1 : s.pos-1], nil
			}
		}
		s.pos++
	}
	return "", fmt.Errorf("unterminated %c at offset %d", open, start)
}

// skipString moves past a quoted string (” and `" escapes).
func (s *scanner) skipString() {
	q := s.src[s.pos]
	s.pos++
	for !s.eof() {
		c := s.src[s.pos]
		switch {
		case c == '`' && q == '"':
			s.pos += 2
			continue
		case c == q && s.pos+1 < len(s.src) && s.src[s.pos+1] == q:
			s.pos += 2
			continue
		case c == q:
			s.pos++
			return
		}
		s.pos++
	}
}

// params reads a param( ... ) block.
func (s *scanner) params(f *Function) error {
	block, err := s.balanced('(', ')')
	if err != nil {
		return err
	}
	in := &scanner{src: block}
	p := &Param{}
	finish := func() {
		if p.Name == "" {
			return
		}
		if len(p.Sets) == 0 {
			p.Sets = []SetParam{{Set: AllSets, Position: -1}}
		}
		f.Params = append(f.Params, p)
	}
	for {
		in.skipSpace()
		if in.eof() {
			finish()
			return nil
		}
		switch c := in.src[in.pos]; {
		case c == '[':
			text, err := in.bracket()
			if err != nil {
				return err
			}
			name, args := splitAttribute(text)
			switch {
			case args == nil && !strings.Contains(text, "("):
				p.Type = strings.TrimSpace(text)
			case strings.EqualFold(name, "Parameter"):
				p.Sets = append(p.Sets, parameterAttribute(args))
			case strings.EqualFold(name, "Alias"):
				p.Aliases = append(p.Aliases, positional(args)...)
			case strings.EqualFold(name, "ValidateSet"):
				p.ValidateSet = append(p.ValidateSet, positional(args)...)
			}
		case c == '$':
			in.pos++
			start := in.pos
			if !in.eof() && in.src[in.pos] == '{' {
				end := strings.IndexByte(in.src[in.pos:], '}')
				if end < 0 {
					return fmt.Errorf("unterminated ${")
				}
				p.Name = in.src[in.pos+1 : in.pos+end]
				in.pos += end + 1
			} else {
				for !in.eof() && (isWord(in.src[in.pos]) || in.src[in.pos] == ':') {
					in.pos++
				}
				p.Name = in.src[start:in.pos]
			}
			if i := strings.LastIndexByte(p.Name, ':'); i >= 0 {
				p.Name = p.Name[i+1:]
			}
			in.skipDefault()
		case c == ',':
			in.pos++
			finish()
			p = &Param{}
		default:
			return fmt.Errorf("unexpected %q in param() at offset %d", c, in.pos)
		}
	}
}

// skipDefault moves past "= default value" up to the next top-level comma.
func (s *scanner) skipDefault() {
	s.skipSpace()
	if s.eof() || s.src[s.pos] != '=' {
		return
	}
	for !s.eof() {
		switch c := s.src[s.pos]; c {
		case ',':
			return
		case '\'', '"':
			s.skipString()
		case '(', '[', '{':
			closer := map[byte]byte{'(': ')', '[': ']', '{': '}'}[c]
			if _, err := s.balanced(c, closer); err != nil {
				s.pos = len(s.src)
			}
		default:
			s.pos++
		}
	}
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// arg is one argument of an attribute: Name=Value, Name (true), or a positional value.
type arg struct {
	name, value string
	positional  bool
}

// splitAttribute splits "Name(args)" into the name and its arguments (nil when there are no
// parentheses, i.e. the text is a type).
func splitAttribute(text string) (string, []arg) {
	text = strings.TrimSpace(text)
	open := strings.IndexByte(text, '(')
	if open < 0 || !strings.HasSuffix(text, ")") {
		return text, nil
	}
	name := strings.TrimSpace(text[:open])
	inner := text[open+1 : len(text)-1]
	args := []arg{}
	for _, part := range splitTop(inner) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if k, v, ok := cutTop(part, '='); ok && isName(strings.TrimSpace(k)) {
			args = append(args, arg{name: strings.TrimSpace(k), value: unquote(strings.TrimSpace(v))})
			continue
		}
		if isName(part) {
			args = append(args, arg{name: part, value: "$true"})
			continue
		}
		args = append(args, arg{value: unquote(part), positional: true})
	}
	return name, args
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWord(s[i]) {
			return false
		}
	}
	return s[0] < '0' || s[0] > '9'
}

// splitTop splits at commas outside quotes and brackets.
func splitTop(s string) []string {
	var out []string
	sc := &scanner{src: s}
	start := 0
	for !sc.eof() {
		switch c := sc.src[sc.pos]; c {
		case '\'', '"':
			sc.skipString()
			continue
		case '(', '[', '{':
			closer := map[byte]byte{'(': ')', '[': ']', '{': '}'}[c]
			if _, err := sc.balanced(c, closer); err != nil {
				sc.pos = len(s)
			}
			continue
		case ',':
			out = append(out, s[start:sc.pos])
			start = sc.pos + 1
		}
		sc.pos++
	}
	return append(out, s[start:])
}

// cutTop cuts at the first sep outside quotes.
func cutTop(s string, sep byte) (string, string, bool) {
	sc := &scanner{src: s}
	for !sc.eof() {
		switch c := sc.src[sc.pos]; {
		case c == '\'' || c == '"':
			sc.skipString()
			continue
		case c == sep:
			return s[:sc.pos], s[sc.pos+1:], true
		}
		sc.pos++
	}
	return s, "", false
}

// unquote reads a PowerShell string literal ('..' with ” doubling, ".." with ` escapes);
// other text is returned trimmed.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		r := strings.NewReplacer("`\"", "\"", "``", "`", "\"\"", "\"", "`n", "\n", "`t", "\t")
		return r.Replace(s[1 : len(s)-1])
	}
	return s
}

func positional(args []arg) []string {
	var out []string
	for _, a := range args {
		if a.positional {
			out = append(out, a.value)
		}
	}
	return out
}

func truth(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "$true", "true", "1":
		return true
	}
	return false
}

// parameterAttribute reads [Parameter(...)].
func parameterAttribute(args []arg) SetParam {
	sp := SetParam{Set: AllSets, Position: -1}
	for _, a := range args {
		switch strings.ToLower(a.name) {
		case "parametersetname":
			sp.Set = a.value
		case "mandatory":
			sp.Mandatory = truth(a.value)
		case "position":
			if n, err := strconv.Atoi(strings.TrimSpace(a.value)); err == nil {
				sp.Position = n
			}
		case "valuefrompipeline":
			sp.ValueFromPipeline = truth(a.value)
		case "valuefrompipelinebypropertyname":
			sp.ValueFromPipelineByPropertyName = truth(a.value)
		}
	}
	return sp
}
