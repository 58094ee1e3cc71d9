// Package wsroute serves WebSocket routes: the upgrade check, the handshake
// and the protocol (gorilla/websocket over the hijacked HTTP/1.1
// connection), and the hand-off of messages to and from a Python endpoint.
//
// One session per connection. The connection's goroutine validates the
// upgrade, hijacks the connection and calls the Python endpoint through the
// normal call path (Route.Call blocks until the endpoint returns). Python
// drives the session through a handle (runtime/cgo.Handle of the Session):
//
//	accept  -> Accept: the connection goroutine writes the 101 (the future
//	           resolves when it is written)
//	receive -> Receive: a buffered message at once, else a future that the
//	           reader goroutine resolves (Deliver) with the next message
//	send    -> Send: queued for the writer goroutine at once while the send
//	           queue has room, else a future resolved when it has
//	close   -> Close: a close frame queued after the messages before it
//
// Backpressure: the reader stops reading frames while RecvQueue messages
// wait for Python; Python's send waits while SendQueue frames wait for the
// writer. Nothing here blocks the GIL thread: every method called with the
// GIL takes one mutex and returns.
package wsroute

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/wire"
)

// Options are a route's limits and timeouts.
type Options struct {
	MaxMessage   int64         // bytes of one message (after inflating); past it: close 1009
	SendQueue    int           // frames queued for the writer before send waits
	RecvQueue    int           // messages read ahead of Python before the reader stops
	PingInterval time.Duration // a ping every interval (0: none)
	IdleTimeout  time.Duration // nothing read for this long (pongs included): close (0: none)
	Compression  bool          // negotiate permessage-deflate
}

// Defaults: what a route gets for the zero Options fields.
var Defaults = Options{
	MaxMessage: 16 << 20, SendQueue: 64, RecvQueue: 64,
	PingInterval: 20 * time.Second, IdleTimeout: 60 * time.Second, Compression: true,
}

func (o Options) withDefaults() Options {
	if o.MaxMessage <= 0 {
		o.MaxMessage = Defaults.MaxMessage
	}
	if o.SendQueue <= 0 {
		o.SendQueue = Defaults.SendQueue
	}
	if o.RecvQueue <= 0 {
		o.RecvQueue = Defaults.RecvQueue
	}
	return o
}

// Message kinds, as Python sees them in (kind, data) tuples.
const (
	KindText       = 0
	KindBytes      = 1
	KindDisconnect = 2 // (2, code, reason)
)

// Send results (Session.Send): queued, or the queue is full (a future was
// registered when one was given). Any other value is the close code of a
// session that can no longer send.
const (
	SendQueued = 0
	SendFull   = -1
)

// closeTimeout bounds the wait for the peer's close frame once ours is sent.
const closeTimeout = 2 * time.Second

// Route is a server.Handler for one WebSocket path.
type Route struct {
	// Call runs the Python endpoint with the wire-encoded session payload
	// and blocks until it returns.
	Call func(payload []byte)
	// Deliver resolves a Python future (owned from now on) with a
	// wire-encoded list.
	Deliver func(future pybridge.Object, value []byte) error
	// NewHandle and DeleteHandle name a session to Python.
	NewHandle    func(s *Session) int64
	DeleteHandle func(h int64)
	Opts         Options
	upgrader     websocket.Upgrader
}

// New returns a Route with its options completed.
func New(call func([]byte), deliver func(pybridge.Object, []byte) error, opts Options) *Route {
	opts = opts.withDefaults()
	rt := &Route{Call: call, Deliver: deliver, Opts: opts}
	rt.upgrader = websocket.Upgrader{
		ReadBufferSize: 4096, WriteBufferSize: 4096,
		EnableCompression: opts.Compression,
		CheckOrigin:       func(*http.Request) bool { return true }, // as Starlette: the app decides
		Error:             func(w http.ResponseWriter, r *http.Request, status int, reason error) {},
	}
	return rt
}

