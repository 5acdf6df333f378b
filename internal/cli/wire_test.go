package cli

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRunSendsTheModulesJSON checks the exact InvokeCommand body `exoctl run` sends for
// PowerShell parameters typed in a POSIX shell, and that `exoctl Verb-Noun` is the same as
// `exoctl run Verb-Noun`. The connection is a brought token (--access-token-stdin).
func TestRunSendsTheModulesJSON(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	var headers []http.Header
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/EXOModuleFile") { // connect loads the catalog
			io.WriteString(w, `{"value":[{"exportedCmdlets":"Set-Mailbox"}]}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		headers = append(headers, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
		io.WriteString(w, `{"@odata.context":"x","value":[]}`)
	}))
	defer ts.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{"tid": "4c9f2b7e-81d3-4a56-9e0c-5b7d3f1a2c68", "upn": "admin@contoso.com", "exp": time.Now().Add(time.Hour).Unix()})
	tok := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"

	c := newCLI(t)
	_, errOut, code := c.run(tok+"\n", "connect", "--access-token-stdin", "--organization", "contoso.onmicrosoft.com",
		"--connection-uri", ts.URL+"/PowerShell-LiveID", "--ca-file", ca)
	if code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	args := []string{"Set-Mailbox", "-Identity", "o'brien", "-EmailAddresses", `@{Add="smtp:a@x.com","smtp:b@x.com"; Remove='smtp:c@x.com'}`,
		"-ProhibitSendQuota", "49GB", "-Confirm:$false", "-HiddenFromAddressListsEnabled", "-CustomAttribute1", "a=b;c"}
	c.ok(append([]string{"run"}, args...)...)
	c.ok(args...)

	want := `{"CmdletInput":{"CmdletName":"Set-Mailbox","Parameters":{"Confirm":false,"CustomAttribute1":"a=b;c",` +
		`"EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Add":["smtp:a@x.com","smtp:b@x.com"],"Remove":"smtp:c@x.com"},` +
		`"HiddenFromAddressListsEnabled":true,"Identity":"o'brien","ProhibitSendQuota":52613349376}}}`
	if len(bodies) != 2 {
		t.Fatalf("%d requests, want 2", len(bodies))
	}
	for i, b := range bodies {
		if b != want {
			t.Errorf("request %d body\n got %s\nwant %s", i, b, want)
		}
		h := headers[i]
		for k, v := range map[string]string{
			"X-CmdletName": "Set-Mailbox", "X-AnchorMailbox": "UPN:admin@contoso.com", "Authorization": "Bearer " + tok,
			"X-ResponseFormat": "json", "X-ClientApplication": "ExoManagementModule", "Prefer": "odata.maxpagesize=1000",
		} {
			if h.Get(k) != v {
				t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
			}
		}
	}
	if headers[0].Get("client-request-id") == headers[1].Get("client-request-id") {
		t.Error("each invocation needs its own client-request-id")
	}
	if p := fmt.Sprint(headers[0].Get("connection-id")); p == "" || p != headers[1].Get("connection-id") {
		t.Errorf("connection-id %q should be the connection's, the same on both calls", p)
	}
	if !strings.Contains(c.ok("connections", "-o", "json"), `"CertificateAuthentication": false`) {
		t.Error("a brought token is not certificate authentication")
	}
}

// TestRunParameterEncoding sends one cmdlet per case and compares the Parameters object on the
// wire with what the module sends (PROTOCOL.md §1).
func TestRunParameterEncoding(t *testing.T) {
	var mu sync.Mutex
	var last string
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = string(b)
		mu.Unlock()
		io.WriteString(w, `{"value":[]}`)
	}))
	defer ts.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600)
	claims, _ := json.Marshal(map[string]any{"tid": "t", "exp": time.Now().Add(time.Hour).Unix()})
	tok := "e30." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
	c := newCLI(t)
	if _, e, code := c.run(tok+"\n", "connect", "--access-token-stdin", "--organization", "t", "--connection-uri", ts.URL, "--ca-file", ca); code != 0 {
		t.Fatal(e)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"Get-Mailbox", "alice"}, `{"Identity":"alice"}`},
		{[]string{"Get-Mailbox", "-Filter", "{ RecipientTypeDetails -eq 'SharedMailbox' }", "-ResultSize", "10"},
			`{"Filter":"RecipientTypeDetails -eq 'SharedMailbox'","ResultSize":10}`},
		{[]string{"Set-Mailbox", "bob", "-ForwardingSmtpAddress", "$null", "-ErrorAction", "Stop", "-IssueWarningQuota", "1.5GB"},
			`{"ErrorAction":"Stop","ForwardingSmtpAddress":null,"Identity":"bob","IssueWarningQuota":1610612736}`},
		{[]string{"Set-Thing", "-Rules", `@{Name='a'},@{Name="b";Max=0x1F}`},
			`{"Rules":[{"@odata.type":"#Exchange.GenericHashTable","Name":"a"},{"@odata.type":"#Exchange.GenericHashTable","Name":"b","Max":31}],"Rules@odata.type":"#Collection(Exchange.GenericHashTable)"}`},
		{[]string{"Set-Mailbox", "-Identity", "x", "-EmailAddresses", "smtp:a@contoso.com,smtp:b@contoso.com", "-Confirm:$true"},
			`{"Confirm":true,"EmailAddresses":["smtp:a@contoso.com","smtp:b@contoso.com"],"Identity":"x"}`},
		{[]string{"New-Thing", "-Name", `"tab` + "`" + `there"`, "-Empty", "''", "-Unicode", "Zoë 山田"},
			`{"Empty":"","Name":"tab\there","Unicode":"Zoë 山田"}`},
	}
	for _, tc := range cases {
		c.ok(tc.args...)
		mu.Lock()
		got := last
		mu.Unlock()
		var body struct {
			CmdletInput struct {
				CmdletName string
				Parameters json.RawMessage
			}
		}
		if err := json.Unmarshal([]byte(got), &body); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if body.CmdletInput.CmdletName != tc.args[0] || string(body.CmdletInput.Parameters) != tc.want {
			t.Errorf("exoctl %s\n sent %s\n want %s", strings.Join(tc.args, " "), body.CmdletInput.Parameters, tc.want)
		}
	}
	// Refused syntax never reaches the service.
	mu.Lock()
	last = ""
	mu.Unlock()
	_, e, code := c.run("", "Get-Mailbox", "-Identity", "$name")
	if code == 0 || !strings.Contains(e, "variable") || !strings.Contains(e, "\n") || !strings.Contains(e, "^") {
		t.Errorf("variable: exit %d, want the line with a caret: %s", code, e)
	}
	if last != "" {
		t.Error("a refused command was sent")
	}
}
