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
//	receive -> a buffered message at once, else a future the GIL thread
//	           resolves once the reader goroutine queued the next message
//	           (pybridge/ws.c, one crossing)
//	send    -> written by the GIL thread when nothing is ahead, else queued
//	           for the writer goroutine while the send queue has room, else
//	           a future resolved when it has
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
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/gorilla/websocket"

	"github.com/databridge/databridge/internal/readall"
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

// Sessions are an engine's live sessions, for a graceful shutdown.
type Sessions struct {
	mu      sync.Mutex
	live    map[*Session]struct{}
	closing bool
}

func (ss *Sessions) add(s *Session) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closing {
		return false
	}
	if ss.live == nil {
		ss.live = map[*Session]struct{}{}
	}
	ss.live[s] = struct{}{}
	return true
}

func (ss *Sessions) remove(s *Session) {
	ss.mu.Lock()
	delete(ss.live, s)
	ss.mu.Unlock()
}

// GoingAway closes every session with 1001 (the endpoints see
// WebSocketDisconnect(1001) and return) and refuses new ones: the server
// is stopping.
func (ss *Sessions) GoingAway() {
	ss.mu.Lock()
	ss.closing = true
	live := make([]*Session, 0, len(ss.live))
	for s := range ss.live {
		live = append(live, s)
	}
	ss.mu.Unlock()
	for _, s := range live {
		s.goingAway()
	}
}

// Reopen accepts sessions again (the server listens again).
func (ss *Sessions) Reopen() {
	ss.mu.Lock()
	ss.closing = false
	ss.mu.Unlock()
}

// Route is a server.Handler for one WebSocket path.
type Route struct {
	// Sessions, when set, tracks the sessions for GoingAway.
	Sessions *Sessions
	// Call runs the Python endpoint with the wire-encoded session payload
	// and blocks until it returns.
	Call func(payload []byte)
	// Queue is the engine's hand-off to the GIL thread: messages for
	// waiting receives, and futures resolved (Deliver) with a wire-encoded
	// list.
	Queue *pybridge.Queue
	// NewHandle and DeleteHandle name a session to Python.
	NewHandle    func(s *Session) int64
	DeleteHandle func(h int64)
	Opts         Options
	upgrader     websocket.Upgrader
}

// New returns a Route with its options completed.
func New(call func([]byte), queue *pybridge.Queue, opts Options) *Route {
	opts = opts.withDefaults()
	rt := &Route{Call: call, Queue: queue, Opts: opts}
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
	hj, ok := server.HijackerOf(w)
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
	s, err := newSession(rt, conn, br, hreq)
	if err != nil {
		server.Logf("websocket %s: %v", r.Path, err)
		conn.Close()
		return
	}
	defer s.finish()
	if rt.Sessions != nil {
		if !rt.Sessions.add(s) {
			conn.Write([]byte("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"))
			conn.Close()
			return
		}
		defer rt.Sessions.remove(s)
	}
	h := rt.NewHandle(s)
	defer rt.DeleteHandle(h)
	payload := encodePayload(h, s.q.Addr(), r, offered)

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

// encodePayload is the endpoint's argument: [handle, queues address, path, raw query,
// [[name, value], ...], [path value, ...], [subprotocol, ...], client
// address, scheme].
func encodePayload(h, addr int64, r *server.Request, offered []string) []byte {
	var e wire.Encoder
	e.List(9)
	e.Int(h)
	e.Int(addr)
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
	q    *pybridge.WS // the message queues Python uses (pybridge/ws.c)

	tc        *turnConn // the connection as gorilla writes it
	idleArmed time.Time // when the read deadline was last pushed back
	acceptCh  chan acceptReq
	outFile   *os.File      // eventfd: frames queued for a sleeping writer
	spaceFile *os.File      // eventfd: the held-back reader may read again
	dead      chan struct{} // closed when the connection is finished with

	mu         sync.Mutex
	acceptSent bool
	closeCode  int
	closeWhy   string
	closeSent  bool // our close frame is sent (or the peer's answered)
	deadOnce   sync.Once
}

func newSession(rt *Route, conn net.Conn, br *bufio.Reader, req *http.Request) (*Session, error) {
	q, err := pybridge.NewWS(rt.Queue, rt.Opts.RecvQueue, rt.Opts.SendQueue)
	if err != nil {
		return nil, err
	}
	s := &Session{
		rt: rt, conn: conn, br: br, req: req, q: q,
		acceptCh: make(chan acceptReq, 1),
		dead:     make(chan struct{}),
	}
	if s.outFile, err = pollable(q.OutFd()); err == nil {
		s.spaceFile, err = pollable(q.SpaceFd())
	}
	if err != nil {
		s.closeFiles()
		q.Release()
		return nil, err
	}
	return s, nil
}

// pollable is a dup of an eventfd, read through the netpoller: a read
// waits for a signal, and closing the file ends the wait.
func pollable(fd int) (*os.File, error) {
	dup, err := syscall.Dup(fd)
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(dup)
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return nil, err
	}
	return os.NewFile(uintptr(dup), "databridge-ws"), nil
}

