package server

import (
	"context"
	"crypto/tls"
	"io"
)

// Request is the engine's one view of an HTTP request. Both fronts fill it
// (the HTTP/1.1 front from the bytes it parsed, the HTTP/2 front from
// net/http's request), and everything after them reads only this: routing,
// validation, the request dict handed to Python, native middleware.
//
// Strings in a Request may point into the connection's read buffer: they
// are valid until the handler returns. A handler that keeps any of them
// (or the Request) past that must copy it, as with fasthttp.
type Request struct {
	// Method is the request method as sent (a token; case-sensitive).
	Method string
	// Target is the request-target as sent: "/a%20b?x=1", "*", an
	// absolute-form URI, or an authority for CONNECT.
	Target string
	// Path is the percent-decoded path, what routes match: "/a b".
	Path string
	// RawPath is the path as sent, still escaped, without the query.
	RawPath string
	// RawQuery is the query as sent, without the "?".
	RawQuery string
	// ProtoMajor and ProtoMinor are the HTTP version: 1.0, 1.1 or 2.0.
	ProtoMajor, ProtoMinor int
	// Host is the Host header (HTTP/1.1) or :authority (HTTP/2); empty
	// for an HTTP/1.0 request without one.
	Host string
	// Header holds the header fields in arrival order with lower-case
	// names, Host included (a pseudo-header's :authority becomes "host").
	Header Header
	// ContentLength is the body length, or -1 when it is not known in
	// advance (chunked, or HTTP/2 without content-length).
	ContentLength int64
	// Body reads the body (never nil: NoBody when there is none). It
	// fails with ErrBodyTooLarge past Config.MaxBodyBytes and with an
	// error wrapping ErrBadFraming for a malformed chunked body.
	Body io.Reader
	// RemoteAddr and LocalAddr are "ip:port".
	RemoteAddr, LocalAddr string
	// TLS is the connection state of a TLS connection, else nil.
	TLS *tls.ConnectionState
	// Close is set when the connection will be closed after this
	// response (the client asked, or the server decided).
	Close bool
	// BodyLimit is the server's Config.MaxBodyBytes; Body enforces it.
	BodyLimit int64

	// PathValues holds the raw values of the matched route's parameters,
	// in order; the router sets it before calling the route's handler.
	PathValues []string

	// ForwardedScheme, when set (by the proxy-headers middleware), is the
	// scheme the client used in front of a trusted proxy; Scheme returns it.
	ForwardedScheme string

	ctx context.Context
}

// Context is canceled when the connection closes or the server stops.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// WithContext sets the request's context (for middleware and fronts).
func (r *Request) WithContext(ctx context.Context) { r.ctx = ctx }

// Scheme is "https" on a TLS connection, else "http".
func (r *Request) Scheme() string {
	if r.ForwardedScheme != "" {
		return r.ForwardedScheme
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// Proto is "HTTP/1.0", "HTTP/1.1" or "HTTP/2.0".
func (r *Request) Proto() string {
	switch {
	case r.ProtoMajor == 2:
		return "HTTP/2.0"
	case r.ProtoMinor == 0:
		return "HTTP/1.0"
	default:
		return "HTTP/1.1"
	}
}

// SetBodyLimit replaces the body limit of r, before its body is read: a
// route with a limit of its own (larger or smaller than the server's)
// sets it. Body then enforces n.
func SetBodyLimit(r *Request, n int64) {
	r.BodyLimit = n
	if l, ok := r.Body.(interface{ setLimit(int64) }); ok {
		l.setLimit(n)
	}
}

// NoBody is the Body of a request without one.
var NoBody io.Reader = noBody{}

type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }

// ReadBody reads the whole body of r into buf (reusing its capacity) and
// returns it. Reading fails with ErrBodyTooLarge when the body is longer
// than max (a Content-Length over max fails before anything is read).
func ReadBody(r *Request, max int64, buf []byte) ([]byte, error) {
	buf = buf[:0]
	if r.Body == nil || r.Body == NoBody || r.ContentLength == 0 {
		return buf, nil
	}
	if r.ContentLength > max {
		return buf, ErrBodyTooLarge
	}
	if n := r.ContentLength; n > 0 && int64(cap(buf)) < n+1 {
		// +1 so that the read which sees io.EOF needs no growth.
		buf = make([]byte, 0, n+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // let append pick the growth
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return buf, ErrBodyTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
