package server

import (
	"net/http"
	"net/textproto"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// FromNetHTTP serves h behind net/http: the HTTP/2 front (and any other
// net/http server) turns each *http.Request into the engine's Request and
// answers through an http.ResponseWriter. maxBody bounds request bodies.
func FromNetHTTP(h Handler, maxBody int64) http.Handler {
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	return &netHTTP{h: h, maxBody: maxBody}
}

type netHTTP struct {
	h       Handler
	maxBody int64
}

// netExchange is the pooled state of one request through net/http.
type netExchange struct {
	req Request
	w   netWriter
}

var netPool = sync.Pool{New: func() any { return new(netExchange) }}

func (n *netHTTP) ServeHTTP(hw http.ResponseWriter, hr *http.Request) {
	x := netPool.Get().(*netExchange)
	defer func() {
		x.req = Request{Header: x.req.Header, PathValues: x.req.PathValues[:0]}
		x.req.Header.Reset()
		x.w.reset()
		netPool.Put(x)
	}()
	r := &x.req
	fillFromNetHTTP(r, hr, n.maxBody)
	w := &x.w
	w.hw, w.head = hw, hr.Method == http.MethodHead
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			logger.Printf("handler panic for %s %s: %v\n%s", r.Method, r.Path, p, debug.Stack())
			if !w.sent {
				w.header.Reset()
				w.buf = w.buf[:0]
				WriteError(w, http.StatusInternalServerError, MsgInternal)
				return
			}
			panic(http.ErrAbortHandler) // mid-stream: cut the stream
		}
		w.finish()
	}()
	n.h.Serve(w, r)
}

// fillFromNetHTTP makes r the engine's view of hr: header names
// lower-cased with host first (net/http keeps it out of the map), then in
// sorted order (a map has no order).
func fillFromNetHTTP(r *Request, hr *http.Request, maxBody int64) {
	r.Method = hr.Method
	r.Target = hr.RequestURI
	r.Path = hr.URL.Path
	r.RawPath = hr.URL.EscapedPath()
	r.RawQuery = hr.URL.RawQuery
	r.ProtoMajor, r.ProtoMinor = hr.ProtoMajor, hr.ProtoMinor
	r.Host = hr.Host
	r.ContentLength = hr.ContentLength
	r.BodyLimit = maxBody
	if hr.Body == nil || hr.Body == http.NoBody {
		r.Body = NoBody
	} else {
		r.Body = &limitedBody{r: hr.Body, left: maxBody}
	}
	r.RemoteAddr = hr.RemoteAddr
	if a, ok := hr.Context().Value(http.LocalAddrContextKey).(interface{ String() string }); ok {
		r.LocalAddr = a.String()
	}
	r.TLS = hr.TLS
	r.Close = hr.Close
	r.ctx = hr.Context()
	if hr.Host != "" {
		r.Header.Add("host", hr.Host)
	}
	names := make([]string, 0, len(hr.Header))
	for name := range hr.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		lower := strings.ToLower(name)
		for _, v := range hr.Header[name] {
			r.Header.Add(lower, v)
		}
	}
	if len(hr.TransferEncoding) > 0 && hr.Header["Transfer-Encoding"] == nil {
		r.Header.Add("transfer-encoding", strings.Join(hr.TransferEncoding, ", "))
	}
}

// limitedBody fails with ErrBodyTooLarge once more than left bytes came.
type limitedBody struct {
	r interface {
		Read([]byte) (int, error)
	}
	left int64
	read int64
}

// setLimit changes the body's limit (SetBodyLimit).
func (b *limitedBody) setLimit(n int64) { b.left = n - b.read }

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	b.read += int64(n)
	if b.left < 0 {
		return n, ErrBodyTooLarge
	}
	return n, err
}

// netWriter is a ResponseWriter on an http.ResponseWriter.
type netWriter struct {
	hw        http.ResponseWriter
	head      bool
	header    Header
	status    int
	buf       []byte
	sent      bool // the status went out
	streaming bool
}

// maxNetBuffer is how much body the writer keeps before it streams.
const maxNetBuffer = 64 << 10

func (w *netWriter) reset() {
	w.hw = nil
	w.header.Reset()
	w.status = 0
	if cap(w.buf) > maxNetBuffer {
		w.buf = nil
	}
	w.buf = w.buf[:0]
	w.sent, w.streaming = false, false
}

func (w *netWriter) Header() *Header { return &w.header }

func (w *netWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *netWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.streaming {
		if w.head || !bodyAllowed(w.status) {
			return len(p), nil
		}
		return w.hw.Write(p)
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) > maxNetBuffer {
		if err := w.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (w *netWriter) Flush() error {
	if !w.sent {
		w.streaming = true
		w.sendHead(-1)
	}
	if len(w.buf) > 0 {
		if !w.head && bodyAllowed(w.status) {
			if _, err := w.hw.Write(w.buf); err != nil {
				return err
			}
		}
		w.buf = w.buf[:0]
	}
	if f, ok := w.hw.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

func (w *netWriter) Send(status int, body []byte) error {
	if w.sent {
		return nil
	}
	w.status = status
	if !statusValid(status) {
		w.invalidStatus()
		body = w.buf
	}
	w.sendHead(int64(len(body)))
	if w.head || !bodyAllowed(w.status) || len(body) == 0 {
		return nil
	}
	_, err := w.hw.Write(body)
	return err
}

// finish ends the response after the handler returned.
func (w *netWriter) finish() {
	if w.sent {
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !statusValid(w.status) {
		w.invalidStatus()
	}
	w.sendHead(int64(len(w.buf)))
	if !w.head && bodyAllowed(w.status) && len(w.buf) > 0 {
		w.hw.Write(w.buf)
	}
}

// invalidStatus replaces a response whose status cannot be final by a 500.
func (w *netWriter) invalidStatus() {
	logger.Printf("handler answered status %d, which cannot be a final response", w.status)
	w.header.Reset()
	w.header.Add("content-type", "application/json")
	w.status = http.StatusInternalServerError
	w.buf = append(w.buf[:0], ErrorBody(MsgInternal)...)
}

// sendHead writes the status and header; length < 0 means streamed.
func (w *netWriter) sendHead(length int64) {
	w.sent = true
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	if !statusValid(status) { // streamed: the body cannot be replaced
		logger.Printf("handler answered status %d, which cannot be a final response", status)
		status, w.status = http.StatusInternalServerError, http.StatusInternalServerError
	}
	h := w.hw.Header()
	hasType := false
	handlerLength := ""
	for _, f := range w.header.fields {
		name := textproto.CanonicalMIMEHeaderKey(f.Name)
		switch name {
		case "Content-Length":
			handlerLength = f.Value
			continue
		case "Transfer-Encoding":
			continue
		case "Content-Type":
			hasType = true
		}
		h[name] = append(h[name], f.Value)
	}
	if !hasType {
		h["Content-Type"] = nil // net/http must not sniff one
	}
	if bodyAllowed(status) {
		switch {
		case w.head && length == 0 && isDigits(handlerLength):
			h["Content-Length"] = []string{handlerLength}
		case length >= 0:
			h["Content-Length"] = []string{strconv.FormatInt(length, 10)}
		}
	}
	w.hw.WriteHeader(status)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
