package exchange

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// internalWords are what an answer must never show: the store's, the decoder's and the
// runtime's own words.
var internalWords = []string{"sql", "sqlite", "runtime error", "panic", "goroutine", "json: ", "go struct",
	"invalid memory", "nil pointer", "modernc", ".go:", "context deadline", "unexpected eof"}

// held reports why an answer to a hostile request is not one the service could give, or "".
// Held means: no 500, a JSON body in the service's error shape when it is not a success, no
// internal text, and no control byte in a header.
func held(a answer) string {
	if a.status >= 500 && a.status != http.StatusNotImplemented {
		return fmt.Sprintf("status %d", a.status)
	}
	for k, vs := range a.header {
		for _, v := range vs {
			if strings.ContainsFunc(v, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }) {
				return fmt.Sprintf("control byte in header %s: %q", k, v)
			}
		}
	}
	// An error answer is read whole; a success only for its warnings and errors (objects may
	// hold any text).
	low := strings.ToLower(string(a.raw))
	if a.status < 300 {
		low = strings.ToLower(fmt.Sprint(a.body["@adminapi.warnings"], a.body["@adminapi.errors"]))
	}
	for _, w := range internalWords {
		if strings.Contains(low, w) {
			return fmt.Sprintf("internal text %q in the answer", w)
		}
	}
	if a.status >= 300 {
		parts := strings.SplitN(a.detail(), "|", 3)
		if len(parts) != 3 || parts[2] == "" {
			return "no details[0].message of the form ErrorId|Class|text"
		}
	}
	return ""
}

// hostileCall is one case: a request an attacker (or a broken client) could send.
type hostileCall struct {
	name string
	call
	want int // expected status, 0 for any held answer
}

