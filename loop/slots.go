package loop

import (
	"sync"

	"github.com/databridge/databridge/wire"
)

// waiter is a goroutine blocked in Call.
type waiter struct {
	done     chan struct{}
	response *wire.Reply
}

// slots maps the small integers that travel through C with a call to the
// goroutines waiting for them (Go pointers must not be kept by C).
type slots struct {
	mu      sync.Mutex
	waiters []*waiter
	free    []int64
}

func (s *slots) add(w *waiter) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		s.waiters[i] = w
		return i
	}
	s.waiters = append(s.waiters, w)
	return int64(len(s.waiters) - 1)
}

func (s *slots) take(i int64) *waiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.waiters[i]
	s.waiters[i] = nil
	s.free = append(s.free, i)
	return w
}

var waiterPool = sync.Pool{New: func() any { return &waiter{done: make(chan struct{}, 1)} }}