// Check validates an upgrade request: 0 when it is one, else the status to
// answer (400 or 426) and why.
func Check(r *server.Request) (int, string) {
	if !tokenIn(r.Header.Values("upgrade"), "websocket") {
		return http.StatusUpgradeRequired, "this route expects a WebSocket upgrade (Upgrade: websocket)"
	}
	if r.Method != http.MethodGet || r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return http.StatusBadRequest, "a WebSocket upgrade is an HTTP/1.1 GET"
	}
	if !tokenIn(r.Header.Values("connection"), "upgrade") {
		return http.StatusBadRequest, "a WebSocket upgrade needs Connection: Upgrade"
	}
	if r.Header.Get("sec-websocket-version") != "13" {
		return http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version (13 is)"
	}
	if !validKey(r.Header.Get("sec-websocket-key")) {
		return http.StatusBadRequest, "invalid Sec-WebSocket-Key"
	}
	return 0, ""
}

func validKey(k string) bool {
	// 16 bytes, base64: 24 characters ending in "==".
	return len(k) == 24 && strings.HasSuffix(k, "==")
}

func tokenIn(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// Subprotocols lists the protocols the client offered, in its order.
func Subprotocols(r *server.Request) []string {
	var out []string
	for _, v := range r.Header.Values("sec-websocket-protocol") {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// Serve answers a request on the route: a failed check is answered with
// its status; an upgrade request becomes a session with the endpoint.
func (rt *Route) Serve(w server.ResponseWriter, r *server.Request) {
	if status, why := Check(r); status != 0 {
		w.Header().Set("content-type", "text/plain; charset=utf-8")
		if status == http.StatusUpgradeRequired {
			w.Header().Set("upgrade", "websocket")
			w.Header().Set("connection", "Upgrade")
			w.Header().Set("sec-websocket-version", "13")
		}
		w.Send(status, []byte(why+"\n"))
		return
	}
	hj, ok := w.(server.Hijacker)
	if !ok {
		w.Header().Set("content-type", "text/plain; charset=utf-8")
		w.Send(http.StatusUpgradeRequired, []byte("WebSockets need HTTP/1.1\n"))
		return
	}
	hreq := httpRequest(r)
	offered := Subprotocols(r)
	conn, br, err := hj.Hijack()
	if err != nil {
		return
	}
	s := newSession(rt, conn, br, hreq)
	h := rt.NewHandle(s)
	defer rt.DeleteHandle(h)
	payload := encodePayload(h, r, offered)

	pyDone := make(chan struct{})
	go func() {
		defer close(pyDone)
		rt.Call(payload)
	}()
	s.run(pyDone)
}

// httpRequest is the net/http view gorilla's Upgrader reads.
func httpRequest(r *server.Request) *http.Request {
	hdr := make(http.Header, r.Header.Len())
	for _, f := range r.Header.Fields() {
		hdr.Add(strings.Clone(f.Name), strings.Clone(f.Value))
	}
	return &http.Request{
		Method: http.MethodGet, Header: hdr, Host: strings.Clone(r.Host),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RequestURI: strings.Clone(r.Target),
		RemoteAddr: strings.Clone(r.RemoteAddr),
	}
}

// encodePayload is the endpoint's argument: [handle, path, raw query,
// [[name, value], ...], [path value, ...], [subprotocol, ...], client
// address, scheme].
func encodePayload(h int64, r *server.Request, offered []string) []byte {
	var e wire.Encoder
	e.List(8)
	e.Int(h)
	e.Str(r.Path)
	e.Str(r.RawQuery)
	fields := r.Header.Fields()
	e.List(len(fields))
	for _, f := range fields {
		e.List(2)
		e.Str(f.Name)
		e.Str(f.Value)
	}
	e.List(len(r.PathValues))
	for _, v := range r.PathValues {
		e.Str(v)
	}
	e.List(len(offered))
	for _, p := range offered {
		e.Str(p)
	}
	e.Str(r.RemoteAddr)
	if r.TLS != nil {
		e.Str("wss")
	} else {
		e.Str("ws")
	}
	return e.Buf
}

type message struct {
	kind int
	data []byte
}

type frame struct {
	kind   int // KindText, KindBytes, or -1: close
	data   []byte
	code   int
	reason string
}

type acceptReq struct {
	subprotocol string
	header      [][2]string
	future      pybridge.Object
}

// Session is one WebSocket connection and its Python endpoint.
type Session struct {
	rt   *Route
	conn net.Conn
	br   *bufio.Reader
	req  *http.Request
	ws   *websocket.Conn

	acceptCh chan acceptReq
	out      chan frame
	space    chan struct{} // the reader may read again
	dead     chan struct{} // closed when the connection is finished with

	mu         sync.Mutex
	accepted   bool
	acceptSent bool          // Accept was called
	in         []message     // read, waiting for Python
	recvWait   pybridge.Object // a future waiting for the next message
	sendWait   pybridge.Object // a future waiting for room in out
	closeCode  int             // non-zero once the connection cannot carry messages
	closeWhy   string
	closeSent  bool // our close frame is queued or sent
	closeQueue bool // Python called Close
	deadOnce   sync.Once
}

func newSession(rt *Route, conn net.Conn, br *bufio.Reader, req *http.Request) *Session {
	return &Session{
		rt: rt, conn: conn, br: br, req: req,
		acceptCh: make(chan acceptReq, 1),
		out:      make(chan frame, rt.Opts.SendQueue),
		space:    make(chan struct{}, 1),
		dead:     make(chan struct{}),
	}
}

// run is the connection goroutine's part: the handshake, then waiting for
// the endpoint and the close handshake.
func (s *Session) run(pyDone chan struct{}) {
	defer s.conn.Close()
	select {
	case a := <-s.acceptCh:
		if !s.handshake(a) {
			s.kill(1006, "")
			<-pyDone
			return
		}
	case <-pyDone: // returned without accepting: 403, as Starlette
		s.kill(1006, "")
		s.conn.SetWriteDeadline(time.Now().Add(closeTimeout))
		s.conn.Write([]byte("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 10\r\nconnection: close\r\n\r\nForbidden\n"))
		return
	}
	readerDone := make(chan struct{})
	go s.reader(readerDone)
	writerDone := make(chan struct{})
	go s.writer(writerDone)
	<-pyDone
	// The endpoint returned: Python closed (its wrapper always does).
	// Wait for the writer to send the close, then for the peer's.
	s.Close(1000, "")
	select {
	case <-writerDone:
	case <-time.After(closeTimeout):
	}
	select {
	case <-readerDone:
	case <-time.After(closeTimeout):
	}
	s.kill(1006, "")
	s.conn.Close()
	<-readerDone
	<-writerDone
}

func (s *Session) handshake(a acceptReq) bool {
	hdr := http.Header{}
	for _, kv := range a.header {
		hdr.Add(kv[0], kv[1])
	}
	if a.subprotocol != "" {
		hdr.Set("Sec-WebSocket-Protocol", a.subprotocol)
	}
	rw := &hijacked{conn: s.conn, brw: bufio.NewReadWriter(s.br, bufio.NewWriterSize(s.conn, 4096)), header: http.Header{}}
	ws, err := s.rt.upgrader.Upgrade(rw, s.req, hdr)
	ok := err == nil
	if ok {
		ws.SetReadLimit(s.rt.Opts.MaxMessage)
		ws.SetCloseHandler(s.onClose)
		ws.SetPongHandler(func(string) error { s.extendIdle(); return nil })
		ws.SetPingHandler(func(data string) error {
			s.extendIdle()
			err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(closeTimeout))
			if err == websocket.ErrCloseSent {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil
			}
			return err
		})
		s.ws = ws
	}
	s.mu.Lock()
	s.accepted = ok
	s.mu.Unlock()
	var e wire.Encoder
	e.List(1)
	e.Bool(ok)
	s.rt.Deliver(a.future, e.Buf)
	return ok
}

func (s *Session) extendIdle() {
	if d := s.rt.Opts.IdleTimeout; d > 0 {
		s.ws.SetReadDeadline(time.Now().Add(d))
	}
}

// onClose answers the peer's close frame (unless ours went first).
func (s *Session) onClose(code int, text string) error {
	s.mu.Lock()
	sent := s.closeSent
	s.closeSent = true
	s.mu.Unlock()
	if !sent {
		msg := []byte{}
		if code != websocket.CloseNoStatusReceived {
			msg = websocket.FormatCloseMessage(code, "")
		}
		s.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeTimeout))
	}
	return nil
}

