package server

import (
	"bufio"
	"io"
	"net"
)

// Handler answers one request. Both fronts call it on the connection's
// goroutine; many may run at once. When Serve returns, the response is
// complete: the writer sends whatever is buffered, framed (see
// ResponseWriter). A panic is logged and answered with a 500 when nothing
// was sent yet; the connection is then closed.
type Handler interface {
	Serve(w ResponseWriter, r *Request)
}

// HandlerFunc is a function used as a Handler.
type HandlerFunc func(w ResponseWriter, r *Request)

// Serve calls f(w, r).
func (f HandlerFunc) Serve(w ResponseWriter, r *Request) { f(w, r) }

// Middleware wraps a Handler: native middleware (CORS, compression,
// metrics, ...) are Middleware, in the style of chi and net/http.
type Middleware func(Handler) Handler

// Chain is a list of middleware applied outermost first:
// Chain{a, b}.Then(h) serves a(b(h)).
type Chain []Middleware

// Then returns h wrapped by the chain.
func (c Chain) Then(h Handler) Handler {
	for i := len(c) - 1; i >= 0; i-- {
		h = c[i](h)
	}
	return h
}

// ThenFunc is Then for a HandlerFunc.
func (c Chain) ThenFunc(f HandlerFunc) Handler { return c.Then(f) }

// ResponseWriter sends one response. Header fields are set through Header
// before WriteHeader (or the first Write/Send).
//
// Framing is the engine's: a handler's Content-Length and
// Transfer-Encoding fields are replaced. A response whose body is written
// completely before the handler returns (or with Send) is sent with a
// Content-Length, in one write when it fits the buffer; one that is
// flushed before it ends is streamed (chunked on HTTP/1.1, DATA frames on
// HTTP/2). HEAD responses and 1xx/204/304 statuses have no body: what is
// written is dropped, while a HEAD keeps the Content-Length of the body
// that a GET would have sent.
type ResponseWriter interface {
	// Header is the response header, to change before the status is sent.
	Header() *Header
	// WriteHeader sets the status (100-599; a 1xx other than 100/103
	// cannot be a final response and becomes a 500). It is sent with the
	// first Write that overflows the buffer, Flush, or the end.
	WriteHeader(status int)
	// Write appends body bytes; they are buffered.
	Write(p []byte) (int, error)
	// Flush sends the status, header and buffered body now and makes the
	// response streamed.
	Flush() error
	// Send writes the whole response: status, Header and body, framed
	// with Content-Length. It must be the only body write. body is not
	// retained after Send returns; a large body is written without a copy.
	Send(status int, body []byte) error
}

// Hijacker is implemented by HTTP/1.1 response writers whose connection
// can be handed over (WebSockets, h2c upgrade). After Hijack the engine
// neither reads nor writes the connection; the buffered reader holds bytes
// the client already sent past the request head.
type Hijacker interface {
	Hijack() (net.Conn, *bufio.Reader, error)
}

// statusValid reports whether a handler may send status as the final
// response.
func statusValid(status int) bool { return status >= 200 && status <= 599 }

// bodyAllowed reports whether a response with this status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != 204 && status != 304
}

// HijackerOf finds the Hijacker under w, looking through the writers of
// middleware that wrap another one and say so with an Unwrap method (as
// net/http's ResponseController does), so that a WebSocket upgrade works
// behind compression, the access log or the Python response hook.
func HijackerOf(w ResponseWriter) (Hijacker, bool) {
	for range 32 { // a chain of wrappers, not a cycle
		if hj, ok := w.(Hijacker); ok {
			return hj, true
		}
		u, ok := w.(interface{ Unwrap() ResponseWriter })
		if !ok {
			return nil, false
		}
		w = u.Unwrap()
	}
	return nil, false
}

// ReaderFromOf returns w's ReadFrom when w and every writer it wraps
// (through Unwrap, as HijackerOf looks) have one: a wrapper's ReadFrom
// only pays (sendfile on the HTTP/1.1 front, the handler's Content-Length
// kept) when the writer under it has one too; over one without (HTTP/2,
// compression) it would just copy through Write. Package files sends
// large bodies with it, and reads them whole for Send otherwise.
func ReaderFromOf(w ResponseWriter) (io.ReaderFrom, bool) {
	rf, ok := w.(io.ReaderFrom)
	for range 32 { // a chain of wrappers, not a cycle
		if !ok {
			return nil, false
		}
		u, wraps := w.(interface{ Unwrap() ResponseWriter })
		if !wraps {
			return rf, true
		}
		w = u.Unwrap()
		_, ok = w.(io.ReaderFrom)
	}
	return nil, false
}

// CopyBody sends r as w's body: by w's ReadFrom when it has one, else
// copied through Write. A wrapper's ReadFrom passes r on with it (io.Copy
// would prefer r's WriteTo, which goes through Write).
func CopyBody(w ResponseWriter, r io.Reader) (int64, error) {
	if rf, ok := w.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w, r)
}
