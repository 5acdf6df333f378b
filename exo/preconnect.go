package exo

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/exoctl/exoctl/cloud"
)

// preconnectIdle is how long a connection made ahead of time waits for its first request before
// it is closed.
const preconnectIdle = 30 * time.Second

// Preconnect gives o an HTTP client (HTTPClient of o.CAFile) that is already connecting to the
// connection URI Connect will use: the TCP and TLS handshake run in the background while the
// caller reads the connection's secrets and token cache, and the session's first request takes
// that connection. Nothing is sent over it but the handshake, so no token leaves early; a failed
// or unused one is dropped, and the first request connects as it would have. It does nothing when
// o already has a client, or through a proxy (the transport connects through it itself).
func Preconnect(o *Options) error {
	if o.HTTPClient != nil {
		return nil
	}
	hc, err := HTTPClient(o.CAFile)
	if err != nil {
		return err
	}
	o.HTTPClient = hc
	base, err := connectionBase(*o)
	if err != nil || viaProxy() {
		return nil // Connect says what is wrong with the URI
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		return nil
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" {
		return nil
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	dial := tr.DialTLSContext
	if dial == nil {
		// System roots only: make the handshake the transport would make.
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialTLS(ctx, tr, network, addr, nil)
		}
	}
	p := &preconnected{addr: addr, done: make(chan struct{})}
	go p.connect(dial)
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if conn := p.take(ctx, network, addr); conn != nil {
			return conn, nil
		}
		return dial(ctx, network, addr)
	}
	return nil
}

// preconnected is one connection made ahead of time, for the first dial to addr.
type preconnected struct {
	addr string
	done chan struct{}

	mu    sync.Mutex
	conn  net.Conn
	taken bool
}

func (p *preconnected) connect(dial func(ctx context.Context, network, addr string) (net.Conn, error)) {
	defer close(p.done)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultDialTimeout+DefaultTLSHandshakeTimeout)
	defer cancel()
	conn, err := dial(ctx, "tcp", p.addr)
	if err != nil {
		return // the first request connects itself, and says what fails
	}
	p.mu.Lock()
	p.conn = conn
	p.mu.Unlock()
	time.AfterFunc(preconnectIdle, p.drop)
}

// take returns the connection made ahead of time to the first dial to its address, once its
// handshake ended; nil when it failed or was taken, or for another address.
func (p *preconnected) take(ctx context.Context, network, addr string) net.Conn {
	if addr != p.addr || network != "tcp" {
		return nil
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.taken {
		return nil
	}
	p.taken = true
	conn := p.conn
	p.conn = nil
	return conn
}

// drop closes a connection made ahead of time that no request took.
func (p *preconnected) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.taken = true
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
}

// connectionBase is the REST base Connect uses for o: its ConnectionURI, else the environment's
// (Security & Compliance's for Compliance).
func connectionBase(o Options) (string, error) {
	env, err := cloud.Lookup(o.Environment)
	if err != nil {
		return "", err
	}
	connURI := env.ConnectionURI
	if o.Compliance {
		connURI = env.ComplianceURI
	}
	if o.ConnectionURI != "" {
		connURI = o.ConnectionURI
	}
	return cloud.Base(connURI)
}
