package pybridge

/*
#include "pybridge.h"
*/
import "C"

import (
	"errors"
	"time"
	"unsafe"

	"github.com/databridge/databridge/wire"
)

// Queue hands calls from request goroutines to the GIL thread and results
// back, through C memory only (see queue.c for why the GIL thread must not
// run Go). Submit, Deliver and TakeDone may be called from any goroutine
// without the GIL.
type Queue struct{ q *C.db_queue }

// NewQueue makes a queue with its two eventfds.
func NewQueue() (*Queue, error) {
	q := C.db_queue_new()
	if q == nil {
		return nil, errors.New("databridge: cannot create the call queue (eventfd)")
	}
	return &Queue{q: q}, nil
}

// WakeFd becomes readable when calls wait for the GIL thread.
func (q *Queue) WakeFd() int { return int(C.db_queue_wake_fd(q.q)) }

// DoneFd becomes readable when results wait for TakeDone.
func (q *Queue) DoneFd() int { return int(C.db_queue_done_fd(q.q)) }

// Attach binds the queue to the asyncio loop that will drain it.
func (q *Queue) Attach(_ GIL, loop Object) error {
	if C.db_queue_attach(q.q, toC(loop)) < 0 {
		return errPython
	}
	return nil
}

// Detach forgets the asyncio loop; queued calls wait for the next one.
func (q *Queue) Detach(_ GIL) { C.db_queue_detach(q.q) }

// capsuleName names the capsules made by Capsule (pybridge.h's
// DB_QUEUE_CAPSULE, which module.c checks): static C memory.
var capsuleName = C.db_queue_capsule_name()

// Capsule wraps the queue for databridge._core.drain, the event loop's
// reader callback, which runs the queue in C without entering Go.
func (q *Queue) Capsule(_ GIL) Object {
	return FromC(unsafe.Pointer(C.PyCapsule_New(unsafe.Pointer(q.q), capsuleName, nil)))
}

// Close frees the queue; nothing may use it after.
func (q *Queue) Close(_ GIL) {
	C.db_queue_free(q.q)
	q.q = nil
}

// StopHandlers ends the handler threads serving the queue (see queue.c):
// each returns from databridge._core.serve_handlers once its current call
// is done; queued sync calls go to the event loop thread meanwhile.
func (q *Queue) StopHandlers() { C.db_stop_handlers(q.q) }

// TickHandlers wakes a handler thread when sync calls have waited since
// the last tick while the running threads are blocked (queue.c); the loop
// calls it every 500 µs while it reports that sync calls are queued.
func (q *Queue) TickHandlers() (queued bool) { return C.db_tick_handlers(q.q) != 0 }

// Submit queues a call of h with req (copied): the request dict, followed
// by a dict of keyword arguments when kwargs is set. slot comes back with
// the result. Cost: one cgo crossing, one malloc and a copy of req.
func (q *Queue) Submit(h *Handler, req []byte, kwargs bool, slot int64) error {
	p, n := cBytes(req)
	if C.db_submit(q.q, toC(h.fn), toC(h.name), p, n, C.int64_t(slot), cBool(kwargs), cBool(h.Pool)) == nil {
		return errors.New("databridge: out of memory queueing a call")
	}
	return nil
}

// Deliver queues future.set_result(value) (value in the wire format) for
// the GIL thread. It takes over the reference to future.
func (q *Queue) Deliver(future Object, value []byte) error {
	p, n := cBytes(value)
	if C.db_deliver(q.q, toC(future), p, n) < 0 {
		return errors.New("databridge: out of memory delivering a response")
	}
	return nil
}

// Done is a list of finished calls, oldest first.
type Done struct {
	c *C.db_call
	q *Queue
}

// TakeDone removes and returns the finished calls.
func (q *Queue) TakeDone() Done { return Done{C.db_take_done(q.q), q} }

// zeroCopyBody is the body size from which a response is written straight
// from the C buffer, which is freed once it is written (Response.Release),
// instead of being copied into Go memory: a 10 KB body saved a copy and a
// 10 KB allocation per request; from 1 KB the hand-over (a closure and a
// cgo free) beat the copy (2 and 4 KB bodies, pinned: +13 to +20 % req/s
// against a 4 KB threshold).
const zeroCopyBody = 1024

// Timing is how long a call waited for the GIL thread (or a handler
// thread) and how long its handler then ran until the reply was ready,
// awaits included; zero unless SetTiming is on.
type Timing struct{ Wait, Run time.Duration }

// SetTiming turns the measuring of Timing on or off (two clock reads per
// call, in C).
func SetTiming(on bool) {
	if on {
		C.db_timing = 1
	} else {
		C.db_timing = 0
	}
}

func timing(c *C.db_call) Timing {
	if c.t_queued == 0 || c.t_started == 0 || c.t_done == 0 {
		return Timing{}
	}
	return Timing{Wait: time.Duration(c.t_started - c.t_queued), Run: time.Duration(c.t_done - c.t_started)}
}

// Each calls f with every call's slot, response and timing, then frees
// the list (but for the bodies handed over without a copy).
func (d Done) Each(f func(slot int64, resp *wire.Reply, t Timing)) {
	var free, last *C.db_call
	for c := d.c; c != nil; {
		next := c.next
		c.next = nil
		var stream *Stream
		if c.result.stream != nil { // owned by Go from here
			stream = &Stream{q: d.q, s: c.result.stream}
			c.result.stream = nil
		}
		t := timing(c)
		if c.result.body_len >= zeroCopyBody {
			resp := handOver(c)
			if stream != nil {
				resp.Stream = stream
			}
			f(int64(c.slot), resp, t)
		} else {
			resp := response(&c.result, true)
			if stream != nil {
				resp.Stream = stream
			}
			f(int64(c.slot), resp, t)
			if last == nil {
				free = c
			} else {
				last.next = c
			}
			last = c
		}
		c = next
	}
	C.db_free_calls(free)
}

// handOver makes a Response whose body is the call's C buffer; Release
// frees the call. Cost: the Response, the closure, one cgo call to free.
func handOver(c *C.db_call) *wire.Reply {
	resp := response(&c.result, false)
	r := &c.result
	resp.Body = unsafe.Slice((*byte)(unsafe.Pointer(r.buf.data)), int(r.buf.len))[int(r.body_off):int(r.body_off+r.body_len)]
	resp.Release = func() { C.db_free_calls(c) }
	return resp
}

// Drain runs one batch on this thread, as databridge._core.drain does
// from the event loop's reader (for Go tests of the queue; the engine
// never calls it: the GIL thread must not run Go, see queue.c). It fails
// only if a Python error escapes the batch, which db_drain never lets
// happen today.
func (q *Queue) Drain(_ GIL) error {
	r := C.db_drain(q.q)
	if r == nil {
		return errPython
	}
	C.Py_DecRef(r)
	return nil
}
