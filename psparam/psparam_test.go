package psparam

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// parseCases are read both ways: line as typed in PowerShell, argv as a POSIX shell hands it
// over (its quotes removed). Both must give the cmdlet name, the JSON and the Go types in want.
var parseCases = []struct {
	name string
	line string
	argv []string
	json string // Command.MarshalJSON
	ps   string // Command.String, which shows the Go types (1000 vs 1000.0)
}{
	{
		name: "issue example",
		line: `Set-Mailbox -Identity 'o''brien' -EmailAddresses @{Add="smtp:a@contoso.com","smtp:b@contoso.com"; Remove='smtp:c@contoso.com'} -ProhibitSendQuota 49GB -Confirm:$false -HiddenFromAddressListsEnabled`,
		argv: []string{"Set-Mailbox", "-Identity", "o'brien", "-EmailAddresses", `@{Add="smtp:a@contoso.com","smtp:b@contoso.com"; Remove='smtp:c@contoso.com'}`, "-ProhibitSendQuota", "49GB", "-Confirm:$false", "-HiddenFromAddressListsEnabled"},
		json: `{"Identity":"o'brien","EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Add":["smtp:a@contoso.com","smtp:b@contoso.com"],"Remove":"smtp:c@contoso.com"},"ProhibitSendQuota":52613349376,"Confirm":false,"HiddenFromAddressListsEnabled":true}`,
	},
	{
		name: "no parameters",
		line: `Get-AcceptedDomain`,
		argv: []string{"Get-AcceptedDomain"},
		json: `{}`,
	},
	{
		name: "positional identity and bare words",
		line: `get-mailbox alice@contoso.com -ResultSize Unlimited -DomainController dc1.contoso.com`,
		argv: []string{"get-mailbox", "alice@contoso.com", "-ResultSize", "Unlimited", "-DomainController", "dc1.contoso.com"},
		json: `{"Identity":"alice@contoso.com","ResultSize":"Unlimited","DomainController":"dc1.contoso.com"}`,
	},
	{
		name: "positional identity after parameters",
		line: `Remove-Mailbox -Confirm:$false alice`,
		argv: []string{"Remove-Mailbox", "-Confirm:$false", "alice"},
		json: `{"Confirm":false,"Identity":"alice"}`,
	},
	{
		name: "common switch does not take the next value",
		line: `Remove-Mailbox -Force alice -WhatIf`,
		argv: []string{"Remove-Mailbox", "-Force", "alice", "-WhatIf"},
		json: `{"Force":true,"Identity":"alice","WhatIf":true}`,
	},
	{
		name: "switches and colon booleans",
		line: `Set-X -A -B:$true -C:$FALSE -D:$Null -E`,
		argv: []string{"Set-X", "-A", "-B:$true", "-C:$FALSE", "-D:$Null", "-E"},
		json: `{"A":true,"B":true,"C":false,"D":null,"E":true}`,
	},
	{
		name: "colon then value",
		line: `Set-X -Name: 'a b' -Count:5`,
		argv: []string{"Set-X", "-Name:", "a b", "-Count:5"},
		json: `{"Name":"a b","Count":5}`,
	},
	{
		name: "numbers",
		line: `Set-X -A 42 -B -5 -C 1.5 -D .5 -E 1e3 -F 0x1F -G 0b101 -H 49GB -I 1kb -J 2MB -K 1TB -L 1PB -M 1.5GB -N 0xFFFFFFFF -O 0xFFFFFFFFl -P 7l -Q 10d -R -0x10 -S 2.5e-3 -T 9223372036854775807 -U 99999999999999999999 -V 1.`,
		argv: []string{"Set-X", "-A", "42", "-B", "-5", "-C", "1.5", "-D", ".5", "-E", "1e3", "-F", "0x1F", "-G", "0b101", "-H", "49GB", "-I", "1kb", "-J", "2MB", "-K", "1TB", "-L", "1PB", "-M", "1.5GB", "-N", "0xFFFFFFFF", "-O", "0xFFFFFFFFl", "-P", "7l", "-Q", "10d", "-R", "-0x10", "-S", "2.5e-3", "-T", "9223372036854775807", "-U", "99999999999999999999", "-V", "1."},
		json: `{"A":42,"B":-5,"C":1.5,"D":0.5,"E":1000,"F":31,"G":5,"H":52613349376,"I":1024,"J":2097152,"K":1099511627776,"L":1125899906842624,"M":1610612736,"N":-1,"O":4294967295,"P":7,"Q":10,"R":-16,"S":0.0025,"T":9223372036854775807,"U":100000000000000000000,"V":1}`,
		ps:   `Set-X -A:42 -B:-5 -C:1.5 -D:0.5 -E:1000.0 -F:31 -G:5 -H:52613349376 -I:1024 -J:2097152 -K:1099511627776 -L:1125899906842624 -M:1.610612736e+09 -N:-1 -O:4294967295 -P:7 -Q:10.0 -R:-16 -S:0.0025 -T:9223372036854775807 -U:1e+20 -V:1.0`,
	},
	{
		name: "words that only look like numbers are text",
		line: `Set-X -A 10.0.0.1 -B 2024-01-31 -C 1e -D 0x -E 12abc -F 5GBx -G Infinity -H NaN -I 1_000 -J +5 -K 0xZZ`,
		argv: []string{"Set-X", "-A", "10.0.0.1", "-B", "2024-01-31", "-C", "1e", "-D", "0x", "-E", "12abc", "-F", "5GBx", "-G", "Infinity", "-H", "NaN", "-I", "1_000", "-J", "+5", "-K", "0xZZ"},
		json: `{"A":"10.0.0.1","B":"2024-01-31","C":"1e","D":"0x","E":"12abc","F":"5GBx","G":"Infinity","H":"NaN","I":"1_000","J":"+5","K":"0xZZ"}`,
	},
	{
		name: "quoted numbers stay text",
		line: `Set-X -A '42' -B "49GB" -C '$true'`,
		argv: []string{"Set-X", "-A", "'42'", "-B", `"49GB"`, "-C", "'$true'"},
		json: `{"A":"42","B":"49GB","C":"$true"}`,
	},
	{
		name: "single quotes",
		line: `Set-X -A 'it''s' -B '' -C 'say "hi"' -D '$notavar ` + "`n" + `'`,
		argv: []string{"Set-X", "-A", "it's", "-B", "", "-C", `say "hi"`, "-D", "'$notavar `n'"},
		json: `{"A":"it's","B":"","C":"say \"hi\"","D":"$notavar ` + "`n" + `"}`,
	},
	{
		name: "double quotes and escapes",
		line: "Set-X -A \"tab`there\" -B \"line`nbreak\" -C \"a`\"b\" -D \"a\"\"b\" -E \"cost `$5\" -F \"back``tick\" -G \"\" -H \"`u{2713} ok\" -I \"price $ 5\" -J \"`0`a`b`e`f`r`v`q\"",
		argv: []string{"Set-X", "-A", "\"tab`there\"", "-B", "\"line`nbreak\"", "-C", "\"a`\"b\"", "-D", `"a""b"`, "-E", "\"cost `$5\"", "-F", "\"back``tick\"", "-G", "", "-H", "\"`u{2713} ok\"", "-I", "price $ 5", "-J", "\"`0`a`b`e`f`r`v`q\""},
		json: `{"A":"tab\there","B":"line\nbreak","C":"a\"b","D":"a\"b","E":"cost $5","F":"back` + "`" + `tick","G":"","H":"✓ ok","I":"price $ 5","J":"\u0000\u0007\b\u001b\f\r\u000bq"}`,
	},
	{
		name: "nasty quoting: quotes in quotes, commas, = and ; inside values",
		line: `Set-X -A "it's" -B 'a,b' -C 'k=v;x=y' -D "#not a comment" -E 'x | y & z > w' -F a=b -G "semi;colon"`,
		argv: []string{"Set-X", "-A", "it's", "-B", "'a,b'", "-C", "k=v;x=y", "-D", "#not a comment", "-E", "x | y & z > w", "-F", "a=b", "-G", "semi;colon"},
		json: `{"A":"it's","B":"a,b","C":"k=v;x=y","D":"#not a comment","E":"x | y \u0026 z \u003e w","F":"a=b","G":"semi;colon"}`,
	},
	{
		name: "quotes inside a bare word join it",
		line: `Set-X -DisplayName Sales' (EU)' -B a"b c"d`,
		argv: []string{"Set-X", "-DisplayName", "Sales (EU)", "-B", "ab cd"},
		json: `{"DisplayName":"Sales (EU)","B":"ab cd"}`,
	},
	{
		name: "unicode",
		line: `Set-User -Identity 'Zoë Ångström' -City 東京 -Notes "emoji 🎉" -Title naïve`,
		argv: []string{"Set-User", "-Identity", "Zoë Ångström", "-City", "東京", "-Notes", "emoji 🎉", "-Title", "naïve"},
		json: `{"Identity":"Zoë Ångström","City":"東京","Notes":"emoji 🎉","Title":"naïve"}`,
	},
	{
		name: "typographic quotes and dashes pasted from a document",
		line: "Set-Mailbox –Identity ‘o’’brien’ —Notes “say ”“hi”” and ‘x’”",
		argv: []string{"Set-Mailbox", "–Identity", "‘o’’brien’", "—Notes", "“say ”“hi”” and ‘x’”"},
		json: `{"Identity":"o’brien","Notes":"say “hi” and ‘x’"}`,
	},
	{
		name: "-- and - as values",
		line: `Set-X -A '--' -B - -C:-- -D -- -E`,
		argv: []string{"Set-X", "-A", "'--'", "-B", "-", "-C:--", "-D", "--", "-E"},
		json: `{"A":"--","B":"-","C":"--","D":"-E"}`,
	},
	{
		name: "-- ends parameters",
		line: `Get-Mailbox -- -weird-name`,
		argv: []string{"Get-Mailbox", "--", "-weird-name"},
		json: `{"Identity":"-weird-name"}`,
	},
	{
		name: "-- at the end leaves a switch",
		line: `Set-X -A --`,
		argv: []string{"Set-X", "-A", "--"},
		json: `{"A":true}`,
	},
	{
		name: "a backtick-escaped dash is a value",
		line: "Set-X -A `-B",
		argv: []string{"Set-X", "-A", "'-B'"},
		json: `{"A":"-B"}`,
	},
	{
		name: "arrays",
		line: `Set-X -A a,b,"c d" -B alice, bob , carol -C @('x','y') -D @() -E @('one') -F ,'single' -G 1,2.5,$true,$null`,
		argv: []string{"Set-X", "-A", "a,b,c d", "-B", "alice, bob , carol", "-C", "@('x','y')", "-D", "@()", "-E", "@('one')", "-F", ",'single'", "-G", "1,2.5,$true,$null"},
		json: `{"A":["a","b","c d"],"B":["alice","bob","carol"],"C":["x","y"],"D":[],"E":["one"],"F":["single"],"G":[1,2.5,true,null]}`,
	},
	{
		name: "nested arrays unroll as in PowerShell",
		line: `Set-X -A @(@('a','b'),'c') -B @(@('a','b')) -C @(,@('a','b')) -D @('a';'b'` + "\n" + `'c') -E @(1,2),3 -F @(x, y)`,
		argv: []string{"Set-X", "-A", "@(@('a','b'),'c')", "-B", "@(@('a','b'))", "-C", "@(,@('a','b'))", "-D", "@('a';'b'\n'c')", "-E", "@(1,2),3", "-F", "@(x, y)"},
		json: `{"A":[["a","b"],"c"],"B":["a","b"],"C":[["a","b"]],"D":["a","b","c"],"E":[[1,2],3],"F":["x","y"]}`,
	},
	{
		name: "hashtables",
		line: "Set-X -A @{} -B @{ 'Quoted Key' = 1; bare=\"v\"\n  next = @{ inner = $true }; list = 'p','q' } -C [ordered]@{z=1;a=2} -D @{Add=smtp:a@x.com}",
		argv: []string{"Set-X", "-A", "@{}", "-B", "@{ 'Quoted Key' = 1; bare=\"v\"\n  next = @{ inner = $true }; list = 'p','q' }", "-C", "[ordered]@{z=1;a=2}", "-D", "@{Add=smtp:a@x.com}"},
		json: `{"A":{"@odata.type":"#Exchange.GenericHashTable"},"B":{"@odata.type":"#Exchange.GenericHashTable","Quoted Key":1,"bare":"v","next":{"@odata.type":"#Exchange.GenericHashTable","inner":true},"list":["p","q"]},"C":{"@odata.type":"#Exchange.GenericHashTable","z":1,"a":2},"D":{"@odata.type":"#Exchange.GenericHashTable","Add":"smtp:a@x.com"}}`,
	},
	{
		name: "array of hashtables gets the collection annotation, nested too",
		line: `Set-X -Rules @{Name='a'},@{Name='b'} -Outer @{Items=@(@{k=1},@{k=2})}`,
		argv: []string{"Set-X", "-Rules", "@{Name='a'},@{Name='b'}", "-Outer", "@{Items=@(@{k=1},@{k=2})}"},
		json: `{"Rules@odata.type":"#Collection(Exchange.GenericHashTable)","Rules":[{"@odata.type":"#Exchange.GenericHashTable","Name":"a"},{"@odata.type":"#Exchange.GenericHashTable","Name":"b"}],"Outer":{"@odata.type":"#Exchange.GenericHashTable","Items@odata.type":"#Collection(Exchange.GenericHashTable)","Items":[{"@odata.type":"#Exchange.GenericHashTable","k":1},{"@odata.type":"#Exchange.GenericHashTable","k":2}]}}`,
	},
	{
		name: "script blocks",
		line: `Get-Recipient -Filter { RecipientTypeDetails -eq 'SharedMailbox' -and Name -like '*}*' } -ResultSize 10`,
		argv: []string{"Get-Recipient", "-Filter", "{ RecipientTypeDetails -eq 'SharedMailbox' -and Name -like '*}*' }", "-ResultSize", "10"},
		json: `{"Filter":"RecipientTypeDetails -eq 'SharedMailbox' -and Name -like '*}*'","ResultSize":10}`,
	},
	{
		name: "nested braces in a script block",
		line: "Get-X -Filter {\n  (A -eq \"x}\") -or {B} # }\n}",
		argv: []string{"Get-X", "-Filter", "{\n  (A -eq \"x}\") -or {B} # }\n}"},
		json: `{"Filter":"(A -eq \"x}\") -or {B} # }"}`,
	},
	{
		name: "here-strings",
		line: "Set-X -A @'\nline 1\n  it's $literal\n'@ -B @\"\ntab`there\n\"@",
		argv: []string{"Set-X", "-A", "@'\nline 1\n  it's $literal\n'@", "-B", "@\"\ntab`there\n\"@"},
		json: `{"A":"line 1\n  it's $literal","B":"tab\there"}`,
	},
	{
		name: "empty string values",
		line: `Set-X -A '' -B "" -C:''`,
		argv: []string{"Set-X", "-A", "", "-B", `""`, "-C:''"},
		json: `{"A":"","B":"","C":""}`,
	},
	{
		name: "a lone dollar is text",
		line: `Set-X -A $ -B 'a$'`,
		argv: []string{"Set-X", "-A", "$", "-B", "a$"},
		json: `{"A":"$","B":"a$"}`,
	},
	{
		name: "parameter names keep the user's spelling",
		line: `get-MailUser -IDENTITY x -resultSize 5`,
		argv: []string{"get-MailUser", "-IDENTITY", "x", "-resultSize", "5"},
		json: `{"IDENTITY":"x","resultSize":5}`,
	},
	{
		name: "common parameters are strings",
		line: `Get-Mailbox x -ErrorAction Stop -WarningAction SilentlyContinue`,
		argv: []string{"Get-Mailbox", "x", "-ErrorAction", "Stop", "-WarningAction", "SilentlyContinue"},
		json: `{"Identity":"x","ErrorAction":"Stop","WarningAction":"SilentlyContinue"}`,
	},
	{
		name: "control characters and JSON escapes",
		line: "Set-X -A \"a\\b</script>\u2028\"",
		argv: []string{"Set-X", "-A", "a\\b</script>\u2028"},
		json: `{"A":"a\\b\u003c/script\u003e\u2028"}`,
	},
}

