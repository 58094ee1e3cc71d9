package server

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// h1Writer is the ResponseWriter of the HTTP/1.1 front, one per
// connection, reused. A response is buffered whole (head and body in one
// buffer) and written with one write when the handler returns; a large
// Send is written with writev, head and body, without a copy; a body
// that outgrows the buffer, or a Flush, makes the response streamed
// (chunked on HTTP/1.1, delimited by the close on HTTP/1.0). A body sent
// with ReadFrom keeps the handler's Content-Length instead, unchunked
// (http1_sendfile.go).
type h1Writer struct {
	c         *conn
	header    Header
	status    int
	head      bool // HEAD request: no body goes out
	buf       []byte
	sent      bool // the status line went out
	streaming bool
	chunked   bool
	done      bool // the response is complete (Send or finish)
	hijacked  bool
	err       error // a write failed: the connection is closed after
	handlerCL string
	now       time.Time // when the head was made: the write deadline starts there
	bufs      net.Buffers
	bufsArr   [2][]byte
	sized     bool  // streamed with the handler's Content-Length (ReadFrom), not chunked
	pending   bool  // sized: the head, in c.wbuf, is not written yet
	left      int64 // sized: the body bytes still due
}

var errWriteAfterEnd = errors.New("databridge: write after the response was sent whole")

// maxH1Buffer is how much body the writer keeps before it streams;
// copyBelow the size up to which a body is copied next to the head and
// sent in one write. Larger ones go by writev from where they are: the
// copy would grow the connection's buffers past maxIdleBuffer, which are
// dropped between requests, so every response reallocated them (measured
// on a fixed 10 KB route, pinned: 45k req/s copied, 118k by writev; from
// about 1 KB up writev was as fast or faster).
const (
	maxH1Buffer = 64 << 10
	copyBelow   = 1 << 10
)

func (w *h1Writer) reset(c *conn, head bool) {
	w.c = c
	w.header.Reset()
	w.status = 0
	w.head = head
	if cap(w.buf) > 2*maxH1Buffer {
		w.buf = nil
	}
	w.buf = w.buf[:0]
	w.sent, w.streaming, w.chunked, w.done, w.hijacked = false, false, false, false, false
	w.sized, w.pending, w.left = false, false, 0
	w.err = nil
	w.handlerCL = ""
	w.now = time.Time{}
}

func (w *h1Writer) Header() *Header { return &w.header }

// untouched reports whether the handler wrote nothing: no status, no body.
func (w *h1Writer) untouched() bool {
	return w.status == 0 && !w.sent && !w.done && len(w.buf) == 0
}

func (w *h1Writer) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// beginBody checks that a body may still be written (not hijacked, not
// ended) and makes the status 200 when the handler set none.
func (w *h1Writer) beginBody() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if w.done {
		return errWriteAfterEnd
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return nil
}

