package capture

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
)

// Answer is one captured HTTP answer: the status, the headers the source published and the body
// byte for byte.
type Answer struct {
	Name   string
	Status int
	Header http.Header
	Body   []byte
}

// Dir is the folder of the captures, found from this file's place in the module, so tests of
// any package read the same files.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("exo", "testdata", "captures")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "exo", "testdata", "captures")
}

// Load reads a capture file (name.http in Dir): an HTTP/1.1 status line, the headers, a blank
// line and the body. The one newline that ends the file is not part of the body.
func Load(name string) (*Answer, error) {
	b, err := os.ReadFile(filepath.Join(Dir(), name+".http"))
	if err != nil {
		return nil, fmt.Errorf("read capture %s: %w", name, err)
	}
	return Parse(name, b)
}

// Parse reads a capture from its bytes (see Load).
func Parse(name string, b []byte) (*Answer, error) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		return nil, fmt.Errorf("capture %s: %w", name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("capture %s: %w", name, err)
	}
	body = bytes.TrimSuffix(body, []byte("\n"))
	resp.Header.Del("Content-Length")
	return &Answer{Name: name, Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Write replays the answer: its headers, its status and its body as captured, with the
// Content-Length of the body. Replace, when given, rewrites the body's bytes first (pairs of
// old, new): a captured discovery document names the real host, and a client under test must
// be sent to the loopback server instead.
func (a *Answer) Write(w http.ResponseWriter, replace ...string) {
	body := a.Body
	for i := 0; i+1 < len(replace); i += 2 {
		body = bytes.ReplaceAll(body, []byte(replace[i]), []byte(replace[i+1]))
	}
	for k, vs := range a.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(a.Status)
	w.Write(body)
}