func (s *Session) closeFiles() {
	for _, f := range []*os.File{s.outFile, s.spaceFile} {
		if f != nil {
			f.Close()
		}
	}
}

// run is the connection goroutine's part: the handshake, then waiting for
// the endpoint and the close handshake.
func (s *Session) run(pyDone chan struct{}) {
	defer s.closeConn()
	select {
	case a := <-s.acceptCh:
		if !s.handshake(a) {
			s.disconnected(1006, "")
			<-pyDone
			return
		}
	case <-pyDone: // returned without accepting: 403, as Starlette
		s.disconnected(1006, "")
		s.conn.SetWriteDeadline(time.Now().Add(closeTimeout))
		s.conn.Write([]byte("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 10\r\nconnection: close\r\n\r\nForbidden\n"))
		return
	}
	readerDone := make(chan struct{})
	go s.reader(readerDone)
	writerDone := make(chan struct{})
	go s.writer(writerDone)
	<-pyDone
	// The endpoint returned: its wrapper queued the close frame. Wait for
	// the writer to send it, then for the peer's answer.
	select {
	case <-writerDone:
	case <-time.After(closeTimeout):
		s.closeWith(websocket.CloseGoingAway)
	}
	select {
	case <-readerDone:
	case <-time.After(closeTimeout):
	}
	s.disconnected(1006, "")
	s.closeConn()
	<-readerDone
	<-writerDone
}

// finish frees the session once every goroutine is done with it.
func (s *Session) finish() {
	s.closeFiles()
	s.q.Release()
}

func (s *Session) handshake(a acceptReq) bool {
	hdr := http.Header{}
	for _, kv := range a.header {
		hdr.Add(kv[0], kv[1])
	}
	if a.subprotocol != "" {
		hdr.Set("Sec-WebSocket-Protocol", a.subprotocol)
	}
	s.tc = &turnConn{Conn: s.conn, q: s.q}
	rw := &hijacked{conn: s.tc, brw: bufio.NewReadWriter(s.br, bufio.NewWriterSize(s.conn, 4096)), header: http.Header{}}
	ws, err := s.rt.upgrader.Upgrade(rw, s.req, hdr)
	ok := err == nil
	if ok {
		s.tc.frames = true
		s.attach()
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
		s.mu.Lock()
		s.ws = ws
		s.mu.Unlock()
	}
	var e wire.Encoder
	e.List(1)
	e.Bool(ok)
	s.rt.Queue.Deliver(a.future, e.Buf)
	return ok
}

// extendIdle pushes the read deadline back to IdleTimeout (and a 16th of
// it) from now, unless it was pushed back less than a 16th ago: one timer
// change per burst of frames, not per frame. A silent peer is closed
// between IdleTimeout and 17/16 of it after its last frame.
func (s *Session) extendIdle() {
	d := s.rt.Opts.IdleTimeout
	if d <= 0 {
		return
	}
	now := time.Now()
	if now.Sub(s.idleArmed) < d/16 {
		return
	}
	s.idleArmed = now
	s.ws.SetReadDeadline(now.Add(d + d/16))
}

// directMaxDeflate is the largest payload Python writes straight to the
// socket when permessage-deflate was negotiated: smaller messages go out
// uncompressed (RFC 7692 §6 lets any message be sent so), as deflate
// saves little there and costs the writer goroutine's hand-off.
const directMaxDeflate = 256