func (s *Session) reader(done chan struct{}) {
	defer close(done)
	for {
		s.extendIdle()
		mt, data, err := s.ws.ReadMessage()
		if err != nil {
			code, why := 1006, ""
			var ce *websocket.CloseError
			switch {
			case errors.As(err, &ce):
				code, why = ce.Code, ce.Text
			case errors.Is(err, websocket.ErrReadLimit):
				code = websocket.CloseMessageTooBig // gorilla sent the close frame
			}
			s.disconnected(code, why)
			return
		}
		kind := KindBytes
		if mt == websocket.TextMessage {
			kind = KindText
			if !utf8.Valid(data) {
				s.closeWith(websocket.CloseInvalidFramePayloadData)
				s.disconnected(websocket.CloseInvalidFramePayloadData, "")
				return
			}
		}
		if !s.push(message{kind, data}) {
			return
		}
	}
}

// closeWith sends a close frame now (the reader's protocol errors).
func (s *Session) closeWith(code int) {
	s.mu.Lock()
	sent := s.closeSent
	s.closeSent = true
	s.mu.Unlock()
	if !sent {
		s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(closeTimeout))
	}
}

// push hands a message to Python, waiting while RecvQueue are unconsumed.
func (s *Session) push(m message) bool {
	s.mu.Lock()
	for len(s.in) >= s.rt.Opts.RecvQueue {
		s.mu.Unlock()
		select {
		case <-s.space:
		case <-s.dead:
			return false
		}
		s.mu.Lock()
	}
	if f := s.recvWait; f != nil {
		s.recvWait = nil
		s.mu.Unlock()
		s.rt.Deliver(f, encodeMessage(m))
		return true
	}
	s.in = append(s.in, m)
	s.mu.Unlock()
	return true
}

