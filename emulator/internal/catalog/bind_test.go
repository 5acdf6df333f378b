package catalog

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func bind(t *testing.T, p Product, cmdlet, params string) (map[string]any, string, *BindError) {
	t.Helper()
	c := For(p).Lookup(cmdlet)
	if c == nil {
		t.Fatalf("%s is not a %s cmdlet", cmdlet, p)
	}
	out, set, e := c.Bind(json.RawMessage(params))
	if e != nil {
		return nil, "", e
	}
	return out, set.Name, nil
}

// TestBindErrors checks the binder's refusals word for word (PowerShell's and the service's
// texts).
func TestBindErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, cmdlet, params string
		product              Product
		id, text             string
	}{
		{"on-premises parameter", "Get-Mailbox", `{"DomainController":"dc1"}`, ExchangeOnline, "NamedParameterNotFound",
			"A parameter cannot be found that matches parameter name 'DomainController'."},
		{"unknown parameter", "Set-Mailbox", `{"Identity":"a","Frobnicate":1}`, ExchangeOnline, "NamedParameterNotFound",
			"A parameter cannot be found that matches parameter name 'Frobnicate'."},
		{"ambiguous prefix", "Get-Mailbox", `{"Re":"x"}`, ExchangeOnline, "AmbiguousParameter",
			"Parameter cannot be processed because the parameter name 'Re' is ambiguous. Possible matches include: -RecipientTypeDetails -ResultSize."},
		{"given twice", "Get-Mailbox", `{"identity":"a","IDENTITY":"b"}`, ExchangeOnline, "ParameterAlreadyBound",
			"Cannot bind parameter because parameter 'Identity' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\"."},
		{"sets exclude each other", "Get-Mailbox", `{"Identity":"a","Anr":"b"}`, ExchangeOnline, "AmbiguousParameterSet",
			"Parameter set cannot be resolved using the specified named parameters."},
		{"two set switches", "New-Mailbox", `{"Name":"a","Shared":true,"Room":true}`, ExchangeOnline, "AmbiguousParameterSet",
			"Parameter set cannot be resolved using the specified named parameters."},
		{"missing mandatory", "Set-Mailbox", `{"DisplayName":"x"}`, ExchangeOnline, "MissingMandatoryParameter",
			"Cannot process command because of one or more missing mandatory parameters: Identity."},
		{"missing mandatory of the default set", "New-Mailbox", `{"Name":"x"}`, ExchangeOnline, "MissingMandatoryParameter",
			"Cannot process command because of one or more missing mandatory parameters: MicrosoftOnlineServicesID Password."},
		{"null mandatory", "Set-Mailbox", `{"Identity":"a","DisplayName":null}`, ExchangeOnline, "",
			""},
		{"null identity", "Get-Mailbox", `{"Identity":null}`, ExchangeOnline, "ParameterArgumentValidationErrorNullNotAllowed",
			"Cannot validate argument on parameter 'Identity'. The argument is null. Provide a valid value for the argument, and then try running the command again."},
		{"empty identity", "Get-Mailbox", `{"Identity":" "}`, ExchangeOnline, "ParameterArgumentValidationErrorEmptyStringNotAllowed",
			"Cannot validate argument on parameter 'Identity'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again."},
		{"int", "Set-Mailbox", `{"Identity":"a","RecipientLimits":"many"}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'RecipientLimits'. Cannot convert value \"many\" to type \"Microsoft.Exchange.Data.Unlimited`1[System.Int32]\"."},
		{"int32 range", "Set-TransportRule", `{"Identity":"r","Priority":3000000000}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'Priority'. Cannot convert value \"3000000000\" to type \"System.Int32\". Error: \"Value was either too large or too small for an Int32.\""},
		{"bool", "Set-Mailbox", `{"Identity":"a","HiddenFromAddressListsEnabled":"maybe"}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'HiddenFromAddressListsEnabled'. Cannot convert value \"maybe\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0."},
		{"result size zero", "Get-Mailbox", `{"ResultSize":0}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'ResultSize'. Cannot convert value \"0\" to type \"Microsoft.Exchange.Data.Unlimited`1[System.UInt32]\"."},
		{"result size", "Get-Mailbox", `{"ResultSize":"lots"}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'ResultSize'. Cannot convert value \"lots\" to type \"Microsoft.Exchange.Data.Unlimited`1[System.UInt32]\"."},
		{"byte size", "Set-Mailbox", `{"Identity":"a","ProhibitSendQuota":"huge"}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'ProhibitSendQuota'. Cannot convert value \"huge\" to type \"Microsoft.Exchange.Data.Unlimited`1[Microsoft.Exchange.Data.ByteQuantifiedSize]\". Error: \"The value \"huge\" isn't a valid byte quantity. Use a number of bytes or a number and a unit (B, KB, MB, GB, TB), e.g. 49 GB, or Unlimited.\""},
		{"time span", "Set-Mailbox", `{"Identity":"a","RetainDeletedItemsFor":"soon"}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'RetainDeletedItemsFor'. Cannot convert value \"soon\" to type \"Microsoft.Exchange.Data.EnhancedTimeSpan\". Error: \"String was not recognized as a valid TimeSpan.\""},
		{"enum", "Set-Mailbox", `{"Identity":"a","Type":"Castle"}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'Type'. Cannot convert value \"Castle\" to type \"Microsoft.Exchange.Management.RecipientTasks.ConvertibleMailboxSubType\". Error: \"Unable to match the identifier name Castle to a valid enumerator name. Specify one of the following enumerator names and try again:\r\nRegular, Room, Equipment, Shared, Workspace\""},
		{"accepted values", "Get-QuarantinePolicy", `{"QuarantinePolicyType":"Other"}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'QuarantinePolicyType'. Cannot convert value \"Other\" to type \"Microsoft.Exchange.Data.QuarantinePolicyType\". Error: \"Unable to match the identifier name Other to a valid enumerator name. Specify one of the following enumerator names and try again:\r\nQuarantinePolicy, GlobalQuarantinePolicy\""},
		{"smtp address", "New-Mailbox", `{"Name":"a","Shared":true,"PrimarySmtpAddress":"not-an-address"}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'PrimarySmtpAddress'. Cannot convert value \"not-an-address\" to type \"Microsoft.Exchange.Data.SmtpAddress\". Error: \"The email address \"not-an-address\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.\""},
		{"array for a string", "Get-Mailbox", `{"Identity":["a","b"]}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'Identity'. Cannot convert value \"System.Object[]\" to type \"Microsoft.Exchange.Configuration.Tasks.MailboxIdParameter\". Error: \"Specified method is not supported.\""},
		{"untagged hashtable", "Set-Mailbox", `{"Identity":"a","EmailAddresses":{"Add":"x@contoso.com"}}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'EmailAddresses'. Cannot convert value \"System.Collections.Hashtable\" to type \"Microsoft.Exchange.Data.ProxyAddressCollection\"."},
		{"bad hashtable key", "Set-Mailbox", `{"Identity":"a","EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Replace":"x@contoso.com"}}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'EmailAddresses'. Cannot convert value \"System.Collections.Hashtable\" to type \"Microsoft.Exchange.Data.ProxyAddressCollection\". Error: \"The hashtable key 'Replace' isn't valid. Use Add or Remove.\""},
		{"too many values", "Get-Recipient", `{"RecipientTypeDetails":[` + strings.Repeat(`"UserMailbox",`, 32764) + `"UserMailbox"]}`, ExchangeOnline, "ParameterArgumentValidationError",
			"Cannot validate argument on parameter 'RecipientTypeDetails'. The parameter requires at least 0 value(s) and no more than 4096 value(s) - 32765 value(s) were provided."},
		{"string too long", "Get-Mailbox", `{"Identity":"` + strings.Repeat("x", MaxStringLength+1) + `"}`, ExchangeOnline, "ParameterArgumentValidationError",
			fmt.Sprintf("Cannot validate argument on parameter 'Identity'. The character length of the %d argument is too long. Shorten the character length of the argument so it is fewer than or equal to \"%d\" characters, and then try the command again.", MaxStringLength+1, MaxStringLength)},
		{"not an object", "Get-Mailbox", `[1]`, ExchangeOnline, "BadRequest", "The request body isn't valid: Parameters must be a JSON object."},
		{"S&C parameter", "Get-Label", `{"Identity":"x","IncludeDetailedLabelActions":true}`, SecurityCompliance, "", ""},
		{"EXO cmdlet parameter refused in S&C", "Get-DlpCompliancePolicy", `{"DomainController":"x"}`, SecurityCompliance, "NamedParameterNotFound",
			"A parameter cannot be found that matches parameter name 'DomainController'."},
		{"common parameters", "Get-Mailbox", `{"ErrorAction":"stop","wa":"SilentlyContinue","Verbose":true,"OutBuffer":5}`, ExchangeOnline, "", ""},
		{"common parameter value", "Get-Mailbox", `{"ErrorAction":"Explode"}`, ExchangeOnline, "ParameterArgumentTransformationError",
			"Cannot process argument transformation on parameter 'ErrorAction'. Cannot convert value \"Explode\" to type \"System.Management.Automation.ActionPreference\". Error: \"Unable to match the identifier name Explode to a valid enumerator name. Specify one of the following enumerator names and try again:\r\nSilentlyContinue, Stop, Continue, Inquire, Ignore, Suspend, Break\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, e := bind(t, tc.product, tc.cmdlet, tc.params)
			switch {
			case tc.id == "" && e != nil:
				t.Fatalf("refused: %s|%s", e.ErrorID, e.Text)
			case tc.id == "":
			case e == nil:
				t.Fatalf("bound; want %s", tc.id)
			case e.ErrorID != tc.id || e.Text != tc.text:
				t.Errorf("got  %s|%s\nwant %s|%s", e.ErrorID, e.Text, tc.id, tc.text)
			}
		})
	}
}

// TestBindValues checks what values bind to.
func TestBindValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmdlet, params, param string
		want                  any
		set                   string
	}{
		{"Get-Mailbox", `{"identity":"alice"}`, "Identity", "alice", "Identity"},
		{"Get-Mailbox", `{"ResultSize":"unlimited"}`, "ResultSize", ResultSize{Unlimited: true}, "Identity"},
		{"Get-Mailbox", `{"ResultSize":25}`, "ResultSize", ResultSize{N: 25}, "Identity"},
		{"Get-Mailbox", `{"RecipientTypeDetails":"sharedmailbox"}`, "RecipientTypeDetails", []string{"SharedMailbox"}, "Identity"},
		{"Get-Mailbox", `{"Anr":"al"}`, "Anr", "al", "AnrSet"},
		{"Get-Mailbox", `{"Filt":"Name -eq 'a'"}`, "Filter", "Name -eq 'a'", "Identity"},
		{"Set-Mailbox", `{"Identity":"a","ProhibitSendQuota":"49GB"}`, "ProhibitSendQuota", ByteSize{Bytes: 49 << 30}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","ProhibitSendQuota":"49 GB (52,613,349,376 bytes)"}`, "ProhibitSendQuota", ByteSize{Bytes: 49 << 30}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","ProhibitSendQuota":53687091200}`, "ProhibitSendQuota", ByteSize{Bytes: 50 << 30}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","ProhibitSendQuota":"Unlimited"}`, "ProhibitSendQuota", ByteSize{Unlimited: true}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","RulesQuota":"256KB"}`, "RulesQuota", ByteSize{Bytes: 256 << 10}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","RetainDeletedItemsFor":"14.00:00:00"}`, "RetainDeletedItemsFor", 14 * 24 * time.Hour, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","LitigationHoldDuration":"Unlimited"}`, "LitigationHoldDuration", Duration{Unlimited: true}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","LitigationHoldDuration":2555}`, "LitigationHoldDuration", Duration{D: 2555 * 24 * time.Hour}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","RecipientLimits":500}`, "RecipientLimits", ResultSize{N: 500}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","RecipientLimits":"unlimited"}`, "RecipientLimits", ResultSize{Unlimited: true}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","HiddenFromAddressListsEnabled":true}`, "HiddenFromAddressListsEnabled", true, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","Type":"shared"}`, "Type", "Shared", "Identity"},
		{"Set-Mailbox", `{"Identity":"a","CustomAttribute1":null}`, "CustomAttribute1", nil, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","EmailAddresses":["SMTP:a@contoso.com","smtp:b@contoso.com"]}`, "EmailAddresses", []string{"SMTP:a@contoso.com", "smtp:b@contoso.com"}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","add":"x@contoso.com","REMOVE":["y@contoso.com"]}}`, "EmailAddresses",
			MultiValuedEdit{Add: []string{"x@contoso.com"}, Remove: []string{"y@contoso.com"}}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","EmailAddresses":{"@odata.type":"#Exchange.StringFieldDeltaUpdateData","Remove":["y@contoso.com"]}}`, "EmailAddresses",
			MultiValuedEdit{Remove: []string{"y@contoso.com"}}, "Identity"},
		{"Set-Mailbox", `{"Identity":"a","ForwardingSmtpAddress":"smtp:f@fabrikam.com"}`, "ForwardingSmtpAddress", "smtp:f@fabrikam.com", "Identity"},
		{"Set-Mailbox", `{"Identity":"a","ExcludeFromAllHolds":true}`, "ExcludeFromAllHolds", true, "ExcludeFromAllHolds"},
		{"New-Mailbox", `{"Name":"Help Desk","Shared":true}`, "Shared", true, "Shared"},
		{"New-Mailbox", `{"Name":"Room 1","Room":true}`, "Room", true, "Room"},
		{"Remove-Mailbox", `{"Identity":"a","Confirm":false}`, "Confirm", false, "Identity"},
		{"Search-UnifiedAuditLog", `{"StartDate":"2026-01-02T03:04:05","EndDate":"01/31/2026"}`, "StartDate", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ""},
		{"Get-MailboxStatistics", `{"Identity":"a"}`, "Identity", "a", "Identity"},
	} {
		t.Run(tc.cmdlet+" "+tc.params, func(t *testing.T) {
			out, set, e := bind(t, ExchangeOnline, tc.cmdlet, tc.params)
			if e != nil {
				t.Fatalf("refused: %s", e.Text)
			}
			got, ok := out[tc.param]
			if !ok {
				t.Fatalf("%s not bound: %v", tc.param, out)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
				t.Errorf("%s = %#v; want %#v", tc.param, got, tc.want)
			}
			if tc.set != "" && set != tc.set {
				t.Errorf("set %s; want %s", set, tc.set)
			}
		})
	}
}