// attach lets Python's sends write to the socket itself (pybridge/ws.c),
// when the connection is one (not TLS).
func (s *Session) attach() {
	sc, ok := server.RawSocket(s.conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	max := math.MaxInt
	if s.rt.Opts.Compression && offersDeflate(s.req.Header) {
		max = directMaxDeflate
	}
	rc.Control(func(fd uintptr) { s.q.Attach(int(fd), max) })
}

// offersDeflate: the client offered permessage-deflate, so gorilla (with
// compression enabled) negotiated it.
func offersDeflate(h http.Header) bool {
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		for _, ext := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(ext, ";")
			if strings.EqualFold(strings.TrimSpace(name), "permessage-deflate") {
				return true
			}
		}
	}
	return false
}

// closeConn closes the connection, after Python's direct writes are
// stopped (none can reach a reused descriptor).
func (s *Session) closeConn() {
	s.q.Attach(-1, 0)
	s.conn.Close()
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
	var data []byte // one message, reused (Push copies it)
	for {
		s.extendIdle()
		mt, r, err := s.ws.NextReader()
		if err == nil {
			if cap(data) > reuseMax {
				data = nil
			}
			data, err = readall.Append(data[:0], r)
		}
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
		wait, err := s.q.Push(kind, data)
		if err != nil {
			s.closeWith(websocket.CloseInternalServerErr)
			s.disconnected(websocket.CloseInternalServerErr, "")
			return
		}
		if wait {
			var buf [8]byte
			if _, err := s.spaceFile.Read(buf[:]); err != nil {
				return // closed: the session is over
			}
		}
	}
}

// goingAway ends the session for a server shutdown.
func (s *Session) goingAway() {
	s.mu.Lock()
	accepted := s.ws != nil
	s.mu.Unlock()
	if accepted {
		s.closeWith(websocket.CloseGoingAway)
	}
	s.disconnected(websocket.CloseGoingAway, "server shutting down")
}

// closeWith sends a close frame now, unless one was sent.
func (s *Session) closeWith(code int) {
	s.mu.Lock()
	sent := s.closeSent
	s.closeSent = true
	s.mu.Unlock()
	if !sent {
		s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(closeTimeout))
	}
}

// disconnected records the end of the peer's side and wakes the endpoint
// if it waits.
func (s *Session) disconnected(code int, why string) {
	s.mu.Lock()
	if s.closeCode == 0 {
		s.closeCode, s.closeWhy = code, why
	}
	code, why = s.closeCode, s.closeWhy
	s.mu.Unlock()
	recv, send := s.q.Disconnect(code, why)
	if recv != nil {
		s.rt.Queue.Deliver(recv, encodeDisconnect(code, why))
	}
	if send != nil {
		s.rt.Queue.Deliver(send, encodeInt(code))
	}
	s.deadOnce.Do(func() {
		close(s.dead)
		s.closeFiles() // ends the reader's and the writer's waits
	})
}

func (s *Session) writer(done chan struct{}) {
	defer close(done)
	interval := s.rt.Opts.PingInterval
	nextPing := time.Now().Add(interval)
	var frames []pybridge.WSFrame
	var buf [8]byte
	var list unsafe.Pointer // written: freed by the next TakeOut
	defer func() { pybridge.FreeFrames(list) }()
	for {
		var room pybridge.Object
		var partial bool
		frames, list, room, partial = s.q.TakeOut(list, frames[:0])
		if room != nil {
			s.rt.Queue.Deliver(room, encodeInt(SendQueued))
		}
		if list == nil && partial {
			if err := s.tc.flushPartial(); err != nil {
				s.disconnected(1006, "")
				return
			}
			continue
		}
		if list == nil {
			if interval > 0 {
				s.outFile.SetReadDeadline(nextPing)
			}
			_, err := s.outFile.Read(buf[:])
			if err == nil {
				continue
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				return // closed: the session is over
			}
			nextPing = time.Now().Add(interval)
			if err := s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(closeTimeout)); err != nil {
				s.disconnected(1006, "")
				return
			}
			continue
		}
		for _, f := range frames {
			if f.Kind == kindClose {
				s.mu.Lock()
				sent := s.closeSent
				s.closeSent = true
				s.mu.Unlock()
				if !sent {
					msg := websocket.FormatCloseMessage(f.Code, string(f.Data))
					s.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeTimeout))
				}
				s.ws.SetReadDeadline(time.Now().Add(closeTimeout))
				return
			}
			mt := websocket.BinaryMessage
			if f.Kind == KindText {
				mt = websocket.TextMessage
			}
			if err := s.ws.WriteMessage(mt, f.Data); err != nil {
				s.disconnected(1006, "")
				return
			}
		}
	}
}

