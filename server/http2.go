package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// h2front serves HTTP/2 connections with net/http's implementation
// (golang.org/x/net/http2), feeding the same Request view and
// ResponseWriter as the HTTP/1.1 front (see FromNetHTTP): h2 over TLS
// chosen by ALPN, h2c with prior knowledge (the HTTP/1.1 front sees the
// connection preface and hands the connection over) and h2c by Upgrade.
//
// Limits and timeouts of Config, as HTTP/2 has them:
//   - MaxTargetBytes: a longer :path gets 414, MaxHeaderFields: more fields
//     get 431 (both checked before the engine's handler runs);
//   - MaxHeaderBytes: advertised as SETTINGS_MAX_HEADER_LIST_SIZE (plus
//     32 bytes for each of 10 fields, the HTTP/2 per-field overhead); a
//     larger header block gets 431 from x/net;
//   - MaxBodyBytes: FromNetHTTP's body limit (the handler answers 413);
//   - ReadBodyTimeout: a stream's body must arrive within it from the end
//     of its header block;
//   - WriteTimeout: each write of a response to a stream (waiting for the
//     client's flow-control window included) must finish within it, else
//     the stream is reset; a connection whose socket accepts no byte for
//     that long is closed;
//   - IdleTimeout: a connection without open streams is closed after it;
//   - MaxRequestsPerConn: the response to the Nth stream of a connection
//     starts a graceful close (GOAWAY);
//   - ReadHeaderTimeout: x/net has none per stream; the client preface
//     must arrive within 10 s.
type h2front struct {
	h   Handler
	cfg Config

	srv     *http2.Server
	base    *http.Server // the HTTP/1 settings x/net reads, and its shutdown hook
	handler http.Handler // the limits, then FromNetHTTP(h)

	mu      sync.Mutex
	conns   map[net.Conn]http.ConnState // keyed by what ServeConn was given
	closing bool
	drained chan struct{} // closed once closing and conns is empty
}

// maxH2Streams is the SETTINGS_MAX_CONCURRENT_STREAMS the front
// advertises (x/net's default, named here).
const maxH2Streams = 250

// maxH2ReadFrame is the SETTINGS_MAX_FRAME_SIZE the front advertises:
// 16 KiB, the initial value every client assumes.
const maxH2ReadFrame = 16 << 10

// maxUpgradeBody is the largest request body an h2c upgrade takes along
// (it is read into memory before the 101): larger ones, and bodies of
// unknown length, are served on HTTP/1.1 instead.
const maxUpgradeBody = 64 << 10

// The messages of the errors the HTTP/2 front answers itself.
const (
	msgURITooLong       = "URI Too Long"
	msgHeaderFieldsMany = "Request Header Fields Too Large"
)

// newH2Front returns the HTTP/2 front of a server, or nil when HTTP/2 is
// turned off.
func newH2Front(h Handler, cfg Config) *h2front {
	if cfg.DisableHTTP2 {
		return nil
	}
	cfg = cfg.withDefaults()
	f := &h2front{
		h:   h,
		cfg: cfg,
		srv: &http2.Server{
			MaxConcurrentStreams: maxH2Streams,
			// The protocol's initial SETTINGS_MAX_FRAME_SIZE: x/net would
			// offer 1 MiB, and then cannot refuse a larger frame from a
			// client that assumes the default (h2spec 4.2/3).
			MaxReadFrameSize: maxH2ReadFrame,
			IdleTimeout:      cfg.IdleTimeout,
			WriteByteTimeout: cfg.WriteTimeout,
		},
		conns: make(map[net.Conn]http.ConnState),
	}
	f.base = &http.Server{
		// Per stream: the body must arrive within ReadTimeout of the
		// header block. WriteTimeout stays 0: x/net would bound a
		// stream's whole life with it, handler time included; h2Writer
		// bounds each write instead.
		ReadTimeout:    cfg.ReadBodyTimeout,
		IdleTimeout:    cfg.IdleTimeout,
		MaxHeaderBytes: cfg.MaxHeaderBytes,
		ErrorLog:       logger,
		ConnState:      f.connState,
	}
	// ConfigureServer registers the graceful-shutdown hook (GOAWAY to
	// every connection) on base: base.Shutdown runs it. Its error is
	// about a TLSConfig with cipher suites, which base has not.
	if err := http2.ConfigureServer(f.base, f.srv); err != nil {
		logger.Printf("http2: %v", err)
	}
	f.handler = &h2Limits{front: f, next: FromNetHTTP(h, cfg.MaxBodyBytes)}
	f.base.Handler = f.handler
	return f
}

