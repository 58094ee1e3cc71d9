package loop

import (
	"sync"

	"github.com/databridge/databridge/wire"
)

// abortState is closed by Abort; Call selects on it.
type abortState struct {
	init, once sync.Once
	c          chan struct{}
}

// ch is the channel Abort closes (made on first use; after that, one
// atomic load).
func (a *abortState) ch() chan struct{} {
	a.init.Do(func() { a.c = make(chan struct{}) })
	return a.c
}

// Abort makes every call waiting for Python, and every later one, return
// a 503 reply at once (the second Ctrl+C: the drain ends now, and what is
// in flight is answered rather than reset). Handlers still running in
// Python finish, but their replies are dropped.
func (l *Loop) Abort() {
	c := l.abort.ch()
	l.abort.once.Do(func() { close(c) })
}

// Aborted reports whether Abort was called.
func (l *Loop) Aborted() bool {
	select {
	case <-l.abort.ch():
		return true
	default:
		return false
	}
}

var abortBody = []byte(`{"detail":"Service Unavailable: the server is shutting down"}`)

func abortedReply() *wire.Reply {
	return &wire.Reply{
		Status: 503,
		Header: [][2]string{{"content-type", "application/json"}, {"connection", "close"}, {"retry-after", "1"}},
		Body:   abortBody,
	}
}

// Pending is the number of calls queued for, or running on, the GIL thread.
func (l *Loop) Pending() int64 { return l.pending.Load() }

func (l *Loop) batchDone(n int) {
	l.pending.Add(int64(-n))
	if f := l.OnBatch; f != nil && n > 0 {
		f(n)
	}
}