// rawOnlyCases use what only a raw line has: comments, continuations, ';' and line breaks.
var rawOnlyCases = []struct {
	name, line, json string
}{
	{"comment", "Get-Mailbox alice # the CEO", `{"Identity":"alice"}`},
	{"block comment", "Get-Mailbox <# who #> alice", `{"Identity":"alice"}`},
	{"continuation", "Set-X -A 1 `\n  -B 2 `\r\n  -C 3", `{"A":1,"B":2,"C":3}`},
	{"trailing semicolon", "Get-Mailbox alice ; # done\n", `{"Identity":"alice"}`},
	{"leading blanks and comment lines", "\n  # setup\n\tGet-Mailbox alice", `{"Identity":"alice"}`},
	{"comma then line break", "Set-X -A a,\n  b", `{"A":["a","b"]}`},
	{"hashtable over lines", "Set-X -A @{\n  Add = 'x'  # add\n\n  Remove = 'y';\n}", `{"A":{"@odata.type":"#Exchange.GenericHashTable","Add":"x","Remove":"y"}}`},
	{"escapes in bare words", "Set-X -A a`,b -B a` b -C `$x", `{"A":"a,b","B":"a b","C":"$x"}`},
	{"colon with spaces", "Set-X -A:   5", `{"A":5}`},
	{"non-breaking spaces", "Get-Mailbox\u00a0-Identity\u00a0alice", `{"Identity":"alice"}`},
}

