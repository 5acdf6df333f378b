package psparam

import (
	"errors"
	"strings"
	"testing"
)

// errorCases give the exact message a user sees: what is wrong, the line with a caret under
// the offending token, and what to write instead. argv cases have line == "".
var errorCases = []struct {
	name string
	line string
	argv []string
	want string
}{
	{
		name: "variable",
		line: `Get-Mailbox -Identity $user`,
		want: `$user is a variable, and exoctl has no variables
  Get-Mailbox -Identity $user
                        ^
write the value itself; for a literal $, use single quotes: '$user'`,
	},
	{
		name: "variable inside double quotes",
		line: `Get-Mailbox -Identity "$user@contoso.com"`,
		want: `$user is a variable, and exoctl has no variables
  Get-Mailbox -Identity "$user@contoso.com"
                         ^
write the value itself; for a literal $ inside double quotes write ` + "`$" + `, or use single quotes`,
	},
	{
		name: "sub-expression",
		line: `Set-X -Notes "at $(Get-Date)"`,
		want: `sub-expressions $( ) are not supported; exoctl does not evaluate PowerShell
  Set-X -Notes "at $(Get-Date)"
                   ^
write the value itself`,
	},
	{
		name: "second positional",
		line: `Get-Mailbox alice bob`,
		want: `'bob' is a second value without a parameter name
  Get-Mailbox alice bob
                    ^
only one unnamed value is allowed, and it binds to -Identity; name the parameter this one is for, e.g. -DisplayName bob`,
	},
	{
		name: "positional after -Identity",
		line: `Get-Mailbox -Identity alice bob`,
		want: `'bob' has no parameter name, and -Identity is already given
  Get-Mailbox -Identity alice bob
                              ^
name the parameter this value is for, e.g. -DisplayName bob`,
	},
	{
		name: "repeated parameter, any case",
		line: `Set-X -A 1 -a 2`,
		want: `-a is given twice
  Set-X -A 1 -a 2
             ^
give each parameter once; for several values use a comma list: -a a,b`,
	},
	{
		name: "-Identity after a positional value",
		line: `Get-Mailbox alice -Identity bob`,
		want: `-Identity is given twice (the unnamed value 'alice' binds to -Identity)
  Get-Mailbox alice -Identity bob
                    ^
give each parameter once; for several values use a comma list: -Identity a,b`,
	},
	{
		name: "pipeline",
		line: `Get-Mailbox | Set-Mailbox -X 1`,
		want: `pipelines (|) are not supported
  Get-Mailbox | Set-Mailbox -X 1
              ^
run one cmdlet at a time and give the next one its objects by -Identity; if | is part of a value, quote it: 'a|b'`,
	},
	{
		name: "ampersand in a bare word",
		line: `Set-Group -DisplayName R&D`,
		want: `& is an operator in PowerShell and is not supported
  Set-Group -DisplayName R&D
                          ^
if & is part of a value, quote it: 'R&D'`,
	},
	{
		name: "redirection",
		line: `Get-Mailbox > out.txt`,
		want: `redirection (>) is not supported
  Get-Mailbox > out.txt
              ^
redirect exoctl's output with your shell instead; if > is part of a value, quote it: 'a>b'`,
	},
	{
		name: "parentheses in a bare word",
		line: `Set-X -DisplayName Sales(EU)`,
		want: `unexpected ( in a value
  Set-X -DisplayName Sales(EU)
                          ^
if it is part of the text, quote the whole value: 'Sales(EU)'`,
	},
	{
		name: "cast",
		line: `Set-X -Count [int]5`,
		want: `type casts like [int] are not supported
  Set-X -Count [int]5
               ^
write the value itself: numbers, $true/$false and quoted strings carry their type; if the brackets are part of the text, quote it: '[int]5'`,
	},
	{
		name: "splatting",
		line: `Set-Mailbox @params`,
		want: `splatting (@params) is not supported; exoctl has no variables
  Set-Mailbox @params
              ^
write the parameters out: -Name value ...`,
	},
	{
		name: "GNU double dash",
		line: `Remove-Mailbox alice --force`,
		want: `'--force': PowerShell parameters take a single dash
  Remove-Mailbox alice --force
                       ^
write -force; to pass the text --force as a value, quote it: '--force'`,
	},
	{
		name: "equals after a parameter name",
		line: `Get-Mailbox -Identity=alice`,
		want: `a parameter name cannot contain '='
  Get-Mailbox -Identity=alice
                       ^
separate the value with a space or a colon: -Identity value, -Identity:value; to pass -Identity=alice as a value, quote it: '-Identity=alice'`,
	},
	{
		name: "switch followed by a boolean",
		line: `Remove-Mailbox alice -Confirm $false`,
		want: `'$false' after -Confirm would be a separate value: -Confirm is a switch
  Remove-Mailbox alice -Confirm $false
                                ^
join them with a colon: -Confirm:$false`,
	},
	{
		name: "colon without value",
		line: `Remove-Mailbox alice -Confirm:`,
		want: `-Confirm: has no value after the colon
  Remove-Mailbox alice -Confirm:
                       ^
write the value right after the colon, e.g. -Confirm:$false`,
	},
	{
		name: "unterminated string",
		line: `Set-X -Notes 'it's here'`,
		want: `text follows the closing quote
  Set-X -Notes 'it's here'
                   ^
to put a quote inside single quotes, write it twice: 'it''s here'`,
	},
	{
		name: "unterminated string",
		line: `Set-X -Notes 'it''s here`,
		want: `the string has no closing quote (')
  Set-X -Notes 'it''s here
               ^
end it with '; inside single quotes write '' for a quote: 'o''brien'`,
	},
	{
		name: "text glued to a string",
		line: `Set-X -Notes 'a'b`,
		want: `text follows the closing quote
  Set-X -Notes 'a'b
                  ^
PowerShell reads that as two values; put the whole value in one pair of quotes: 'ab'`,
	},
	{
		name: "hashtable without =",
		line: `Set-X -A @{Add}`,
		want: `expected = after the key 'Add'
  Set-X -A @{Add}
                ^
write each entry as key = value, e.g. @{Add='value'}`,
	},
	{
		name: "duplicate hashtable key",
		line: `Set-X -A @{Add='a'; add='b'}`,
		want: `the key 'add' appears twice in the hashtable
  Set-X -A @{Add='a'; add='b'}
                      ^
give each key once; for several values use a comma list: add='a','b'`,
	},
	{
		name: "hashtable entries without separator",
		line: `Set-X -A @{Add='a' Remove='b'}`,
		want: `expected ; or } after the value of 'Add'
  Set-X -A @{Add='a' Remove='b'}
                     ^
separate entries with ; or a line break: @{Add='a'; Remove='b'}`,
	},
	{
		name: "array elements without commas",
		line: `Set-X -A @('a' 'b')`,
		want: `expected , or ) after an element of @( )
  Set-X -A @('a' 'b')
                 ^
separate elements with commas: @('a','b')`,
	},
	{
		name: "two cmdlets",
		line: "Get-Mailbox alice; Get-User alice",
		want: `only one cmdlet per line is supported
  Get-Mailbox alice; Get-User alice
                     ^
put each cmdlet on a line of its own`,
	},
	{
		name: "second line of a multi-line input",
		line: "Set-X -A @{\n  Add = $x\n}",
		want: `$x is a variable, and exoctl has no variables
    Add = $x
          ^
write the value itself; for a literal $, use single quotes: '$x'`,
	},
	{
		name: "assignment",
		line: `$x = Get-Mailbox`,
		want: `the line must start with a cmdlet name
  $x = Get-Mailbox
  ^
start it with the cmdlet, e.g. Get-Mailbox -Identity alice`,
	},
	{
		name: "tab before the caret",
		line: "Set-X\t-A $y",
		want: "$y is a variable, and exoctl has no variables\n  Set-X\t-A $y\n       \t   ^\nwrite the value itself; for a literal $, use single quotes: '$y'",
	},
	{
		name: "unicode before the caret",
		line: `Set-X -Notes 'Zoë' -Title $t`,
		want: `$t is a variable, and exoctl has no variables
  Set-X -Notes 'Zoë' -Title $t
                            ^
write the value itself; for a literal $, use single quotes: '$t'`,
	},
	{
		name: "long line is cut around the offset",
		line: "Set-X " + strings.Repeat("-A1 1 ", 5) + "-Z $z " + strings.Repeat("-B1 2 ", 20),
		want: `$z is a variable, and exoctl has no variables
  ...-X -A1 1 -A1 1 -A1 1 -A1 1 -A1 1 -Z $z -B1 2 -B1 2 -B1 2 -B1 2 -B1 2 -B1...
                                         ^
write the value itself; for a literal $, use single quotes: '$z'`,
	},
	{
		name: "argv: a variable, hint quoted for the shell too",
		argv: []string{"Set-X", "-Notes", "$5 off"},
		want: `$5 is a variable, and exoctl has no variables
  Set-X -Notes '$5 off'
                ^
write the value itself; for a literal $, use single quotes: "'\$5 off'"`,
	},
	{
		name: "argv: the shell ate $false",
		argv: []string{"Remove-Mailbox", "alice", "-Confirm:"},
		want: `-Confirm: has no value after the colon
  Remove-Mailbox alice -Confirm:
                       ^
write the value right after the colon, e.g. -Confirm:$false; if your shell turned $false into nothing, quote the argument: '-Confirm:$false'`,
	},
	{
		name: "argv: parameter and value in one argument",
		argv: []string{"Get-Mailbox", "-Identity alice"},
		want: `'-Identity alice' is one argument, but a parameter and its value must be two
  Get-Mailbox '-Identity alice'
                        ^
pass them as separate arguments, -Identity value, or join them with a colon: '-Identity:value'`,
	},
	{
		name: "argv: parentheses",
		argv: []string{"Set-X", "-Name", "(EU) Sales"},
		want: `expressions in parentheses are not supported; exoctl does not evaluate PowerShell
  Set-X -Name '(EU) Sales'
               ^
write the value itself; if the parentheses are part of the text, quote it: "'(EU) Sales'"`,
	},
	{
		name: "argv: caret inside a shell-quoted element with quotes",
		argv: []string{"Set-X", "-A", "@('it''s', $x)"},
		want: `$x is a variable, and exoctl has no variables
  Set-X -A '@('\''it'\'''\''s'\'', $x)'
                                   ^
write the value itself; for a literal $, use single quotes: "'\$x'"`,
	},
	{
		name: "argv: empty comma element",
		argv: []string{"Set-X", "-A", "a,,b"},
		want: `a value is missing before or after a comma
  Set-X -A a,,b
             ^
remove the extra comma, or quote the value if the comma is part of it: "'a,,b'"`,
	},
	{
		name: "argv: bad cmdlet name",
		argv: []string{"Get Mailbox"},
		want: `the cmdlet name 'Get Mailbox' has characters a cmdlet name cannot have
  'Get Mailbox'
      ^
pass the cmdlet name alone as the first argument, e.g. Get-Mailbox`,
	},
	{
		name: "argv: nothing",
		argv: []string{},
		want: `no cmdlet given
name the cmdlet first, e.g. Get-Mailbox -Identity alice`,
	},
}

func TestErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.argv != nil {
				_, err = ParseArgs(tc.argv)
			} else {
				_, err = ParseLine(tc.line)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *SyntaxError", err)
			}
			if got := se.Error(); got != tc.want {
				t.Errorf("got\n%s\n\nwant\n%s", got, tc.want)
			}
			checkCaret(t, se)
		})
	}
}

// TestLineErrorsAgreeWithArgs checks that the same mistake is refused the same way from argv.
func TestLineErrorsAgreeWithArgs(t *testing.T) {
	for _, tc := range []struct {
		line string
		argv []string
		msg  string
	}{
		{`Get-Mailbox alice bob`, []string{"Get-Mailbox", "alice", "bob"}, "'bob' is a second value without a parameter name"},
		{`Set-X -A 1 -A 2`, []string{"Set-X", "-A", "1", "-A", "2"}, "-A is given twice"},
		{`Set-X -A $x`, []string{"Set-X", "-A", "$x"}, "$x is a variable, and exoctl has no variables"},
		{`Set-X -A @{a=1;a=2}`, []string{"Set-X", "-A", "@{a=1;a=2}"}, "the key 'a' appears twice in the hashtable"},
		{`Set-X --force`, []string{"Set-X", "--force"}, "'--force': PowerShell parameters take a single dash"},
		{`Set-X -A 1e999`, []string{"Set-X", "-A", "1e999"}, "1e999 is too large for a number"},
		{`Set-X -Force $true`, []string{"Set-X", "-Force", "$true"}, "'$true' after -Force would be a separate value: -Force is a switch"},
		{`Set-X -A "x`, []string{"Set-X", "-A", `"x`}, `the string has no closing quote (")`},
	} {
		_, err1 := ParseLine(tc.line)
		_, err2 := ParseArgs(tc.argv)
		for _, err := range []error{err1, err2} {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Msg != tc.msg {
				t.Errorf("%q / %q: got %v, want %q", tc.line, tc.argv, err, tc.msg)
			}
		}
	}
}

// checkCaret checks that the caret stands under the character at Offset.
func checkCaret(t *testing.T, se *SyntaxError) {
	t.Helper()
	lines := strings.Split(se.Error(), "\n")
	if se.Line == "" || len(lines) < 3 {
		return
	}
	shown, caret := []rune(lines[1]), []rune(lines[2])
	col := len(caret) - 1
	if col >= len(shown) {
		if se.Offset < len(se.Line) {
			t.Errorf("caret at column %d is past the shown line %q", col, lines[1])
		}
		return
	}
	want := []rune(se.Line[se.Offset:])
	if len(want) > 0 && shown[col] != visible(want[0]) {
		t.Errorf("caret under %q, want %q", shown[col], want[0])
	}
}
