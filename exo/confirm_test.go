package exo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/exo"
)

// recorder keeps the InvokeCommand requests a session sends.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	requestID string
	body      string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/InvokeCommand") && req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{req.Header.Get("client-request-id"), string(b)})
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (r *recorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

func emulatorSession(t *testing.T) (*exo.Session, *recorder) {
	t.Helper()
	dir := t.TempDir()
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	info, err := emulator.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	app := info.Tenants[0].Apps[0]
	cert, err := auth.LoadPFX(app.CertificateFile, app.CertificatePassword)
	if err != nil {
		t.Fatal(err)
	}
	hc := e.HTTPClient()
	rec := &recorder{next: hc.Transport}
	if rec.next == nil {
		rec.next = http.DefaultTransport
	}
	hc = &http.Client{Transport: rec, Timeout: hc.Timeout}
	s, err := exo.Connect(context.Background(), exo.Options{
		ConnectionURI: e.URL, AuthorityURI: e.Info.Authority, Organization: info.Tenants[0].Name,
		AppID: app.AppID, Certificate: &cert, HTTPClient: hc, CAFile: info.CAFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, rec
}

// run collects an invocation's pages.
func run(s *exo.Session, cmdlet string, p exo.Params, opts ...exo.InvokeOption) ([]*exo.Page, error) {
	var pages []*exo.Page
	for page, err := range s.InvokePages(context.Background(), cmdlet, p, opts...) {
		if err != nil {
			return pages, err
		}
		pages = append(pages, page)
	}
	return pages, nil
}

func exists(t *testing.T, s *exo.Session, id string) bool {
	t.Helper()
	_, err := run(s, "Get-Mailbox", exo.Params{"Identity": id})
	var ce *exo.CmdletError
	if errors.As(err, &ce) && ce.NotFound() {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func TestConfirm(t *testing.T) {
	s, rec := emulatorSession(t)
	if _, err := run(s, "New-Mailbox", exo.Params{"Name": "Confirm Me", "Shared": true}); err != nil {
		t.Fatal(err)
	}
	const want = `Removing mailbox "Confirm Me" will remove the Windows Live ID "ConfirmMe@contoso.com" and mark the mailbox and the associated Windows Live ID for deletion.`
	rec.take()

	// No WithConfirm: a typed error carrying the question; nothing removed.
	_, err := run(s, "Remove-Mailbox", exo.Params{"Identity": "ConfirmMe"})
	var cr *exo.ConfirmationRequiredError
	if !errors.As(err, &cr) || cr.Message != want || !strings.Contains(err.Error(), "-Confirm:$false") {
		t.Errorf("without WithConfirm: %v", err)
	}

	// The callback says no: ErrDeclined, one request, nothing removed.
	var asked []string
	answer := false
	confirm := exo.WithConfirm(func(ctx context.Context, msg string) (bool, error) {
		asked = append(asked, msg)
		return answer, nil
	})
	rec.take()
	if _, err := run(s, "Remove-Mailbox", exo.Params{"Identity": "ConfirmMe"}, confirm); !errors.Is(err, exo.ErrDeclined) {
		t.Errorf("declined: %v", err)
	}
	if len(asked) != 1 || asked[0] != want || len(rec.take()) != 1 || !exists(t, s, "ConfirmMe") {
		t.Errorf("declined: asked %q", asked)
	}

	// -WhatIf never asks: the message comes back on the page.
	asked = nil
	pages, err := run(s, "Remove-Mailbox", exo.Params{"Identity": "ConfirmMe", "WhatIf": true}, confirm)
	if err != nil || len(pages) != 1 || pages[0].ConfirmationMessage != want || len(asked) != 0 || !exists(t, s, "ConfirmMe") {
		t.Errorf("WhatIf: %v %+v asked %q", err, pages, asked)
	}

	// Yes: the same request again with Confirm false, under the same client-request-id.
	answer, asked = true, nil
	rec.take()
	pages, err = run(s, "Remove-Mailbox", exo.Params{"Identity": "ConfirmMe", "cf": true}, confirm)
	if err != nil || len(pages) != 1 || pages[0].ConfirmationMessage != "" || len(pages[0].Records) != 0 {
		t.Fatalf("confirmed: %v %+v", err, pages)
	}
	reqs := rec.take()
	if len(asked) != 1 || len(reqs) != 2 || reqs[0].requestID != reqs[1].requestID ||
		!strings.Contains(reqs[0].body, `"cf":true`) || !strings.Contains(reqs[1].body, `"Confirm":false`) || strings.Contains(reqs[1].body, `"cf"`) {
		t.Errorf("confirmed: asked %q, requests %+v", asked, reqs)
	}
	if exists(t, s, "ConfirmMe") {
		t.Error("the mailbox is still there after yes")
	}

	// A Set-* only asks when -Confirm is given; a callback error ends the invocation.
	if _, err := run(s, "New-Mailbox", exo.Params{"Name": "Confirm Set", "Shared": true}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("no terminal")
	_, err = run(s, "Set-Mailbox", exo.Params{"Identity": "ConfirmSet", "DisplayName": "x", "Confirm": true},
		exo.WithConfirm(func(context.Context, string) (bool, error) { return false, boom }))
	if !errors.Is(err, boom) {
		t.Errorf("callback error: %v", err)
	}
	asked = nil
	if _, err := run(s, "Set-Mailbox", exo.Params{"Identity": "ConfirmSet", "DisplayName": "Renamed"}, confirm); err != nil || len(asked) != 0 {
		t.Errorf("Set-Mailbox without -Confirm: %v, asked %q", err, asked)
	}
}
