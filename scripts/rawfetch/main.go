// Command rawfetch is the bench's baseline: the least a Go program can do to fetch every page
// of a cmdlet from InvokeCommand (POST, follow @odata.nextLink, count records). It parses no
// record: one pass over the bytes tracks strings and nesting, counts the objects of "value"
// and keeps the @odata.nextLink string, so its rate is the server's rather than a decoder's.
// With -decode it is instead the least a program that reads the records does: encoding/json
// cuts each page into its raw records (and checks them), the bench's peer for a client's CPU.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	url := flag.String("url", "", "InvokeCommand URL")
	caFile := flag.String("ca", "", "CA file")
	cmdlet := flag.String("cmdlet", "Get-Mailbox", "cmdlet")
	http1 := flag.Bool("http1", false, "HTTP/1.1 instead of HTTP/2 (which exoctl uses)")
	decode := flag.Bool("decode", false, "cut each page into its records with encoding/json")
	flag.Parse()
	token, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	token = bytes.TrimSpace(token)
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(*caFile); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: !*http1}}
	body := []byte(fmt.Sprintf(`{"CmdletInput":{"CmdletName":%q,"Parameters":{"ResultSize":"Unlimited"}}}`, *cmdlet))
	buf := make([]byte, 256<<10)
	next, records := *url, 0
	for next != "" {
		req, _ := http.NewRequest("POST", next, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+string(token))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Prefer", "odata.maxpagesize=1000")
		resp, err := client.Do(req)
		if err != nil {
			fail(err)
		}
		if *decode {
			var page struct {
				Value []json.RawMessage `json:"value"`
				Next  string            `json:"@odata.nextLink"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				fail(fmt.Errorf("status %d: %v", resp.StatusCode, err))
			}
			records += len(page.Value)
			next = page.Next
			continue
		}
		var sc scanner
		err = sc.scan(resp.Body, buf)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			fail(fmt.Errorf("status %d: %v", resp.StatusCode, err))
		}
		records += sc.records
		next = ""
		if sc.next != nil {
			if err := json.Unmarshal(sc.next, &next); err != nil {
				fail(fmt.Errorf("@odata.nextLink: %v", err))
			}
		}
	}
	fmt.Println(records)
}

// scanner walks one answer's JSON bytes: enough to count the records of the top-level
// "value" array and to keep the top-level @odata.nextLink, nothing more.
type scanner struct {
	records int
	next    []byte // the nextLink as a JSON string, quotes included

	depth    int
	inString bool
	escaped  bool
	str      []byte // the string being read, when it is a top-level key or value
	keep     bool   // whether str is being kept
	lastKey  string // the last top-level key
	inValue  bool   // inside the top-level "value" array
	wantNext bool   // the next top-level string is the nextLink
}

func (s *scanner) scan(r io.Reader, buf []byte) error {
	for {
		n, err := r.Read(buf)
		s.feed(buf[:n])
		if err == io.EOF {
			if s.depth != 0 || s.inString {
				return errors.New("truncated JSON")
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *scanner) feed(b []byte) {
	for i := 0; i < len(b); {
		if s.inString {
			if s.escaped {
				s.escaped = false
				if s.keep {
					s.str = append(s.str, b[i])
				}
				i++
				continue
			}
			j := bytes.IndexAny(b[i:], `"\`)
			if j < 0 {
				if s.keep {
					s.str = append(s.str, b[i:]...)
				}
				return
			}
			if s.keep {
				s.str = append(s.str, b[i:i+j+1]...)
			}
			i += j
			if b[i] == '\\' {
				s.escaped = true
				i++
				continue
			}
			s.inString = false
			i++
			if s.keep {
				s.endString()
			}
			continue
		}
		switch b[i] {
		case '"':
			s.inString = true
			s.keep = s.depth == 1
			if s.keep {
				s.str = append(s.str[:0], '"')
			}
		case '{', '[':
			s.depth++
			if s.depth == 3 && s.inValue && b[i] == '{' {
				s.records++
			}
			if s.depth == 2 && b[i] == '[' && s.lastKey == "value" {
				s.inValue = true
			}
		case '}', ']':
			s.depth--
			if s.depth == 1 {
				s.inValue = false
			}
		case ':':
			if s.depth == 1 {
				s.wantNext = s.lastKey == "@odata.nextLink"
			}
		case ',':
			if s.depth == 1 {
				s.wantNext = false
			}
		}
		i++
	}
}

// endString ends a top-level string: a key, or the nextLink's value.
func (s *scanner) endString() {
	if s.wantNext {
		s.next = append([]byte(nil), s.str...)
		s.wantNext = false
		return
	}
	var key string
	if json.Unmarshal(s.str, &key) == nil {
		s.lastKey = key
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rawfetch:", err)
	os.Exit(1)
}
