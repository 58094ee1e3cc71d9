package loop

import (
	"sync"
	"sync/atomic"

	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/server"
)

// Call is one unit of work for the GIL thread: a handler call, or (when
// future is set) the delivery of an in-process test response.
type Call struct {
	route    *router.Route
	request  []byte
	response *server.Response
	done     chan struct{}

	future pybridge.Object // resolve this future with result instead of calling a handler
	result []byte

	id   uint64          // while its task runs
	task pybridge.Object // owned while pending
	loop *Loop
}

var callPool = sync.Pool{New: func() any { return &Call{done: make(chan struct{}, 1)} }}

func newCall() *Call { return callPool.Get().(*Call) }

func (c *Call) recycle() {
	*c = Call{done: c.done}
	callPool.Put(c)
}

// pending maps call ids to calls whose handler task has not finished. Ids
// travel through Python as ints, never as Go pointers.
var pending struct {
	sync.Mutex
	calls map[uint64]*Call
	next  atomic.Uint64
}

// newCallID names a call before its handler runs; only a call whose task
// suspends is then registered (a sync call costs no map operation).
func newCallID() uint64 { return pending.next.Add(1) }

func addPending(id uint64, c *Call) {
	pending.Lock()
	if pending.calls == nil {
		pending.calls = make(map[uint64]*Call)
	}
	pending.calls[id] = c
	pending.Unlock()
}

func takePending(id uint64) *Call {
	pending.Lock()
	c := pending.calls[id]
	delete(pending.calls, id)
	pending.Unlock()
	return c
}
