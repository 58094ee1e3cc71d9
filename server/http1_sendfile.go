package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
)

// A body sent with ReadFrom (io.Copy, package files) keeps the handler's
// Content-Length: the response is "sized", its head made at once and
// written with the first body bytes, the body unchunked after it. An
// *os.File (alone or under an *io.LimitedReader) goes by sendfile(2) on a
// plain TCP or Unix connection, the head sent just before it with
// MSG_MORE, so that both leave in the same segments and no byte of the
// file crosses into user space; other readers, and TLS, are copied
// through Write.

// sendfileChunk is how much of a file one write deadline covers: the
// deadline (WriteTimeout) is renewed for each MiB sent, as for each write
// of a streamed response.
const sendfileChunk = 1 << 20

// errNoSendfile: sendfile(2) cannot send from this file (a pipe, a
// socket), or not on this system; nothing of it was sent.
var errNoSendfile = errors.New("databridge: sendfile not possible")

// errShortBody ends a sized response whose body stopped short of its
// Content-Length: the connection closes, the client sees the body cut.
var errShortBody = errors.New("databridge: body shorter than its Content-Length")

// testHookSendfile, when set (tests), is called with the bytes each
// ReadFrom sent by sendfile(2).
var testHookSendfile atomic.Pointer[func(n int64)]

// FileRange is a body for ReadFrom that names a section of an open file
// rather than being read: ReadFrom sends it by sendfile(2) at its offset,
// so that the descriptor's own offset is neither used nor moved and one
// descriptor may serve many responses at once (package files' cache of
// open files). Where sendfile cannot send (TLS, HTTP/2, a writer without
// ReadFrom), Read reads the section (pread).
type FileRange interface {
	io.Reader
	// FileRange is the descriptor and the section still to send: n bytes
	// from off.
	FileRange() (fd int, off, n int64)
	// Skip records that the next n bytes of the section were sent.
	Skip(n int64)
}

// ReadFrom sends what r holds as the body; io.Copy calls it. When the
// handler set Content-Length and nothing was sent yet, the response keeps
// that length and is not chunked: an *os.File, alone or under an
// *io.LimitedReader, goes by sendfile on a plain TCP or Unix connection,
// other readers (and TLS) are copied. The body takes at most that many
// bytes (http.ErrContentLength past them); one that ends short closes the
// connection when the response ends. A HEAD reads nothing. Without a
// Content-Length, r is copied through Write and framed as Write frames.
func (w *h1Writer) ReadFrom(r io.Reader) (int64, error) {
	if err := w.beginBody(); err != nil {
		return 0, err
	}
	if !w.sized {
		n, ok := w.fixedLength()
		if !ok {
			return copyThrough(w, r)
		}
		w.beginSized(n)
	}
	if w.head {
		return 0, nil
	}
	if fr, ok := r.(FileRange); ok {
		if rc := w.socket(); rc != nil {
			return w.sendRange(rc, fr)
		}
		return copyThrough(w, r)
	}
	if src, lr, ok := w.sendfileSource(r); ok {
		return w.sendFile(r, src, lr)
	}
	return copyThrough(w, r)
}

// fixedLength is the handler's Content-Length when the response can be
// sent with it: nothing sent yet, a final status with a body, no more
// body buffered than it.
func (w *h1Writer) fixedLength() (int64, bool) {
	if w.sent || !statusValid(w.status) || !bodyAllowed(w.status) {
		return 0, false
	}
	v, ok := w.header.Lookup("content-length")
	if !ok || !isDigits(v) {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < int64(len(w.buf)) {
		return 0, false
	}
	return n, true
}

// beginSized makes the head of a response of n body bytes in c.wbuf, the
// body buffered so far after it, to be written with the next body bytes.
func (w *h1Writer) beginSized(n int64) {
	hb := w.appendHead(w.c.wbuf[:0], n)
	if !w.head {
		hb = append(hb, w.buf...)
		w.left = n - int64(len(w.buf))
	}
	w.c.wbuf = hb
	w.buf = w.buf[:0]
	w.sent, w.streaming, w.sized, w.pending = true, true, true, true
}

// clip cuts p to what a sized body still takes.
func (w *h1Writer) clip(p []byte) ([]byte, error) {
	if !w.sized {
		return p, nil
	}
	var err error
	if int64(len(p)) > w.left {
		p, err = p[:w.left], http.ErrContentLength
	}
	w.left -= int64(len(p))
	return p, err
}

// flushHead writes the pending head, with the body buffered since.
func (w *h1Writer) flushHead() error {
	w.pending = false
	var err error
	if len(w.buf) == 0 {
		err = w.write(w.c.wbuf)
	} else {
		err = w.writev(w.c.wbuf, w.buf)
	}
	w.buf = w.buf[:0]
	return err
}

// short ends a sized response that got fewer bytes than its length.
func (w *h1Writer) short() error {
	r := &w.c.req
	logger.Printf("%s %s: the body ended %d bytes short of its Content-Length: connection closed", r.Method, r.Path, w.left)
	w.c.closeAfter = true
	if w.err == nil {
		w.err = errShortBody
	}
	return w.err
}

// socket is the connection's RawConn when sendfile can send on it (plain
// TCP or Unix), else nil; it is made once per connection.
func (w *h1Writer) socket() syscall.RawConn {
	c := w.c
	if !canSendfile {
		return nil
	}
	if c.rc != nil {
		return c.rc
	}
	switch nc := c.nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		rc, err := nc.(syscall.Conn).SyscallConn()
		if err != nil {
			return nil
		}
		c.rc = rc
		return rc
	}
	return nil // TLS
}

