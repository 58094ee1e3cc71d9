// Package limit bounds the requests in flight: past the limit a request is
// answered 503 with Retry-After at once, in Go, and never reaches the
// queue to Python. With a limit of N the queue to Python holds at most N
// calls (every call in it belongs to a request in flight).
package limit

import (
	"strconv"
	"sync/atomic"

	"github.com/databridge/databridge/server"
)

// Limiter counts requests in flight.
type Limiter struct {
	max        int64
	inFlight   atomic.Int64
	rejected   atomic.Int64
	retryAfter string
}

// New limits to max requests in flight; a refused one is told to retry
// after retryAfter seconds.
func New(max int, retryAfter int) *Limiter {
	if retryAfter <= 0 {
		retryAfter = 1
	}
	return &Limiter{max: int64(max), retryAfter: strconv.Itoa(retryAfter)}
}

// InFlight is the number of requests being served.
func (l *Limiter) InFlight() int64 { return l.inFlight.Load() }

// Rejected is the number of requests answered 503 for the limit.
func (l *Limiter) Rejected() int64 { return l.rejected.Load() }

var body = []byte(`{"detail":"Service Unavailable: too many requests in flight"}`)

// Middleware applies the limit to h.
func (l *Limiter) Middleware(h server.Handler) server.Handler {
	return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
		if l.inFlight.Add(1) > l.max {
			l.inFlight.Add(-1)
			l.rejected.Add(1)
			hd := w.Header()
			hd.Set("content-type", "application/json")
			hd.Set("retry-after", l.retryAfter)
			w.Send(503, body)
			return
		}
		defer l.inFlight.Add(-1)
		h.Serve(w, r)
	})
}
