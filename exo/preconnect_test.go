package exo

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// connLog records the connections a test server accepted and the ones requests came on.
type connLog struct {
	mu       sync.Mutex
	accepted []string
	requests []string
}

func (l *connLog) add(list *[]string, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*list = append(*list, addr)
}

func (l *connLog) snapshot() (accepted, requests []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.accepted...), append([]string(nil), l.requests...)
}

// preconnectServer is a TLS server answering InvokeCommand, its CA in a file, and its log.
// closeFirst closes the first connection it accepts before the handshake.
func preconnectServer(t *testing.T, closeFirst bool) (*httptest.Server, string, *connLog) {
	t.Helper()
	log := &connLog{}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(&log.requests, r.RemoteAddr)
		fmt.Fprint(w, page([]string{`{"Name":"a"}`}, ""))
	}))
	var once sync.Once
	ts.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			log.add(&log.accepted, c.RemoteAddr().String())
			if closeFirst {
				once.Do(func() { c.Close() })
			}
		}
	}
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return ts, ca, log
}

func preconnectOptions(ts *httptest.Server, ca string) Options {
	return Options{ConnectionURI: ts.URL, AuthorityURI: "https://127.0.0.1:1/organizations", Organization: "contoso.onmicrosoft.com",
		Credential: staticToken{}, CAFile: ca, RetryBackoff: time.Millisecond}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// Preconnect connects before the session exists, sends nothing on the connection until the
// session's first request, and that request takes the connection.
func TestPreconnectFirstRequestTakesTheConnection(t *testing.T) {
	ts, ca, log := preconnectServer(t, false)
	o := preconnectOptions(ts, ca)
	if err := Preconnect(&o); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the connection made ahead", func() bool { a, _ := log.snapshot(); return len(a) == 1 })
	if _, reqs := log.snapshot(); len(reqs) != 0 {
		t.Fatalf("requests before the session: %v", reqs)
	}
	s, err := Connect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range s.Invoke(context.Background(), "Get-AcceptedDomain", nil) {
		if err != nil {
			t.Fatal(err)
		}
	}
	accepted, reqs := log.snapshot()
	if len(accepted) != 1 || len(reqs) != 1 || reqs[0] != accepted[0] {
		t.Errorf("accepted %v, requests came on %v: want one connection, made ahead and used", accepted, reqs)
	}
}

// A connection made ahead that fails costs nothing: the first request connects itself.
func TestPreconnectFailureFallsBackToDialing(t *testing.T) {
	ts, ca, log := preconnectServer(t, true)
	o := preconnectOptions(ts, ca)
	if err := Preconnect(&o); err != nil {
		t.Fatal(err)
	}
	s, err := Connect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range s.Invoke(context.Background(), "Get-AcceptedDomain", nil) {
		if err != nil {
			t.Fatalf("the request failed with the connection made ahead: %v", err)
		}
	}
	accepted, reqs := log.snapshot()
	if len(accepted) != 2 || len(reqs) != 1 || reqs[0] != accepted[1] {
		t.Errorf("accepted %v, requests came on %v: want the second connection used", accepted, reqs)
	}
}

// Preconnect leaves a client given by the caller alone.
func TestPreconnectKeepsAGivenClient(t *testing.T) {
	hc := &http.Client{}
	o := Options{ConnectionURI: "https://127.0.0.1:1", HTTPClient: hc}
	if err := Preconnect(&o); err != nil || o.HTTPClient != hc {
		t.Errorf("Preconnect replaced the caller's client (err %v)", err)
	}
}
