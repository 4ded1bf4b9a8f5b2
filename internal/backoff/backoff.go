// Package backoff computes jittered exponential reconnect delays. The
// responder uses it for its console connection; the relay will use it for
// its upstream.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff doubles its delay after every failure, from Min up to Max, and
// picks each wait uniformly from [delay/2, delay] so that a fleet of
// responders cut off together does not reconnect in lockstep. The zero value
// is not usable; call New.
type Backoff struct {
	min, max time.Duration
	current  time.Duration
	// rand returns a float in [0, 1); replaced in tests.
	rand func() float64
	// after is time.After; replaced in tests.
	after func(time.Duration) <-chan time.Time
}

// New returns a Backoff that starts at min and never waits longer than max.
func New(min, max time.Duration) *Backoff {
	return &Backoff{min: min, max: max, current: min, rand: rand.Float64, after: time.After}
}

// Next returns the next delay and doubles the base delay for the call after.
func (b *Backoff) Next() time.Duration {
	d := b.current
	b.current = min(b.current*2, b.max)
	return d/2 + time.Duration(b.rand()*float64(d/2))
}

// Reset starts over at the minimum delay; call it after a success.
func (b *Backoff) Reset() {
	b.current = b.min
}

// Wait sleeps for Next() or until ctx ends, returning ctx.Err() then. It
// returns the delay it waited for.
func (b *Backoff) Wait(ctx context.Context) (time.Duration, error) {
	d := b.Next()
	select {
	case <-ctx.Done():
		return d, ctx.Err()
	case <-b.after(d):
		return d, nil
	}
}
