package loop

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/wire"
)

// Loop queues calls from request goroutines for the GIL thread.
type Loop struct {
	queue     *pybridge.Queue
	slots     slots
	done      *os.File // a dup of the queue's done fd, read through the netpoller
	completer sync.WaitGroup
	stopTick  chan struct{}
	kick      chan struct{} // a sync call was queued: the ticker runs again
	abort     abortState    // abort.go: Abort answers waiting calls with 503
	pending   atomic.Int64  // abort.go: calls queued or running (Pending)
	OnBatch   func(n int)   // when set, told the size of each batch of completed calls
	// OnTiming, when set, is told each measured call's wait and handler
	// time (pybridge.SetTiming).
	OnTiming func(pybridge.Timing)
}

// tickEvery is how often the ticker looks for sync calls waiting behind
// blocked handler threads (pybridge.Queue.TickHandlers): the most a call
// waits for a thread to be woken when every running one is blocked.
const tickEvery = 500 * time.Microsecond

// New makes a Loop and starts its completer goroutine.
func New() (*Loop, error) {
	q, err := pybridge.NewQueue()
	if err != nil {
		return nil, err
	}
	fd, err := syscall.Dup(q.DoneFd())
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	l := &Loop{queue: q, done: os.NewFile(uintptr(fd), "databridge-done"), stopTick: make(chan struct{}),
		kick: make(chan struct{}, 1)}
	l.completer.Add(2)
	go l.complete()
	go l.tick()
	return l, nil
}

// Fd is the fd the event loop watches: readable when calls are queued.
func (l *Loop) Fd() int { return l.queue.WakeFd() }

// Attach binds the loop to an asyncio event loop on this thread and returns
// the object to pass to databridge._core.drain.
func (l *Loop) Attach(gil pybridge.GIL, asyncio pybridge.Object) (pybridge.Object, error) {
	if err := l.queue.Attach(gil, asyncio); err != nil {
		return nil, err
	}
	return l.queue.Capsule(gil), nil
}

// Detach forgets the asyncio loop. Calls still queued wait for the next one.
func (l *Loop) Detach(gil pybridge.GIL) { l.queue.Detach(gil) }

// Close stops the completer and frees the queue; nothing may use the loop
// after.
func (l *Loop) Close(gil pybridge.GIL) {
	close(l.stopTick)
	l.done.Close()
	l.completer.Wait()
	l.queue.Close(gil)
}

// Call queues a call of h and blocks until its reply is ready. It is
// called on request goroutines, never with the GIL.
func (l *Loop) Call(h *pybridge.Handler, request []byte, kwargs bool) *wire.Reply {
	w := waiterPool.Get().(*waiter)
	slot := l.slots.add(w)
	l.pending.Add(1)
	if err := l.queue.Submit(h, request, kwargs, slot); err != nil {
		l.pending.Add(-1)
		l.slots.take(slot)
		waiterPool.Put(w)
		return nil // the server answers 500
	}
	if h.Pool {
		select {
		case l.kick <- struct{}{}:
		default: // already kicked, or ticking
		}
	}
	select {
	case <-w.done:
	case <-l.abort.ch():
		// The waiter stays with its slot: the completer may still
		// deliver into it (done has room for one), so it is not pooled.
		return abortedReply()
	}
	resp := w.response
	w.response = nil
	waiterPool.Put(w)
	return resp
}

// wait runs submit with a new slot and blocks until that slot is
// answered: a streamed reply's chunks (pybridge.Stream.Next).
func (l *Loop) wait(submit func(slot int64) error) *wire.Reply {
	w := waiterPool.Get().(*waiter)
	slot := l.slots.add(w)
	if err := submit(slot); err != nil {
		l.slots.take(slot)
		waiterPool.Put(w)
		return nil
	}
	<-w.done
	resp := w.response
	w.response = nil
	waiterPool.Put(w)
	return resp
}

// Queue is the hand-off to the GIL thread (WebSocket sessions queue
// their messages on it directly).
func (l *Loop) Queue() *pybridge.Queue { return l.queue }

// Deliver queues the resolution of an asyncio future (owned by the queue
// from now on) with a wire-encoded value, for the in-process test client.
func (l *Loop) Deliver(future pybridge.Object, value []byte) error {
	return l.queue.Deliver(future, value)
}

// tick runs TickHandlers every tickEvery while sync calls are queued
// (an idle server does not tick), until Close.
func (l *Loop) tick() {
	defer l.completer.Done()
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stopTick:
			return
		case <-t.C:
			if l.queue.TickHandlers() {
				continue
			}
			t.Stop()
			select {
			case <-l.stopTick:
				return
			case <-l.kick:
				t.Reset(tickEvery)
			}
		}
	}
}

// complete wakes the goroutines whose calls finished. It runs on an
// ordinary P, woken by the netpoller: were the GIL thread to wake them, they
// would wait on its P (see pybridge/queue.c).
func (l *Loop) complete() {
	defer l.completer.Done()
	var buf [8]byte
	for {
		if _, err := l.done.Read(buf[:]); err != nil {
			return // closed
		}
		n := 0
		onTiming := l.OnTiming
		l.queue.TakeDone().Each(func(slot int64, resp *wire.Reply, t pybridge.Timing) {
			if onTiming != nil && t.Run != 0 {
				onTiming(t)
			}
			if st, ok := resp.Stream.(*pybridge.Stream); ok {
				st.Bind(l.wait)
			}
			w := l.slots.take(slot)
			w.response = resp
			w.done <- struct{}{}
			n++
		})
		l.batchDone(n)
	}
}