const kindClose = 3

// reuseMax is the largest buffer a reader keeps for the next message.
const reuseMax = 64 << 10

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

// Accept queues the handshake (called from Python, with the GIL: it does
// not block); future resolves with (ok,) once written. It takes over
// future.
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

// turnConn is the connection as gorilla writes it. Once frames is set
// (after the handshake), each frame written holds the write turn
// (pybridge.WS.BeginWrite), from its first byte to its last, so that
// Python's direct writes never land inside it; and a frame Python began
// writing is finished before it. Frames are counted from their headers:
// gorilla writes a frame in one Write or in several (header and payload).
type turnConn struct {
	net.Conn
	q      *pybridge.WS
	frames bool       // track frames (set before any concurrent use)
	mu     sync.Mutex // one Go frame at a time; held across the Writes of one frame
	left   int64      // bytes of the current frame still to come; 0 between frames
	hdr    [14]byte   // the start of a header that came in pieces
	hn     int
}

func (c *turnConn) Write(p []byte) (int, error) {
	if !c.frames {
		return c.Conn.Write(p)
	}
	written := 0
	for len(p) > 0 {
		if c.left == 0 && c.hn == 0 { // a frame begins: take the turn
			c.mu.Lock()
			if err := c.writePartial(); err != nil {
				c.abort()
				return written, err
			}
		}
		if c.left == 0 { // in the header: how long is the frame?
			k := copy(c.hdr[c.hn:], p)
			total, ok := frameLen(c.hdr[:c.hn+k])
			if !ok {
				if n, err := c.Conn.Write(p); err != nil {
					c.abort()
					return written + n, err
				}
				c.hn += len(p)
				return written + len(p), nil
			}
			c.left = total - int64(c.hn)
			c.hn = 0
		}
		chunk := p
		if int64(len(chunk)) > c.left {
			chunk = chunk[:c.left]
		}
		n, err := c.Conn.Write(chunk)
		written += n
		if err != nil {
			c.abort()
			return written, err
		}
		p = p[n:]
		c.left -= int64(n)
		if c.left == 0 {
			c.q.EndWrite()
			c.mu.Unlock()
		}
	}
	return written, nil
}

// writePartial writes the frame Python began, if any, with the turn held.
func (c *turnConn) writePartial() error {
	b, m := c.q.BeginWrite()
	if m == nil {
		return nil
	}
	defer pybridge.FreeFrames(m)
	_, err := c.Conn.Write(b)
	return err
}

// flushPartial writes the frame Python began (the writer goroutine, woken
// for it, when no frame of its own follows).
func (c *turnConn) flushPartial() error {
	c.mu.Lock()
	err := c.writePartial()
	if err != nil {
		c.abort()
		return err
	}
	c.q.EndWrite()
	c.mu.Unlock()
	return nil
}

// abort gives the turn back after a failed write: the stream is cut, so
// Python's direct writes stop.
func (c *turnConn) abort() {
	c.left, c.hn = 0, 0
	c.q.Attach(-1, 0)
	c.q.EndWrite()
	c.mu.Unlock()
}

// frameLen is the length of the frame whose header begins h (RFC 6455
// §5.2), when h holds all of the header.
func frameLen(h []byte) (int64, bool) {
	if len(h) < 2 {
		return 0, false
	}
	n := 2
	if h[1]&0x80 != 0 {
		n += 4 // a mask (client frames; gorilla's server never sets one)
	}
	var payload int64
	switch l := h[1] & 0x7f; l {
	case 126:
		if len(h) < n+2 {
			return 0, false
		}
		payload = int64(h[2])<<8 | int64(h[3])
		n += 2
	case 127:
		if len(h) < n+8 {
			return 0, false
		}
		for i := 0; i < 8; i++ {
			payload = payload<<8 | int64(h[2+i])
		}
		n += 8
	default:
		payload = int64(l)
	}
	return int64(n) + payload, true
}
