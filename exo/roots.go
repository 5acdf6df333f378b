package exo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// maxReadAhead is how much of an answer HTTP/2 buffers before exoctl reads it: enough for
// 80 Mbit/s at 100 ms round trips, a sixth of a page of full mailboxes.
const maxReadAhead = 1 << 20

// trustCAFile makes tr trust the PEM certificates of caFile besides the system roots. A server
// the CA file vouches for (the emulator) is verified against it alone: the system's roots, a
// hundred-odd certificates that take 5-15 ms to read and parse (most of a cold exoctl run),
// are loaded only for a server that the CA file does not vouch for, and then once.
func trustCAFile(tr *http.Transport, caFile string, pem []byte) error {
	ca := x509.NewCertPool()
	if !ca.AppendCertsFromPEM(pem) {
		return fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	all := sync.OnceValue(func() *x509.CertPool {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		pool.AppendCertsFromPEM(pem)
		return pool
	})
	if viaProxy() {
		// Through a proxy the transport makes the TLS connection itself, from TLSClientConfig.
		tr.TLSClientConfig = &tls.Config{RootCAs: all(), MinVersion: tls.VersionTLS12}
		return nil
	}
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialTLS(ctx, tr, network, addr, ca)
		if ua := (x509.UnknownAuthorityError{}); errors.As(err, &ua) {
			conn, err = dialTLS(ctx, tr, network, addr, all())
		}
		return conn, err
	}
	return nil
}

// dialTLS connects and makes the TLS handshake as the transport would, verifying the server
// against roots.
func dialTLS(ctx context.Context, tr *http.Transport, network, addr string, roots *x509.CertPool) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	raw, err := dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if tr.ForceAttemptHTTP2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	if tr.TLSHandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, tr.TLSHandshakeTimeout)
		defer cancel()
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// viaProxy reports whether the environment names a proxy for https (HTTPS_PROXY), as
// http.ProxyFromEnvironment reads it.
func viaProxy() bool {
	return os.Getenv("HTTPS_PROXY") != "" || os.Getenv("https_proxy") != ""
}
