package emulator_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoctl/exoctl/emulator"
)

// TestConcurrentClients: 200 clients (20 under the race detector), each on its own
// connection, call InvokeCommand (Get-Mailbox -ResultSize 10) as fast as they can for a
// bounded time; none may see an error. The time is 2 s (1 s with -short); EXOCTL_LOAD_SECONDS
// sets another for a measurement. The counts and latencies are logged, not asserted.
func TestConcurrentClients(t *testing.T) {
	secs := 2.0
	if testing.Short() {
		secs = 1
	}
	if v, err := strconv.ParseFloat(os.Getenv("EXOCTL_LOAD_SECONDS"), 64); err == nil && v > 0 {
		secs = v
	}
	clients := 200
	if raceDetector {
		clients = 20
	}
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", RateLimitOff: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tok := msalToken(t, e)
	url := e.URL + "/adminapi/beta/" + e.Info.Tenants[0].Name + "/InvokeCommand"
	body := `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":10}}}`
	roots := e.HTTPClient().Transport.(*http.Transport).TLSClientConfig.RootCAs

	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs*float64(time.Second)))
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      []string
		wg        sync.WaitGroup
	)
	for range clients {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			var mine []time.Duration
			for ctx.Err() == nil {
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = &statusError{resp.StatusCode}
					}
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	t.Logf("%d clients for %.0f s: %d requests, %d errors, p50 %v, p99 %v, max %v",
		clients, secs, len(latencies), len(errs), pct(0.50), pct(0.99), pct(1))
	if len(errs) > 0 {
		t.Errorf("%d errors, the first: %s", len(errs), errs[0])
	}
	if len(latencies) == 0 {
		t.Error("no request succeeded")
	}
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "HTTP " + strconv.Itoa(e.code) }