// synthetic is a valid value of a parameter's kind.
func synthetic(p *BoundParam) any {
	ht := map[string]any{"@odata.type": "#Exchange.GenericHashTable", "Key": "Value"}
	switch p.Kind {
	case KindIdentity:
		return "contoso-object-1"
	case KindInt:
		return 1
	case KindDouble:
		return 1.5
	case KindBool, KindSwitch:
		return true
	case KindStrings:
		return []string{"a", "b"}
	case KindMultiValued:
		return []string{"a@contoso.com"}
	case KindHashtable:
		return ht
	case KindHashtables:
		return []any{ht}
	case KindResultSize, KindUnlimitedBytes, KindUnlimitedTime:
		return "Unlimited"
	case KindByteSize:
		return "49 GB"
	case KindTimeSpan:
		return "1.00:00:00"
	case KindDateTime:
		return "2026-01-02T03:04:05"
	case KindGuid:
		return "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
	case KindSmtpAddress:
		return "alice@contoso.com"
	case KindSmtpAddresses:
		return []string{"alice@contoso.com"}
	case KindProxyAddress:
		return "smtp:alice@contoso.com"
	case KindEnum:
		return p.values[0]
	case KindEnums:
		return []string{p.values[len(p.values)-1]}
	}
	return "value"
}

