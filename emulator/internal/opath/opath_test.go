package opath

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var recipientTypes = []string{"UserMailbox", "SharedMailbox", "RoomMailbox", "EquipmentMailbox", "MailUser", "MailContact", "MailUniversalDistributionGroup"}

var testSchema = Properties(
	Property{Name: "Name", Kind: String},
	Property{Name: "Alias", Kind: String},
	Property{Name: "DisplayName", Kind: String},
	Property{Name: "CustomAttribute1", Kind: String},
	Property{Name: "ForwardingSmtpAddress", Kind: String},
	Property{Name: "RecipientTypeDetails", Kind: String, Values: recipientTypes, TypeName: "Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails"},
	Property{Name: "EmailAddresses", Kind: String | Multi},
	Property{Name: "HiddenFromAddressListsEnabled", Kind: Bool},
	Property{Name: "WhenCreated", Kind: Date},
	Property{Name: "CountryCode", Kind: Int},
)

type object map[string]any

func (o object) get(name string) (any, bool) { v, ok := o[name]; return v, ok }

var (
	shared = object{
		"Name": "Sales Team", "Alias": "sales", "RecipientTypeDetails": "SharedMailbox",
		"EmailAddresses":                []string{"SMTP:sales@contoso.com", "smtp:sales@fabrikam.com"},
		"HiddenFromAddressListsEnabled": false, "CustomAttribute1": "Sales",
		"WhenCreated": time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), "CountryCode": int64(840),
	}
	alice = object{
		"Name": "alice", "Alias": "o'brien", "RecipientTypeDetails": "UserMailbox",
		"EmailAddresses":                []any{"SMTP:alice@contoso.com"},
		"ForwardingSmtpAddress":         "smtp:alice@outside.example",
		"HiddenFromAddressListsEnabled": true,
		"WhenCreated":                   time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	bob = object{
		"Name": "Bob", "Alias": "bob", "RecipientTypeDetails": "UserMailbox",
		"EmailAddresses": []string{}, "ForwardingSmtpAddress": "", "HiddenFromAddressListsEnabled": false,
		"WhenCreated": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "CountryCode": 276,
	}
)