func TestParseLineAndArgsAgree(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			fromLine, err := ParseLine(tc.line)
			if err != nil {
				t.Fatalf("ParseLine(%q):\n%v", tc.line, err)
			}
			fromArgs, err := ParseArgs(tc.argv)
			if err != nil {
				t.Fatalf("ParseArgs(%q):\n%v", tc.argv, err)
			}
			if fromLine.Name != tc.argv[0] || fromArgs.Name != tc.argv[0] {
				t.Errorf("names %q and %q, want %q", fromLine.Name, fromArgs.Name, tc.argv[0])
			}
			if got := mustJSON(t, fromLine); got != tc.json {
				t.Errorf("ParseLine JSON\n got %s\nwant %s", got, tc.json)
			}
			if got := mustJSON(t, fromArgs); got != tc.json {
				t.Errorf("ParseArgs JSON\n got %s\nwant %s", got, tc.json)
			}
			if !reflect.DeepEqual(fromLine, fromArgs) {
				t.Errorf("the entry points disagree:\n line %s\n argv %s", fromLine, fromArgs)
			}
			if tc.ps != "" && fromLine.String() != tc.ps {
				t.Errorf("String\n got %s\nwant %s", fromLine, tc.ps)
			}
			checkRoundTrip(t, fromLine)
		})
	}
}

