package loop

import (
	"os"
	"sync"
	"syscall"

	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/wire"
)

// Loop queues calls from request goroutines for the GIL thread.
type Loop struct {
	queue     *pybridge.Queue
	slots     slots
	done      *os.File // a dup of the queue's done fd, read through the netpoller
	completer sync.WaitGroup
}

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
	l := &Loop{queue: q, done: os.NewFile(uintptr(fd), "databridge-done")}
	l.completer.Add(1)
	go l.complete()
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
	l.done.Close()
	l.completer.Wait()
	l.queue.Close(gil)
}

// Call queues a call of h and blocks until its reply is ready. It is
// called on request goroutines, never with the GIL.
func (l *Loop) Call(h *pybridge.Handler, request []byte, kwargs bool) *wire.Reply {
	w := waiterPool.Get().(*waiter)
	slot := l.slots.add(w)
	if err := l.queue.Submit(h, request, kwargs, slot); err != nil {
		l.slots.take(slot)
		waiterPool.Put(w)
		return nil // the server answers 500
	}
	<-w.done
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

// Deliver queues the resolution of an asyncio future (owned by the queue
// from now on) with a wire-encoded value, for the in-process test client.
func (l *Loop) Deliver(future pybridge.Object, value []byte) error {
	return l.queue.Deliver(future, value)
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
		l.queue.TakeDone().Each(func(slot int64, resp *wire.Reply) {
			if st, ok := resp.Stream.(*pybridge.Stream); ok {
				st.Bind(l.wait)
			}
			w := l.slots.take(slot)
			w.response = resp
			w.done <- struct{}{}
		})
	}
}
