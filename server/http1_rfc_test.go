package server

// Conformance tests of the HTTP/1.1 front against RFC 9112 (HTTP/1.1
// message syntax and framing) and RFC 9110 (HTTP semantics: fields,
// framing, Content-Length, Expect). They speak raw bytes to Listen on
// 127.0.0.1 and read the answers with a strict response parser, so that
// they judge the bytes on the wire, not what a Go client makes of them.
//
// Each table case names the RFC section and the requirement it checks.
// Where the RFC allows several behaviours the comment says which one
// databridge chose (see docs/http1.md, "Choices").
//
// Expected outcomes: a request the RFC says to reject gets exactly 400,
// except 414 (target over MaxTargetBytes), 431 (header section over
// MaxHeaderBytes or more than MaxHeaderFields fields), 501 (a transfer
// coding the server does not implement, with chunked last), 505 (an HTTP
// major version other than 1) and 413 (a body over MaxBodyBytes). After
// every rejection where the framing of the rest of the stream is in doubt,
// the connection is closed, so that nothing the client sent after the
// rejected head can be read as a request.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Bounds of every exchange: how long a response may take, and how soon a
// connection the server must close reads EOF after the response.
const (
	h1ReadBound  = 3 * time.Second
	h1CloseBound = time.Second
	h1Host       = "example.com"
	h1Fixed      = "hello world" // the body of /fixed
)

// ---------------------------------------------------------------------
// The server under test

// h1Server is Listen on an ephemeral port with the test handler, which
// counts its calls and routes on the path:
//
//	/fixed          Send(200, "hello world")
//	/stream         "part1", Flush, "part2", Flush, "end" (a streamed response)
//	/status/NNN     WriteHeader(NNN) and a Write the engine must drop
//	/noread         200 without reading the body
//	/big            writes 64 MiB (for WriteTimeout)
//	anything else   the echo: 200 with the request as JSON (h1Echo)
type h1Server struct {
	s       *Server
	addr    string
	cfg     Config
	calls   atomic.Int32
	bigDone chan time.Duration // /big: how long its writes took
}

// h1Echo is what the echo handler saw.
type h1Echo struct {
	Method        string      `json:"method"`
	Target        string      `json:"target"`
	Path          string      `json:"path"`
	RawPath       string      `json:"raw_path"`
	RawQuery      string      `json:"raw_query"`
	Proto         string      `json:"proto"`
	Host          string      `json:"host"`
	Header        [][2]string `json:"header"`
	ContentLength int64       `json:"content_length"`
	Body          string      `json:"body"`
}

// values returns the values of the header fields called name (lower-case).
func (e *h1Echo) values(name string) []string {
	var vs []string
	for _, f := range e.Header {
		if f[0] == name {
			vs = append(vs, f[1])
		}
	}
	return vs
}

func newH1Server(cfg Config) (*h1Server, error) {
	hs := &h1Server{cfg: cfg.WithDefaults(), bigDone: make(chan time.Duration, 1)}
	s, err := Listen(hs, cfg, "127.0.0.1", 0)
	if err != nil {
		return nil, err
	}
	hs.s = s
	hs.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port()))
	s.Serve()
	return hs, nil
}

// startH1 starts a server that stops when the test ends.
func startH1(t *testing.T, cfg Config) *h1Server {
	t.Helper()
	hs, err := newH1Server(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hs.s.Shutdown(0) })
	return hs
}

func (hs *h1Server) Serve(w ResponseWriter, r *Request) {
	hs.calls.Add(1)
	switch {
	case r.Path == "/fixed":
		w.Header().Set("content-type", "text/plain")
		w.Send(200, []byte(h1Fixed))
	case r.Path == "/stream":
		w.Header().Set("content-type", "text/plain")
		w.Write([]byte("part1"))
		w.Flush()
		w.Write([]byte("part2"))
		w.Flush()
		w.Write([]byte("end"))
	case strings.HasPrefix(r.Path, "/status/"):
		code, _ := strconv.Atoi(r.Path[len("/status/"):])
		w.WriteHeader(code)
		w.Write([]byte("a body the engine must drop"))
	case r.Path == "/noread":
		w.Send(200, []byte("not read"))
	case r.Path == "/big":
		hs.big(w)
	default:
		hs.echo(w, r)
	}
}

// echo answers 200 with the request as JSON. Body errors are handled as
// the Python route handler (pyroute) handles them: too large is a 413 and
// closes; any other error (broken framing, a client gone) writes nothing,
// the front answering that.
func (hs *h1Server) echo(w ResponseWriter, r *Request) {
	body, err := ReadBody(r, hs.cfg.MaxBodyBytes, nil)
	if err != nil {
		if errors.Is(err, ErrBodyTooLarge) {
			r.Close = true
			WriteError(w, 413, MsgBodyTooLarge)
		}
		return
	}
	e := h1Echo{
		Method: r.Method, Target: r.Target, Path: r.Path, RawPath: r.RawPath,
		RawQuery: r.RawQuery, Proto: r.Proto(), Host: r.Host,
		ContentLength: r.ContentLength, Body: string(body),
	}
	for _, f := range r.Header.Fields() {
		e.Header = append(e.Header, [2]string{f.Name, f.Value})
	}
	out, _ := json.Marshal(e)
	w.Header().Set("content-type", "application/json")
	w.Send(200, out)
}

// big writes 64 MiB in 64 KiB writes, stopping at the first error, and
// reports how long that took.
func (hs *h1Server) big(w ResponseWriter) {
	start := time.Now()
	chunk := make([]byte, 64<<10)
	var err error
	for n := 0; n < 64<<20 && err == nil; n += len(chunk) {
		_, err = w.Write(chunk)
	}
	if err == nil {
		w.Flush()
	}
	select {
	case hs.bigDone <- time.Since(start):
	default:
	}
}

// ---------------------------------------------------------------------
// The client side: exact bytes out, a strict parser in

// h1Conn is a raw client connection.
type h1Conn struct {
	net.Conn
	br  *bufio.Reader
	rec *recorder
}

// recorder keeps the first bytes read, for error messages.
type recorder struct {
	r   io.Reader
	buf []byte
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if keep := 4096 - len(r.buf); keep > 0 {
		r.buf = append(r.buf, p[:min(n, keep)]...)
	}
	return n, err
}

func dialH1(addr string) (*h1Conn, error) {
	c, err := net.DialTimeout("tcp", addr, h1ReadBound)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	rec := &recorder{r: c}
	return &h1Conn{Conn: c, br: bufio.NewReader(rec), rec: rec}, nil
}