func hostileInvokeCases(e *env) []hostileCall {
	tn := store.DemoTenantName
	inv := e.invokeURL(tn)
	body := func(name string, params any) string {
		b, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": name, "Parameters": params}})
		return string(b)
	}
	var cases []hostileCall
	add := func(name string, c call, want int) { cases = append(cases, hostileCall{name, c, want}) }

	// Bodies that are not the InvokeCommand shape.
	for i, raw := range []string{
		"{", "null", "[]", "123", `"text"`, "true", `{"CmdletInput":null}`, `{"CmdletInput":"Get-Mailbox"}`,
		`{"CmdletInput":[]}`, `{"CmdletInput":{"CmdletName":5}}`, `{"CmdletInput":{"CmdletName":null}}`,
		`{"CmdletInput":{"CmdletName":""}}`, `{"CmdletInput":{"CmdletName":"   "}}`, `{"CmdletInput":{"CmdletName":["Get-Mailbox"]}}`,
		`{"CmdletInput":{"CmdletName":{"a":1}}}`, `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":"x"}}`,
		`{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":[]}}`, `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":5}}`,
		`{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":true}}`, `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":[1,2]}}`,
		`{"CmdletInput":{"CmdletName":"Get-Mailbox"}}x`, "\xef\xbb\xbf" + body("Get-AcceptedDomain", nil),
		`{"CmdletInput":{"CmdletName":"Get-Mailbox\xff\xfe"}}`, `{"CmdletInput":{"CmdletName":"Get-Mailbox","CmdletName":"Remove-Mailbox"}}`,
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		`{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":` + strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000) + `}}`,
		`{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"Identity":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}}`,
		`{"cmdletinput":{"cmdletname":"get-mailbox","parameters":{"resultsize":1}}}`,
		`{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":1e999}}}`,
		`{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":-0}}}`,
	} {
		add(fmt.Sprintf("body %d", i), call{body: raw}, 0)
	}
	add("body over the limit", call{body: `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"Identity":"` + strings.Repeat("a", DefaultMaxBody) + `"}}}`}, http.StatusRequestEntityTooLarge)

	// Cmdlet names.
	for _, n := range []string{
		"Get-Mailbox;Remove-Mailbox", "Get-Mailbox | Remove-Mailbox", "../Get-Mailbox", "Get-Mailbox\n", "Get-Mailbox\x00",
		"\x00", "Gеt-Mailbox", strings.Repeat("Get-", 50000), "Invoke-Expression", "Start-Process", "&", "$(whoami)",
		"Get-Mailbox'", "Get-*", "*", "Microsoft.Exchange.Management.Get-Mailbox", "get-mailbox ", " Get-Mailbox",
	} {
		add("cmdlet "+n[:min(len(n), 30)], call{body: body(n, nil)}, 0)
	}

	// Parameter values of a reading cmdlet.
	big := make([]string, 32765)
	for i := range big {
		big[i] = "UserMailbox"
	}
	huge := make([]int, 100000)
	for k, v := range map[string]any{
		"Identity=empty": map[string]any{"Identity": ""}, "Identity=null": map[string]any{"Identity": nil},
		"Identity=5": map[string]any{"Identity": 5}, "Identity=true": map[string]any{"Identity": true},
		"Identity=[]": map[string]any{"Identity": []any{}}, "Identity={}": map[string]any{"Identity": map[string]any{}},
		"Identity=*": map[string]any{"Identity": "*"}, "Identity=NUL": map[string]any{"Identity": "a\x00b"},
		"Identity=1MB": map[string]any{"Identity": strings.Repeat("x", 1<<20)}, "Identity=sql": map[string]any{"Identity": "' OR 1=1 --"},
		"Identity=%": map[string]any{"Identity": "%"}, "Identity=_": map[string]any{"Identity": "_"},
		"Identity=quote": map[string]any{"Identity": `a"b'c`}, "Identity=unicode": map[string]any{"Identity": "ålïçé@cöntoso.com"},
		"Identity=hashtable": map[string]any{"Identity": map[string]any{"@odata.type": "#Exchange.GenericHashTable", "Add": "x"}},
		"Identity=array2":    map[string]any{"Identity": []any{"a", "b"}},
		"ResultSize=-1":      map[string]any{"ResultSize": -1}, "ResultSize=0": map[string]any{"ResultSize": 0},
		"ResultSize=abc": map[string]any{"ResultSize": "abc"}, "ResultSize=big": map[string]any{"ResultSize": json.Number("9223372036854775808")},
		"ResultSize=1.5": map[string]any{"ResultSize": 1.5}, "ResultSize=[]": map[string]any{"ResultSize": []any{}},
		"ResultSize=Unlimited ": map[string]any{"ResultSize": "Unlimited "}, "ResultSize=null": map[string]any{"ResultSize": nil},
		"Filter=empty": map[string]any{"Filter": ""}, "Filter=(((": map[string]any{"Filter": "((((("},
		"Filter=incomplete": map[string]any{"Filter": "Name -eq"}, "Filter=dangling and": map[string]any{"Filter": "Name -eq 'x' -and"},
		"Filter=deep":      map[string]any{"Filter": strings.Repeat("(", 5000) + "Name -eq 'x'" + strings.Repeat(")", 5000)},
		"Filter=wide":      map[string]any{"Filter": strings.TrimSuffix(strings.Repeat("Name -like '*' -or ", 2000), " -or ")},
		"Filter=injection": map[string]any{"Filter": "Name -eq 'x'') OR 1=1 --"}, "Filter=NUL": map[string]any{"Filter": "Name -eq 'a\x00'"},
		"Filter=unknown prop": map[string]any{"Filter": "NoSuchProperty -eq 'x'"}, "Filter=number": map[string]any{"Filter": 5},
		"Filter=script block": map[string]any{"Filter": "{ Name -eq 'x' }"}, "Filter=regex": map[string]any{"Filter": "Name -like '[a-'"},
		"RecipientTypeDetails=32765":  map[string]any{"RecipientTypeDetails": big},
		"RecipientTypeDetails=100000": map[string]any{"RecipientTypeDetails": huge},
		"RecipientTypeDetails=nested": map[string]any{"RecipientTypeDetails": []any{[]any{"UserMailbox"}}},
		"RecipientTypeDetails=bogus":  map[string]any{"RecipientTypeDetails": []any{"NoSuchType"}},
		"unknown parameter":           map[string]any{"Foo": 1}, "empty parameter name": map[string]any{"": 1},
		"NUL parameter name": map[string]any{"Ident\x00ity": "x"}, "ambiguous prefix": map[string]any{"R": 1},
		"parameter twice": map[string]any{"Identity": "a", "identity": "b"}, "switch with text": map[string]any{"SoftDeletedMailbox": "yes"},
		"switch with object": map[string]any{"SoftDeletedMailbox": map[string]any{}}, "1000 parameters": thousandParams(),
		"ErrorAction object": map[string]any{"ErrorAction": map[string]any{"a": 1}},
		"hashtable array":    map[string]any{"Identity": []any{map[string]any{"@odata.type": "#Exchange.GenericHashTable"}}},
	} {
		add("Get-Mailbox "+k, call{body: body("Get-Mailbox", v)}, 0)
	}
	// Values of the wrong type for other cmdlets' parameters.
	for _, c := range []struct{ cmdlet, param string }{
		{"Get-Recipient", "Identity"}, {"Get-AcceptedDomain", "Identity"}, {"Get-User", "Identity"},
		{"Get-Mailbox", "ResultSize"}, {"Set-Mailbox", "ProhibitSendQuota"}, {"New-Mailbox", "Name"},
		{"Remove-Mailbox", "Identity"}, {"Get-OrganizationConfig", "Identity"},
	} {
		for k, v := range map[string]any{"null": nil, "object": map[string]any{"x": []any{1}}, "array of objects": []any{map[string]any{}},
			"NUL": "\x00", "number": 1e300, "false": false} {
			add(c.cmdlet+" -"+c.param+" "+k, call{body: body(c.cmdlet, map[string]any{c.param: v})}, 0)
		}
	}
	// Parameter values of a changing cmdlet (each refused or applied to a mailbox that exists).
	for k, v := range map[string]any{
		"DisplayName=1MB": map[string]any{"Identity": "nosuchmailbox", "DisplayName": strings.Repeat("x", 1<<20)},
		"DisplayName=NUL": map[string]any{"Identity": "nosuchmailbox", "DisplayName": "a\x00b"},
		"EmailAddresses add 10000": map[string]any{"Identity": "nosuchmailbox", "EmailAddresses": map[string]any{
			"@odata.type": "#Exchange.GenericHashTable", "Add": make([]string, 10000)}},
		"ProhibitSendQuota=-1":   map[string]any{"Identity": "nosuchmailbox", "ProhibitSendQuota": "-1 GB"},
		"ProhibitSendQuota=huge": map[string]any{"Identity": "nosuchmailbox", "ProhibitSendQuota": "99999999999999999999 TB"},
		"Confirm=text":           map[string]any{"Identity": "nosuchmailbox", "Confirm": "no"},
	} {
		add("Set-Mailbox "+k, call{body: body("Set-Mailbox", v)}, 0)
	}
	add("Remove-Mailbox no Confirm", call{body: body("Remove-Mailbox", map[string]any{"Identity": "nosuchmailbox"})}, 0)

	// Headers.
	for k, h := range map[string]map[string]string{
		"maxpagesize=-1": {"Prefer": "odata.maxpagesize=-1"}, "maxpagesize=abc": {"Prefer": "odata.maxpagesize=abc"},
		"maxpagesize=huge": {"Prefer": "odata.maxpagesize=99999999999999999999"}, "maxpagesize=0": {"Prefer": "odata.maxpagesize=0"},
		"Prefer garbage": {"Prefer": ";;;==,,,"}, "clixml": {"X-ResponseFormat": "clixml"}, "response format bogus": {"X-ResponseFormat": "xml;;"},
		"text/plain": {"Content-Type": "text/plain"}, "gzip claimed": {"Content-Encoding": "gzip"},
		"Accept-Encoding weird": {"Accept-Encoding": "gzip;q=abc, *;q=-1"}, "anchor garbage": {"X-AnchorMailbox": "UPN:" + strings.Repeat("é", 1000)},
		"module version garbage": {"X-ClientModuleVersion": strings.Repeat("9", 1000)}, "client-request-id garbage": {"client-request-id": "not-a-guid\t;"},
	} {
		add("header "+k, call{body: body("Get-AcceptedDomain", nil), headers: h}, 0)
	}

	// Tokens.
	now := time.Now()
	claims := func(mod func(*token.Claims)) string {
		c := appClaims(store.DemoTenantID)
		mod(&c)
		return sign(e.t, testKeys, c)
	}
	for k, tok := range map[string]string{
		"no token": "-", "garbage": "garbage", "three dots": "a.b.c", "alg none": "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.",
		"other keys":     sign(e.t, otherKeys, appClaims(store.DemoTenantID)),
		"expired":        claims(func(c *token.Claims) { c.Expires = now.Add(-time.Hour).Unix() }),
		"not yet valid":  claims(func(c *token.Claims) { c.NotBefore = now.Add(time.Hour).Unix() }),
		"wrong audience": claims(func(c *token.Claims) { c.Audience = "https://graph.microsoft.com" }),
		"other tenant":   sign(e.t, testKeys, appClaims(fabrikamID)),
		"no role":        claims(func(c *token.Claims) { c.Roles = nil }),
		"no wids":        claims(func(c *token.Claims) { c.WIDs = nil; c.AppID = "00000000-0000-0000-0000-000000000000" }),
		"reader only":    claims(func(c *token.Claims) { c.WIDs = []string{store.RoleGlobalReader} }),
		"user unknown":   sign(e.t, testKeys, userClaims("nobody@"+tn)),
		"user no scope":  claims(func(c *token.Claims) { c.Roles = nil; c.UPN = "admin@" + tn; c.Scope = "User.Read"; c.AppIDACR = "0" }),
		"huge":           strings.Repeat("a", 60<<10),
	} {
		c := call{body: body("Get-AcceptedDomain", nil), token: tok}
		if tok == "-" {
			c.headers = map[string]string{"Authorization": ""}
		}
		add("token "+k, c, 0)
	}

	// Methods, paths and query strings.
	for _, m := range []string{"GET", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		add("method "+m, call{method: m, body: body("Get-AcceptedDomain", nil)}, 0)
	}
	for k, q := range map[string]string{
		"skiptoken forged": "?$skiptoken=AAAA", "skiptoken huge": "?$skiptoken=" + strings.Repeat("A", 100000),
		"skiptoken base64 junk": "?$skiptoken=%2F%2F%2F%2F", "select empty": "?$select=", "select commas": "?$select=,,,,",
		"select many": "?$select=" + strings.TrimSuffix(strings.Repeat("Name,", 5000), ","), "select quote": "?$select=a'b",
		"select NUL": "?$select=a%00b", "query junk": "?%zz=1&&&=", "filter in query": "?$filter=Name%20eq%20'x'",
	} {
		add("query "+k, call{url: inv + q, body: body("Get-Mailbox", map[string]any{"ResultSize": 2})}, 0)
	}
	for k, p := range map[string]string{
		"tenant NUL": "/adminapi/beta/con%00toso/InvokeCommand", "tenant ..": "/adminapi/beta/../InvokeCommand",
		"tenant long": "/adminapi/beta/" + strings.Repeat("t", 10000) + "/InvokeCommand", "tenant unknown": "/adminapi/beta/nosuch.onmicrosoft.com/InvokeCommand",
		"tenant guid zero": "/adminapi/beta/00000000-0000-0000-0000-000000000000/InvokeCommand", "tenant other": "/adminapi/beta/" + fabrikamName + "/InvokeCommand",
		"tenant quote": "/adminapi/beta/a'b/InvokeCommand", "tenant CRLF": "/adminapi/beta/a%0D%0AX-Evil:%201/InvokeCommand",
		"version bogus": "/adminapi/v9/" + tn + "/InvokeCommand", "op bogus": "/adminapi/beta/" + tn + "/Invoke%00Command",
		"op traversal": "/adminapi/beta/" + tn + "/InvokeCommand/../../../etc/passwd", "batch bogus": "/adminapi/beta/" + tn + "/$batch",
		"metadata": "/adminapi/beta/" + tn + "/$metadata", "entity junk": "/adminapi/beta/" + tn + "/Mailbox('%00')",
		"entity unclosed": "/adminapi/beta/" + tn + "/Mailbox('a", "entity encoded junk": "/adminapi/beta/" + tn + "/Mailbox('!!!')?isEncoded=true",
	} {
		add("path "+k, call{url: e.srv.URL + p, body: body("Get-AcceptedDomain", nil)}, 0)
	}

	// $batch bodies and inner requests.
	batch := e.srv.URL + "/adminapi/beta/" + tn + "/$batch"
	inner := func(sub string) string { return `{"requests":[` + sub + `]}` }
	for i, raw := range []string{
		"{", "null", "[]", `{"requests":null}`, `{"requests":{}}`, `{"requests":"x"}`, `{"requests":[null]}`, `{"requests":[1]}`,
		`{"requests":[[]]}`, `{"requests":[{}]}`,
		inner(`{"id":1,"url":"InvokeCommand"}`), inner(`{"id":"a","url":5}`), inner(`{"id":"a","url":"%zz"}`),
		inner(`{"id":"a","url":"http://[::1"}`), inner(`{"id":"a","url":"https://evil.example/adminapi/beta/` + tn + `/InvokeCommand","body":{"CmdletInput":{"CmdletName":"Get-AcceptedDomain"}}}`),
		inner(`{"id":"a","url":"InvokeCommand","method":"TRACE"}`), inner(`{"id":"a","url":"InvokeCommand","method":"G E T"}`),
		inner(`{"id":"a","url":"InvokeCommand","body":"not json"}`), inner(`{"id":"a","url":"InvokeCommand","body":"\"nested string\""}`),
		inner(`{"id":"a","url":"InvokeCommand","body":5}`), inner(`{"id":"\u0000` + strings.Repeat("i", 10000) + `","url":"InvokeCommand"}`),
		inner(`{"id":"a","url":"InvokeCommand","headers":{"Authorization":"Bearer x"}}`), inner(`{"id":"a","url":"InvokeCommand","headers":{"Prefer":{"a":1}}}`),
		inner(`{"id":"a","url":"InvokeCommand","headers":{"X-A\u0000":"b\r\nX-Evil: 1"}}`), inner(`{"id":"a","url":"InvokeCommand","headers":[]}`),
		inner(`{"id":"a","url":"EXOModuleFile","method":"GET"}`), inner(`{"id":"a","url":"/compliance/eur01b/adminapi/beta/` + tn + `/InvokeCommand"}`),
		inner(`{"id":"a","url":"../../../../etc/passwd"}`), inner(`{"id":"a","url":"beta/` + fabrikamName + `/InvokeCommand","body":{"CmdletInput":{"CmdletName":"Get-AcceptedDomain"}}}`),
		inner(strings.TrimSuffix(strings.Repeat(`{"id":"a","url":"InvokeCommand","body":{"CmdletInput":{"CmdletName":"Get-AcceptedDomain"}}},`, 10), ",")),
	} {
		add(fmt.Sprintf("batch %d", i), call{url: batch, body: raw}, 0)
	}
	// EXOModuleFile.
	mod := e.srv.URL + "/adminapi/v1.0/" + tn + "/EXOModuleFile"
	for k, c := range map[string]call{
		"POST":             {method: "POST", url: mod, body: "junk"},
		"DELETE":           {method: "DELETE", url: mod},
		"version junk":     {method: "GET", url: mod + "?Version=%00%ff"},
		"version long":     {method: "GET", url: mod + "?Version=" + strings.Repeat("9", 10000)},
		"CommandName NUL":  {method: "GET", url: mod, headers: map[string]string{"CommandName": "Get-Mailbox,,,*,"}},
		"CommandName many": {method: "GET", url: mod, headers: map[string]string{"CommandName": strings.TrimSuffix(strings.Repeat("Get-Mailbox,", 3000), ",")}},
		"no token":         {method: "GET", url: mod, token: "x"},
	} {
		add("EXOModuleFile "+k, c, 0)
	}
	return cases
}

func thousandParams() map[string]any {
	m := map[string]any{}
	for i := range 1000 {
		m[fmt.Sprintf("P%d", i)] = i
	}
	return m
}

// TestHostileInvokeCommand sends InvokeCommand what an attacker or a broken client could:
// each answer must be one the service could give (see held), and the server must still
// answer a plain request afterwards.
func TestHostileInvokeCommand(t *testing.T) {
	t.Parallel()
	e := direct(t, nil)
	cases := hostileInvokeCases(e)
	failed := 0
	for _, tc := range cases {
		if tc.page == 0 {
			tc.page = 5 // small pages keep the run short; paging itself is tested elsewhere
		}
		a := e.do(tc.call)
		why := held(a)
		if why == "" && tc.want != 0 && a.status != tc.want {
			why = fmt.Sprintf("status %d, want %d", a.status, tc.want)
		}
		if why != "" {
			failed++
			t.Errorf("%s: %s\n%.300s", tc.name, why, a.raw)
		}
	}
	t.Logf("InvokeCommand hostile cases: %d tried, %d held", len(cases), len(cases)-failed)
	if a := e.do(call{cmdlet: "Get-AcceptedDomain"}); a.status != 200 {
		t.Errorf("after the hostile requests: %s", a)
	}
}
