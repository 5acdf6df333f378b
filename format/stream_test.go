package format

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/exo"
)

// fixedToken is a Source with a fixed unsigned token, enough for a test server.
type fixedToken struct{}

func (fixedToken) Token(context.Context, string) (auth.Token, error) {
	return auth.Token{AccessToken: "x.eyJ0aWQiOiJ0In0.x", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// streamPages are two InvokeCommand answers of Get-Mailbox (150 full mailboxes each, as the
// emulator writes them, the second with a record of awkward values: escapes, surrogate pairs,
// numbers of every JSON form, nesting, empty containers), the first linking to the second.
func streamPages(t *testing.T) [][]byte {
	t.Helper()
	var pages [][]byte
	for _, name := range []string{"large-page1.json.gz", "large-page2.json.gz"} {
		f, err := os.Open(filepath.Join("testdata", "stream", name))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, b)
	}
	return pages
}

// streamServer answers InvokeCommand with the pages in order; chunk > 0 writes each answer in
// pieces of that size with a flush after each, so the client reads it in many small parts;
// gz compresses the answers.
func streamServer(t *testing.T, pages [][]byte, chunk int, gz bool) *exo.Session {
	t.Helper()
	var ts *httptest.Server
	ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 0
		if strings.Contains(r.URL.RawQuery, "skiptoken=2") {
			n = 1
		}
		body := bytes.Replace(pages[n], []byte(`"NEXT"`), []byte(`"`+ts.URL+`/adminapi/beta/t/InvokeCommand?$skiptoken=2"`), 1)
		w.Header().Set("Content-Type", "application/json")
		var out io.Writer = w
		var zw *gzip.Writer
		if gz {
			w.Header().Set("Content-Encoding", "gzip")
			zw = gzip.NewWriter(w)
			out = zw
		}
		for len(body) > 0 {
			k := len(body)
			if chunk > 0 {
				k = min(k, chunk)
			}
			out.Write(body[:k])
			body = body[k:]
			if chunk > 0 {
				if zw != nil {
					zw.Flush()
				}
				w.(http.Flusher).Flush()
			}
		}
		if zw != nil {
			zw.Close()
		}
	}))
	t.Cleanup(ts.Close)
	s, err := exo.Connect(context.Background(), exo.Options{
		ConnectionURI: ts.URL, AuthorityURI: "https://127.0.0.1:1/organizations", Organization: "contoso.onmicrosoft.com",
		Credential: fixedToken{}, HTTPClient: ts.Client(), RetryBackoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// streamOutputs are the formats the golden hashes cover.
var streamOutputs = []struct {
	name string
	opts Options
}{
	{"ndjson", Options{Format: NDJSON, TypeName: "Mailbox"}},
	{"json", Options{Format: JSON, TypeName: "Mailbox"}},
	{"csv", Options{Format: CSV, TypeName: "Mailbox"}},
	{"default", Options{TypeName: "Mailbox", Width: 120}},
	{"list", Options{Format: List, TypeName: "Mailbox"}},
	{"table-properties", Options{Format: Table, TypeName: "Mailbox", Properties: []string{"Name", "DisplayName", "Email*", "Nested"}}},
	{"json-properties", Options{Format: JSON, TypeName: "Mailbox", Properties: []string{"Name", "Numbers", "Nested", "ArrayOfObjects"}}},
}

// runPages prints every page of Get-Mailbox -ResultSize Unlimited as exoctl run does: the
// records of a page, then one Flush.
func runPages(s *exo.Session, w Writer) error {
	for page, err := range s.InvokePages(context.Background(), "Get-Mailbox", exo.Params{"ResultSize": "Unlimited"}) {
		if err != nil {
			return err
		}
		for _, r := range page.Records {
			if err := w.Write(r); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return w.Close()
}

// runStream prints the records as exoctl run does: each as it is decoded, one Flush per page.
func runStream(s *exo.Session, w Writer) error {
	for _, err := range s.InvokePages(context.Background(), "Get-Mailbox", exo.Params{"ResultSize": "Unlimited"}, exo.WithRecords(w.Write)) {
		if err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return w.Close()
}

// countingWriter counts the writes that reach the output.
type countingWriter struct {
	h             io.Writer
	writes, bytes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	c.bytes += len(p)
	return c.h.Write(p)
}

// TestStreamGolden proves the output of a large two-page answer byte for byte (by SHA-256,
// testdata/stream/outputs.sha256, taken before records were decoded from the stream), for
// every format, whatever pieces the answer arrives in.
func TestStreamGolden(t *testing.T) {
	pages := streamPages(t)
	path := filepath.Join("testdata", "stream", "outputs.sha256")
	want := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if name, sum, ok := strings.Cut(line, " "); ok {
				want[name] = sum
			}
		}
	}
	var updated strings.Builder
	// Every format both ways from a whole answer; the machine-readable ones also from answers
	// in small pieces, plain and gzipped.
	servers := []struct {
		name    string
		chunk   int
		gz      bool
		formats int // how many of streamOutputs
	}{{"whole", 0, false, len(streamOutputs)}, {"chunks", 1000, false, 1}, {"gzip-chunks", 4093, true, 3}}
	if raceDetector {
		servers[0].formats, servers = 3, servers[:1] // ten times slower
	}
	for _, srv := range servers {
		s := streamServer(t, pages, srv.chunk, srv.gz)
		for _, stream := range []bool{false, true} {
			for _, o := range streamOutputs[:srv.formats] {
				if (stream && *update) || (!stream && srv.chunk > 0) {
					continue
				}
				h := sha256.New()
				cw := &countingWriter{h: h}
				w, err := New(cw, o.opts)
				if err != nil {
					t.Fatal(err)
				}
				run := runPages
				if stream {
					run = runStream
				}
				if err := run(s, w); err != nil {
					t.Fatalf("%s %s: %v", srv.name, o.name, err)
				}
				if most := cw.bytes/(32<<10) + len(pages) + 1; stream && cw.writes > most {
					// The 32 KiB output buffer drains when it is full and at each page's end,
					// never per record (301 records).
					t.Errorf("%s answer, %s: %d writes of %d bytes to the output, want at most %d", srv.name, o.name, cw.writes, cw.bytes, most)
				}
				sum := hex.EncodeToString(h.Sum(nil))
				if srv.name == "whole" && *update {
					fmt.Fprintf(&updated, "%s %s\n", o.name, sum)
					want[o.name] = sum
				}
				if want[o.name] == "" {
					t.Fatalf("no golden hash for %s in %s (go test ./format -run TestStreamGolden -update)", o.name, path)
				}
				if sum != want[o.name] {
					t.Errorf("%s answer, stream %v, %s: output differs from the golden (sha256 %s, want %s)", srv.name, stream, o.name, sum, want[o.name])
				}
			}
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(updated.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
