package pybridge

/*
#include "pybridge.h"
*/
import "C"

import (
	"errors"

	"github.com/databridge/databridge/wire"
)

// Stream is a streamed reply's iterator, held in C (stream.c) and owned by
// Go from the reply on. It implements wire.Stream once bound to the loop
// that waits for its chunks (Bind).
type Stream struct {
	q    *Queue
	s    *C.db_stream
	wait func(submit func(slot int64) error) *wire.Reply
}

// Bind gives the stream the function that queues a message with a slot
// and blocks until that slot is answered (loop.Loop's waiters).
func (s *Stream) Bind(wait func(submit func(slot int64) error) *wire.Reply) { s.wait = wait }

var (
	errStreamFailed = errors.New("databridge: the streamed response's iterator raised")
	errStreamClosed = errors.New("databridge: stream used after Close")
)

// Next asks the GIL thread to advance the iterator once (DB_STREAM_NEXT).
func (s *Stream) Next() (*wire.Reply, error) {
	if s.s == nil || s.wait == nil {
		return nil, errStreamClosed
	}
	r := s.wait(func(slot int64) error { return s.submit(C.DB_STREAM_NEXT, slot) })
	if r == nil {
		return nil, errStreamFailed
	}
	switch r.Status {
	case C.DB_CHUNK_DATA:
		return r, nil
	case C.DB_CHUNK_END:
		if r.Release != nil {
			r.Release()
		}
		return nil, nil
	}
	if r.Release != nil {
		r.Release()
	}
	return nil, errStreamFailed
}

// Disconnected queues DB_STREAM_DISCONNECTED.
func (s *Stream) Disconnected() {
	if s.s != nil {
		s.submit(C.DB_STREAM_DISCONNECTED, -1)
	}
}

// Close queues DB_STREAM_CLOSE; the C stream is freed on the GIL thread.
func (s *Stream) Close() {
	if s.s == nil {
		return
	}
	for s.submit(C.DB_STREAM_CLOSE, -1) != nil {
		// Out of memory: the iterator must still be released.
	}
	s.s = nil
}

func (s *Stream) submit(op C.int, slot int64) error {
	if C.db_submit_stream(s.q.q, s.s, op, C.int64_t(slot)) == nil {
		return errors.New("databridge: out of memory queueing a stream message")
	}
	return nil
}
