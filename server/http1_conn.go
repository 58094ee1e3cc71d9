package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"
)

// Connection states, for Shutdown: an idle keep-alive connection (waiting
// for its next request's first byte) is closed at once, an active one
// finishes its request, and a new one (accepted, its first request not
// begun) is left newConnGrace to send it, since its client has sent or is
// sending it: closing it would lose a request that no one may retry
// (net/http's StateNew rule, which waits 5 s).
const (
	stateIdle = iota
	stateNew
	stateActive
	stateH2     // handed to the HTTP/2 front, which stops it gracefully (GOAWAY)
	stateClosed // closed by Shutdown
)

// conn is one HTTP/1.x connection and everything it reuses from one
// request to the next.
type conn struct {
	s   *Server
	nc  net.Conn // the connection (TLS over raw on a TLS server)
	raw net.Conn // the accepted connection, which Shutdown closes
	br  *bufio.Reader

	head    []byte // the current request head, which Request points into
	pathBuf []byte // the decoded path, when it has escapes
	wbuf    []byte // the response head (and small body) being written
	req     Request
	info    headInfo
	body    bodyReader
	w       h1Writer

	closeAfter bool // the connection closes after this response
	hijacked   bool // handed over (Hijack, HTTP/2)
	isTLS      bool
	tlsState   tls.ConnectionState
	state      atomic.Int32 // stateIdle, ...: Shutdown reads it without a lock
	accepted   time.Time    // for a stateNew connection's grace at Shutdown
	ctx        context.Context
	cancel     context.CancelFunc
	remote     string
	local      string
	nreq       int

	rc    syscall.RawConn       // the plain socket's, for sendfile (made once)
	sf    sendfileOp            // the sendfile call under way
	sfRun func(fd uintptr) bool // c.sf.run, made once

	readDL  time.Time // the read deadline armed (http1_deadline.go)
	writeDL time.Time // the write deadline armed

	watching  bool          // a streamed response's read-ahead runs (http1_watch.go)
	watchGone atomic.Bool   // the read-ahead found the client gone
	watchDone chan struct{} // the read-ahead ended
}

// maxIdleBuffer bounds each buffer an idle connection keeps: a large
// request head or response does not stay pinned to a kept-alive
// connection (10,000 idle connections hold about 10 KB each).
const maxIdleBuffer = 4 << 10

// dropLargeBuffers lets the buffers over maxIdleBuffer go while the
// connection waits for its next request.
func (c *conn) dropLargeBuffers() {
	if cap(c.head) > maxIdleBuffer {
		c.head = nil
	}
	if cap(c.pathBuf) > maxIdleBuffer {
		c.pathBuf = nil
	}
	if cap(c.wbuf) > maxIdleBuffer {
		c.wbuf = nil
	}
	if cap(c.w.buf) > maxIdleBuffer {
		c.w.buf = nil
	}
	if cap(c.req.Header.fields) > 2*DefaultMaxHeaderFields {
		c.req.Header.fields = nil
	}
}

// readBufferSize is the connection's bufio.Reader size: header lines
// longer than it are read in pieces.
const readBufferSize = 8 << 10

// serve runs the connection until it closes or is handed over.
func (c *conn) serve(accepted time.Time) {
	s := c.s
	defer func() {
		if p := recover(); p != nil {
			logger.Printf("connection %s: panic: %v\n%s", c.remote, p, debug.Stack())
		}
		c.cancel()
		if !c.hijacked {
			c.nc.Close()
		}
		s.untrack(c)
	}()
	c.setReadDeadline(accepted.Add(s.cfg.ReadHeaderTimeout))
	if s.cfg.TLS != nil {
		tc := tls.Server(c.nc, s.cfg.TLS)
		c.setWriteDeadline(accepted.Add(s.cfg.ReadHeaderTimeout))
		if err := tc.HandshakeContext(c.ctx); err != nil {
			return
		}
		c.nc = tc
		c.isTLS = true
		c.tlsState = tc.ConnectionState()
		if c.tlsState.NegotiatedProtocol == "h2" && s.h2 != nil {
			if !s.setState(c, stateH2) {
				return
			}
			c.handOver()
			s.h2.serveConn(tc, nil)
			return
		}
	}
	c.br = bufio.NewReaderSize(c.nc, readBufferSize)
	for c.serveOne() {
	}
}

// handOver stops the front's part in the connection: HTTP/2 or a hijack
// takes it.
func (c *conn) handOver() {
	c.hijacked = true
	c.clearDeadlines()
}

