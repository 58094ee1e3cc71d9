package pybridge

/*
#include "ws.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// WS is a WebSocket session's message queues in C memory (ws.c): the GIL
// thread sends and receives through them without entering Go. All methods
// are called without the GIL.
type WS struct{ c *C.db_ws }

// WSFrame is one frame Python queued: Kind 0 text, 1 bytes, 3 close (with
// Code). Data points into C memory, valid until FreeFrames.
type WSFrame struct {
	Kind, Code int
	Data       []byte
}

// NewWS makes the queues: the reader is held back past inLimit unread
// messages; Python's send waits past outLimit unwritten frames. A message
// for a waiting receive goes through q to the GIL thread.
func NewWS(q *Queue, inLimit, outLimit int) (*WS, error) {
	c := C.db_ws_new(q.q, C.int(inLimit), C.int(outLimit))
	if c == nil {
		return nil, errors.New("databridge: cannot create a WebSocket session (eventfd)")
	}
	return &WS{c: c}, nil
}

// Addr is the session's address for the payload (websockets.entry binds it).
func (w *WS) Addr() int64 { return int64(uintptr(unsafe.Pointer(w.c))) }

// OutFd is signalled when frames are queued for a sleeping writer; SpaceFd
// when a held-back reader may read again.
func (w *WS) OutFd() int   { return int(C.db_ws_out_fd(w.c)) }
func (w *WS) SpaceFd() int { return int(C.db_ws_space_fd(w.c)) }

// Push queues a message read (copied), handing it to a waiting receive
// through the engine's queue, and reports whether the reader must wait
// for SpaceFd. One cgo crossing.
func (w *WS) Push(kind int, data []byte) (wait bool, err error) {
	p, n := cBytes(data)
	rc := C.db_ws_push(w.c, C.int(kind), p, n)
	if rc < 0 {
		return false, errors.New("databridge: out of memory queueing a WebSocket message")
	}
	return rc == 2, nil
}

// Disconnect records the end of the peer's side and returns the futures
// waiting (a receive, a send), for the caller to deliver.
func (w *WS) Disconnect(code int, reason string) (recv, send Object) {
	var r, s *C.PyObject
	p, n := cBytes([]byte(reason))
	C.db_ws_disconnect(w.c, C.int(code), p, n, &r, &s)
	if r != nil {
		recv = FromC(unsafe.Pointer(r))
	}
	if s != nil {
		send = FromC(unsafe.Pointer(s))
	}
	return recv, send
}

// TakeOut frees done (the list it returned last time, or nil) and returns
// the frames queued (appended to buf), their list (to pass back next time,
// or to FreeFrames), a future waiting for room, and whether a partial
// frame waits (BeginWrite hands it over). One cgo crossing.
func (w *WS) TakeOut(done unsafe.Pointer, buf []WSFrame) ([]WSFrame, unsafe.Pointer, Object, bool) {
	var s *C.PyObject
	var partial C.int
	list := C.db_ws_take_out(w.c, (*C.db_ws_msg)(done), &s, &partial)
	var send Object
	if s != nil {
		send = FromC(unsafe.Pointer(s))
	}
	for m := list; m != nil; m = m.next {
		buf = append(buf, WSFrame{Kind: int(m.kind), Code: int(m.code),
			Data: unsafe.Slice((*byte)(unsafe.Pointer(m.data)), int(m.len))})
	}
	return buf, unsafe.Pointer(list), send, partial != 0
}

// Attach lets Python's send write frames of up to directMax payload bytes
// straight to the socket fd (ws.c), when nothing is queued ahead; fd -1
// stops it, and must come before the connection is closed.
func (w *WS) Attach(fd int, directMax int) { C.db_ws_attach(w.c, C.int(fd), C.size_t(directMax)) }

// BeginWrite takes the write turn from Python's direct writes until
// EndWrite, and returns the bytes of a frame Python began writing, to be
// written first (nil: none), with the list to free after (FreeFrames).
func (w *WS) BeginWrite() ([]byte, unsafe.Pointer) {
	m := C.db_ws_begin_write(w.c)
	if m == nil {
		return nil, nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(m.data)), int(m.len)), unsafe.Pointer(m)
}

// EndWrite gives the write turn back.
func (w *WS) EndWrite() { C.db_ws_end_write(w.c) }

// FreeFrames frees a list from TakeOut.
func FreeFrames(list unsafe.Pointer) { C.db_ws_free_msgs((*C.db_ws_msg)(list)) }

// Release drops Go's reference (the Python capsule holds the other).
func (w *WS) Release() { C.db_ws_release(w.c) }
