package exo

import (
	"context"
	"time"
)

// A Yielder lends what its caller holds while a session waits to retry: Yield is called before a
// wait of yieldAfter or more (throttling's Retry-After, the backoff of a failing service) and
// Resume after it; Resume waits for the caller's turn again. A fan-out gives one: a tenant that
// waits out its throttling lends its slot to the other tenants.
type Yielder interface {
	Yield()
	Resume(ctx context.Context) error
}

// yieldAfter is the shortest wait to retry that a session lends its Yielder's hold for.
const yieldAfter = time.Second

type yielderKey struct{}

// WithYielder returns ctx under which sessions call y around their waits to retry.
func WithYielder(ctx context.Context, y Yielder) context.Context {
	return context.WithValue(ctx, yielderKey{}, y)
}

func yielderFrom(ctx context.Context, wait time.Duration) Yielder {
	if wait < yieldAfter {
		return nil
	}
	y, _ := ctx.Value(yielderKey{}).(Yielder)
	return y
}