func (w *h1Writer) Write(p []byte) (int, error) {
	if err := w.beginBody(); err != nil {
		return 0, err
	}
	if w.streaming {
		if w.head || !bodyAllowed(w.status) {
			return len(p), nil
		}
		b, err := w.clip(p)
		w.buf = append(w.buf, b...)
		if len(w.buf) >= copyBelow {
			if err := w.flushChunk(); err != nil {
				return 0, err
			}
		}
		return len(b), err
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) > maxH1Buffer {
		if err := w.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (w *h1Writer) Flush() error {
	if w.done || w.hijacked {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	if !w.sent {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		if !statusValid(w.status) { // streamed: the body cannot be replaced
			logger.Printf("handler answered status %d, which cannot be a final response", w.status)
			w.status = http.StatusInternalServerError
		}
		w.streaming = true
		body := w.buf
		hb := w.c.wbuf[:0]
		if w.head || !bodyAllowed(w.status) {
			hb = w.appendHead(hb, -2)
			body = nil
		} else if w.c.req.ProtoMinor >= 1 {
			w.chunked = true
			hb = w.appendHead(hb, -1)
			if len(body) > 0 {
				hb = appendChunkHeader(hb, len(body))
				hb = append(hb, body...)
				hb = append(hb, '\r', '\n')
			}
		} else {
			w.c.closeAfter = true
			hb = w.appendHead(hb, -1)
			hb = append(hb, body...)
		}
		w.c.wbuf = hb
		w.buf = w.buf[:0]
		w.sent = true
		if err := w.write(hb); err != nil {
			return err
		}
		w.c.startWatch()
		return nil
	}
	return w.flushChunk()
}

// flushChunk sends the buffered body of a streamed response (after the
// head, when it is still pending).
func (w *h1Writer) flushChunk() error {
	if w.pending {
		return w.flushHead()
	}
	if len(w.buf) == 0 || w.err != nil {
		return w.err
	}
	if w.head || !bodyAllowed(w.status) {
		w.buf = w.buf[:0]
		return nil
	}
	var err error
	if w.chunked {
		hb := appendChunkHeader(w.c.wbuf[:0], len(w.buf))
		w.c.wbuf = hb
		w.buf = append(w.buf, '\r', '\n')
		err = w.writev(hb, w.buf)
	} else {
		err = w.write(w.buf)
	}
	w.buf = w.buf[:0]
	return err
}

func appendChunkHeader(b []byte, n int) []byte {
	b = strconv.AppendInt(b, int64(n), 16)
	return append(b, '\r', '\n')
}

func (w *h1Writer) Send(status int, body []byte) error {
	if w.sent || w.done || w.hijacked {
		return nil
	}
	w.status = status
	if !statusValid(status) {
		w.invalidStatus()
		body = w.buf
	}
	w.done = true
	if len(body) <= copyBelow || w.head || !bodyAllowed(w.status) {
		if !sameSlice(body, w.buf) {
			w.buf = append(w.buf[:0], body...)
		}
		return nil // written by finish, after the body was drained
	}
	// A large body: the head and the body in one writev, no copy.
	w.sent = true
	hb := w.appendHead(w.c.wbuf[:0], int64(len(body)))
	w.c.wbuf = hb
	w.buf = w.buf[:0]
	return w.writev(hb, body)
}

func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// finish ends the response after the handler returned: it sends the
// buffered response, or the last chunk of a streamed one.
func (w *h1Writer) finish() error {
	if w.hijacked {
		return nil
	}
	w.done = true
	if w.sent {
		if w.streaming {
			if err := w.flushChunk(); err != nil {
				return err
			}
			if w.chunked {
				return w.write(append(w.c.wbuf[:0], "0\r\n\r\n"...))
			}
			if w.sized && w.left > 0 {
				return w.short()
			}
		}
		return w.err
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !statusValid(w.status) {
		w.invalidStatus()
	}
	w.sent = true
	body := w.buf
	if w.head || !bodyAllowed(w.status) {
		body = nil
	}
	hb := w.appendHead(w.c.wbuf[:0], int64(len(w.buf)))
	if len(body) <= copyBelow {
		hb = append(hb, body...)
		w.c.wbuf = hb
		return w.write(hb)
	}
	w.c.wbuf = hb
	return w.writev(hb, body)
}

// invalidStatus replaces a response whose status cannot be final by a 500.
func (w *h1Writer) invalidStatus() {
	logger.Printf("handler answered status %d, which cannot be a final response", w.status)
	w.header.Reset()
	w.header.Add("content-type", "application/json")
	w.status = http.StatusInternalServerError
	w.buf = append(w.buf[:0], ErrorBody(MsgInternal)...)
}

// appendHead appends the status line and header section. length is the
// body's length; -1: streamed (Transfer-Encoding: chunked on HTTP/1.1);
// -2: no body and no length.
func (w *h1Writer) appendHead(b []byte, length int64) []byte {
	status := w.status
	b = appendStatusLine(b, status)
	w.now = time.Now()
	if !w.hasDate() {
		b = append(b, "Date: "...)
		b = appendDate(b, w.now)
		b = append(b, '\r', '\n')
	}
	handlerLength := ""
	saidClose := false // the handler's Connection field has close
	for _, f := range w.header.fields {
		switch len(f.Name) {
		case 14:
			if eqFoldString(f.Name, "content-length") {
				handlerLength = f.Value
				continue
			}
		case 17:
			if eqFoldString(f.Name, "transfer-encoding") {
				continue
			}
		case 10:
			if eqFoldString(f.Name, "connection") {
				forListString(f.Value, func(el string) {
					if eqFoldString(el, "close") {
						w.c.closeAfter = true
						saidClose = true
					}
				})
			}
		}
		if !validFieldName(f.Name) {
			logger.Printf("response header field name %q is invalid: dropped", f.Name)
			continue
		}
		b = append(b, f.Name...)
		b = append(b, ':', ' ')
		b = appendFieldValue(b, f.Value)
		b = append(b, '\r', '\n')
	}
	if bodyAllowed(status) {
		switch {
		case length == -2:
		case length == -1:
			if w.c.req.ProtoMinor >= 1 {
				b = append(b, "Transfer-Encoding: chunked\r\n"...)
			}
		case w.head && length == 0 && isDigits(handlerLength):
			b = append(b, "Content-Length: "...)
			b = append(b, handlerLength...)
			b = append(b, '\r', '\n')
		default:
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, length, 10)
			b = append(b, '\r', '\n')
		}
	}
	c := w.c
	if !c.closeAfter && c.s.isStopping() {
		c.closeAfter = true
	}
	switch {
	case saidClose:
	case c.closeAfter:
		b = append(b, "Connection: close\r\n"...)
	case c.req.ProtoMinor == 0:
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	return append(b, '\r', '\n')
}

// hasDate reports whether the handler set its own Date field.
func (w *h1Writer) hasDate() bool {
	for i := range w.header.fields {
		if n := w.header.fields[i].Name; len(n) == 4 && eqFoldString(n, "date") {
			return true
		}
	}
	return false
}

// validFieldName reports whether s is a token.
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if chars[s[i]]&cTchar == 0 {
			return false
		}
	}
	return true
}

// appendFieldValue appends v with CR, LF and NUL replaced by spaces (as
// net/http does), so that a value cannot split the header section.
func appendFieldValue(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			return appendFieldValueSlow(b, v)
		}
	}
	return append(b, v...)
}

