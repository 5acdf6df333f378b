package exo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/exoctl/exoctl/internal/capture"
)

// replay is a loopback service that answers every request with one captured answer, byte for
// byte but for the host its links name (the service writes them on the host it was asked).
func replay(t *testing.T, name string) (*Session, *atomic.Int32) {
	t.Helper()
	a, err := capture.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	var base string
	s := testSession(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		a.Write(w, "https://outlook.office365.com", base, "https://outlook.office.com", base)
	}))
	base = s.base
	return s, &calls
}

// propertyNames are the names of the first record's properties in a captured page, read with
// encoding/json (not the client's parser), annotations left out.
func propertyNames(t *testing.T, body []byte) []string {
	t.Helper()
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &page); err != nil || len(page.Value) == 0 {
		t.Fatalf("capture: %v", err)
	}
	d := json.NewDecoder(bytes.NewReader(page.Value[0]))
	d.Token() // {
	var names []string
	for d.More() {
		k, _ := d.Token()
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
		if name := k.(string); !strings.Contains(name, "@") {
			names = append(names, name)
		}
	}
	return names
}

// TestCaptureGetMailbox reads the real Get-Mailbox answer: one record with the service's 256
// properties in its order, no annotation among them, each value of its JSON type.
func TestCaptureGetMailbox(t *testing.T) {
	t.Parallel()
	s, calls := replay(t, "invoke-get-mailbox")
	var pages []*Page
	for p, err := range s.InvokePages(context.Background(), "Get-Mailbox", Params{"Identity": "AdeleV"}) {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	if len(pages) != 1 || len(pages[0].Records) != 1 || pages[0].Next || len(pages[0].Warnings) != 0 || calls.Load() != 1 {
		t.Fatalf("pages %d, calls %d, first %+v", len(pages), calls.Load(), pages[0])
	}
	rec := pages[0].Records[0]
	a, _ := capture.Load("invoke-get-mailbox")
	want := propertyNames(t, a.Body)
	var got []string
	for _, f := range rec.Fields {
		got = append(got, f.Name)
	}
	if len(want) != 256 || !slices.Equal(got, want) {
		t.Fatalf("properties (%d, want %d):\n got %q\nwant %q", len(got), len(want), got, want)
	}
	for name, want := range map[string]any{
		"Guid":                      "00000000-0000-0000-0000-000000000008",
		"PitrCopyIntervalInSeconds": json.Number("0"),
		"AuditEnabled":              true,
		"ForwardingAddress":         nil,
		"WhenCreated":               "2022-06-29T17:57:03.0000000+00:00",
		"WhenCreatedUTC":            "2022-06-29T17:57:03.0000000Z",
		"ProhibitSendQuota":         "99 GB (106,300,440,576 bytes)",
	} {
		if v, ok := rec.Get(name); !ok || v != want {
			t.Errorf("%s = %#v, want %#v", name, v, want)
		}
	}
	for name, want := range map[string]string{
		"ProtocolSettings":      "MAPI§1§0§§§0§§§§§0", // \u00a7 escapes decoded
		"AddressListMembership": `\All Users`,
		"EmailAddresses":        "SMTP:Adele@contoso.com",
	} {
		if !strings.Contains(rec.String(name), want) {
			t.Errorf("%s = %q, want it to hold %q", name, rec.String(name), want)
		}
	}
	if !strings.Contains(rec.String("EnforcedTimestamps"), `"EventType":16`) {
		t.Errorf("EnforcedTimestamps (a string holding JSON) = %q", rec.String("EnforcedTimestamps"))
	}
	if v, _ := rec.Get("AuditAdmin"); len(v.([]any)) != 13 {
		t.Errorf("AuditAdmin = %v", v)
	}
}

// TestCaptureMoreResults reads a page the service cut at -ResultSize: its next link comes
// before the warnings, and its own "more results" warning arrives once, not once more from the
// client.
func TestCaptureMoreResults(t *testing.T) {
	t.Parallel()
	for _, params := range []Params{{}, {"ResultSize": 1}} {
		s, calls := replay(t, "invoke-get-mailbox-more")
		var pages []*Page
		for p, err := range s.InvokePages(context.Background(), "Get-Mailbox", params) {
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, p)
		}
		if len(pages) != 1 || calls.Load() != 1 {
			t.Fatalf("%v: %d pages in %d calls, want 1 in 1", params, len(pages), calls.Load())
		}
		p := pages[0]
		if len(p.Records) != 1 || p.Records[0].String("PrimarySmtpAddress") != "one@example.com" || p.Next {
			t.Errorf("%v: records %v, next %v", params, p.Records, p.Next)
		}
		if !slices.Equal(p.Warnings, []string{MoreResultsWarning}) {
			t.Errorf("%v: warnings %q, want the service's one", params, p.Warnings)
		}
	}
}