// TestEveryCmdletBinds binds every parameter set of every catalogued Exchange Online and S&C
// cmdlet, each set with all its parameters given synthetic values of their types: every one
// must bind, to that set.
func TestEveryCmdletBinds(t *testing.T) {
	t.Parallel()
	for _, p := range []Product{ExchangeOnline, SecurityCompliance} {
		cmdlets, sets := 0, 0
		for _, c := range For(p).List() {
			for _, s := range c.Sets {
				in := map[string]any{}
				for _, sp := range s.Params {
					in[sp.Name] = synthetic(c.Param(sp.Name))
				}
				raw, _ := json.Marshal(in)
				out, got, e := c.Bind(raw)
				if e != nil {
					t.Errorf("%s %s (%s): %s", p, c.Name, s.Name, e.Text)
					continue
				}
				if len(out) != len(in) {
					t.Errorf("%s %s (%s): bound %d of %d parameters", p, c.Name, s.Name, len(out), len(in))
				}
				if got != s && !superset(got, s) {
					t.Errorf("%s %s: the parameters of set %s bound as set %s", p, c.Name, s.Name, got.Name)
				}
				sets++
			}
			// With no parameters, a cmdlet binds its default set or reports what is missing.
			if _, _, e := c.Bind(nil); e != nil && e.ErrorID != "MissingMandatoryParameter" && e.ErrorID != "AmbiguousParameterSet" {
				t.Errorf("%s %s without parameters: %s", p, c.Name, e.Text)
			}
			cmdlets++
		}
		t.Logf("%s: %d cmdlets, %d parameter sets bound", p, cmdlets, sets)
	}
}