// serveConn serves c as an HTTP/2 connection until it ends, and closes
// it. preread holds every byte already read from c and not consumed (for
// prior knowledge: the client preface and whatever the read buffer holds
// after it). A *tls.Conn must have completed its handshake: x/net checks
// its ConnectionState (TLS 1.2 or later, no blacklisted cipher) and
// requests see it. Deadlines on c are cleared.
func (f *h2front) serveConn(c net.Conn, preread []byte) {
	if len(preread) > 0 {
		c = withPreread(c, bytes.NewReader(preread))
	}
	f.serve(c, newH2Conn(c), &http2.ServeConnOpts{Context: context.Background()})
}

// serve runs ServeConn on c, tracked for shutdown; hc goes into the
// context of its requests.
func (f *h2front) serve(c net.Conn, hc *h2conn, opts *http2.ServeConnOpts) {
	c = withH2Guard(c)
	defer c.Close()
	if !f.track(c) {
		return
	}
	defer f.untrack(c)
	// Deadlines the HTTP/1.1 front set (header timeout, handshake) are
	// not HTTP/2's: x/net sets its own (preface, idle, per stream).
	c.SetDeadline(time.Time{})
	opts.Context = context.WithValue(opts.Context, h2connKey{}, hc)
	opts.Handler = f.handler
	opts.BaseConfig = f.base
	f.srv.ServeConn(c, opts) //nolint:staticcheck // ServeConn is the API for a connection accepted elsewhere
}

// upgrade answers an HTTP/1.1 request carrying "Upgrade: h2c" and
// HTTP2-Settings with 101 and serves the connection as HTTP/2, the request
// being stream 1, until the connection ends. br is the connection's
// buffered reader: what it holds past the request (the request body, then
// the client preface) is read first. It reports false, having read and
// written nothing, when the request cannot be upgraded (the caller then
// serves it as HTTP/1.1): no h2c token in Upgrade, Connection without
// "Upgrade" and "HTTP2-Settings", not exactly one valid HTTP2-Settings,
// TLS, not HTTP/1.1, a target that is not a path or absolute URI, or a
// body of unknown length or larger than 64 KiB. Once it reports true the
// connection is closed (also when reading the body failed).
func (f *h2front) upgrade(c net.Conn, br *bufio.Reader, req *Request) bool {
	settings, ok := h2cUpgradeSettings(req)
	if !ok || f.isClosing() {
		return false
	}
	// req's strings may point into the HTTP/1.1 front's read buffer, which
	// the connection goes on to fill: the upgraded request keeps copies.
	target := strings.Clone(req.Target)
	u, err := url.ParseRequestURI(target)
	if err != nil || (u.Scheme == "" && !strings.HasPrefix(target, "/")) {
		return false
	}
	if req.ContentLength < 0 || req.ContentLength > maxUpgradeBody || req.ContentLength > f.cfg.MaxBodyBytes {
		return false
	}
	body := make([]byte, req.ContentLength)
	if len(body) > 0 {
		c.SetReadDeadline(time.Now().Add(f.cfg.ReadBodyTimeout))
		if req.Body == nil {
			req.Body = NoBody
		}
		_, err := io.ReadFull(req.Body, body)
		c.SetReadDeadline(time.Time{})
		if err != nil {
			c.Close()
			return true
		}
	}

	hr := &http.Request{
		Method:     strings.Clone(req.Method),
		URL:        u,
		Proto:      "HTTP/2.0", // stream 1 of the HTTP/2 connection
		ProtoMajor: 2,
		Header:     make(http.Header, req.Header.Len()),
		Host:       strings.Clone(req.Host),
		RemoteAddr: strings.Clone(req.RemoteAddr),
		RequestURI: target,
		Body:       http.NoBody,
	}
	if hr.RemoteAddr == "" {
		hr.RemoteAddr = c.RemoteAddr().String()
	}
	if len(body) > 0 {
		hr.ContentLength = int64(len(body))
		hr.Body = io.NopCloser(bytes.NewReader(body))
	}
	for _, fl := range req.Header.Fields() {
		if hopByHop(fl.Name) {
			continue
		}
		name := textproto.CanonicalMIMEHeaderKey(strings.Clone(fl.Name))
		hr.Header[name] = append(hr.Header[name], strings.Clone(fl.Value))
	}
	// The upgraded request's context is what x/net gives a stream's:
	// the connection's, canceled when it ends.
	hc := newH2Conn(c)
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	hr = hr.WithContext(context.WithValue(context.WithValue(context.WithValue(ctx,
		http.LocalAddrContextKey, c.LocalAddr()),
		http.ServerContextKey, f.base),
		h2connKey{}, hc))

	c.SetWriteDeadline(time.Now().Add(f.cfg.WriteTimeout))
	_, err = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
	c.SetWriteDeadline(time.Time{})
	if err != nil {
		c.Close()
		return true
	}
	var conn net.Conn = c
	if br != nil && br.Buffered() > 0 {
		conn = withPreread(c, br)
	}
	f.serve(conn, hc, &http2.ServeConnOpts{
		Context:        ctx,
		UpgradeRequest: hr,
		Settings:       settings,
	})
	return true
}