// sendRange sends the pending head (or the buffered body) and then what
// the body still takes of fr's section, by sendfile at the section's
// offset; the write deadline is renewed for each sendfileChunk.
func (w *h1Writer) sendRange(rc syscall.RawConn, fr FileRange) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	fd, off, n := fr.FileRange()
	limit := min(w.left, n)
	head := w.buf
	if w.pending {
		head = w.c.wbuf
	}
	head, sent, err := w.sendChunks(rc, head, fd, off, limit)
	if err == errNoSendfile {
		return w.copyAfter(head, fr)
	}
	fr.Skip(sent)
	if err := w.sentFile(sent, err); err != nil {
		return sent, err
	}
	if w.left == 0 && n > sent && moreIn(fr) {
		return sent, http.ErrContentLength
	}
	return sent, nil
}

// sendChunks sends head, then up to limit bytes of the file fd by
// sendfile (at off and on, or from the file's own offset when off < 0),
// renewing the write deadline for each sendfileChunk. It returns what is
// left of head and the file's bytes sent.
func (w *h1Writer) sendChunks(rc syscall.RawConn, head []byte, fd int, off, limit int64) ([]byte, int64, error) {
	c := w.c
	var sent int64
	var err error
	for err == nil && (len(head) > 0 || sent < limit) {
		chunk := min(limit-sent, sendfileChunk)
		c.armWrite(w.deadlineNow(), c.s.cfg.WriteTimeout)
		at := int64(-1)
		if off >= 0 {
			at = off + sent
		}
		var hn int
		var m int64
		hn, m, err = c.sendfile(rc, head, fd, at, chunk)
		head, sent = head[hn:], sent+m
		if err == nil && m < chunk {
			break // the file ended
		}
	}
	return head, sent, err
}

// sentFile records a sendfile's end: the head went with it, n bytes of
// the body were sent, and err (returned) ends the connection.
func (w *h1Writer) sentFile(n int64, err error) error {
	w.pending = false
	w.buf = w.buf[:0]
	w.left -= n
	if h := testHookSendfile.Load(); h != nil {
		(*h)(n)
	}
	if err != nil {
		w.err = err
		w.c.closeAfter = true
	}
	return err
}

// sendfileSource is the file behind r when sendfile can send it on this
// connection: r itself, or the reader under an *io.LimitedReader (the
// shapes net.TCPConn.ReadFrom takes). Any syscall.Conn is taken, as
// net's sendfile takes it (os.File.WriteTo hands on an *os.File in a
// wrapper); one that is not a file fails with errNoSendfile and is copied.
func (w *h1Writer) sendfileSource(r io.Reader) (syscall.Conn, *io.LimitedReader, bool) {
	if !canSendfile {
		return nil, nil, false
	}
	switch w.c.nc.(type) {
	case *net.TCPConn, *net.UnixConn:
	default: // TLS
		return nil, nil, false
	}
	lr, _ := r.(*io.LimitedReader)
	if lr != nil {
		r = lr.R
	}
	src, ok := r.(syscall.Conn)
	return src, lr, ok
}

// sendFile sends the pending head (or the buffered body) and then what
// the body still takes of src, from its offset, by sendfile; r is src, or
// lr over it. The write deadline is renewed for each sendfileChunk.
func (w *h1Writer) sendFile(r io.Reader, src syscall.Conn, lr *io.LimitedReader) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	limit := w.left
	if lr != nil && lr.N < limit {
		limit = lr.N
	}
	head := w.buf
	if w.pending {
		head = w.c.wbuf
	}
	rc := w.socket()
	if rc == nil {
		return w.copyAfter(head, r)
	}
	fc, err := src.SyscallConn()
	if err != nil {
		return w.copyAfter(head, r)
	}
	var sent int64
	cerr := fc.Control(func(fd uintptr) {
		head, sent, err = w.sendChunks(rc, head, int(fd), -1, limit)
	})
	if err == nil {
		err = cerr
	}
	if err == errNoSendfile {
		return w.copyAfter(head, r)
	}
	if lr != nil {
		lr.N -= sent
	}
	if err := w.sentFile(sent, err); err != nil {
		return sent, err
	}
	if w.left == 0 && (lr == nil || lr.N > 0) && moreIn(r) {
		return sent, http.ErrContentLength
	}
	return sent, nil
}

// copyAfter writes what is left of the head, then copies r through
// Write: sendfile could not send it.
func (w *h1Writer) copyAfter(head []byte, r io.Reader) (int64, error) {
	w.pending = false
	if len(head) > 0 {
		err := w.write(head)
		w.buf = w.buf[:0]
		if err != nil {
			return 0, err
		}
	}
	return copyThrough(w, r)
}

// moreIn reports whether r has a byte left (which it consumes).
func moreIn(r io.Reader) bool {
	var b [1]byte
	n, _ := r.Read(b[:])
	return n > 0
}

// copyBufs holds copyThrough's buffers.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyThrough copies r into w with Write (w's own ReadFrom, and r's
// WriteTo, hidden from io.CopyBuffer).
func copyThrough(w io.Writer, r io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(writerOnly{w}, readerOnly{r}, *bp)
	copyBufs.Put(bp)
	return n, err
}

type writerOnly struct{ io.Writer }

type readerOnly struct{ io.Reader }