// disconnected records the end of the peer's side and wakes a receive.
func (s *Session) disconnected(code int, why string) {
	s.mu.Lock()
	if s.closeCode == 0 {
		s.closeCode, s.closeWhy = code, why
	}
	f := s.recvWait
	s.recvWait = nil
	sw := s.sendWait
	s.sendWait = nil
	code, why = s.closeCode, s.closeWhy
	s.mu.Unlock()
	if f != nil {
		s.rt.Deliver(f, encodeDisconnect(code, why))
	}
	if sw != nil {
		s.rt.Deliver(sw, encodeInt(code))
	}
	s.killDead()
}

func (s *Session) killDead() { s.deadOnce.Do(func() { close(s.dead) }) }

// kill ends the session for good (the connection goroutine).
func (s *Session) kill(code int, why string) { s.disconnected(code, why) }

func (s *Session) writer(done chan struct{}) {
	defer close(done)
	var tick <-chan time.Time
	if d := s.rt.Opts.PingInterval; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case f := <-s.out:
			s.mu.Lock()
			sw := s.sendWait
			s.sendWait = nil
			s.mu.Unlock()
			if sw != nil {
				var e wire.Encoder
				e.List(1)
				e.Int(SendQueued)
				s.rt.Deliver(sw, e.Buf)
			}
			if f.kind < 0 {
				msg := websocket.FormatCloseMessage(f.code, f.reason)
				if f.code == websocket.CloseNoStatusReceived {
					msg = []byte{}
				}
				s.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeTimeout))
				s.ws.SetReadDeadline(time.Now().Add(closeTimeout))
				return
			}
			mt := websocket.BinaryMessage
			if f.kind == KindText {
				mt = websocket.TextMessage
			}
			if err := s.ws.WriteMessage(mt, f.data); err != nil {
				s.disconnected(1006, "")
				return
			}
		case <-tick:
			if err := s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(closeTimeout)); err != nil {
				s.disconnected(1006, "")
				return
			}
		case <-s.dead:
			return
		}
	}
}

func encodeMessage(m message) []byte {
	var e wire.Encoder
	e.Buf = make([]byte, 0, len(m.data)+16)
	e.List(2)
	e.Int(int64(m.kind))
	if m.kind == KindText {
		e.StrBytes(m.data)
	} else {
		e.Bytes(m.data)
	}
	return e.Buf
}

