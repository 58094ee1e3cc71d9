package loop

import (
	"errors"
	"os"
	"sync"

	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/server"
)

// ErrFatal means a handler raised KeyboardInterrupt or SystemExit: the
// exception is set in Python and must propagate out of the event loop.
var ErrFatal = errors.New("databridge: handler raised KeyboardInterrupt or SystemExit")

// Loop queues calls from request goroutines and runs them on the GIL thread.
// It implements server.Backend.
type Loop struct {
	mu       sync.Mutex
	queue    []*Call
	spare    []*Call
	sleeping bool // the GIL thread may be waiting: a push must signal wake
	wake     wakeFD

	// Calls whose response is ready, handed to the completer goroutine.
	// The GIL thread never wakes request goroutines itself: a goroutine it
	// readies lands on the run queue of its own P, which stays parked with
	// the thread while Python runs in C, and waits there for sysmon (1-10
	// ms; measured: 63 goroutines stranded, 8k rps instead of 40k+).
	finishedMu sync.Mutex
	finished   []*Call
	finishedFd wakeFD
	completer  *os.File // finishedFd, read through Go's netpoller

	// Owned by the GIL thread.
	asyncio pybridge.Object // the asyncio loop, while attached
	result  *pybridge.Result
}

// New makes a Loop with its wake-up fd.
func New() (*Loop, error) {
	fd, err := newWakeFD()
	if err != nil {
		return nil, err
	}
	done, err := newWakeFD()
	if err != nil {
		fd.Close()
		return nil, err
	}
	l := &Loop{wake: fd, sleeping: true, result: pybridge.NewResult(), finishedFd: done}
	l.completer = os.NewFile(uintptr(done), "databridge-completions")
	go l.complete()
	return l, nil
}

// complete wakes the request goroutines whose calls finished, on an
// ordinary P. It ends when the loop is closed.
func (l *Loop) complete() {
	var buf [8]byte
	var batch []*Call
	for {
		if _, err := l.completer.Read(buf[:]); err != nil {
			return
		}
		l.finishedMu.Lock()
		batch, l.finished = l.finished, batch[:0]
		l.finishedMu.Unlock()
		for i, c := range batch {
			c.done <- struct{}{}
			batch[i] = nil
		}
	}
}

// finish records c's response; flushFinished then hands the batch over.
func (l *Loop) finish(c *Call, resp *server.Response) {
	c.response = resp
	l.finishedMu.Lock()
	l.finished = append(l.finished, c)
	l.finishedMu.Unlock()
}

func (l *Loop) flushFinished() { l.finishedFd.Write() }

// Fd is the fd the event loop watches for readability.
func (l *Loop) Fd() int { return int(l.wake) }

// Attach binds the loop to an asyncio event loop running on this thread.
func (l *Loop) Attach(gil pybridge.GIL, asyncio pybridge.Object) error {
	if l.asyncio != nil {
		return errors.New("databridge: this app is already being served by an event loop; stop it first")
	}
	l.asyncio = pybridge.NewRef(gil, asyncio)
	return nil
}

// Detach forgets the asyncio loop. Calls still queued wait for the next one.
func (l *Loop) Detach(gil pybridge.GIL) {
	pybridge.Release(gil, l.asyncio)
	l.asyncio = nil
}

// Close frees the loop; nothing may use it after.
func (l *Loop) Close(gil pybridge.GIL) {
	l.Detach(gil)
	l.wake.Close()
	l.completer.Close() // also closes finishedFd and ends complete()
	l.result.Free()
}

// Call queues a handler call and blocks until its response is ready. It is
// called on request goroutines.
func (l *Loop) Call(route *router.Route, request []byte) *server.Response {
	c := newCall()
	c.route, c.request = route, request
	l.push(c)
	<-c.done
	resp := c.response
	c.recycle()
	return resp
}

// Deliver queues the resolution of an asyncio future (owned by the call from
// now on) with a wire-encoded value, for the in-process test client.
func (l *Loop) Deliver(future pybridge.Object, value []byte) {
	c := newCall()
	c.future, c.result = future, value
	l.push(c)
}

func (l *Loop) push(c *Call) {
	l.mu.Lock()
	l.queue = append(l.queue, c)
	wake := l.sleeping
	l.sleeping = false
	l.mu.Unlock()
	if wake {
		l.wake.Write()
	}
}

// Drain runs one batch of queued calls. It is called by the event loop when
// the fd is readable. Order matters (ENGINE-NOTES: re-arming before the read
// lost wake-ups): clear the fd, then take the batch, and only go back to
// sleeping when the queue is found empty.
func (l *Loop) Drain(gil pybridge.GIL) error {
	l.wake.Clear()
	l.mu.Lock()
	batch := l.queue
	l.queue = l.spare[:0]
	if len(batch) == 0 {
		l.sleeping = true
	}
	l.mu.Unlock()

	var err error
	if len(batch) > 0 {
		defer l.flushFinished()
	}
	for i, c := range batch {
		if err != nil { // put the rest back, ahead of newer calls
			l.requeue(batch[i:])
			break
		}
		batch[i] = nil
		err = l.run(gil, c)
	}
	l.spare = batch[:0]

	l.mu.Lock()
	more := len(l.queue) > 0
	l.sleeping = !more
	l.mu.Unlock()
	if more {
		l.wake.Write() // yield to the event loop's timers and tasks, then come back
	}
	return err
}

func (l *Loop) requeue(rest []*Call) {
	l.mu.Lock()
	l.queue = append(append(make([]*Call, 0, len(rest)+len(l.queue)), rest...), l.queue...)
	l.mu.Unlock()
}

func (l *Loop) run(gil pybridge.GIL, c *Call) error {
	if c.future != nil {
		err := pybridge.Resolve(gil, c.future, c.result)
		pybridge.Release(gil, c.future)
		c.recycle()
		return err
	}
	h := c.route.Handler.(*pybridge.Handler)
	id := newCallID()
	pybridge.Invoke(gil, h, c.request, l.asyncio, id, l.result)
	if task := l.result.Task(); task != nil {
		// Its done-callback cannot run before Drain returns to the event loop.
		c.task, c.id, c.loop = task, id, l
		addPending(id, c)
		return nil
	}
	l.finish(c, l.result.Response())
	if l.result.Fatal() {
		return ErrFatal
	}
	return nil
}

// TaskDone completes the call whose handler task finished. It is called by
// the task's done-callback, on the GIL thread.
func TaskDone(gil pybridge.GIL, id uint64, task pybridge.Object) error {
	c := takePending(id)
	if c == nil {
		return nil
	}
	l := c.loop
	h := c.route.Handler.(*pybridge.Handler)
	pybridge.FinishTask(gil, h, task, l.result)
	pybridge.Release(gil, c.task)
	c.task = nil
	l.finish(c, l.result.Response())
	l.flushFinished()
	if l.result.Fatal() {
		return ErrFatal
	}
	return nil
}