func appendFieldValueSlow(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' || c == 0 {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// statusLines holds the status lines of the usual statuses.
var statusLines [600][]byte

func init() {
	for code := 100; code < 600; code++ {
		if text := http.StatusText(code); text != "" {
			statusLines[code] = []byte("HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n")
		}
	}
}

func appendStatusLine(b []byte, status int) []byte {
	if status >= 100 && status < 600 && statusLines[status] != nil {
		return append(b, statusLines[status]...)
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	return append(b, ' ', '\r', '\n')
}

// write writes b under the write timeout.
func (w *h1Writer) write(b []byte) error {
	if w.err != nil {
		return w.err
	}
	c := w.c
	c.armWrite(w.deadlineNow(), c.s.cfg.WriteTimeout)
	if _, err := c.nc.Write(b); err != nil {
		w.err = err
		c.closeAfter = true
		return err
	}
	return nil
}

// deadlineNow is the head's time for the write that follows it, else now.
func (w *h1Writer) deadlineNow() time.Time {
	if t := w.now; !t.IsZero() {
		w.now = time.Time{}
		return t
	}
	return time.Now()
}

// writev writes a and b in one writev under the write timeout.
func (w *h1Writer) writev(a, b []byte) error {
	if w.err != nil {
		return w.err
	}
	c := w.c
	c.armWrite(w.deadlineNow(), c.s.cfg.WriteTimeout)
	w.bufsArr[0], w.bufsArr[1] = a, b
	w.bufs = w.bufsArr[:2]
	_, err := w.bufs.WriteTo(c.nc)
	w.bufsArr[0], w.bufsArr[1] = nil, nil
	if err != nil {
		w.err = err
		c.closeAfter = true
	}
	return err
}

// Hijack hands the connection over: the front neither reads nor writes
// it again.
func (w *h1Writer) Hijack() (net.Conn, *bufio.Reader, error) {
	if w.sent {
		return nil, nil, errors.New("databridge: Hijack after the response was sent")
	}
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	w.hijacked = true
	c := w.c
	c.hijacked = true
	c.clearDeadlines()
	return c.nc, c.br, nil
}
