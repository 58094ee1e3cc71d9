package pyroute

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/wire"
)

// A streamed body (a route in BodyStream mode) is read by the handler as
// it arrives: each `await` of request.stream() asks for one chunk
// (ReadChunk), which a goroutine of the request reads from the
// connection and delivers to the asyncio future. At most one read is in
// flight, so the body is never read ahead of the handler: the bound is one
// chunk (streamChunk) per request, and a handler that reads slowly slows
// the client down (TCP flow control).

// streamChunk is the most one read hands to Python.
const streamChunk = 64 << 10

// Chunk kinds in the delivered value [kind, bytes]: the Python side
// (databridge.requests) raises for the errors.
const (
	chunkData     = 0 // bytes of the body (never empty)
	chunkEnd      = 1 // the body is complete
	chunkTooLarge = 2 // past the route's limit: 413
	chunkBad      = 3 // malformed framing: 400 (the message follows)
	chunkGone     = 4 // the client went away, or the body timed out
	chunkOver     = 5 // the request was already answered
)

// Deliver resolves an asyncio future with a wire-encoded value, taking
// over the reference (loop.Loop.Deliver).
type Deliver func(future pybridge.Object, value []byte) error

// bodyStream is one request's streamed body.
type bodyStream struct {
	req     *server.Request
	deliver Deliver

	buf []byte // the value being delivered: [kind, chunk], reused by each read

	mu      sync.Mutex
	pending pybridge.Object // the future of the read in flight, or nil
	ended   bool            // end, error or request over: reads answer at once
	over    bool            // the request was answered: no more reads
	reading sync.WaitGroup  // the goroutine of the read in flight
}

// streams holds the bodies being streamed by id, for ReadChunk.
var (
	streams  sync.Map // uint64 -> *bodyStream
	streamID atomic.Uint64
)

func newBodyStream(req *server.Request, deliver Deliver) (uint64, *bodyStream) {
	bs := &bodyStream{req: req, deliver: deliver}
	id := streamID.Add(1)
	streams.Store(id, bs)
	return id, bs
}

// ErrNoStream is ReadChunk's error for an id that is not a body being
// streamed (its request was answered, or it never was).
var ErrNoStream = errors.New("databridge: the request body can no longer be read (the request was answered)")

// ErrReadPending is ReadChunk's error while the previous read of the same
// body has not been delivered.
var ErrReadPending = errors.New("databridge: the request body is already being read (await one chunk at a time)")

// ReadChunk starts reading the next chunk of stream id, to be delivered
// to future as [kind, bytes]. It takes over the reference to future when
// it returns nil. It is called with the GIL and never blocks.
func ReadChunk(id uint64, future pybridge.Object) error {
	v, ok := streams.Load(id)
	if !ok {
		return ErrNoStream
	}
	bs := v.(*bodyStream)
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.over {
		return ErrNoStream
	}
	if bs.pending != nil {
		return ErrReadPending
	}
	if bs.ended {
		// Past the end or an error, every read is the end again (the
		// Python side stops at the first).
		return bs.deliver(future, chunkValue(chunkEnd, nil))
	}
	bs.pending = future
	bs.reading.Add(1)
	go bs.read()
	return nil
}

// read reads one chunk and delivers it to the pending future. The chunk is
// read straight into the value's bytes, in a buffer the stream keeps (one
// read is in flight at a time, and Deliver copies the value).
func (bs *bodyStream) read() {
	defer bs.reading.Done()
	if bs.buf == nil {
		bs.buf = make([]byte, 0, streamChunk+32)
	}
	e := wire.Encoder{Buf: bs.buf[:0]}
	e.List(2)
	e.Int(chunkData)
	at := len(e.Buf)
	e.Bytes(nil)
	start := len(e.Buf)
	into := e.Buf[start : start+streamChunk]
	n, err := bs.req.Body.Read(into)
	for n == 0 && err == nil {
		n, err = bs.req.Body.Read(into) // a Read may return nothing (a chunk header)
	}
	var value []byte
	switch {
	case n > 0:
		// The data first; an error (or io.EOF) comes again on the next
		// Read, which the sticky readers of package server give.
		e.PatchCount(at, n)
		value = e.Buf[:start+n]
	case errors.Is(err, io.EOF):
		value = chunkValue(chunkEnd, nil)
	case errors.Is(err, server.ErrBodyTooLarge):
		value = chunkValue(chunkTooLarge, []byte(server.MsgBodyTooLarge))
	case server.IsTruncated(err):
		value = chunkValue(chunkGone, nil)
	case errors.Is(err, server.ErrBadFraming):
		value = chunkValue(chunkBad, []byte(server.ErrorMessage(err)))
	default:
		value = chunkValue(chunkGone, nil)
	}
	bs.mu.Lock()
	f := bs.pending
	bs.pending = nil
	if n == 0 {
		bs.ended = true
	}
	bs.mu.Unlock()
	if bs.deliver(f, value) != nil {
		server.Logf("request body stream: cannot deliver a chunk (the loop is closed)")
	}
}

// finish ends the stream once the request was answered: no more reads,
// and the one in flight, if any, is waited for, so that nothing reads the
// body once the connection goes on to its next request. When the body
// was not read to its end, the connection is closed after the response
// unless the front can drain what is left.
func (bs *bodyStream) finish(id uint64) {
	streams.Delete(id)
	bs.mu.Lock()
	bs.over = true
	bs.mu.Unlock()
	bs.reading.Wait()
}

func chunkValue(kind int, data []byte) []byte {
	var e wire.Encoder
	e.Buf = make([]byte, 0, len(data)+24)
	e.List(2)
	e.Int(int64(kind))
	e.Bytes(data)
	return e.Buf
}