// dial connects to the server; the connection closes when the test ends.
func (hs *h1Server) dial(t *testing.T) *h1Conn {
	t.Helper()
	c, err := dialH1(hs.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send writes exactly s.
func (c *h1Conn) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// read reads one response to a request with this method.
func (c *h1Conn) read(t *testing.T, method string) *h1Resp {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(h1ReadBound))
	r, err := readH1Response(c.br, method)
	if err != nil {
		t.Fatalf("reading the response: %v; bytes read: %q", err, c.rec.buf)
	}
	return r
}

// readClosed waits up to bound for the connection to end: it returns nil
// on EOF or a reset, else what it saw (bytes, or still open).
func (c *h1Conn) readClosed(bound time.Duration) error {
	c.SetReadDeadline(time.Now().Add(bound))
	var b [1]byte
	n, err := c.br.Read(b[:])
	switch {
	case n > 0:
		more, _ := c.br.Peek(c.br.Buffered())
		return fmt.Errorf("connection not closed: more bytes follow: %q", append(b[:1], more...))
	case isTimeout(err):
		return fmt.Errorf("connection still open %v after the response", bound)
	case err == io.EOF || isReset(err):
		return nil
	default:
		return fmt.Errorf("connection not cleanly closed: %v", err)
	}
}

// assertClosed fails unless the server closed the connection (a read
// returns EOF within h1CloseBound, and nothing more arrives: in
// particular no response to anything sent after the last answered head).
func assertClosed(t *testing.T, c *h1Conn) {
	t.Helper()
	if err := c.readClosed(h1CloseBound); err != nil {
		t.Error(err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// h1Resp is one parsed response. Header names are lower-cased.
type h1Resp struct {
	Proto          string
	Status         int
	Reason         string
	Header         []Field
	Body           []byte
	Chunked        bool // the body came chunked
	CloseDelimited bool // the body ran to EOF
}

func (r *h1Resp) get(name string) string {
	for _, f := range r.Header {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

func (r *h1Resp) has(name string) bool {
	for _, f := range r.Header {
		if f.Name == name {
			return true
		}
	}
	return false
}

// hasToken reports whether the list field name holds token
// (case-insensitive), as Connection options are compared.
func (r *h1Resp) hasToken(name, token string) bool {
	for _, f := range r.Header {
		if f.Name != name {
			continue
		}
		for _, v := range strings.Split(f.Value, ",") {
			if strings.EqualFold(strings.TrimSpace(v), token) {
				return true
			}
		}
	}
	return false
}

func (r *h1Resp) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %s", r.Proto, r.Status, r.Reason)
	for _, f := range r.Header {
		fmt.Fprintf(&b, " | %s: %s", f.Name, f.Value)
	}
	body := r.Body
	if len(body) > 300 {
		body = body[:300]
	}
	fmt.Fprintf(&b, " | body %q", body)
	return b.String()
}

// echo decodes the echo handler's JSON body.
func (r *h1Resp) echo(t *testing.T) *h1Echo {
	t.Helper()
	var e h1Echo
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("response is not the echo: %v: %s", err, r)
	}
	return &e
}

// readLine reads one CRLF-terminated line, which must hold no bare CR or
// LF (RFC 9112 §2.2 for a sender).
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		if err == io.EOF && line != "" {
			return "", fmt.Errorf("truncated line %q", line)
		}
		return "", err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("line %q does not end in CRLF", line)
	}
	line = line[:len(line)-2]
	if strings.ContainsAny(line, "\r\n") {
		return "", fmt.Errorf("bare CR in %q", line)
	}
	return line, nil
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// readH1Response parses one response strictly (RFC 9112 §4-§7): the
// status-line, field lines without obs-fold, whitespace before the colon
// or CTLs, and the body framed by RFC 9112 §6.3. A response may not carry
// both Content-Length and Transfer-Encoding, nor either with 1xx or 204.
func readH1Response(br *bufio.Reader, method string) (*h1Resp, error) {
	line, err := readLine(br)
	if err != nil {
		return nil, err
	}
	// status-line = HTTP-version SP status-code SP [ reason-phrase ]
	if len(line) < 13 || !strings.HasPrefix(line, "HTTP/1.") || line[8] != ' ' || line[12] != ' ' ||
		(line[7] != '0' && line[7] != '1') {
		return nil, fmt.Errorf("bad status-line %q", line)
	}
	r := &h1Resp{Proto: line[:8], Reason: line[13:]}
	for i := 9; i < 12; i++ {
		if line[i] < '0' || line[i] > '9' {
			return nil, fmt.Errorf("bad status code in %q", line)
		}
	}
	r.Status, _ = strconv.Atoi(line[9:12])
	if r.Status < 100 {
		return nil, fmt.Errorf("bad status code in %q", line)
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, fmt.Errorf("in the header section: %v", err)
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) {
			return nil, fmt.Errorf("bad field line %q", line)
		}
		value = strings.Trim(value, " \t")
		for i := 0; i < len(value); i++ {
			if c := value[i]; (c < 0x20 && c != '\t') || c == 0x7f {
				return nil, fmt.Errorf("CTL in field line %q", line)
			}
		}
		r.Header = append(r.Header, Field{strings.ToLower(name), value})
	}
	var cls, tes []string
	for _, f := range r.Header {
		switch f.Name {
		case "content-length":
			cls = append(cls, f.Value)
		case "transfer-encoding":
			tes = append(tes, f.Value)
		}
	}
	if len(cls) > 0 && len(tes) > 0 {
		return nil, fmt.Errorf("response has both Content-Length and Transfer-Encoding: %s", r)
	}
	if len(cls) > 1 {
		return nil, fmt.Errorf("response has %d Content-Length fields", len(cls))
	}
	if (r.Status < 200 || r.Status == 204) && (len(cls) > 0 || len(tes) > 0) {
		return nil, fmt.Errorf("a %d response with Content-Length or Transfer-Encoding: %s", r.Status, r)
	}
	// RFC 9112 §6.3 rule 1: no content after HEAD, 1xx, 204, 304.
	if method == "HEAD" || r.Status < 200 || r.Status == 204 || r.Status == 304 {
		return r, nil
	}
	switch {
	case len(tes) > 0:
		if !strings.EqualFold(strings.Join(tes, ","), "chunked") {
			return nil, fmt.Errorf("response transfer-encoding %q", tes)
		}
		r.Chunked = true
		r.Body, err = readChunked(br)
		if err != nil {
			return nil, fmt.Errorf("chunked body: %v", err)
		}
	case len(cls) == 1:
		if !isDigits(cls[0]) || len(cls[0]) > 12 {
			return nil, fmt.Errorf("bad response content-length %q", cls[0])
		}
		n, _ := strconv.Atoi(cls[0])
		r.Body = make([]byte, n)
		if _, err := io.ReadFull(br, r.Body); err != nil {
			return nil, fmt.Errorf("body shorter than content-length %d: %v", n, err)
		}
	default:
		r.CloseDelimited = true
		r.Body, err = io.ReadAll(io.LimitReader(br, 128<<20))
		if err != nil && !isReset(err) {
			return nil, fmt.Errorf("close-delimited body: %v", err)
		}
	}
	return r, nil
}

// readChunked decodes a chunked body (RFC 9112 §7.1) strictly.
func readChunked(br *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		size, _, _ := strings.Cut(line, ";")
		if size == "" || len(size) > 8 {
			return nil, fmt.Errorf("bad chunk size line %q", line)
		}
		n, err := strconv.ParseUint(size, 16, 32)
		if err != nil {
			return nil, fmt.Errorf("bad chunk size line %q", line)
		}
		if n == 0 {
			for { // trailer section
				line, err := readLine(br)
				if err != nil {
					return nil, err
				}
				if line == "" {
					return body, nil
				}
			}
		}
		start := len(body)
		body = append(body, make([]byte, n)...)
		if _, err := io.ReadFull(br, body[start:]); err != nil {
			return nil, err
		}
		if crlf, err := readLine(br); err != nil || crlf != "" {
			return nil, fmt.Errorf("no CRLF after chunk data")
		}
	}
}

// firstMethod is the method of the first request in raw, for HEAD framing.
func firstMethod(raw string) string {
	raw = strings.TrimLeft(raw, "\r\n")
	m, _, _ := strings.Cut(raw, " ")
	return m
}

// ---------------------------------------------------------------------
// Table-driven exchanges

// h1Case is one request (or several, written at once) and what the
// server must answer.
type h1Case struct {
	name string
	cfg  *Config // nil: Config{}
	req  string  // written in one write
	// closeWrite half-closes the connection after req (a client that
	// stops sending: truncated bodies).
	closeWrite bool
	// want holds the acceptable statuses of the first response (nil:
	// 200); orNone also accepts no response at all, the connection
	// closing.
	want   []int
	orNone bool
	// close: the connection must be closed after the first response.
	close bool
	// noHandler: the handler must not run.
	noHandler bool
	// after is sent once the first response is in, when it is a 200 and
	// the connection is not closing, and must be answered with a 200
	// (default: a GET of /after, whose echo must show that path). It
	// proves the request was framed exactly.
	after string
	// check inspects what the echo handler saw (first response 200).
	check func(t *testing.T, e *h1Echo)
	// checkResp inspects the first response.
	checkResp func(t *testing.T, r *h1Resp)
}

// h1Result is what the exchange of one case produced.
type h1Result struct {
	err      error // dialing, starting or writing
	resp     *h1Resp
	respErr  error
	raw      []byte
	closeErr error // when the case wants close: nil if closed
	after    *h1Resp
	afterErr error
	calls    int32
}

// exchange runs one case against its own server, without a *testing.T,
// so that runH1 can run the cases of a table at once.
func (tc *h1Case) exchange() (res h1Result) {
	cfg := Config{}
	if tc.cfg != nil {
		cfg = *tc.cfg
	}
	hs, err := newH1Server(cfg)
	if err != nil {
		res.err = err
		return
	}
	defer hs.s.Shutdown(0)
	defer func() { res.calls = hs.calls.Load() }()
	c, err := dialH1(hs.addr)
	if err != nil {
		res.err = err
		return
	}
	defer c.Close()
	writeErr := make(chan error, 1)
	go func() { // a large request may not fit the socket buffers
		_, err := io.WriteString(c, tc.req)
		if err == nil && tc.closeWrite {
			err = c.Conn.(*net.TCPConn).CloseWrite()
		}
		writeErr <- err
	}()
	c.SetReadDeadline(time.Now().Add(h1ReadBound))
	res.resp, res.respErr = readH1Response(c.br, firstMethod(tc.req))
	res.raw = c.rec.buf
	if res.resp == nil {
		if err := <-writeErr; err != nil && !isReset(err) {
			res.err = err
		}
		return
	}
	if tc.close {
		res.closeErr = c.readClosed(h1CloseBound)
		return
	}
	if res.resp.Status != 200 || res.resp.hasToken("connection", "close") || res.resp.CloseDelimited ||
		tc.closeWrite {
		return
	}
	if err := <-writeErr; err != nil {
		res.err = err
		return
	}
	after := tc.after
	if after == "" {
		after = "GET /after HTTP/1.1\r\nHost: " + h1Host + "\r\n\r\n"
	}
	if _, err := io.WriteString(c, after); err != nil {
		res.afterErr = err
		return
	}
	c.SetReadDeadline(time.Now().Add(h1ReadBound))
	res.after, res.afterErr = readH1Response(c.br, firstMethod(after))
	return
}

// runH1 runs the cases' exchanges concurrently, then judges each in its
// subtest.
func runH1(t *testing.T, cases []h1Case) {
	t.Helper()
	results := make([]h1Result, len(cases))
	var wg sync.WaitGroup
	for i := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = cases[i].exchange()
		}()
	}
	wg.Wait()
	for i := range cases {
		tc, res := &cases[i], &results[i]
		t.Run(tc.name, func(t *testing.T) { judgeH1(t, tc, res) })
	}
}

func judgeH1(t *testing.T, tc *h1Case, res *h1Result) {
	t.Helper()
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := tc.want
	if want == nil {
		want = []int{200}
	}
	if res.resp == nil {
		switch {
		case tc.orNone && (res.respErr == io.EOF || isReset(res.respErr)):
			// closed without a response: allowed
		default:
			t.Fatalf("want status %v, got no response: %v; bytes read: %q", want, res.respErr, res.raw)
		}
	} else {
		ok := false
		for _, s := range want {
			ok = ok || res.resp.Status == s
		}
		if !ok {
			t.Errorf("want status %v, got %s", want, res.resp)
		}
		if tc.checkResp != nil {
			tc.checkResp(t, res.resp)
		}
		if tc.check != nil && res.resp.Status == 200 {
			tc.check(t, res.resp.echo(t))
		}
	}
	if tc.close && res.resp != nil && res.closeErr != nil {
		t.Error(res.closeErr)
	}
	if tc.noHandler && res.calls != 0 {
		t.Errorf("the handler ran (%d calls) for a rejected request", res.calls)
	}
	if res.after != nil || res.afterErr != nil {
		if res.afterErr != nil {
			t.Errorf("next request on the connection: %v", res.afterErr)
		} else if res.after.Status != 200 {
			t.Errorf("next request on the connection: %s", res.after)
		} else if tc.after == "" {
			var e h1Echo
			if err := json.Unmarshal(res.after.Body, &e); err != nil || e.Path != "/after" {
				t.Errorf("next request on the connection was answered with %s", res.after)
			}
		}
	}
}

// Request builders.

// h1Get is a GET of target with Host and the given extra field lines.
func h1Get(target string, fields ...string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: " + h1Host + "\r\n" + joinFields(fields) + "\r\n"
}

// h1Post is a POST of /echo with Host, the extra field lines, and body.
func h1Post(body string, fields ...string) string {
	return "POST /echo HTTP/1.1\r\nHost: " + h1Host + "\r\n" + joinFields(fields) + "\r\n" + body
}

func joinFields(fields []string) string {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f)
		b.WriteString("\r\n")
	}
	return b.String()
}

// Checks on the echo.

func wantPath(path string) func(*testing.T, *h1Echo) {
	return func(t *testing.T, e *h1Echo) {
		t.Helper()
		if e.Path != path {
			t.Errorf("handler saw path %q, want %q", e.Path, path)
		}
	}
}

func wantBody(body string) func(*testing.T, *h1Echo) {
	return func(t *testing.T, e *h1Echo) {
		t.Helper()
		if e.Body != body {
			t.Errorf("handler read body %q, want %q", e.Body, body)
		}
	}
}

func wantField(name string, values ...string) func(*testing.T, *h1Echo) {
	return func(t *testing.T, e *h1Echo) {
		t.Helper()
		got := e.values(name)
		if strings.Join(got, "\x00") != strings.Join(values, "\x00") || len(got) != len(values) {
			t.Errorf("handler saw %s = %q, want %q (header %q)", name, got, values, e.Header)
		}
	}
}

func checks(fs ...func(*testing.T, *h1Echo)) func(*testing.T, *h1Echo) {
	return func(t *testing.T, e *h1Echo) {
		t.Helper()
		for _, f := range fs {
			f(t, e)
		}
	}
}

// Shorthands for want.
var (
	s400 = []int{400}
	s413 = []int{413}
	s414 = []int{414}
	s431 = []int{431}
	s501 = []int{501}
	s505 = []int{505}
)

// ---------------------------------------------------------------------
// RFC 9112 §2: message format and parsing

