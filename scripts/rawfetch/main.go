// Command rawfetch is the bench's baseline: the least a Go program can do to fetch every page
// of a cmdlet from InvokeCommand (POST, follow @odata.nextLink, count records), with no
// parsing beyond what finding the next link needs.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
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
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body := []byte(fmt.Sprintf(`{"CmdletInput":{"CmdletName":%q,"Parameters":{"ResultSize":"Unlimited"}}}`, *cmdlet))
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
	}
	fmt.Println(records)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rawfetch:", err)
	os.Exit(1)
}