// serveOne reads and answers one request; it reports whether the
// connection goes on.
func (c *conn) serveOne() bool {
	s := c.s
	cfg := &s.cfg
	if c.nreq > 0 {
		if c.br.Buffered() == 0 {
			c.dropLargeBuffers()
			c.armRead(time.Now(), cfg.IdleTimeout)
			if !s.setState(c, stateIdle) {
				return false
			}
			if _, err := c.br.Peek(1); err != nil {
				return false
			}
		}
		if !c.headBuffered() {
			c.setReadDeadline(time.Now().Add(cfg.ReadHeaderTimeout))
		}
	} else if c.br.Buffered() == 0 {
		if _, err := c.br.Peek(1); err != nil {
			return false
		}
	}
	if !s.setState(c, stateActive) {
		return false
	}

	r := &c.req
	hdr, pv := r.Header, r.PathValues
	hdr.Reset()
	*r = Request{Header: hdr, PathValues: pv[:0], RemoteAddr: c.remote, LocalAddr: c.local,
		BodyLimit: cfg.MaxBodyBytes, Body: NoBody, ctx: c.ctx}
	if c.isTLS {
		r.TLS = &c.tlsState
	}
	c.closeAfter = false

	perr, err := c.readHead()
	if err == nil && perr == nil {
		perr = parseHead(r, &c.info, c.head, cfg, &c.pathBuf)
	}
	if err != nil {
		return false
	}
	if perr == nil && c.info.preface {
		return c.preface()
	}
	if perr != nil {
		c.reject(perr)
		return false
	}
	c.nreq++
	info := &c.info
	if info.close || r.ProtoMinor == 0 && !info.keepAlive ||
		cfg.MaxRequestsPerConn > 0 && c.nreq >= cfg.MaxRequestsPerConn || s.isStopping() {
		c.closeAfter = true
	}
	r.Close = c.closeAfter
	if info.chunked || r.ContentLength > 0 {
		c.body.reset(c, info.chunked, r.ContentLength, cfg.MaxBodyBytes, info.expect)
		r.Body = &c.body
	} else {
		c.body.done = true
		c.body.c = nil
	}
	c.w.reset(c, r.Method == "HEAD")

	if info.asterisk {
		// OPTIONS *: the server itself answers (RFC 9110 §9.3.7).
		c.w.Send(http.StatusOK, nil)
	} else {
		if info.upgradeH2C && info.hasH2Set && info.upgrade && info.h2Settings && !c.isTLS && s.h2 != nil {
			c.setReadDeadline(time.Time{})
			if s.h2.upgrade(c.nc, c.br, r) {
				c.handOver()
				return false
			}
		}
		c.runHandler()
		c.stopWatch()
		if c.hijacked {
			return false
		}
	}
	if r.Close {
		c.closeAfter = true
	}
	if r.Body != NoBody && c.body.err != nil && c.w.untouched() {
		// The body failed and the handler had no answer (pyroute writes
		// nothing then): the front answers, and the connection closes.
		c.closeAfter = true
		switch err := c.body.err; {
		case errors.Is(err, ErrBadFraming):
			WriteError(&c.w, http.StatusBadRequest, ErrorMessage(err))
		case errors.Is(err, ErrBodyTooLarge):
			WriteError(&c.w, http.StatusRequestEntityTooLarge, MsgBodyTooLarge)
		case isDeadlineErr(err):
			WriteError(&c.w, http.StatusRequestTimeout, "request body timeout")
		default:
			return false // the client is gone
		}
	}
	if r.Body != NoBody {
		ok, err := c.body.drain()
		if !ok {
			c.closeAfter = true
			if errors.Is(err, ErrBadFraming) && !c.body.startedByHandler() && !c.w.sent {
				// The handler ignored a body that turns out malformed.
				c.w.reset(c, false)
				c.closeAfter = true
				WriteError(&c.w, http.StatusBadRequest, ErrorMessage(err))
			}
		}
	}
	if err := c.w.finish(); err != nil {
		return false
	}
	if c.closeAfter {
		if c.body.c != nil && !c.body.done || c.br.Buffered() > 0 {
			// Unread input (a body, pipelined requests): a plain close
			// could reset the connection before the client reads this.
			c.lingerClose()
		}
		return false
	}
	return true
}

// runHandler calls the handler, turning a panic into a 500 (when nothing
// was sent) and a closed connection.
func (c *conn) runHandler() {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		c.closeAfter = true
		if p == http.ErrAbortHandler {
			c.w.hijacked = true // cut the response
			return
		}
		r := &c.req
		logger.Printf("handler panic for %s %s: %v\n%s", r.Method, r.Path, p, debug.Stack())
		if !c.w.sent {
			c.w.reset(c, r.Method == "HEAD")
			WriteError(&c.w, http.StatusInternalServerError, MsgInternal)
			return
		}
		c.w.hijacked = true // mid-stream: cut the stream
	}()
	c.s.h.Serve(&c.w, &c.req)
}

// startedByHandler reports whether the handler read the body (drain
// marks its own reads apart).
func (b *bodyReader) startedByHandler() bool { return b.started && !b.drained }