func encodeDisconnect(code int, why string) []byte {
	var e wire.Encoder
	e.List(3)
	e.Int(KindDisconnect)
	e.Int(int64(code))
	e.Str(why)
	return e.Buf
}

func encodeInt(v int) []byte {
	var e wire.Encoder
	e.List(1)
	e.Int(int64(v))
	return e.Buf
}

// The methods below are called from Python, with the GIL: none blocks.

// Accept queues the handshake; future resolves with (ok,) once written.
// It takes over future.
func (s *Session) Accept(subprotocol string, header [][2]string, future pybridge.Object) error {
	s.mu.Lock()
	if s.acceptSent {
		s.mu.Unlock()
		return errors.New(`databridge: accept() was already called`)
	}
	s.acceptSent = true
	s.mu.Unlock()
	s.acceptCh <- acceptReq{subprotocol, header, future}
	return nil
}

// Receive returns the next message, wire-encoded, when one is waiting (or
// the disconnect). Otherwise it keeps future (when not nil: owned from now
// on, resolved later with the message) and returns nil.
func (s *Session) Receive(future pybridge.Object) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.accepted {
		return nil, false, errors.New("databridge: receive before accept()")
	}
	if s.recvWait != nil {
		return nil, false, errors.New("databridge: another receive is already waiting on this WebSocket")
	}
	if len(s.in) > 0 {
		m := s.in[0]
		s.in[0] = message{}
		s.in = s.in[1:]
		if len(s.in) == 0 {
			s.in = s.in[:0:0]
		}
		select {
		case s.space <- struct{}{}:
		default:
		}
		return encodeMessage(m), false, nil
	}
	if s.closeCode != 0 {
		return encodeDisconnect(s.closeCode, s.closeWhy), false, nil
	}
	if future == nil {
		return nil, false, nil
	}
	s.recvWait = future
	return nil, true, nil
}

// Send queues a data frame (data copied by the caller). It returns
// SendQueued, SendFull (then future, when not nil, is kept and resolved
// when there is room: owned from now on), or a close code.
func (s *Session) Send(kind int, data []byte, future pybridge.Object) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeCode != 0 || s.closeQueue || !s.accepted {
		c := s.closeCode
		if c == 0 {
			c = 1000
		}
		return c, false
	}
	select {
	case s.out <- frame{kind: kind, data: data}:
		return SendQueued, false
	default:
	}
	if future == nil {
		return SendFull, false
	}
	if s.sendWait != nil {
		return SendFull, false
	}
	s.sendWait = future
	return SendFull, true
}

// Close queues the close frame after the frames already queued. It never
// waits: with a full queue the frame goes out ahead of nothing else and is
// sent by the connection goroutine instead.
func (s *Session) Close(code int, reason string) {
	s.mu.Lock()
	if s.closeQueue || !s.accepted {
		s.mu.Unlock()
		return
	}
	s.closeQueue = true
	sent := s.closeSent
	s.closeSent = true
	s.mu.Unlock()
	if sent {
		return
	}
	select {
	case s.out <- frame{kind: -1, code: code, reason: reason}:
	default:
		go func() {
			select {
			case s.out <- frame{kind: -1, code: code, reason: reason}:
			case <-s.dead:
			}
		}()
	}
}

// State is (accepted, close code or 0).
func (s *Session) State() (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted, s.closeCode
}

// hijacked is the http.ResponseWriter and http.Hijacker gorilla's
// Upgrader needs, over a connection the engine already handed over.
type hijacked struct {
	conn   net.Conn
	brw    *bufio.ReadWriter
	header http.Header
	status int
}

func (h *hijacked) Header() http.Header { return h.header }
func (h *hijacked) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
		h.conn.Write([]byte("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"))
	}
}
func (h *hijacked) Write(p []byte) (int, error) {
	h.WriteHeader(http.StatusBadRequest)
	return len(p), nil
}
func (h *hijacked) Hijack() (net.Conn, *bufio.ReadWriter, error) { return h.conn, h.brw, nil }