func TestParseLineOnly(t *testing.T) {
	for _, tc := range rawOnlyCases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseLine(tc.line)
			if err != nil {
				t.Fatalf("ParseLine(%q):\n%v", tc.line, err)
			}
			if got := mustJSON(t, c); got != tc.json {
				t.Errorf("JSON\n got %s\nwant %s", got, tc.json)
			}
			checkRoundTrip(t, c)
		})
	}
}

func TestGoTypes(t *testing.T) {
	c, err := ParseLine(`Set-X -Int 5 -Big 49GB -Real 1.5 -Exp 1e3 -Hex 0x1F -Bool:$true -Null:$null -Text Unlimited -Arr a,1 -Hash @{k='v'} -SB {x}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Param{
		{"Int", int64(5)}, {"Big", int64(52613349376)}, {"Real", 1.5}, {"Exp", 1000.0}, {"Hex", int64(31)},
		{"Bool", true}, {"Null", nil}, {"Text", "Unlimited"}, {"Arr", []any{"a", int64(1)}},
		{"Hash", &Hashtable{Keys: []string{"k"}, Values: map[string]any{"k": "v"}}}, {"SB", ScriptBlock("x")},
	}
	if !reflect.DeepEqual(c.Params, want) {
		t.Errorf("got  %#v\nwant %#v", c.Params, want)
	}
}

func TestParameters(t *testing.T) {
	c, err := ParseLine(`New-X alice -Rules @{a=1},@{b=2} -Mixed @{a=1},'x' -Empty @() -Filter {Name -eq 'x'}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(c.Parameters())
	if err != nil {
		t.Fatal(err)
	}
	// encoding/json sorts map keys.
	want := `{"Empty":[],"Filter":"Name -eq 'x'","Identity":"alice","Mixed":[{"@odata.type":"#Exchange.GenericHashTable","a":1},"x"],"Rules":[{"@odata.type":"#Exchange.GenericHashTable","a":1},{"@odata.type":"#Exchange.GenericHashTable","b":2}],"Rules@odata.type":"#Collection(Exchange.GenericHashTable)"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if v, ok := c.Lookup("identity"); !ok || v != "alice" {
		t.Errorf("Lookup(identity) = %v, %v", v, ok)
	}
	h := c.Params[1].Value.([]any)[0].(*Hashtable)
	if v, ok := h.Get("A"); !ok || v != int64(1) {
		t.Errorf("Get(A) = %v, %v", v, ok)
	}
}

func TestEmptyLine(t *testing.T) {
	for _, line := range []string{"", "   ", "\n\t\n", "# just a comment", "<# block #>  # and more"} {
		if _, err := ParseLine(line); !errors.Is(err, ErrEmptyLine) {
			t.Errorf("ParseLine(%q) = %v, want ErrEmptyLine", line, err)
		}
	}
}

func TestIncomplete(t *testing.T) {
	for _, line := range []string{
		"Set-X -A 'open", `Set-X -A "open`, "Set-X -A @{a=1", "Set-X -A @(1,", "Set-X -A {x", "Set-X -A a,",
		"Set-X -A 1 `", "Set-X -A @'\nno end", "Get-X <# open", "Set-X -A @{a=",
	} {
		_, err := ParseLine(line)
		var se *SyntaxError
		if !errors.As(err, &se) || !se.Incomplete {
			t.Errorf("ParseLine(%q) = %v, want an incomplete *SyntaxError", line, err)
		}
	}
	_, err := ParseLine("Set-X -A $x")
	if se, ok := err.(*SyntaxError); !ok || se.Incomplete {
		t.Errorf("a variable is not incomplete: %#v", err)
	}
}

func mustJSON(t *testing.T, c *Command) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if !json.Valid(b) {
		t.Fatalf("invalid JSON %s", b)
	}
	return string(b)
}

// checkRoundTrip checks that String renders a line ParseLine reads back to the same command.
func checkRoundTrip(t testing.TB, c *Command) {
	t.Helper()
	again, err := ParseLine(c.String())
	if err != nil {
		t.Fatalf("String() does not parse back:\n%s\n%v", c, err)
	}
	if !reflect.DeepEqual(c, again) {
		t.Fatalf("String() round trip changed the command:\n%s\n%s", c, again)
	}
}

func TestDisplayArgsOffsets(t *testing.T) {
	argv := []string{"Set-X", "-Notes", "@('it''s', $x)"}
	_, err := ParseArgs(argv)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("want a *SyntaxError, got %v", err)
	}
	if !strings.HasPrefix(se.Line[se.Offset:], "$x") {
		t.Errorf("offset %d points at %q in %q", se.Offset, se.Line[se.Offset:], se.Line)
	}
}

// With Switches, a switch followed by a value does not take it, in a line and in argv.
func TestSwitchesOption(t *testing.T) {
	isSwitch := func(cmdlet, param string) bool {
		return strings.EqualFold(cmdlet, "Get-Mailbox") && strings.EqualFold(param, "Archive")
	}
	for _, get := range []func() (*Command, error){
		func() (*Command, error) { return ParseLine("Get-Mailbox -Archive alice", Switches(isSwitch)) },
		func() (*Command, error) {
			return ParseArgs([]string{"Get-Mailbox", "-Archive", "alice"}, Switches(isSwitch))
		},
	} {
		c, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := c.Lookup("Archive"); a != true {
			t.Errorf("Archive = %v, want true", a)
		}
		if id, _ := c.Lookup("Identity"); id != "alice" {
			t.Errorf("Identity = %v, want alice", id)
		}
	}
	// Without the option, -Archive takes the value (psparam knows no cmdlet).
	c, _ := ParseLine("Get-Mailbox -Archive alice")
	if a, _ := c.Lookup("Archive"); a != "alice" {
		t.Errorf("without Switches: Archive = %v", a)
	}
}