// readHead reads the next request head into c.head: the leading empty
// lines dropped, up to and including the empty line that ends it. A
// parse error is the rejection to answer; err ends the connection
// without an answer.
func (c *conn) readHead() (*parseError, error) {
	cfg := &c.s.cfg
	c.head = c.head[:0]
	max := cfg.MaxHeaderBytes
	skipped := 0
	for {
		pk, err := c.br.Peek(2)
		if len(pk) == 2 && pk[0] == '\r' && pk[1] == '\n' {
			c.br.Discard(2)
			skipped += 2
			if skipped > max {
				return errHeaderTooLarge, nil
			}
			continue
		}
		if err != nil && len(pk) < 2 {
			if isDeadlineErr(err) && len(pk) > 0 {
				return c.timeout()
			}
			return nil, err
		}
		break
	}
	lineStart, lines := 0, 0
	for {
		frag, err := c.br.ReadSlice('\n')
		if len(c.head)+len(frag) > max || lineStart == 0 && len(c.head)+len(frag) > cfg.MaxTargetBytes+maxMethodAndVersion {
			c.head = append(c.head, frag...)
			if lineStart == 0 {
				return requestLineTooLong(c.head, cfg), nil
			}
			return errHeaderTooLarge, nil
		}
		c.head = append(c.head, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if isDeadlineErr(err) {
				return c.timeout()
			}
			return nil, err
		}
		line := c.head[lineStart:]
		if len(line) < 2 || line[len(line)-2] != '\r' || bytes.IndexByte(line[:len(line)-2], '\r') >= 0 {
			return errBadLineEnd, nil // a bare LF, or a bare CR
		}
		if len(line) == 2 {
			return nil, nil
		}
		lines++
		if lines > cfg.MaxHeaderFields+1 {
			return errTooManyFields, nil
		}
		lineStart = len(c.head)
	}
}

// maxMethodAndVersion is the room a request line has besides its target
// before it counts as too long.
const maxMethodAndVersion = 256

// requestLineTooLong is the rejection of a request line that outgrew its
// bound: 414 when the target is what is long, else 431.
func requestLineTooLong(line []byte, cfg *Config) *parseError {
	for i, b := range line {
		if b == ' ' {
			if len(line)-i-1 > cfg.MaxTargetBytes {
				return errTargetTooLong
			}
			return errHeaderTooLarge
		}
		if !tcharByte(b) {
			return errBadMethod
		}
		if i > maxMethodAndVersion {
			break
		}
	}
	return errBadMethod
}

// timeout answers a request whose head did not come in time: 408 when
// some of it came.
func (c *conn) timeout() (*parseError, error) {
	return errTimeout, nil
}

func isDeadlineErr(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// reject answers a request the parser refused, and the connection closes.
func (c *conn) reject(e *parseError) {
	c.closeAfter = true
	if e.status == 0 { // not HTTP: nothing to answer
		c.lingerClose()
		return
	}
	c.w.reset(c, false)
	WriteError(&c.w, e.status, e.msg)
	c.w.finish()
	c.lingerClose()
}

// lingerClose shuts the sending side and reads (and drops) what the
// client still sends for a moment, so that the close does not reset the
// connection before the client has read the response.
func (c *conn) lingerClose() {
	type closeWriter interface{ CloseWrite() error }
	if cw, ok := c.nc.(closeWriter); ok {
		cw.CloseWrite()
	}
	c.setReadDeadline(time.Now().Add(lingerTime))
	io.CopyN(io.Discard, c.nc, maxDrain)
}

const lingerTime = 500 * time.Millisecond

// preface serves a connection that opened with the HTTP/2 preface's
// request line: the rest of the preface must follow.
func (c *conn) preface() bool {
	if c.s.h2 == nil || c.nreq > 0 {
		c.reject(errH2Preface)
		return false
	}
	pk, err := c.br.Peek(6)
	if err != nil || string(pk) != "SM\r\n\r\n" || c.s.h2 == nil || c.nreq > 0 {
		if err == nil || len(pk) > 0 {
			c.reject(errH2Preface)
		}
		return false
	}
	c.br.Discard(6)
	if !c.s.setState(c, stateH2) {
		return false
	}
	rest, _ := c.br.Peek(c.br.Buffered())
	pre := make([]byte, 0, len(h2ClientPreface)+len(rest))
	pre = append(append(pre, h2ClientPreface...), rest...)
	c.handOver()
	c.s.h2.serveConn(c.nc, pre)
	return false
}

// write100 sends the interim 100 Continue.
func (c *conn) write100() error {
	c.armWrite(time.Now(), c.s.cfg.WriteTimeout)
	_, err := io.WriteString(c.nc, "HTTP/1.1 100 Continue\r\n\r\n")
	if err != nil {
		c.closeAfter = true
	}
	return err
}