// h2cUpgradeSettings checks that req asks for h2c and returns its decoded
// HTTP2-Settings.
func h2cUpgradeSettings(req *Request) ([]byte, bool) {
	if req.ProtoMajor != 1 || req.ProtoMinor != 1 || req.TLS != nil {
		return nil, false
	}
	if !headerHasToken(&req.Header, "upgrade", "h2c") ||
		!headerHasToken(&req.Header, "connection", "upgrade") ||
		!headerHasToken(&req.Header, "connection", "http2-settings") {
		return nil, false
	}
	vals := req.Header.Values("http2-settings")
	if len(vals) != 1 {
		return nil, false
	}
	// token68 base64url; RFC 9113 3.2.1 omits the padding, accept it too.
	settings, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(vals[0]), "="))
	if err != nil || len(settings)%6 != 0 {
		return nil, false
	}
	for i := 0; i < len(settings); i += 6 {
		s := http2.Setting{
			ID:  http2.SettingID(binary.BigEndian.Uint16(settings[i:])),
			Val: binary.BigEndian.Uint32(settings[i+2:]),
		}
		if s.Valid() != nil {
			return nil, false
		}
	}
	return settings, true
}

// headerHasToken reports whether a comma-separated list in the fields
// called name holds token (case-insensitive).
func headerHasToken(h *Header, name, token string) bool {
	for _, f := range h.Fields() {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		for _, t := range strings.Split(f.Value, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// hopByHop reports whether a request field belongs to the HTTP/1.1
// connection (or is Host, which is the request's Host) and so is not part
// of the upgraded request.
func hopByHop(name string) bool {
	switch strings.ToLower(name) {
	case "host", "connection", "upgrade", "http2-settings", "keep-alive",
		"proxy-connection", "transfer-encoding", "te":
		return true
	}
	return false
}

// shutdown sends GOAWAY to every HTTP/2 connection (in-flight streams go
// on, new ones are refused), refuses connections handed over from now on,
// and waits until every connection has ended: one whose streams are done
// closes by itself (x/net waits 1 s after its GOAWAY so the client reads
// it). When ctx ends first, the remaining connections are closed and
// ctx's error returned. Later calls wait again.
func (f *h2front) shutdown(ctx context.Context) error {
	f.mu.Lock()
	if !f.closing {
		f.closing = true
		f.drained = make(chan struct{})
		if len(f.conns) == 0 {
			close(f.drained)
		}
	}
	drained := f.drained
	f.mu.Unlock()
	f.goAway()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		f.closeConns(func(http.ConnState) bool { return true })
		return ctx.Err()
	}
}

// closeIdle closes the HTTP/2 connections without an open stream now
// (those that have not sent their preface yet included), without GOAWAY.
func (f *h2front) closeIdle() {
	f.closeConns(func(s http.ConnState) bool { return s == http.StateNew || s == http.StateIdle })
}

func (f *h2front) closeConns(which func(http.ConnState) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c, s := range f.conns {
		if which(s) {
			c.Close()
		}
	}
}

// goAway runs x/net's graceful-shutdown hook, which sends GOAWAY to every
// connection it has registered (once each).
func (f *h2front) goAway() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // base has no connection of its own to wait for
	f.base.Shutdown(ctx)
}

func (f *h2front) isClosing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closing
}

func (f *h2front) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	f.conns[c] = http.StateNew
	return true
}

func (f *h2front) untrack(c net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.conns, c)
	if f.closing && len(f.conns) == 0 {
		select {
		case <-f.drained:
		default:
			close(f.drained)
		}
	}
}

// connState is x/net's report of a connection: active (a stream is open)
// or idle. It first reports after reading the client preface, once the
// connection is registered for the shutdown hook; a shutdown that ran
// before then missed it, so the hook runs again.
func (f *h2front) connState(c net.Conn, s http.ConnState) {
	f.mu.Lock()
	old, ok := f.conns[c]
	if ok {
		f.conns[c] = s
	}
	late := ok && old == http.StateNew && f.closing
	f.mu.Unlock()
	if late {
		go f.goAway()
	}
}

// h2conn is what the front knows of one connection, in its context.
type h2conn struct {
	tls      *tls.ConnectionState
	requests atomic.Int64
}