// Filters as public automation (CIPP, Microsoft365DSC, ScubaGear, admins' scripts) writes them.
func TestRealWorldFilters(t *testing.T) {
	t.Parallel()
	cases := []struct {
		filter string
		want   []string // Names of shared, alice, bob that match
	}{
		{`RecipientTypeDetails -eq 'SharedMailbox'`, []string{"Sales Team"}},
		{`RecipientTypeDetails -eq "sharedmailbox"`, []string{"Sales Team"}},
		{`{RecipientTypeDetails -eq 'UserMailbox'}`, []string{"alice", "Bob"}},
		{`{(RecipientTypeDetails -eq 'UserMailbox') -and (ForwardingSmtpAddress -ne $null)}`, []string{"alice"}},
		{`ForwardingSmtpAddress -eq $null`, []string{"Sales Team", "Bob"}},
		{`EmailAddresses -like '*@fabrikam.com'`, []string{"Sales Team"}},
		{`EmailAddresses -like 'smtp:*@CONTOSO.com'`, []string{"Sales Team", "alice"}},
		{`EmailAddresses -notlike '*@contoso.com'`, []string{"Bob"}},
		{`EmailAddresses -eq 'smtp:alice@contoso.com'`, []string{"alice"}},
		{`EmailAddresses -eq $null`, []string{"Bob"}},
		{`WhenCreated -gt '2024-01-01'`, []string{"Sales Team"}},
		{`WhenCreated -ge '1/1/2024'`, []string{"Sales Team", "Bob"}},
		{`WhenCreated -lt "2024-01-01T00:00:00Z"`, []string{"alice"}},
		{`Name -like 'a*' -and -not (HiddenFromAddressListsEnabled -eq $true)`, nil},
		{`Name -like 'a*' -and -not(HiddenFromAddressListsEnabled -eq $false)`, []string{"alice"}},
		{`HiddenFromAddressListsEnabled -eq 'True'`, []string{"alice"}},
		{`HiddenFromAddressListsEnabled -eq '$false'`, []string{"Sales Team", "Bob"}},
		{`HiddenFromAddressListsEnabled -eq False`, []string{"Sales Team", "Bob"}},
		{`HiddenFromAddressListsEnabled`, []string{"alice"}},
		{`CustomAttribute1 -eq "Sales"`, []string{"Sales Team"}},
		{`CustomAttribute1 -ne "Sales"`, []string{"alice", "Bob"}},
		{`Alias -eq "o'brien"`, []string{"alice"}},
		{`Alias -eq 'o''brien'`, []string{"alice"}},
		{`Alias -eq ‘o''brien’`, []string{"alice"}},
		{`Alias -eq ‘o’’brien’`, nil}, // PowerShell keeps a doubled typographic quote as that quote
		{`alias -EQ bob`, []string{"Bob"}},
		{`CountryCode -eq 840`, []string{"Sales Team"}},
		{`CountryCode -ge '300' -or CountryCode -eq $null`, []string{"Sales Team", "alice"}},
		{`Name -like '*e*' -and Name -notlike 'S*' -or Alias -eq 'bob'`, []string{"alice", "Bob"}},
		{`Name -like '*e*' -and (Name -notlike 'S*' -or Alias -eq 'bob')`, []string{"alice"}},
		{`-not Name -eq 'alice' -and -not Name -eq 'bob'`, []string{"Sales Team"}},
		{`! (Name -eq 'alice')`, []string{"Sales Team", "Bob"}},
		{`DisplayName -eq ''`, []string{"Sales Team", "alice", "Bob"}},
		{`Name -gt 'b'`, []string{"Sales Team", "Bob"}},
	}
	for _, tc := range cases {
		e, err := Parse(tc.filter, testSchema)
		if err != nil {
			t.Errorf("Parse(%s): %v", tc.filter, err)
			continue
		}
		var got []string
		for _, o := range []object{shared, alice, bob} {
			ok, err := e.Eval(o.get)
			if err != nil {
				t.Errorf("%s: Eval: %v", tc.filter, err)
			}
			if ok {
				got = append(got, o["Name"].(string))
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s matched %q, want %q (parsed %s)", tc.filter, got, tc.want, e)
		}
		// The stored form parses back to the same filter.
		again, err := Parse(e.String(), testSchema)
		if err != nil || again.String() != e.String() {
			t.Errorf("%s: String %s does not parse back: %v %v", tc.filter, e, again, err)
		}
	}
}

func TestCanonicalNames(t *testing.T) {
	t.Parallel()
	e, err := Parse(`{ recipienttypedetails -eq 'sharedMAILBOX' -and emailaddresses -like '*' }`, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.String(), "((RecipientTypeDetails -eq 'sharedMAILBOX') -and (EmailAddresses -like '*'))"; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
	c := e.(*And).L.(*Compare)
	if c.Value != "SharedMailbox" {
		t.Errorf("enum value = %v, want the member's own spelling", c.Value)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		filter string
		kind   ErrorKind
		pos    int
		text   string
	}{
		{`((RecipientTypeDetails -eq 'UserMailbox' -or 'MailUser'))`, SyntaxError, 46, ""},
		{`((RecipientType -eq 'UserMailbox' -or 'MailUser'))`, SyntaxError, 39, ""}, // syntax before properties
		{`Name -eq`, SyntaxError, 9, ""},
		{`Name -eq 'x`, SyntaxError, 10, ""},
		{`Name -contains 'x'`, SyntaxError, 6, ""},
		{`Name -eq 'x' -and`, SyntaxError, 18, ""},
		{`(Name -eq 'x'`, SyntaxError, 14, ""},
		{`Name -eq 'x')`, SyntaxError, 13, ""},
		{`Name -eq $x`, SyntaxError, 10, ""},
		{`Name 'x'`, SyntaxError, 6, ""},
		{``, SyntaxError, 1, ""},
		{`{ }`, SyntaxError, 2, ""},
		{`{((RecipientTypeDetails -eq 'UserMailbox' -or 'MailUser'))}`, SyntaxError, 46, ""},
		{`Name -eq {x}`, SyntaxError, 10, ""},
		{`Na.me -eq 'x'`, SyntaxError, 1, ""},
		{`False`, UnknownProperty, 0, `"False" is not a recognized filterable property. Valid property names are: Alias, CountryCode, CustomAttribute1, DisplayName, EmailAddresses, ForwardingSmtpAddress, HiddenFromAddressListsEnabled, Name, RecipientTypeDetails, WhenCreated.`},
		{`IsSecurityPrincipal -eq '$True'`, UnknownProperty, 0, ""},
		{`RecipientTypeDetails -eq 'Shared'`, BadValue, 0, `The value "Shared" could not be converted to type Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails.`},
		{`WhenCreated -gt 'yesterday'`, BadValue, 0, `The value "yesterday" could not be converted to type System.DateTime.`},
		{`CountryCode -eq 'US'`, BadValue, 0, ""},
		{`HiddenFromAddressListsEnabled -eq 'yes'`, BadValue, 0, ""},
	}
	for _, tc := range cases {
		_, err := Parse(tc.filter, testSchema)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%s) = %v, want an *Error", tc.filter, err)
			continue
		}
		if e.Kind != tc.kind || (tc.kind == SyntaxError && e.Position != tc.pos) {
			t.Errorf("Parse(%s): kind %d position %d, want %d %d: %v", tc.filter, e.Kind, e.Position, tc.kind, tc.pos, err)
		}
		if tc.text != "" && e.Error() != tc.text {
			t.Errorf("Parse(%s) says\n%s\nwant\n%s", tc.filter, e.Error(), tc.text)
		}
	}
}