// TestCaptureErrors reads the service's real error answers into CmdletError: the code, the
// exception class, the text a user sees, the server and request id of the module's suffix; none
// of them is retried.
func TestCaptureErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		capture, cmdlet string
		params          Params
		status          int
		code, errorID   string
		exception, text string
		suffix          string
	}{
		{"invoke-error-notfound", "Remove-Mailbox", Params{"Identity": "adele@contoso.onmicrosoft.com", "Confirm": false}, 404, "NotFound", "Ex6F9304",
			"Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
			"The operation couldn't be performed because object 'adele@contoso.onmicrosoft.com' couldn't be found on 'YQBPR01A12DC007.CANPR01A012.PROD.OUTLOOK.COM'.",
			" [Server=YQXPR01MB5357,RequestId=00000000-0000-0000-0000-0000000000b1,TimeStamp=Fri, 18 Aug 2023 14:00:52 GMT]"},
		{"invoke-error-invalid-enum", "Get-QuarantineMessage", Params{"QuarantineTypes": "Nonsense"}, 400, "BadRequest", "",
			"Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException",
			`Cannot process argument transformation on parameter 'QuarantineTypes'. Cannot convert value "Nonsense" to type "Microsoft.Exchange.Management.FfoQuarantine.QuarantineMessageTypeEnum[]". Error: "Unable to match the identifier name Nonsense to a valid enumerator name. Specify one of the following enumerator names and try again: Spam, TransportRule, Bulk, Phish, HighConfPhish, Malware, SPOMalware, DataLossPrevention, FileTypeBlock, AdminTriggered, PPI"`, ""},
		{"invoke-error-unknown-parameter", "Get-QuarantineMessage", Params{"BogusParameter": 1}, 400, "BadRequest", "",
			"Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException",
			"Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. BogusParameter", ""},
	} {
		t.Run(tc.capture, func(t *testing.T) {
			t.Parallel()
			s, calls := replay(t, tc.capture)
			var err error
			for _, e := range s.Invoke(context.Background(), tc.cmdlet, tc.params) {
				err = e
			}
			var ce *CmdletError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a CmdletError", err, err)
			}
			if ce.StatusCode != tc.status || ce.Code != tc.code || ce.ErrorID != tc.errorID || ce.Exception != tc.exception || ce.Message != tc.text {
				t.Errorf("got status %d code %q id %q exception %q\n text %q\nwant status %d code %q id %q exception %q\n text %q",
					ce.StatusCode, ce.Code, ce.ErrorID, ce.Exception, ce.Message, tc.status, tc.code, tc.errorID, tc.exception, tc.text)
			}
			if ce.NotFound() != (tc.status == 404) || ce.transient() {
				t.Errorf("NotFound %v, transient %v", ce.NotFound(), ce.transient())
			}
			if tc.suffix != "" && !strings.HasSuffix(ce.Error(), tc.suffix) {
				t.Errorf("Error() = %q, want it to end with the module's %q", ce.Error(), tc.suffix)
			}
			if strings.Contains(ce.Error(), "|") {
				t.Errorf("Error() = %q shows the raw Id|Class|text form", ce.Error())
			}
			if calls.Load() != 1 {
				t.Errorf("%d requests, want 1 (no retry)", calls.Load())
			}
		})
	}
}

// TestCaptureForbiddenWithoutWords reads the 403 an app or user without the Exchange role gets:
// a body of NUL bytes. The error says so in words and with what to do, and carries no NUL.
func TestCaptureForbiddenWithoutWords(t *testing.T) {
	t.Parallel()
	s, calls := replay(t, "invoke-error-forbidden-nul")
	var err error
	for _, e := range s.Invoke(context.Background(), "Get-Mailbox", nil) {
		err = e
	}
	var ce *CmdletError
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusForbidden || ce.Code != "" {
		t.Fatalf("error %v (%T)", err, err)
	}
	msg := ce.Error()
	if strings.ContainsRune(msg, 0) || !strings.Contains(msg, "HTTP 403") || !strings.Contains(msg, "Exchange role") || calls.Load() != 1 {
		t.Errorf("%d requests, error %q", calls.Load(), msg)
	}
}