// superset reports whether set a holds every parameter of b (b's parameters cannot pick b).
func superset(a, b *CommandSet) bool {
	for _, q := range b.Params {
		found := false
		for _, p := range a.Params {
			found = found || p.Param == q.Param
		}
		if !found {
			return false
		}
	}
	return true
}

func BenchmarkBind(b *testing.B) {
	c := For(ExchangeOnline).Lookup("Set-Mailbox")
	raw := json.RawMessage(`{"Identity":"alice@contoso.com","ProhibitSendQuota":"49GB","EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Add":"smtp:a2@contoso.com"},"CustomAttribute1":"x","Confirm":false}`)
	for b.Loop() {
		if _, _, e := c.Bind(raw); e != nil {
			b.Fatal(e)
		}
	}
}

func BenchmarkBindGetMailbox(b *testing.B) {
	c := For(ExchangeOnline).Lookup("Get-Mailbox")
	raw := json.RawMessage(`{"ResultSize":"Unlimited"}`)
	for b.Loop() {
		if _, _, e := c.Bind(raw); e != nil {
			b.Fatal(e)
		}
	}
}

// FuzzBind feeds arbitrary Parameters objects to a cmdlet with many parameter types: the binder
// answers a value or a binding error, never panics.
func FuzzBind(f *testing.F) {
	for _, s := range []string{`{}`, `{"Identity":"a","ProhibitSendQuota":"49GB"}`, `{"Identity":"a","EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Add":[1,null]}}`,
		`{"identity":null,"RetainDeletedItemsFor":"1.00:00:00.5"}`, `{"I":1}`, `[1]`, `null`, `{"Identity":"a","Type":["Shared"]}`} {
		f.Add(s)
	}
	c := For(ExchangeOnline).Lookup("Set-Mailbox")
	f.Fuzz(func(t *testing.T, s string) {
		out, set, e := c.Bind(json.RawMessage(s))
		if e == nil && (out == nil || set == nil) {
			t.Errorf("no values and no error for %q", s)
		}
		if e != nil && (e.Text == "" || e.ErrorID == "") {
			t.Errorf("error without words for %q: %+v", s, e)
		}
	})
}

func TestPositions(t *testing.T) {
	t.Parallel()
	pos := func(cmdlet, param string) int {
		c := For(ExchangeOnline).Lookup(cmdlet)
		for _, sp := range c.Sets[c.Default].Params {
			if sp.Name == param {
				return sp.Position
			}
		}
		t.Fatalf("%s has no %s in its default set", cmdlet, param)
		return 0
	}
	if got := pos("Get-Mailbox", "Identity"); got != 0 {
		t.Errorf("Get-Mailbox -Identity position %d, want 0", got)
	}
	// The page prints every parameter as positional; the live module takes them by name.
	if got := pos("Get-MessageTraceV2", "SenderAddress"); got != -1 {
		t.Errorf("Get-MessageTraceV2 -SenderAddress position %d, want named", got)
	}
}