func TestRFC9112MessageParsing(t *testing.T) {
	runH1(t, []h1Case{
		// §2.2: "a server that is expecting to receive and parse a
		// request-line SHOULD ignore at least one empty line (CRLF)
		// received prior to the request-line."
		{name: "leading CRLF ignored", req: "\r\n" + h1Get("/lead"), check: wantPath("/lead")},
		// §2.2 (choice): more than one leading empty line is ignored too.
		{name: "two leading CRLFs ignored", req: "\r\n\r\n" + h1Get("/lead"), check: wantPath("/lead")},
		// §2.2: "A recipient of such a bare CR MUST consider that element
		// to be invalid or replace each bare CR with SP": databridge
		// rejects (400) and closes.
		{name: "bare CR in request-line", req: "GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "bare CR ends request-line", req: "GET / HTTP/1.1\rHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "bare CR in field value", req: h1Get("/", "X-A: a\rb"), want: s400, close: true, noHandler: true},
		{name: "bare CR in field name", req: h1Get("/", "X\r-A: a"), want: s400, close: true, noHandler: true},
		{name: "bare CR ends header section", req: "GET / HTTP/1.1\r\nHost: x\r\n\r\r\n", want: s400, close: true, noHandler: true},
		// §2.2: "A recipient MAY recognize a single LF as a line
		// terminator": databridge does not (choice: strict); a bare LF
		// anywhere in the head is a 400 and closes.
		{name: "bare LF everywhere", req: "GET / HTTP/1.1\nHost: x\n\n", want: s400, close: true, noHandler: true},
		{name: "bare LF ends request-line", req: "GET / HTTP/1.1\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "bare LF ends a field line", req: "GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "bare LF ends header section", req: "GET / HTTP/1.1\r\nHost: x\r\n\n", want: s400, close: true, noHandler: true},
		{name: "bare LF as leading empty line", req: "\n" + h1Get("/"), want: s400, close: true, noHandler: true},
		// §2.2: "A recipient that receives whitespace between the
		// start-line and the first header field MUST either reject the
		// message as invalid or consume each whitespace-preceded line
		// without further processing of it": databridge rejects.
		{name: "SP before first field", req: "GET / HTTP/1.1\r\n Host: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "HTAB before first field", req: "GET / HTTP/1.1\r\n\tX-A: b\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		// §2.2: a server that receives octets that do not match the
		// HTTP-message grammar "SHOULD respond with a 400 (Bad Request)
		// response and close the connection".
		{name: "garbage", req: "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", want: s400, orNone: true, close: true, noHandler: true},
	})
}

// ---------------------------------------------------------------------
// RFC 9112 §3 (request line), §3.1 (method), §2.3 and RFC 9110 §2.5
// (version)

func TestRFC9112RequestLine(t *testing.T) {
	runH1(t, []h1Case{
		// §3: request-line = method SP request-target SP HTTP-version.
		{name: "valid", req: h1Get("/ok"), check: checks(wantPath("/ok"), func(t *testing.T, e *h1Echo) {
			if e.Method != "GET" || e.Proto != "HTTP/1.1" {
				t.Errorf("handler saw %s %s", e.Method, e.Proto)
			}
		})},
		// §3.1 / RFC 9110 §9.1: "The method token is case-sensitive":
		// the handler sees the method as sent, any token is a method.
		{name: "method is case-sensitive", req: "get / HTTP/1.1\r\nHost: x\r\n\r\n", check: func(t *testing.T, e *h1Echo) {
			if e.Method != "get" {
				t.Errorf("handler saw method %q, want %q", e.Method, "get")
			}
		}},
		{name: "extension method token", req: "M-SEARCH!~ / HTTP/1.1\r\nHost: x\r\n\r\n", check: func(t *testing.T, e *h1Echo) {
			if e.Method != "M-SEARCH!~" {
				t.Errorf("handler saw method %q", e.Method)
			}
		}},
		// §3.1: method = token; a request-line that is not the grammar is
		// invalid: "Recipients of an invalid request-line SHOULD respond
		// with either a 400 (Bad Request) error or a 301" (400 here).
		{name: "method with non-token char", req: "G@T / HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "method with non-ASCII", req: "G\xc9T / HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "empty method", req: " / HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		// §3 (choice): "recipients MAY instead parse on whitespace-delimited
		// word boundaries": databridge does not; only single SPs separate.
		{name: "two SPs after method", req: "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "two SPs before version", req: "GET /  HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "HTAB separators", req: "GET\t/\tHTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "trailing SP", req: "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "leading SP", req: " GET / HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		// §3: the version is required (HTTP/0.9's "GET /" is not HTTP/1.1
		// grammar and is not served).
		{name: "missing version", req: "GET /\r\nHost: x\r\n\r\n", want: s400, orNone: true, close: true, noHandler: true},
		{name: "missing target and version", req: "GET\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "empty request-line after CRLF", req: "\r\n \r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		// §2.3: "HTTP-version is case-sensitive"; HTTP-name = %s"HTTP".
		{name: "lower-case http name", req: "GET / http/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "mixed-case http name", req: "GET / Http/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		// §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT.
		{name: "version without minor", req: "GET / HTTP/1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "two-digit minor", req: "GET / HTTP/1.10\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "two-digit major", req: "GET / HTTP/01.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "version with letters", req: "GET / HTTP/1.x\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "unknown protocol name", req: "GET / FTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		// RFC 9110 §2.5: a recipient of a higher minor version of a major
		// it implements "SHOULD process the message as if it were in the
		// highest minor version within that major version to which the
		// recipient is conformant", and "A server SHOULD send a response
		// version equal to the highest version to which the server is
		// conformant that has a major version less than or equal to the
		// one received": HTTP/1.2 is served as HTTP/1.1 and answered
		// HTTP/1.1 (and, being 1.1, needs Host).
		{name: "HTTP/1.2 served as 1.1", req: "GET /v HTTP/1.2\r\nHost: x\r\n\r\n", check: func(t *testing.T, e *h1Echo) {
			if e.Proto != "HTTP/1.1" {
				t.Errorf("handler saw %s, want HTTP/1.1", e.Proto)
			}
		}, checkResp: func(t *testing.T, r *h1Resp) {
			if r.Proto != "HTTP/1.1" {
				t.Errorf("response version %s to an HTTP/1.2 request", r.Proto)
			}
		}},
		{name: "HTTP/1.9 without Host", req: "GET / HTTP/1.9\r\n\r\n", want: s400, close: true, noHandler: true},
		// RFC 9110 §15.6.6: 505 when the server does not support the
		// major version. HTTP/2.0 in a request-line that is not the h2
		// connection preface (RFC 9113 §3.4) and HTTP/3.0 are 505.
		{name: "HTTP/2.0 request-line", req: "GET / HTTP/2.0\r\nHost: x\r\n\r\n", want: s505, close: true, noHandler: true},
		{name: "HTTP/3.0", req: "GET / HTTP/3.0\r\nHost: x\r\n\r\n", want: s505, close: true, noHandler: true},
		{name: "HTTP/9.9", req: "GET / HTTP/9.9\r\nHost: x\r\n\r\n", want: s505, close: true, noHandler: true},
		// HTTP/0.9 is not served: 505 (major 0) or 400.
		{name: "HTTP/0.9", req: "GET / HTTP/0.9\r\nHost: x\r\n\r\n", want: []int{505, 400}, close: true, noHandler: true},
		// HTTP/1.0 is served as HTTP/1.0.
		{name: "HTTP/1.0", req: "GET /ten HTTP/1.0\r\n\r\n", close: true, check: func(t *testing.T, e *h1Echo) {
			if e.Proto != "HTTP/1.0" || e.Path != "/ten" {
				t.Errorf("handler saw %s %s", e.Proto, e.Path)
			}
		}},
	})
}

// ---------------------------------------------------------------------
// RFC 9112 §3.2 (request-target forms), §3.3 (target URI), RFC 3986

func TestRFC9112RequestTarget(t *testing.T) {
	runH1(t, []h1Case{
		// §3.2.1 origin-form = absolute-path [ "?" query ].
		{name: "origin-form with query", req: h1Get("/a/b%20c?x=1&y=%2F"), check: func(t *testing.T, e *h1Echo) {
			if e.Path != "/a/b c" || e.RawPath != "/a/b%20c" || e.RawQuery != "x=1&y=%2F" || e.Target != "/a/b%20c?x=1&y=%2F" {
				t.Errorf("handler saw target %q path %q raw %q query %q", e.Target, e.Path, e.RawPath, e.RawQuery)
			}
		}},
		// RFC 3986 §2.2: sub-delims, ":" and "@" are allowed raw in a path.
		{name: "origin-form sub-delims", req: h1Get("/a:b@c!$&'()*+,;=d"), check: wantPath("/a:b@c!$&'()*+,;=d")},
		{name: "query with ? and /", req: h1Get("/q?a=/b?c"), check: func(t *testing.T, e *h1Echo) {
			if e.Path != "/q" || e.RawQuery != "a=/b?c" {
				t.Errorf("handler saw path %q query %q", e.Path, e.RawQuery)
			}
		}},
		// §3.2.2: "A server MUST accept the absolute-form in requests"
		// and (origin server) "MUST ignore the received Host header field
		// (if any) and instead use the host information of the
		// request-target": the handler sees the target's authority as
		// Host, in Request.Host and in the host field it is given.
		{name: "absolute-form", req: "GET http://other.example:8080/p/q?x=1 HTTP/1.1\r\nHost: ignored.example\r\n\r\n",
			check: func(t *testing.T, e *h1Echo) {
				if e.Host != "other.example:8080" || e.Path != "/p/q" || e.RawQuery != "x=1" {
					t.Errorf("handler saw host %q path %q query %q", e.Host, e.Path, e.RawQuery)
				}
				if hs := e.values("host"); len(hs) != 1 || hs[0] != "other.example:8080" {
					t.Errorf("handler saw host fields %q, want only the target's authority", hs)
				}
			}},
		// RFC 9110 §4.2.3: an empty path in an http URI is "/".
		{name: "absolute-form without path", req: "GET http://other.example HTTP/1.1\r\nHost: other.example\r\n\r\n",
			check: checks(wantPath("/"), func(t *testing.T, e *h1Echo) {
				if e.Host != "other.example" {
					t.Errorf("handler saw host %q", e.Host)
				}
			})},
		{name: "absolute-form https", req: "GET https://other.example/s HTTP/1.1\r\nHost: other.example\r\n\r\n", check: wantPath("/s")},
		// RFC 9110 §4.2.1: "A sender MUST NOT generate an "http" URI with
		// an empty host identifier. A recipient that processes such a URI
		// reference MUST reject it as invalid."
		{name: "absolute-form empty host", req: "GET http:///p HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		// RFC 9110 §4.2.4: userinfo in an http URI is deprecated; "A
		// recipient SHOULD parse for userinfo and treat its presence as an
		// error".
		{name: "absolute-form with userinfo", req: "GET http://user@other.example/ HTTP/1.1\r\nHost: other.example\r\n\r\n", want: s400, close: true, noHandler: true},
		// §3.2.4: the asterisk-form "is only used for a server-wide
		// OPTIONS request": any other method with "*" is invalid.
		// The server-wide OPTIONS is served: by the handler (which then
		// sees the target "*") or by the front itself (200 or 204).
		{name: "OPTIONS *", req: "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", want: []int{200, 204}, checkResp: func(t *testing.T, r *h1Resp) {
			var e h1Echo
			if json.Unmarshal(r.Body, &e) == nil && (e.Method != "OPTIONS" || e.Target != "*") {
				t.Errorf("handler saw %s %q", e.Method, e.Target)
			}
		}},
		{name: "GET *", req: "GET * HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "POST *", req: "POST * HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "OPTIONS *x", req: "OPTIONS *x HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		// §3.2.3: authority-form is only for CONNECT. databridge is an
		// origin server, not a proxy: CONNECT is answered 501 (method not
		// implemented, RFC 9110 §15.6.2) or 405; either is conformant.
		{name: "CONNECT authority-form", req: "CONNECT other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n", want: []int{501, 405}},
		// §3.2.3: authority-form with another method is invalid.
		{name: "GET authority-form", req: "GET other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n", want: s400, close: true, noHandler: true},
		// A target that is no form at all.
		{name: "relative path", req: "GET a/b HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "empty target", req: "GET  HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		// §3.2: "No whitespace is allowed in the request-target"; RFC 3986
		// allows neither raw non-ASCII, CTLs nor "#" (a fragment is not
		// part of a request-target, RFC 9110 §7.1).
		{name: "SP in target", req: "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "HTAB in target", req: "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "raw UTF-8 in target", req: "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "raw byte 0xff in query", req: "GET /?q=\xff HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "NUL in target", req: "GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "CTL 0x01 in target", req: "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "DEL in target", req: "GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "fragment", req: "GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "fragment after query", req: "GET /a?b#c HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
		// RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG; a path that does
		// not decode cannot be routed: 400.
		{name: "bad %-escape", req: h1Get("/a%zz"), want: s400, noHandler: true},
		{name: "truncated %-escape", req: h1Get("/a%4"), want: s400, noHandler: true},
		{name: "lone %", req: h1Get("/a%"), want: s400, noHandler: true},
		// Percent-decoding happens once: %252F is "%2F" in the path.
		{name: "%-escape decoded once", req: h1Get("/a%252Fb%2Fc"), check: func(t *testing.T, e *h1Echo) {
			if e.Path != "/a%2Fb/c" || e.RawPath != "/a%252Fb%2Fc" {
				t.Errorf("handler saw path %q raw %q", e.Path, e.RawPath)
			}
		}},
	})
}

// ---------------------------------------------------------------------
// RFC 9112 §3.2 and RFC 9110 §7.2: Host

func TestRFC9112Host(t *testing.T) {
	runH1(t, []h1Case{
		{name: "Host", req: h1Get("/h"), check: func(t *testing.T, e *h1Echo) {
			if e.Host != h1Host {
				t.Errorf("handler saw host %q", e.Host)
			}
		}},
		{name: "Host with port", req: "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", check: func(t *testing.T, e *h1Echo) {
			if e.Host != "example.com:8080" {
				t.Errorf("handler saw host %q", e.Host)
			}
		}},
		{name: "Host IPv6 literal", req: "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", check: func(t *testing.T, e *h1Echo) {
			if e.Host != "[::1]:8080" {
				t.Errorf("handler saw host %q", e.Host)
			}
		}},
		// RFC 9110 §5.1: field names are case-insensitive.
		{name: "HOST upper-case name", req: "GET / HTTP/1.1\r\nHOST: example.com\r\n\r\n", check: func(t *testing.T, e *h1Echo) {
			if e.Host != h1Host {
				t.Errorf("handler saw host %q", e.Host)
			}
		}},
		// §3.2: "A server MUST respond with a 400 (Bad Request) status code
		// to any HTTP/1.1 request message that lacks a Host header field
		// and to any request message that contains more than one Host
		// header field line or a Host header field with an invalid field
		// value."
		{name: "HTTP/1.1 without Host", req: "GET / HTTP/1.1\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "two Host fields", req: "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "two identical Host fields", req: "GET / HTTP/1.1\r\nHost: a.example\r\nHost: a.example\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "Host list", req: "GET / HTTP/1.1\r\nHost: a.example, b.example\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "HTTP/1.0 with two Host fields", req: "GET / HTTP/1.0\r\nHost: a.example\r\nHost: b.example\r\n\r\n", want: s400, close: true, noHandler: true},
		// RFC 9110 §4.2.1: an http URI with an empty host "MUST" be
		// rejected; an empty Host makes the target URI one (§7.2).
		{name: "empty Host", req: "GET / HTTP/1.1\r\nHost:\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "blank Host", req: "GET / HTTP/1.1\r\nHost:   \r\n\r\n", want: s400, close: true, noHandler: true},
		// Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2).
		{name: "Host with SP", req: "GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "Host with slash", req: "GET / HTTP/1.1\r\nHost: example.com/a\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "Host with userinfo", req: "GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "Host with bad port", req: "GET / HTTP/1.1\r\nHost: example.com:80a\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "Host unclosed IPv6", req: "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "Host with query", req: "GET / HTTP/1.1\r\nHost: example.com?x\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "Host with non-ASCII", req: "GET / HTTP/1.1\r\nHost: ex\xc3\xa4mple.com\r\n\r\n", want: s400, close: true, noHandler: true},
		// §3.2 applies the Host requirement to HTTP/1.1 only: an HTTP/1.0
		// request without Host is served with an empty Host.
		{name: "HTTP/1.0 without Host", req: "GET /old HTTP/1.0\r\n\r\n", close: true, check: func(t *testing.T, e *h1Echo) {
			if e.Host != "" || e.Path != "/old" {
				t.Errorf("handler saw host %q path %q", e.Host, e.Path)
			}
		}},
	})
}

// ---------------------------------------------------------------------
// RFC 9112 §5 and RFC 9110 §5: field syntax

func TestRFC9112FieldSyntax(t *testing.T) {
	runH1(t, []h1Case{
		// RFC 9112 §5: "No whitespace is allowed between the field name
		// and colon. ... A server MUST reject, with a response status code
		// of 400 (Bad Request), any received request message that contains
		// whitespace between a header field name and colon."
		{name: "SP before colon", req: h1Get("/", "X-A : b"), want: s400, close: true, noHandler: true},
		{name: "HTAB before colon", req: h1Get("/", "X-A\t: b"), want: s400, close: true, noHandler: true},
		{name: "SP before colon in Host", req: "GET / HTTP/1.1\r\nHost : example.com\r\n\r\n", want: s400, close: true, noHandler: true},
		{name: "SP before colon in Content-Length", req: h1Post("hello", "Content-Length : 5"), want: s400, close: true, noHandler: true},
		// RFC 9112 §5.2: "A server that receives an obs-fold in a request
		// message ... MUST either reject the message by sending a 400 (Bad
		// Request) ... or replace each received obs-fold with one or more
		// SP octets": databridge rejects.
		{name: "obs-fold SP", req: h1Get("/", "X-A: a", " b"), want: s400, close: true, noHandler: true},
		{name: "obs-fold HTAB", req: h1Get("/", "X-A: a", "\tb"), want: s400, close: true, noHandler: true},
		{name: "obs-fold of Transfer-Encoding", req: h1Post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding:", " chunked"), want: s400, close: true, noHandler: true},
		// RFC 9110 §5.1 / §5.6.2: field-name = token; RFC 9112 §5:
		// field-line = field-name ":" OWS field-value OWS. Anything else
		// does not match the grammar (RFC 9112 §2.2: 400 and close).
		{name: "name with (", req: h1Get("/", "X(A): b"), want: s400, close: true, noHandler: true},
		{name: "name with SP", req: h1Get("/", "X A: b"), want: s400, close: true, noHandler: true},
		{name: "name with quote", req: h1Get("/", `X"A: b`), want: s400, close: true, noHandler: true},
		{name: "name with slash", req: h1Get("/", "X/A: b"), want: s400, close: true, noHandler: true},
		{name: "name with brace", req: h1Get("/", "X{A}: b"), want: s400, close: true, noHandler: true},
		{name: "name with NUL", req: h1Get("/", "X\x00A: b"), want: s400, close: true, noHandler: true},
		{name: "name with non-ASCII", req: h1Get("/", "X\xc3\xa9: b"), want: s400, close: true, noHandler: true},
		{name: "empty name", req: h1Get("/", ": b"), want: s400, close: true, noHandler: true},
		{name: "no colon", req: h1Get("/", "X-A b"), want: s400, close: true, noHandler: true},
		{name: "every tchar", req: h1Get("/", "X-!#$%&'*+.^_`|~09az: v"), check: wantField("x-!#$%&'*+.^_`|~09az", "v")},
		// RFC 9110 §5.5: "A recipient of CR, LF, or NUL within a field
		// value MUST either reject the message or replace each of those
		// characters with SP": databridge rejects. Other CTLs "are also
		// invalid; however, recipients MAY retain such characters": choice,
		// rejected too.
		{name: "NUL in value", req: h1Get("/", "X-A: a\x00b"), want: s400, close: true, noHandler: true},
		{name: "CTL 0x01 in value", req: h1Get("/", "X-A: a\x01b"), want: s400, close: true, noHandler: true},
		{name: "ESC in value", req: h1Get("/", "X-A: a\x1bb"), want: s400, close: true, noHandler: true},
		{name: "DEL in value", req: h1Get("/", "X-A: a\x7fb"), want: s400, close: true, noHandler: true},
		{name: "VT in value", req: h1Get("/", "X-A: a\x0bb"), want: s400, close: true, noHandler: true},
		// field-content allows SP and HTAB inside, and obs-text (bytes
		// 0x80-0xFF): the handler sees them as sent.
		{name: "HTAB and SP inside value", req: h1Get("/", "X-A: a \t b"), check: wantField("x-a", "a \t b")},
		{name: "obs-text in value", req: h1Get("/", "X-A: caf\xc3\xa9"), check: wantField("x-a", "caf\xc3\xa9")},
		// RFC 9112 §5.1 / RFC 9110 §5.5: "a field value does not include
		// leading or trailing whitespace": OWS around the value is
		// excluded; the handler sees the value trimmed.
		{name: "OWS trimmed", req: h1Get("/", "X-A:  \t v \t "), check: wantField("x-a", "v")},
		{name: "no OWS", req: h1Get("/", "X-A:v"), check: wantField("x-a", "v")},
		{name: "inner SP kept", req: h1Get("/", "X-A:   a  b  "), check: wantField("x-a", "a  b")},
		{name: "empty value", req: h1Get("/", "X-A:"), check: wantField("x-a", "")},
		{name: "value of OWS only", req: h1Get("/", "X-A: \t "), check: wantField("x-a", "")},
		// RFC 9110 §5.1: names are case-insensitive; the engine hands them
		// lower-case (Request.Header).
		{name: "names lower-cased", req: h1Get("/", "X-Mixed-CASE: v"), check: wantField("x-mixed-case", "v")},
		// RFC 9110 §5.3: "the order in which field lines with the same
		// name are received is ... significant": repeated fields reach
		// the handler separately, in order, and (Request.Header) every
		// field in arrival order, Host included.
		{name: "arrival order kept", req: "GET / HTTP/1.1\r\nX-B: 1\r\nHost: example.com\r\nX-A: 2\r\nX-B: 3\r\n\r\n",
			check: func(t *testing.T, e *h1Echo) {
				want := [][2]string{{"x-b", "1"}, {"host", h1Host}, {"x-a", "2"}, {"x-b", "3"}}
				if fmt.Sprint(e.Header) != fmt.Sprint(want) {
					t.Errorf("handler saw header %q, want %q", e.Header, want)
				}
			}},
	})
}

// ---------------------------------------------------------------------
// Limits: RFC 9112 §3 (414), RFC 9110 §5.4 and RFC 6585 §5 (431)

func TestRFC9110FieldLimits(t *testing.T) {
	long := func(n int) string { return "/" + strings.Repeat("a", n-1) } // a target of n bytes
	fields := func(n, size int) []string {
		fs := make([]string, n)
		for i := range fs {
			fs[i] = fmt.Sprintf("X-F%d: %s", i, strings.Repeat("v", size))
		}
		return fs
	}
	small := &Config{MaxTargetBytes: 64, MaxHeaderBytes: 1024, MaxHeaderFields: 10}
	runH1(t, []h1Case{
		// RFC 9112 §3: "A server that receives a request-target longer
		// than any URI it wishes to parse MUST respond with a 414 (URI Too
		// Long) status code"; it is "RECOMMENDED that all HTTP senders and
		// recipients support, at a minimum, request-line lengths of 8000
		// octets" (the default, 16 KiB, does).
		{name: "target of 8000 bytes", req: h1Get(long(8000)), check: wantPath(long(8000))},
		{name: "target at the default limit", req: h1Get(long(DefaultMaxTargetBytes)), check: wantPath(long(DefaultMaxTargetBytes))},
		{name: "target over the default limit", req: h1Get(long(DefaultMaxTargetBytes + 1)), want: s414, close: true, noHandler: true},
		{name: "target of 1 MB", req: h1Get(long(1 << 20)), want: s414, close: true, noHandler: true},
		{name: "query counts in the target", req: h1Get("/?" + strings.Repeat("q", DefaultMaxTargetBytes)), want: s414, close: true, noHandler: true},
		{name: "target at a configured limit", cfg: small, req: h1Get(long(64)), check: wantPath(long(64))},
		{name: "target over a configured limit", cfg: small, req: h1Get(long(65)), want: s414, close: true, noHandler: true},
		// RFC 9110 §5.4: "A server that receives a request header field
		// line, field value, or set of fields larger than it wishes to
		// process MUST respond with an appropriate 4xx (Client Error)
		// status code": 431 (RFC 6585 §5), and close (the rest of the
		// header section is not read).
		{name: "header section under the default limit", req: h1Get("/", fields(8, 7<<10)...)},
		{name: "one field over the default limit", req: h1Get("/", "X-Big: "+strings.Repeat("v", 70<<10)), want: s431, close: true, noHandler: true},
		{name: "header section over the default limit", req: h1Get("/", fields(10, 7<<10)...), want: s431, close: true, noHandler: true},
		{name: "header section of 1 MB", req: h1Get("/", fields(128, 8<<10)...), want: s431, close: true, noHandler: true},
		{name: "header section under a configured limit", cfg: &Config{MaxHeaderBytes: 1024}, req: h1Get("/", fields(2, 300)...)},
		{name: "header section over a configured limit", cfg: &Config{MaxHeaderBytes: 1024}, req: h1Get("/", fields(4, 300)...), want: s431, close: true, noHandler: true},
		// The field count, Host included: 100 fields pass with the
		// default MaxHeaderFields (100), 101 are a 431.
		{name: "100 fields", req: h1Get("/", fields(99, 1)...), check: func(t *testing.T, e *h1Echo) {
			if len(e.Header) != 100 {
				t.Errorf("handler saw %d fields, want 100", len(e.Header))
			}
		}},
		{name: "101 fields", req: h1Get("/", fields(100, 1)...), want: s431, close: true, noHandler: true},
		{name: "10 fields with MaxHeaderFields 10", cfg: small, req: h1Get("/", fields(9, 1)...)},
		{name: "11 fields with MaxHeaderFields 10", cfg: small, req: h1Get("/", fields(10, 1)...), want: s431, close: true, noHandler: true},
		// Empty fields count as fields.
		{name: "101 empty fields", req: h1Get("/", strings.Split(strings.Repeat("X-E:\n", 100), "\n")[:100]...), want: s431, close: true, noHandler: true},
	})
}

// ---------------------------------------------------------------------
// RFC 9110 §8.6 and RFC 9112 §6.2, §6.3, §8: Content-Length

func TestRFC9110ContentLength(t *testing.T) {
	bad := func(name string, fields ...string) h1Case {
		return h1Case{name: name, req: h1Post("hello", fields...), want: s400, close: true, noHandler: true}
	}
	runH1(t, []h1Case{
		// RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3 rule 6:
		// a valid Content-Length is the body length.
		{name: "valid", req: h1Post("hello", "Content-Length: 5"), check: checks(wantBody("hello"), func(t *testing.T, e *h1Echo) {
			if e.ContentLength != 5 {
				t.Errorf("handler saw ContentLength %d", e.ContentLength)
			}
		})},
		{name: "zero", req: h1Post("", "Content-Length: 0"), check: wantBody("")},
		{name: "leading zeros", req: h1Post("hello", "Content-Length: 0005"), check: wantBody("hello")},
		{name: "OWS around the value", req: h1Post("hello", "Content-Length: \t5 "), check: wantBody("hello")},
		{name: "name case-insensitive", req: h1Post("hello", "CONTENT-LENGTH: 5"), check: wantBody("hello")},
		// RFC 9112 §6: "Request message framing is independent of method
		// semantics": a GET's Content-Length frames a body too.
		{name: "GET with a body", req: h1Get("/echo", "Content-Length: 5") + "hello", check: wantBody("hello")},
		// RFC 9112 §6.3 rule 7: no Content-Length nor Transfer-Encoding
		// in a request means no body: what follows is the next request.
		{name: "no framing means no body", req: h1Post(""), check: wantBody("")},
		// RFC 9112 §6.3 rule 5: "If a message is received without
		// Transfer-Encoding and with an invalid Content-Length header
		// field, then the message framing is invalid and the recipient
		// MUST treat it as an unrecoverable error ... the server MUST
		// respond with a 400 (Bad Request) status code and then close the
		// connection."
		bad("letters", "Content-Length: abc"),
		bad("plus sign", "Content-Length: +5"),
		bad("minus sign", "Content-Length: -5"),
		bad("hex", "Content-Length: 0x5"),
		bad("decimal point", "Content-Length: 5.0"),
		bad("exponent", "Content-Length: 5e0"),
		bad("inner SP", "Content-Length: 5 5"),
		bad("empty", "Content-Length:"),
		bad("non-ASCII digit", "Content-Length: \xd9\xa5"),
		bad("different values in a list", "Content-Length: 5, 6"),
		bad("different values in two fields", "Content-Length: 5", "Content-Length: 6"),
		bad("trailing comma", "Content-Length: 5,"),
		// RFC 9110 §8.6: "a recipient MUST anticipate potentially large
		// decimal numerals and prevent parsing errors due to integer
		// conversion overflows or precision loss".
		bad("overflows int64", "Content-Length: 9223372036854775808"),
		bad("overflows uint64", "Content-Length: 18446744073709551616"),
		bad("overflows 20 digits", "Content-Length: 99999999999999999999999"),
		// RFC 9112 §6.3 rule 5 lets a recipient accept a list of identical
		// values ("5, 5") as one; RFC 9110 §8.6 "MAY either reject the
		// message as invalid or replace that invalid field value with a
		// single instance": databridge rejects (choice), as it does two
		// identical fields.
		bad("identical values in a list", "Content-Length: 5, 5"),
		bad("identical values in two fields", "Content-Length: 5", "Content-Length: 5"),
		// RFC 9112 §8: "A message that uses a valid Content-Length is
		// incomplete if the size of the message body received (in octets)
		// is less than the value given by Content-Length"; §6.3: "If the
		// sender closes the connection ... before the indicated number of
		// octets are received, the recipient MUST consider the message to
		// be incomplete and close the connection." Never a 200.
		{name: "body shorter than Content-Length then EOF", req: h1Post("hello", "Content-Length: 10"), closeWrite: true, want: s400, orNone: true, close: true},
		{name: "no body then EOF", req: h1Post("", "Content-Length: 10"), closeWrite: true, want: s400, orNone: true, close: true},
	})
}

// ---------------------------------------------------------------------
// RFC 9112 §6.1, §6.3, §7: Transfer-Encoding

func TestRFC9112TransferEncoding(t *testing.T) {
	const chunked = "5\r\nhello\r\n0\r\n\r\n"
	// smuggle ends a chunked body early: what follows is a request that
	// must never be answered.
	const smuggle = "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n"
	te := func(name, value, want string) h1Case {
		return h1Case{name: name, req: h1Post(chunked, "Transfer-Encoding: "+value), check: wantBody(want)}
	}
	reject := func(name string, status []int, close bool, req string) h1Case {
		return h1Case{name: name, req: req, want: status, close: close, noHandler: true}
	}
	runH1(t, []h1Case{
		// RFC 9112 §6.1: "A recipient MUST be able to parse the chunked
		// transfer coding"; §7: "All transfer-coding names are
		// case-insensitive".
		te("chunked", "chunked", "hello"),
		te("Chunked", "Chunked", "hello"),
		te("CHUNKED", "CHUNKED", "hello"),
		te("OWS around chunked", "  chunked\t", "hello"),
		// RFC 9110 §5.6.1.2: "a recipient MUST parse and ignore a
		// reasonable number of empty list elements".
		te("empty list elements", ", ,chunked,", "hello"),
		// RFC 9112 §6.3 rule 3: with both Transfer-Encoding and
		// Content-Length, "the server MUST close the connection after
		// responding to such a request"; databridge rejects it (400, as
		// the RFC allows). The request smuggled in the body must never be
		// answered.
		reject("CL and TE", s400, true, h1Post(smuggle, "Content-Length: 4", "Transfer-Encoding: chunked")),
		reject("TE and CL", s400, true, h1Post(smuggle, "Transfer-Encoding: chunked", "Content-Length: 56")),
		reject("CL 0 and TE", s400, true, h1Post(chunked+h1Get("/smuggled"), "Content-Length: 0", "Transfer-Encoding: chunked")),
		reject("CL and TE Chunked", s400, true, h1Post(smuggle, "Content-Length: 4", "Transfer-Encoding: Chunked")),
		reject("CL and TE gzip, chunked", s400, true, h1Post(smuggle, "Content-Length: 4", "Transfer-Encoding: gzip, chunked")),
		// RFC 9112 §6.1: "A server or client that receives an HTTP/1.0
		// message containing a Transfer-Encoding header field MUST treat
		// the message as if the framing is faulty, even if a
		// Content-Length is present, and close the connection after
		// processing the message": databridge answers 400 and closes.
		reject("TE on HTTP/1.0", s400, true, "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"+smuggle),
		reject("TE and CL on HTTP/1.0", s400, true, "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"+chunked),
		// RFC 9112 §6.3 rule 4: "If a Transfer-Encoding header field is
		// present in a request and the chunked transfer coding is not the
		// final encoding, the message body length cannot be determined
		// reliably; the server MUST respond with the 400 (Bad Request)
		// status code and then close the connection." This MUST governs
		// "gzip" alone (chunked is not final), before §6.1's SHOULD 501.
		reject("gzip alone", s400, true, h1Post(smuggle, "Transfer-Encoding: gzip")),
		reject("chunked, gzip", s400, true, h1Post(smuggle, "Transfer-Encoding: chunked, gzip")),
		reject("identity", s400, true, h1Post(smuggle, "Transfer-Encoding: identity")),
		reject("unknown coding alone", s400, true, h1Post(smuggle, "Transfer-Encoding: foo")),
		reject("xchunked", s400, true, h1Post(smuggle, "Transfer-Encoding: xchunked")),
		reject("chunked-false", s400, true, h1Post(smuggle, "Transfer-Encoding: chunked-false")),
		reject("empty value", s400, true, h1Post(smuggle, "Transfer-Encoding:")),
		reject("chunked then gzip in two fields", s400, true, h1Post(smuggle, "Transfer-Encoding: chunked", "Transfer-Encoding: gzip")),
		reject("quoted chunked", s400, true, h1Post(smuggle, `Transfer-Encoding: "chunked"`)),
		// RFC 9112 §6.1: "A sender MUST NOT apply the chunked transfer
		// coding more than once to a message body": chunked twice is a
		// broken framing, 400 and close.
		reject("chunked, chunked", s400, true, h1Post(smuggle, "Transfer-Encoding: chunked, chunked")),
		reject("chunked in two fields", s400, true, h1Post(smuggle, "Transfer-Encoding: chunked", "Transfer-Encoding: chunked")),
		// RFC 9112 §6.1: "A server that receives a request message with a
		// transfer coding it does not understand SHOULD respond with 501
		// (Not Implemented)": chunked is last, so the framing is sound,
		// but databridge decodes no other coding.
		reject("gzip, chunked", s501, false, h1Post(chunked, "Transfer-Encoding: gzip, chunked")),
		reject("deflate, chunked", s501, false, h1Post(chunked, "Transfer-Encoding: deflate, chunked")),
		reject("unknown coding, chunked", s501, false, h1Post(chunked, "Transfer-Encoding: foo, chunked")),
		reject("gzip then chunked in two fields", s501, false, h1Post(chunked, "Transfer-Encoding: gzip", "Transfer-Encoding: chunked")),
	})
}

// ---------------------------------------------------------------------
// RFC 9112 §7.1 (chunked coding) and §8 (incomplete messages)

func TestRFC9112Chunked(t *testing.T) {
	post := func(body string) string { return h1Post(body, "Transfer-Encoding: chunked") }
	ok := func(name, body, want string) h1Case {
		return h1Case{name: name, req: post(body), check: wantBody(want)}
	}
	// A broken chunked body is found while the handler reads it: the
	// handler writes nothing and the front answers 400 and closes (never
	// 200). A size the front rejects before any data may be a 413.
	bad := func(name, body string, status ...int) h1Case {
		if status == nil {
			status = s400
		}
		return h1Case{name: name, req: post(body), want: status, close: true}
	}
	truncated := func(name, body string) h1Case {
		return h1Case{name: name, req: post(body), closeWrite: true, want: s400, orNone: true, close: true}
	}
	runH1(t, []h1Case{
		// §7.1: chunked-body = *chunk last-chunk trailer-section CRLF;
		// chunk-size = 1*HEXDIG.
		{name: "two chunks", req: post("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), check: checks(wantBody("hello world"), func(t *testing.T, e *h1Echo) {
			if e.ContentLength != -1 {
				t.Errorf("handler saw ContentLength %d for a chunked body, want -1", e.ContentLength)
			}
		})},
		ok("upper and lower hex", "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij"),
		ok("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
		ok("empty body", "0\r\n\r\n", ""),
		ok("many one-byte chunks", strings.Repeat("1\r\na\r\n", 200)+"0\r\n\r\n", strings.Repeat("a", 200)),
		ok("a 64 KiB chunk", "10000\r\n"+strings.Repeat("b", 64<<10)+"\r\n0\r\n\r\n", strings.Repeat("b", 64<<10)),
		// §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS
		// chunk-ext-val ] ); "A recipient MUST ignore unrecognized chunk
		// extensions."
		ok("extensions", "5;name=value\r\nhello\r\n5;flag;q=\"a;b\\\"c\"\r\nworld\r\n0;last=1\r\n\r\n", "helloworld"),
		ok("extension with BWS", "5 ; a = 1\r\nhello\r\n0\r\n\r\n", "hello"),
		// §7.1.2: trailer fields are read and the body ends after them;
		// "A recipient MUST NOT merge a received trailer field into the
		// header section unless its corresponding header field definition
		// explicitly permits": the handler's header does not get them.
		{name: "trailer section", req: post("5\r\nhello\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n"), check: checks(wantBody("hello"), func(t *testing.T, e *h1Echo) {
			if len(e.values("x-trailer")) > 0 || len(e.values("x-other")) > 0 {
				t.Errorf("trailer fields merged into the header: %q", e.Header)
			}
		})},
		// §7.1: the grammar, and §7.1.3's decoding. Anything else is a
		// broken framing.
		bad("invalid hex digit", "g\r\nhello\r\n0\r\n\r\n"),
		bad("negative size", "-5\r\nhello\r\n0\r\n\r\n"),
		bad("0x prefix", "0x10\r\n0123456789abcdef\r\n0\r\n\r\n"),
		bad("leading space", " 5\r\nhello\r\n0\r\n\r\n"),
		bad("trailing space without extension", "5 \r\nhello\r\n0\r\n\r\n"),
		bad("plus sign", "+5\r\nhello\r\n0\r\n\r\n"),
		bad("empty size line", "\r\nhello\r\n0\r\n\r\n"),
		bad("extension without size", ";a=b\r\nhello\r\n0\r\n\r\n"),
		bad("CTL in extension", "5;a\x01\r\nhello\r\n0\r\n\r\n"),
		// §7.1: "Recipients MUST anticipate potentially large hexadecimal
		// numerals and prevent parsing errors due to integer conversion
		// overflows or precision loss": such a size is broken (400) or,
		// being over any body limit, a 413.
		bad("size overflows uint64", "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400, 413),
		bad("size 2^64-1", "ffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400, 413),
		bad("size 2^63", "8000000000000000\r\nhello\r\n0\r\n\r\n", 400, 413),
		bad("size 2^32 with zeros", "0000000100000000\r\nhello\r\n0\r\n\r\n", 400, 413),
		// chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF.
		bad("no CRLF after data", "5\r\nhelloX\r\n0\r\n\r\n"),
		bad("data longer than size", "3\r\nhello\r\n0\r\n\r\n"),
		bad("LF only after data", "5\r\nhello\n0\r\n\r\n"),
		bad("CR only after data", "5\r\nhello\r0\r\n\r\n"),
		bad("bare LF after size", "5\nhello\r\n0\r\n\r\n"),
		bad("bare LF after last chunk", "5\r\nhello\r\n0\n\r\n"),
		// trailer-section = *( field-line CRLF ), with RFC 9112 §5 syntax.
		bad("trailer without colon", "5\r\nhello\r\n0\r\nbad trailer\r\n\r\n"),
		bad("trailer obs-fold", "5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n"),
		bad("trailer NUL", "5\r\nhello\r\n0\r\nX-T: a\x00b\r\n\r\n"),
		// §8: "A message body that uses the chunked transfer coding is
		// incomplete if the zero-sized chunk that terminates the encoding
		// has not been received"; an incomplete request is never served
		// as complete, and the connection closes.
		truncated("truncated size line", "5"),
		truncated("truncated data", "5\r\nhel"),
		truncated("no CRLF after data then EOF", "5\r\nhello"),
		truncated("no last chunk", "5\r\nhello\r\n"),
		truncated("no final CRLF", "5\r\nhello\r\n0\r\n"),
		truncated("unterminated trailer", "5\r\nhello\r\n0\r\nX-T: a\r\n"),
	})
}

// ---------------------------------------------------------------------
// RFC 9110 §15.5.14: body over MaxBodyBytes

func TestRFC9110BodyLimit(t *testing.T) {
	cfg := &Config{MaxBodyBytes: 1024}
	chunks := func(n, size int) string {
		return strings.Repeat(fmt.Sprintf("%x\r\n%s\r\n", size, strings.Repeat("c", size)), n) + "0\r\n\r\n"
	}
	runH1(t, []h1Case{
		{name: "Content-Length at the limit", cfg: cfg, req: h1Post(strings.Repeat("c", 1024), "Content-Length: 1024"), check: wantBody(strings.Repeat("c", 1024))},
		{name: "chunked at the limit", cfg: cfg, req: h1Post(chunks(4, 256), "Transfer-Encoding: chunked"), check: wantBody(strings.Repeat("c", 1024))},
		// RFC 9110 §15.5.14: 413 when the content is larger than the
		// server is willing to process. A declared Content-Length over the
		// limit is answered before the body is read (the client here never
		// sends it), and the connection closes: the body is not read.
		{name: "Content-Length over the limit", cfg: cfg, req: h1Post("", "Content-Length: 1025"), want: s413, close: true},
		{name: "Content-Length over the default limit", req: h1Post("", "Content-Length: "+strconv.Itoa(DefaultMaxBodyBytes+1)), want: s413, close: true},
		{name: "Content-Length max int64", cfg: cfg, req: h1Post("", "Content-Length: 9223372036854775807"), want: s413, close: true},
		// A chunked body is stopped once it passes the limit.
		{name: "chunked over the limit", cfg: cfg, req: h1Post(chunks(8, 256), "Transfer-Encoding: chunked"), want: s413, close: true},
		{name: "one chunk declared over the limit", cfg: cfg, req: h1Post("800\r\n"+strings.Repeat("c", 2048)+"\r\n0\r\n\r\n", "Transfer-Encoding: chunked"), want: s413, close: true},
	})
}

// ---------------------------------------------------------------------
// RFC 9110 §10.1.1: Expect

func TestRFC9110Expect(t *testing.T) {
	// A client that waits for the 100 before it sends the body.
	t.Run("100-continue when the handler reads", func(t *testing.T) {
		for _, value := range []string{"100-continue", "100-Continue"} {
			hs := startH1(t, Config{})
			c := hs.dial(t)
			c.send(t, h1Post("", "Content-Length: 5", "Expect: "+value))
			// RFC 9110 §10.1.1: the 100 tells the client to send the
			// content; "A server that sends a 100 (Continue) response MUST
			// ultimately send a final status code".
			r := c.read(t, "POST")
			if r.Status != 100 {
				t.Fatalf("Expect: %s: want 100 first, got %s", value, r)
			}
			c.send(t, "hello")
			r = c.read(t, "POST")
			if r.Status != 200 {
				t.Fatalf("Expect: %s: final response %s", value, r)
			}
			if e := r.echo(t); e.Body != "hello" {
				t.Errorf("handler read %q", e.Body)
			}
		}
	})
	t.Run("no 100 when the handler does not read", func(t *testing.T) {
		hs := startH1(t, Config{})
		c := hs.dial(t)
		c.send(t, "POST /noread HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		if r := c.read(t, "POST"); r.Status != 200 || string(r.Body) != "not read" {
			t.Errorf("want the final 200 and no 100, got %s", r)
		}
	})
	t.Run("no 100 without a body", func(t *testing.T) {
		// RFC 9110 §10.1.1: a server "MAY omit sending a 100 (Continue)
		// response if it has already received some or all of the
		// content": with Content-Length 0 there is nothing to wait for.
		hs := startH1(t, Config{})
		c := hs.dial(t)
		c.send(t, h1Post("", "Content-Length: 0", "Expect: 100-continue"))
		if r := c.read(t, "POST"); r.Status != 200 {
			t.Errorf("want the final 200, got %s", r)
		}
	})
	t.Run("no 100 before a 413", func(t *testing.T) {
		// The declared body is over the limit: the final 413 comes
		// without a 100, so the client never sends the body.
		hs := startH1(t, Config{MaxBodyBytes: 1024})
		c := hs.dial(t)
		c.send(t, h1Post("", "Content-Length: 4096", "Expect: 100-continue"))
		if r := c.read(t, "POST"); r.Status != 413 {
			t.Errorf("want 413 and no 100, got %s", r)
		}
	})
	t.Run("HTTP/1.0 expectation ignored", func(t *testing.T) {
		// RFC 9110 §10.1.1: "A server that receives a 100-continue
		// expectation in an HTTP/1.0 request MUST ignore that
		// expectation."
		hs := startH1(t, Config{})
		c := hs.dial(t)
		c.send(t, "POST /echo HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello")
		r := c.read(t, "POST")
		if r.Status != 200 {
			t.Fatalf("want 200 and no 100, got %s", r)
		}
		if e := r.echo(t); e.Body != "hello" {
			t.Errorf("handler read %q", e.Body)
		}
	})
	t.Run("unknown expectation", func(t *testing.T) {
		// RFC 9110 §10.1.1: "A server that receives an Expect field value
		// containing a member other than 100-continue MAY respond with a
		// 417 (Expectation Failed) status code": databridge does, without
		// calling the handler.
		runH1(t, []h1Case{
			{name: "foo", req: h1Post("hello", "Content-Length: 5", "Expect: foo"), want: []int{417}, noHandler: true},
			{name: "100-continue plus foo", req: h1Post("hello", "Content-Length: 5", "Expect: 100-continue, foo"), want: []int{417}, noHandler: true},
		})
	})
}

// ---------------------------------------------------------------------
// RFC 9112 §9.3.2: pipelining

func TestRFC9112Pipelining(t *testing.T) {
	// readEchoes reads one response per path and checks they answer
	// those paths in order.
	readEchoes := func(t *testing.T, c *h1Conn, methods []string, paths []string) []*h1Echo {
		t.Helper()
		var es []*h1Echo
		for i, p := range paths {
			r := c.read(t, methods[i])
			if r.Status != 200 {
				t.Fatalf("response %d: %s", i+1, r)
			}
			e := r.echo(t)
			if e.Path != p {
				t.Fatalf("response %d answers %s, want %s", i+1, e.Path, p)
			}
			es = append(es, e)
		}
		return es
	}
	// §9.3.2: a server "MUST send the corresponding responses in the same
	// order that the requests were received."
	t.Run("three GETs in one write", func(t *testing.T) {
		c := startH1(t, Config{}).dial(t)
		c.send(t, h1Get("/1")+h1Get("/2")+h1Get("/3"))
		readEchoes(t, c, []string{"GET", "GET", "GET"}, []string{"/1", "/2", "/3"})
	})
	t.Run("GET, POST with a body, GET", func(t *testing.T) {
		c := startH1(t, Config{}).dial(t)
		c.send(t, h1Get("/1")+"POST /2 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\n\r\nhello world"+h1Get("/3"))
		es := readEchoes(t, c, []string{"GET", "POST", "GET"}, []string{"/1", "/2", "/3"})
		if es[1].Body != "hello world" {
			t.Errorf("POST body %q", es[1].Body)
		}
	})
	t.Run("chunked POST between GETs", func(t *testing.T) {
		c := startH1(t, Config{}).dial(t)
		c.send(t, h1Get("/1")+"POST /2 HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"+h1Get("/3"))
		es := readEchoes(t, c, []string{"GET", "POST", "GET"}, []string{"/1", "/2", "/3"})
		if es[1].Body != "hello" {
			t.Errorf("POST body %q", es[1].Body)
		}
	})
	t.Run("HEAD then GET", func(t *testing.T) {
		// RFC 9110 §9.3.2: the HEAD response has no content, so the next
		// response starts right after its header section.
		c := startH1(t, Config{}).dial(t)
		c.send(t, "HEAD /fixed HTTP/1.1\r\nHost: example.com\r\n\r\n"+h1Get("/fixed"))
		head := c.read(t, "HEAD")
		get := c.read(t, "GET")
		if head.Status != 200 || get.Status != 200 || string(get.Body) != h1Fixed {
			t.Errorf("HEAD %s; GET %s", head, get)
		}
	})
	t.Run("extra CRLF after a POST body", func(t *testing.T) {
		// RFC 9112 §2.2: HTTP/1.0 clients "might send an extra CRLF after
		// a POST request"; the empty line before the next request-line is
		// ignored.
		c := startH1(t, Config{}).dial(t)
		c.send(t, "POST /1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\n\r\nhi\r\n"+h1Get("/2"))
		readEchoes(t, c, []string{"POST", "GET"}, []string{"/1", "/2"})
	})
	t.Run("twenty requests in one write", func(t *testing.T) {
		c := startH1(t, Config{}).dial(t)
		var req strings.Builder
		var methods, paths []string
		for i := range 20 {
			p := "/" + strconv.Itoa(i)
			req.WriteString(h1Get(p))
			methods, paths = append(methods, "GET"), append(paths, p)
		}
		c.send(t, req.String())
		readEchoes(t, c, methods, paths)
	})
}

// ---------------------------------------------------------------------
// RFC 9112 §9.3 (persistence) and §9.6 (tear-down)

func TestRFC9112Persistence(t *testing.T) {
	noClose := func(t *testing.T, r *h1Resp) {
		if r.hasToken("connection", "close") {
			t.Errorf("response closes a persistent connection: %s", r)
		}
	}
	// RFC 9112 §9.6: "The server SHOULD send a "close" connection option
	// in its final response on that connection."
	sendsClose := func(t *testing.T, r *h1Resp) {
		if !r.hasToken("connection", "close") {
			t.Errorf("response to a closing request without connection: close: %s", r)
		}
	}
	keepAlive := func(t *testing.T, r *h1Resp) {
		if !r.hasToken("connection", "keep-alive") {
			t.Errorf("HTTP/1.0 keep-alive response without connection: keep-alive: %s", r)
		}
	}
	const after10 = "GET /after HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
	runH1(t, []h1Case{
		// §9.3: "If the received protocol is HTTP/1.1 (or later), the
		// connection will persist after the current response" (the runner
		// then sends a second request on it).
		{name: "HTTP/1.1 persists by default", req: h1Get("/k"), checkResp: noClose},
		// §9.6: "A server that receives a "close" connection option MUST
		// initiate closure of the connection after it sends the final
		// response to the request that contained the "close" connection
		// option. ... The server MUST NOT process any further requests
		// received on that connection." The pipelined second request is
		// never answered.
		{name: "Connection: close", req: h1Get("/c", "Connection: close") + h1Get("/second"), close: true, checkResp: sendsClose},
		// RFC 9110 §7.6.1: connection options are case-insensitive.
		{name: "Connection: CLOSE", req: h1Get("/c", "Connection: CLOSE") + h1Get("/second"), close: true, checkResp: sendsClose},
		{name: "close in a list", req: h1Get("/c", "Connection: keep-alive, close") + h1Get("/second"), close: true, checkResp: sendsClose},
		{name: "close in a second field", req: h1Get("/c", "Connection: keep-alive", "Connection: close") + h1Get("/second"), close: true, checkResp: sendsClose},
		{name: "close after a POST body", req: h1Post("hello", "Content-Length: 5", "Connection: close") + h1Get("/second"), close: true, checkResp: sendsClose, check: wantBody("hello")},
		// §9.3: otherwise (HTTP/1.0 without keep-alive) "the connection
		// will close after the current response".
		{name: "HTTP/1.0 closes by default", req: "GET /a HTTP/1.0\r\n\r\nGET /second HTTP/1.0\r\n\r\n", close: true, checkResp: func(t *testing.T, r *h1Resp) {
			if r.hasToken("connection", "keep-alive") {
				t.Errorf("HTTP/1.0 response claims keep-alive: %s", r)
			}
		}},
		// §9.3: "If the received protocol is HTTP/1.0, the "keep-alive"
		// connection option is present, ... the connection will persist
		// after the current response"; RFC 9112 §C.2.2 (keep-alive): the
		// response says so.
		{name: "HTTP/1.0 keep-alive", req: "GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", checkResp: keepAlive, after: after10},
		{name: "HTTP/1.0 Keep-Alive", req: "GET /k HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", checkResp: keepAlive, after: after10},
		{name: "HTTP/1.0 keep-alive POST", req: "POST /k HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", checkResp: keepAlive, after: after10, check: wantBody("hi")},
		{name: "HTTP/1.0 keep-alive and close", req: "GET /k HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\nGET /second HTTP/1.0\r\n\r\n", close: true},
	})
}

// ---------------------------------------------------------------------
// Response framing: RFC 9112 §4, §6.1, §6.3, §7.1; RFC 9110 §6.4.1,
// §6.6.1, §8.6, §9.3.2

// imfFixdate is RFC 9110 §5.6.7's IMF-fixdate.
const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

// checkDate fails unless r has one Date field in IMF-fixdate, close to now.
func checkDate(t *testing.T, r *h1Resp) {
	t.Helper()
	d := r.get("date")
	tm, err := time.Parse(imfFixdate, d)
	if err != nil || tm.Format(imfFixdate) != d {
		t.Errorf("Date %q is not an IMF-fixdate (%v): %s", d, err, r)
		return
	}
	if skew := time.Since(tm); skew < -3*time.Second || skew > 3*time.Second {
		t.Errorf("Date %q is %v from now", d, skew)
	}
}

func TestRFC9110ResponseFraming(t *testing.T) {
	t.Run("Content-Length equals the body", func(t *testing.T) {
		// RFC 9112 §6.3 rule 6, RFC 9110 §8.6.
		c := startH1(t, Config{}).dial(t)
		c.send(t, h1Get("/fixed"))
		r := c.read(t, "GET")
		if r.get("content-length") != strconv.Itoa(len(h1Fixed)) || string(r.Body) != h1Fixed || r.Chunked {
			t.Errorf("response %s", r)
		}
		// RFC 9112 §4: the status-line of a response to HTTP/1.1.
		if r.Proto != "HTTP/1.1" || r.Status != 200 {
			t.Errorf("status-line %s %d", r.Proto, r.Status)
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		// RFC 9110 §9.3.2: "The server SHOULD send the same header fields
		// in response to a HEAD request as it would have sent if the
		// request method had been GET"; §8.6: a server "MUST NOT send
		// Content-Length in such a response unless its field value equals
		// the decimal number of octets that would have been sent in the
		// content of a response if the same request had used the GET
		// method"; RFC 9112 §6.3 rule 1: no content follows.
		c := startH1(t, Config{}).dial(t)
		c.send(t, "HEAD /fixed HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
		r := c.read(t, "HEAD")
		if r.Status != 200 || r.get("content-length") != strconv.Itoa(len(h1Fixed)) {
			t.Errorf("HEAD response %s, want Content-Length %d", r, len(h1Fixed))
		}
		assertClosed(t, c) // and no body bytes before the close
	})
	for _, code := range []int{204, 304} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			// RFC 9110 §8.6: "A server MUST NOT send a Content-Length
			// header field in any response with a status code of 1xx
			// (Informational) or 204 (No Content)" (and for a 304 only the
			// 200's length, which the engine does not know: none); RFC
			// 9112 §6.1: no Transfer-Encoding in a 204; §6.3 rule 1: no
			// content. The handler's body write is dropped.
			c := startH1(t, Config{}).dial(t)
			c.send(t, h1Get("/status/"+strconv.Itoa(code), "Connection: close"))
			r := c.read(t, "GET")
			if r.Status != code || r.has("content-length") || r.has("transfer-encoding") {
				t.Errorf("response %s", r)
			}
			assertClosed(t, c) // no body bytes
		})
	}
	t.Run("Date", func(t *testing.T) {
		// RFC 9110 §6.6.1: "An origin server with a clock ... MUST generate
		// a Date header field in all 2xx (Successful), 3xx (Redirection),
		// and 4xx (Client Error) responses"; §5.6.7: "A sender MUST
		// generate timestamps in the IMF-fixdate format". That includes
		// the front's own 400 and 431.
		for _, req := range []string{
			h1Get("/fixed"),
			h1Get("/status/404"),
			"GET / HTTP/1.1\r\n\r\n", // 400: no Host
			h1Get("/", strings.Split(strings.Repeat("X-E: 1\n", 101), "\n")[:101]...), // 431
		} {
			c := startH1(t, Config{}).dial(t)
			c.send(t, req)
			checkDate(t, c.read(t, "GET"))
		}
	})
	t.Run("streamed response on HTTP/1.1 is chunked", func(t *testing.T) {
		// RFC 9112 §6.3, §7.1: a response whose length is not known when
		// its header is sent is chunked on HTTP/1.1, and decodes to the
		// bytes written.
		c := startH1(t, Config{}).dial(t)
		c.send(t, h1Get("/stream"))
		r := c.read(t, "GET")
		if !r.Chunked || r.has("content-length") || string(r.Body) != "part1part2end" {
			t.Errorf("streamed response %s (chunked %v)", r, r.Chunked)
		}
		// The connection persists after a chunked response.
		c.send(t, h1Get("/after"))
		if e := c.read(t, "GET").echo(t); e.Path != "/after" {
			t.Errorf("next request answered for %s", e.Path)
		}
	})
	for name, req := range map[string]string{
		"plain":      "GET /stream HTTP/1.0\r\n\r\n",
		"keep-alive": "GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	} {
		t.Run("streamed response on HTTP/1.0 is close-delimited/"+name, func(t *testing.T) {
			// RFC 9112 §6.1: "A server MUST NOT send a response containing
			// Transfer-Encoding unless the corresponding request indicates
			// HTTP/1.1 (or later minor revisions)": a streamed response to
			// HTTP/1.0 is delimited by the close (§6.3 rule 8), even when
			// the client asked for keep-alive.
			c := startH1(t, Config{}).dial(t)
			c.send(t, req)
			r := c.read(t, "GET")
			if r.has("transfer-encoding") || !r.CloseDelimited || string(r.Body) != "part1part2end" {
				t.Errorf("streamed HTTP/1.0 response %s", r)
			}
		})
	}
}

// ---------------------------------------------------------------------
// Config.MaxRequestsPerConn; RFC 9112 §9.6

func TestH1MaxRequestsPerConn(t *testing.T) {
	cfg := Config{MaxRequestsPerConn: 3}
	t.Run("sequential", func(t *testing.T) {
		hs := startH1(t, cfg)
		c := hs.dial(t)
		for i := 1; i <= 3; i++ {
			c.send(t, h1Get("/"+strconv.Itoa(i)))
			r := c.read(t, "GET")
			if r.Status != 200 {
				t.Fatalf("request %d: %s", i, r)
			}
			// RFC 9112 §9.6: the server "SHOULD send a "close" connection
			// option in its final response on that connection".
			if closing := r.hasToken("connection", "close"); closing != (i == 3) {
				t.Errorf("response %d: connection: close is %v: %s", i, closing, r)
			}
		}
		assertClosed(t, c)
	})
	t.Run("pipelined", func(t *testing.T) {
		// RFC 9112 §9.6: "A server that sends a "close" connection option
		// MUST initiate closure of the connection after it sends the
		// response containing the "close" connection option. The server
		// MUST NOT process any further requests received on that
		// connection."
		hs := startH1(t, cfg)
		c := hs.dial(t)
		c.send(t, h1Get("/1")+h1Get("/2")+h1Get("/3")+h1Get("/4"))
		for i := 1; i <= 3; i++ {
			if r := c.read(t, "GET"); r.Status != 200 {
				t.Fatalf("request %d: %s", i, r)
			}
		}
		assertClosed(t, c)
		if n := hs.calls.Load(); n != 3 {
			t.Errorf("the handler ran %d times, want 3", n)
		}
	})
}

// ---------------------------------------------------------------------
// The HTTP/2 connection preface with HTTP/2 off: RFC 9113 §3.4, RFC 9110
// §15.6.6

func TestH1Preface(t *testing.T) {
	off := &Config{DisableHTTP2: true}
	runH1(t, []h1Case{
		// With HTTP/2 off the preface's request-line is an HTTP/2.0
		// request: 505, or the connection closes without a response.
		{name: "h2 preface with HTTP/2 off", cfg: off, req: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", want: s505, orNone: true, close: true, noHandler: true},
		{name: "preface request-line alone with HTTP/2 off", cfg: off, req: "PRI * HTTP/2.0\r\n\r\n", want: s505, orNone: true, close: true, noHandler: true},
		// PRI is no HTTP/1.1 method for "*" (RFC 9112 §3.2.4).
		{name: "PRI * HTTP/1.1", cfg: off, req: "PRI * HTTP/1.1\r\nHost: x\r\n\r\n", want: s400, close: true, noHandler: true},
	})
}

// ---------------------------------------------------------------------
// Timeouts (Config.ReadHeaderTimeout, IdleTimeout, ReadBodyTimeout,
// WriteTimeout) and slowloris. RFC 9112 §9.5: a server may close an idle
// or slow connection; §8: a request cut by a timeout is incomplete and
// the connection closes.

// waitEnd reads c until it ends (EOF, reset, or the deadline) and
// returns when, and the bytes it read.
func waitEnd(c *h1Conn, deadline time.Time) (time.Time, []byte, error) {
	c.SetReadDeadline(deadline)
	got, err := io.ReadAll(c.br)
	if isReset(err) {
		err = nil
	}
	return time.Now(), got, err
}

// checkTimeoutResponse accepts what a connection closed by a timeout
// sent: nothing, or one response that is not a 2xx (a 408).
func checkTimeoutResponse(t *testing.T, got []byte) {
	t.Helper()
	if len(got) == 0 {
		return
	}
	r, err := readH1Response(bufio.NewReader(bytes.NewReader(got)), "GET")
	if err != nil {
		t.Errorf("bytes before the close: %q (%v)", got, err)
		return
	}
	if r.Status != 408 && r.Status != 400 {
		t.Errorf("timeout answered with %s, want nothing or a 408", r)
	}
}

func TestH1ReadHeaderTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	t.Run("trickled header", func(t *testing.T) {
		hs := startH1(t, Config{ReadHeaderTimeout: timeout})
		c := hs.dial(t)
		head := "GET / HTTP/1.1\r\nHost: example.com\r\nX-Slow: " + strings.Repeat("a", 60)
		stop := make(chan struct{})
		defer close(stop)
		start := time.Now()
		go func() { // one header byte per 100 ms, for at most 6 s
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; i < len(head); i++ {
				if _, err := c.Write([]byte{head[i]}); err != nil {
					return
				}
				select {
				case <-tick.C:
				case <-stop:
					return
				}
			}
		}()
		end, got, err := waitEnd(c, start.Add(4*time.Second))
		if err != nil {
			t.Fatalf("connection not closed %v after the first header byte: %v", end.Sub(start), err)
		}
		if d := end.Sub(start); d < timeout-100*time.Millisecond || d > timeout+time.Second {
			t.Errorf("closed %v after the first byte, want about %v", d, timeout)
		}
		checkTimeoutResponse(t, got)
		if hs.calls.Load() != 0 {
			t.Error("the handler ran")
		}
	})
	t.Run("nothing sent", func(t *testing.T) {
		// Config: the timeout runs from the connection's accept.
		hs := startH1(t, Config{ReadHeaderTimeout: timeout, IdleTimeout: timeout})
		c := hs.dial(t)
		start := time.Now()
		end, got, err := waitEnd(c, start.Add(4*time.Second))
		if err != nil || end.Sub(start) > timeout+time.Second {
			t.Errorf("silent connection not closed after %v: %v", end.Sub(start), err)
		}
		checkTimeoutResponse(t, got)
	})
}

func TestH1IdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	hs := startH1(t, Config{IdleTimeout: idle})
	c := hs.dial(t)
	c.send(t, h1Get("/"))
	if r := c.read(t, "GET"); r.Status != 200 || r.hasToken("connection", "close") {
		t.Fatalf("response %s", r)
	}
	start := time.Now()
	end, got, err := waitEnd(c, start.Add(4*time.Second))
	if err != nil {
		t.Fatalf("idle connection not closed after %v: %v", end.Sub(start), err)
	}
	if len(got) > 0 {
		t.Errorf("idle close sent %q", got)
	}
	if d := end.Sub(start); d < idle-100*time.Millisecond || d > idle+time.Second {
		t.Errorf("idle connection closed after %v, want about %v", d, idle)
	}
}

func TestH1ReadBodyTimeout(t *testing.T) {
	// RFC 9112 §6.3: if "the recipient times out before the indicated
	// number of octets are received, the recipient MUST consider the
	// message to be incomplete and close the connection."
	const timeout = 300 * time.Millisecond
	hs := startH1(t, Config{ReadBodyTimeout: timeout})
	c := hs.dial(t)
	c.send(t, h1Post("hello", "Content-Length: 10"))
	start := time.Now()
	end, got, err := waitEnd(c, start.Add(4*time.Second))
	if err != nil || end.Sub(start) > timeout+time.Second {
		t.Fatalf("stalled body: connection not closed after %v: %v", end.Sub(start), err)
	}
	checkTimeoutResponse(t, got)
}

func TestH1WriteTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	hs := startH1(t, Config{WriteTimeout: timeout})
	// A client that never reads, with a small receive buffer.
	d := net.Dialer{Timeout: time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	nc, err := d.Dial("tcp", hs.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	sampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-tick.C:
			case <-sampling:
				return
			}
		}
	}()

	if _, err := io.WriteString(nc, h1Get("/big")); err != nil {
		t.Fatal(err)
	}
	select {
	case took := <-hs.bigDone:
		if took > timeout+2*time.Second {
			t.Errorf("the handler's writes took %v with WriteTimeout %v", took, timeout)
		}
	case <-time.After(timeout + 3*time.Second):
		t.Errorf("a handler writing 64 MiB to a client that never reads still runs %v after WriteTimeout %v", 3*time.Second, timeout)
		nc.Close() // release the handler
		select {
		case <-hs.bigDone:
		case <-time.After(5 * time.Second):
		}
	}
	close(sampling)
	<-sampled
	if grew := int64(peak.Load()) - int64(base); grew > 8<<20 {
		t.Errorf("heap in use grew by %d MiB while the handler wrote to a stuck client", grew>>20)
	}
}

func TestH1Slowloris(t *testing.T) {
	const (
		n       = 200
		timeout = 2 * time.Second
		bound   = 1500 * time.Millisecond
	)
	hs := startH1(t, Config{ReadHeaderTimeout: timeout})
	head := "GET / HTTP/1.1\r\nHost: example.com\r\nX-Slow: " + strings.Repeat("a", 40)
	conns := make([]*h1Conn, n)
	for i := range conns {
		conns[i] = hs.dial(t)
		conns[i].SetDeadline(time.Now().Add(timeout + bound + 3*time.Second))
	}
	start := time.Now()
	ended := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := io.Copy(io.Discard, c.br)
			if err != nil && !isReset(err) {
				ended[i] = -1 // the deadline: never closed
				return
			}
			ended[i] = time.Since(start)
		}()
	}
	stop := make(chan struct{})
	trickled := make(chan struct{})
	warm := make(chan struct{}) // every connection has sent 3 bytes
	go func() {                 // one byte per 200 ms on every connection
		defer close(trickled)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < len(head); i++ {
			for _, c := range conns {
				c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
				c.Write([]byte{head[i]})
			}
			if i == 2 {
				close(warm)
			}
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()

	// A normal client is served at once while they trickle.
	select {
	case <-warm:
	case <-time.After(5 * time.Second):
		t.Fatal("the trickle did not start")
	}
	for range 3 {
		c := hs.dial(t)
		begin := time.Now()
		c.send(t, h1Get("/fixed"))
		r := c.read(t, "GET")
		if took := time.Since(begin); r.Status != 200 || took > time.Second {
			t.Errorf("normal request during slowloris: %d after %v", r.Status, took)
		}
		c.Close()
	}

	wg.Wait()
	close(stop)
	<-trickled
	late := 0
	var worst time.Duration
	for _, d := range ended {
		if d < 0 || d > timeout+bound {
			late++
		}
		worst = max(worst, d)
	}
	if late > 0 {
		t.Errorf("%d of %d slowloris connections not closed within ReadHeaderTimeout %v + %v (latest %v)", late, n, timeout, bound, worst)
	}
	if hs.calls.Load() != 3 {
		t.Errorf("handler ran %d times, want 3 (the normal requests)", hs.calls.Load())
	}
}
