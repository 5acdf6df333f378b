package exo

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// answerBody is an answer's body, gunzipped when the service compressed it (every request
// sends Accept-Encoding: gzip, so net/http leaves that to us). Close closes both.
func answerBody(resp *http.Response) (io.ReadCloser, error) {
	if !strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		return resp.Body, nil
	}
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("bad gzip answer: %w", err)
	}
	return gzipBody{gz, resp.Body}, nil
}

type gzipBody struct {
	*gzip.Reader
	body io.Closer
}

func (g gzipBody) Close() error {
	g.Reader.Close()
	return g.body.Close()
}