type h2connKey struct{}

func newH2Conn(c net.Conn) *h2conn {
	hc := &h2conn{}
	if cs, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
		st := cs.ConnectionState()
		hc.tls = &st
	}
	return hc
}

// h2Limits applies to an HTTP/2 request the limits that the HTTP/1.1
// front applies while parsing (there is no request line here), then
// serves it through next with the write timeout.
type h2Limits struct {
	front *h2front
	next  http.Handler
}

func (l *h2Limits) ServeHTTP(hw http.ResponseWriter, hr *http.Request) {
	cfg := &l.front.cfg
	hc, _ := hr.Context().Value(h2connKey{}).(*h2conn)
	if hc != nil {
		if hr.TLS == nil {
			hr.TLS = hc.tls // x/net sets it only for :scheme https
		}
		if n := cfg.MaxRequestsPerConn; n > 0 && hc.requests.Add(1) >= int64(n) {
			hw.Header().Set("Connection", "close") // x/net: GOAWAY once idle
		}
	}
	if len(hr.RequestURI) > cfg.MaxTargetBytes {
		h2Error(hw, http.StatusRequestURITooLong, msgURITooLong)
		return
	}
	// x/net took a Host field out (resetting the stream when it differs
	// from :authority): hr.Host is the one host field.
	fields := 0
	if hr.Host != "" {
		fields++
	}
	for _, vs := range hr.Header {
		fields += len(vs)
	}
	if fields > cfg.MaxHeaderFields {
		h2Error(hw, http.StatusRequestHeaderFieldsTooLarge, msgHeaderFieldsMany)
		return
	}
	w := &h2Writer{ResponseWriter: hw, timeout: cfg.WriteTimeout}
	defer w.end()
	l.next.ServeHTTP(w, hr)
}

// h2Error answers an error the front finds itself, with the engine's
// error body.
func h2Error(hw http.ResponseWriter, status int, msg string) {
	body := ErrorBody(msg)
	h := hw.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	hw.WriteHeader(status)
	hw.Write(body)
}

// h2Writer bounds each write to an HTTP/2 response by a timeout: x/net
// can only bound a stream's whole life (http.Server.WriteTimeout) or the
// time until a deadline, so a timer runs while a write is in progress and,
// when it fires, sets the stream's write deadline in the past, which
// resets the stream and fails the blocked write. After the handler
// returns, what x/net still has buffered gets the same time to go out.
type h2Writer struct {
	http.ResponseWriter
	timeout time.Duration

	mu      sync.Mutex
	timer   *time.Timer
	writing bool // a write is in progress
	done    bool // the handler returned: the stream may be gone
}

func (w *h2Writer) Write(p []byte) (int, error) {
	w.begin()
	defer w.finish()
	return w.ResponseWriter.Write(p)
}

// Flush is http.Flusher's, which FromNetHTTP's writer calls.
func (w *h2Writer) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		w.begin()
		defer w.finish()
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach x/net's writer.
func (w *h2Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *h2Writer) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writing = true
	if w.timer == nil {
		w.timer = time.AfterFunc(w.timeout, w.expire)
	} else {
		w.timer.Reset(w.timeout)
	}
}

func (w *h2Writer) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writing = false
	w.timer.Stop()
}

func (w *h2Writer) expire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.writing && !w.done {
		http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(-time.Second))
	}
}

// end runs when the handler returned, before x/net flushes the rest.
func (w *h2Writer) end() {
	w.mu.Lock()
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(w.timeout))
}

// withPreread returns c reading from r first (bytes that were read from
// c already), then from c. A TLS connection keeps its ConnectionState.
func withPreread(c net.Conn, r io.Reader) net.Conn {
	p := prereadConn{Conn: c, r: r}
	if cs, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
		return &prereadTLSConn{p, cs}
	}
	return &p
}

type prereadConn struct {
	net.Conn
	r io.Reader // nil once drained
}

func (c *prereadConn) Read(p []byte) (int, error) {
	switch r := c.r.(type) {
	case nil:
	case *bufio.Reader:
		// Only what it holds: reading on would block in it.
		if n := r.Buffered(); n > 0 {
			return r.Read(p[:min(len(p), n)])
		}
		c.r = nil
	default:
		n, err := r.Read(p)
		if err != io.EOF {
			return n, err
		}
		c.r = nil
		if n > 0 {
			return n, nil
		}
	}
	return c.Conn.Read(p)
}

type prereadTLSConn struct {
	prereadConn
	cs interface{ ConnectionState() tls.ConnectionState }
}

func (c *prereadTLSConn) ConnectionState() tls.ConnectionState { return c.cs.ConnectionState() }