func TestSyntaxErrorWords(t *testing.T) {
	t.Parallel()
	_, err := Parse(`Name -eq`, nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	want := "Cannot bind parameter 'Filter' to the target. Exception setting \"Filter\": \"Invalid filter syntax. " +
		"For a description of the filter parameter syntax see the command help.\n\"Name -eq\" at position 9.\""
	if got := e.Bind("Filter"); got != want {
		t.Errorf("Bind =\n%s\nwant\n%s", got, want)
	}
}

func TestScriptBlockErrorQuotesItsText(t *testing.T) {
	t.Parallel()
	_, err := Parse(`{ Name -eq }`, nil)
	var e *Error
	if !errors.As(err, &e) || e.Filter != " Name -eq " || e.Position != 10 {
		t.Errorf("Parse = %#v, want the text inside the braces, position 10", err)
	}
}

func TestNilSchemaAcceptsAnyProperty(t *testing.T) {
	t.Parallel()
	e, err := Parse(`Anything -like 'x*'`, nil)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := e.Eval(object{"Anything": "XY"}.get)
	if !ok || err != nil {
		t.Errorf("Eval = %v %v", ok, err)
	}
}

func TestEvalRefusesWrongType(t *testing.T) {
	t.Parallel()
	e, err := Parse(`CountryCode -gt 1`, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Eval(object{"CountryCode": "many"}.get); err == nil {
		t.Error("an Int property holding text evaluated without error")
	}
}

func TestWildcard(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s, p string
		want bool
	}{
		{"", "", true}, {"", "*", true}, {"a", "", false}, {"abc", "a*c", true}, {"abc", "*b*", true},
		{"abc", "*d*", false}, {"aXbXc", "a*b*c", true}, {"ac", "a*b*c", false}, {"é@x", "*@x", true},
		{"aaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*a*c", false},
	}
	for _, tc := range cases {
		if got := wildcard(tc.s, tc.p); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v", tc.s, tc.p, got)
		}
	}
}
