package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// seen is a copy of what a handler saw of a request.
type seen struct {
	method, target, path, rawQuery, host string
	proto                                string
	protoMajor                           int
	header                               []Field
	contentLength                        int64
	body                                 string
	remote, local                        string
	scheme                               string
	tls                                  bool
}

// recordHandler sends what each request looked like to the returned
// channel, then answers 200 with the body it read (413 past the limit),
// an x-echo header and x-proto.
func recordHandler() (Handler, chan seen) {
	ch := make(chan seen, 16)
	return HandlerFunc(func(w ResponseWriter, r *Request) {
		body, err := ReadBody(r, r.BodyLimit, nil)
		s := seen{
			method: r.Method, target: r.Target, path: r.Path, rawQuery: r.RawQuery, host: r.Host,
			proto: r.Proto(), protoMajor: r.ProtoMajor, contentLength: r.ContentLength,
			header: append([]Field(nil), r.Header.Fields()...), body: string(body),
			remote: r.RemoteAddr, local: r.LocalAddr, scheme: r.Scheme(), tls: r.TLS != nil,
		}
		ch <- s
		if errors.Is(err, ErrBodyTooLarge) {
			WriteError(w, http.StatusRequestEntityTooLarge, MsgBodyTooLarge)
			return
		}
		w.Header().Add("x-echo", r.Header.Get("x-test"))
		w.Header().Add("x-proto", r.Proto())
		w.Send(200, body)
	}), ch
}

// echoHandler answers 200 with the request body.
var echoHandler = HandlerFunc(func(w ResponseWriter, r *Request) {
	body, err := ReadBody(r, r.BodyLimit, nil)
	if err != nil {
		WriteError(w, http.StatusRequestEntityTooLarge, MsgBodyTooLarge)
		return
	}
	w.Send(200, body)
})

const h2Preface = http2.ClientPreface

// startH2C serves h2c with prior knowledge the way the HTTP/1.1 front
// hands a connection over: it reads the preface and passes it on.
func startH2C(t *testing.T, h Handler, cfg Config) (string, *h2front) {
	t.Helper()
	f := newH2Front(h, cfg)
	ln := listen(t, f)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, len(h2Preface))
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.ReadFull(c, buf); err != nil || string(buf) != h2Preface {
					c.Close()
					return
				}
				c.SetReadDeadline(time.Time{})
				f.serveConn(c, buf)
			}()
		}
	}()
	return ln.Addr().String(), f
}

// startUpgrade parses one HTTP/1.1 request by hand and hands it to
// f.upgrade; a request it refuses is answered "h1" on HTTP/1.1.
func startUpgrade(t *testing.T, h Handler, cfg Config) (string, *h2front) {
	t.Helper()
	f := newH2Front(h, cfg)
	ln := listen(t, f)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := readMinimalRequest(br)
				if err != nil {
					return
				}
				req.RemoteAddr, req.LocalAddr = c.RemoteAddr().String(), c.LocalAddr().String()
				if f.upgrade(c, br, req) {
					return
				}
				io.Copy(io.Discard, req.Body)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nh1")
			}()
		}
	}()
	return ln.Addr().String(), f
}

// readMinimalRequest parses a request head (no validation to speak of):
// enough of the HTTP/1.1 front for the upgrade tests.
func readMinimalRequest(br *bufio.Reader) (*Request, error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, err
	}
	parts := strings.Split(line, " ")
	if len(parts) != 3 || parts[2] != "HTTP/1.1" {
		return nil, fmt.Errorf("bad request line %q", line)
	}
	req := &Request{Method: parts[0], Target: parts[1], ProtoMajor: 1, ProtoMinor: 1, Body: NoBody}
	req.Path, req.RawQuery, _ = strings.Cut(parts[1], "?")
	req.RawPath = req.Path
	for {
		l, err := tp.ReadLine()
		if err != nil {
			return nil, err
		}
		if l == "" {
			break
		}
		name, value, _ := strings.Cut(l, ":")
		name, value = strings.ToLower(name), strings.TrimSpace(value)
		req.Header.Add(name, value)
		if name == "host" {
			req.Host = value
		}
	}
	req.ContentLength = 0
	if cl := req.Header.Get("content-length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil {
			return nil, err
		}
		req.ContentLength = n
		req.Body = io.LimitReader(br, n)
	} else if req.Header.Has("transfer-encoding") {
		req.ContentLength = -1
		req.Body = br // not decoded: the upgrade must refuse it first
	}
	return req, nil
}

// h2cClient speaks h2c with prior knowledge; dials counts connections.
func h2cClient(dials *atomic.Int32) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			if dials != nil {
				dials.Add(1)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func hasField(fields []Field, name, value string) bool {
	for _, f := range fields {
		if f.Name == name && f.Value == value {
			return true
		}
	}
	return false
}

func get(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func newReq(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestH2TLS: h2 over TLS chosen by ALPN with net/http's client; the
// engine's Request is the HTTP/2 one.
func TestH2TLS(t *testing.T) {
	p := newTestPKI(t)
	tlsCfg, err := LoadTLS(p.certFile, p.keyFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	h, ch := recordHandler()
	addr, _ := startH2TLS(t, h, Config{}, tlsCfg)
	req := newReq(t, "POST", "https://"+addr+"/items/a%20b?x=1&y=2", strings.NewReader("hello h2"))
	req.Header.Set("X-Test", "tls")
	resp, body := get(t, h2TLSClient(p), req)
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || body != "hello h2" {
		t.Fatalf("%d over %s: %q", resp.StatusCode, resp.Proto, body)
	}
	if resp.Header.Get("X-Echo") != "tls" || resp.Header.Get("X-Proto") != "HTTP/2.0" || resp.ContentLength != 8 {
		t.Errorf("response header %v, length %d", resp.Header, resp.ContentLength)
	}
	s := <-ch
	if s.method != "POST" || s.target != "/items/a%20b?x=1&y=2" || s.path != "/items/a b" || s.rawQuery != "x=1&y=2" {
		t.Errorf("request line: %s %q path %q query %q", s.method, s.target, s.path, s.rawQuery)
	}
	if s.protoMajor != 2 || s.proto != "HTTP/2.0" || s.host != addr || s.scheme != "https" || !s.tls {
		t.Errorf("proto %d %s, host %q, scheme %s, tls %v", s.protoMajor, s.proto, s.host, s.scheme, s.tls)
	}
	if len(s.header) == 0 || s.header[0] != (Field{"host", addr}) || !hasField(s.header, "x-test", "tls") {
		t.Errorf("header fields %v", s.header)
	}
	if s.local != addr || s.remote == "" || s.remote == addr {
		t.Errorf("local %q, remote %q", s.local, s.remote)
	}
	if s.contentLength != 8 || s.body != "hello h2" {
		t.Errorf("content length %d, body %q", s.contentLength, s.body)
	}
}

// TestH2CPriorKnowledge: h2c with prior knowledge, the preface read by the
// caller and replayed.
func TestH2CPriorKnowledge(t *testing.T) {
	h, ch := recordHandler()
	addr, _ := startH2C(t, h, Config{})
	var dials atomic.Int32
	c := h2cClient(&dials)
	for i := range 3 {
		req := newReq(t, "GET", "http://"+addr+"/h2c?i="+strconv.Itoa(i), nil)
		req.Header.Set("X-Test", "h2c")
		resp, body := get(t, c, req)
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 || body != "" || resp.Header.Get("X-Echo") != "h2c" {
			t.Fatalf("%d over %s: %q %v", resp.StatusCode, resp.Proto, body, resp.Header)
		}
		s := <-ch
		if s.protoMajor != 2 || s.scheme != "http" || s.tls || s.host != addr || s.path != "/h2c" || s.rawQuery != "i="+strconv.Itoa(i) {
			t.Errorf("request %d: proto %d scheme %s tls %v host %q path %q query %q", i, s.protoMajor, s.scheme, s.tls, s.host, s.path, s.rawQuery)
		}
		if s.contentLength != 0 || s.local != addr {
			t.Errorf("content length %d, local %q", s.contentLength, s.local)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections for 3 requests", n)
	}
}

// TestH2CPrereadFrames: preread may hold more than the preface (the
// HTTP/1.1 front's buffer had the client's first frames too), and a read
// deadline the front left on the connection does not end it.
func TestH2CPrereadFrames(t *testing.T) {
	var first bytes.Buffer
	first.WriteString(h2Preface)
	http2.NewFramer(&first, nil).WriteSettings()

	h, ch := recordHandler()
	f := newH2Front(h, Config{})
	ln := listen(t, f)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, first.Len())
		if _, err := io.ReadFull(c, buf); err != nil {
			c.Close()
			return
		}
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)) // the front's header timeout
		f.serveConn(c, buf)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(first.Bytes()); err != nil {
		t.Fatal(err)
	}
	rc := &rawConn{t: t, c: c, responses: map[uint32]*rawResponse{}}
	rc.fr = http2.NewFramer(c, c)
	rc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	rc.enc = hpack.NewEncoder(&rc.encBuf)
	time.Sleep(150 * time.Millisecond) // past the deadline the front had set
	rc.request(1, true, "GET", "/pre")
	if r := rc.response(1); r.status != "200" {
		t.Fatalf("stream 1: %q", r.status)
	}
	if s := <-ch; s.path != "/pre" || s.protoMajor != 2 {
		t.Errorf("request %+v", s)
	}
}

// TestH2BodyLimit: a body over MaxBodyBytes is refused with 413, with a
// content-length or without one; one at the limit is read.
func TestH2BodyLimit(t *testing.T) {
	addr, _ := startH2C(t, echoHandler, Config{MaxBodyBytes: 1000})
	c := h2cClient(nil)
	url := "http://" + addr + "/upload"

	resp, body := get(t, c, newReq(t, "POST", url, bytes.NewReader(make([]byte, 1000))))
	if resp.StatusCode != 200 || len(body) != 1000 {
		t.Errorf("at the limit: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get(t, c, newReq(t, "POST", url, bytes.NewReader(make([]byte, 1001))))
	if resp.StatusCode != 413 || body != `{"error":"request body too large"}` {
		t.Errorf("over the limit: %d %q", resp.StatusCode, body)
	}
	// No content-length: the body is cut at the limit while it streams.
	pr, pw := io.Pipe()
	go func() {
		chunk := make([]byte, 100)
		for range 50 {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req := newReq(t, "POST", url, pr)
	req.ContentLength = -1
	resp, body = get(t, c, req)
	pr.Close()
	if resp.StatusCode != 413 || body != `{"error":"request body too large"}` {
		t.Errorf("streamed over the limit: %d %q", resp.StatusCode, body)
	}
	// The connection goes on.
	resp, body = get(t, c, newReq(t, "POST", url, strings.NewReader("small")))
	if resp.StatusCode != 200 || body != "small" {
		t.Errorf("after: %d %q", resp.StatusCode, body)
	}
}

// TestH2Streaming: a flushed response reaches the client as DATA frames
// while the handler still runs.
func TestH2Streaming(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		defer close(done)
		w.Header().Add("content-type", "text/plain")
		w.Write([]byte("first;"))
		if err := w.Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		<-release
		w.Write([]byte("second"))
	})
	addr, _ := startH2C(t, h, Config{})
	resp, err := h2cClient(nil).Get("http://" + addr + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != -1 || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("%d, length %d, %v", resp.StatusCode, resp.ContentLength, resp.Header)
	}
	first := make([]byte, len("first;"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first;" {
		t.Fatalf("first chunk %q, %v", first, err)
	}
	select {
	case <-done:
		t.Fatal("handler ended before the first chunk was read")
	default:
	}
	close(release)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "second" {
		t.Fatalf("rest %q, %v", rest, err)
	}
	<-done
}

// TestH2Limits: the HTTP/1.1 front's limits that HTTP/2 has no request
// line or header parser for are checked before the handler.
func TestH2Limits(t *testing.T) {
	calls := atomic.Int32{}
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		calls.Add(1)
		w.Send(200, []byte("ok"))
	})
	addr, _ := startH2C(t, h, Config{MaxTargetBytes: 64, MaxHeaderFields: 10})
	c := h2cClient(nil)

	resp, body := get(t, c, newReq(t, "GET", "http://"+addr+"/"+strings.Repeat("a", 63), nil))
	if resp.StatusCode != 200 {
		t.Errorf("target at the limit: %d %q", resp.StatusCode, body)
	}
	resp, body = get(t, c, newReq(t, "GET", "http://"+addr+"/"+strings.Repeat("a", 64), nil))
	if resp.StatusCode != 414 || body != `{"error":"URI Too Long"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("target over the limit: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	// Go's client adds accept-encoding and user-agent; with host that is 3.
	req := newReq(t, "GET", "http://"+addr+"/", nil)
	for i := range 7 {
		req.Header.Set("X-F"+strconv.Itoa(i), "v")
	}
	resp, body = get(t, c, req)
	if resp.StatusCode != 200 {
		t.Errorf("10 fields: %d %q", resp.StatusCode, body)
	}
	req.Header.Add("X-F0", "again")
	resp, body = get(t, c, req)
	if resp.StatusCode != 431 || body != `{"error":"Request Header Fields Too Large"}` {
		t.Errorf("11 fields: %d %q", resp.StatusCode, body)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("handler called %d times, want 2", n)
	}
}

// TestH2HeaderBytes: MaxHeaderBytes is advertised as
// SETTINGS_MAX_HEADER_LIST_SIZE, and a larger header block gets 431 (a
// single field longer than the whole limit is a COMPRESSION_ERROR for
// x/net's HPACK decoder, which ends the connection).
func TestH2HeaderBytes(t *testing.T) {
	addr, _ := startH2C(t, echoHandler, Config{MaxHeaderBytes: 1000})
	rc := dialRaw(t, addr)
	var limit uint32
	rc.onSettings = func(f *http2.SettingsFrame) {
		if v, ok := f.Value(http2.SettingMaxHeaderListSize); ok {
			limit = v
		}
	}
	var big []string
	for i := range 20 {
		big = append(big, "x-big-"+strconv.Itoa(i), strings.Repeat("b", 100))
	}
	rc.request(1, true, "GET", "/", big...)
	r := rc.response(1)
	if r.status != "431" {
		t.Errorf("status %q", r.status)
	}
	if limit != 1000+10*32 {
		t.Errorf("SETTINGS_MAX_HEADER_LIST_SIZE %d", limit)
	}
	rc.request(3, true, "GET", "/", "x-small", strings.Repeat("b", 100))
	if r := rc.response(3); r.status != "200" {
		t.Errorf("after: status %q", r.status)
	}
}

// TestH2HostField: a Host field beside :authority must name the same (else
// x/net resets the stream); it is not repeated in the engine's header
// list.
func TestH2HostField(t *testing.T) {
	h, ch := recordHandler()
	addr, _ := startH2C(t, h, Config{})
	rc := dialRaw(t, addr)
	rc.request(1, true, "GET", "/", "host", "example.com")
	if r := rc.response(1); r.status != "200" {
		t.Fatalf("same host: %q", r.status)
	}
	s := <-ch
	n := 0
	for _, f := range s.header {
		if f.Name == "host" {
			n++
		}
	}
	if s.host != "example.com" || n != 1 {
		t.Errorf("host %q, %d host fields in %v", s.host, n, s.header)
	}
	rc.request(3, true, "GET", "/", "host", "other.example")
	if r := rc.response(3); r.status != "" || r.rst != http2.ErrCodeProtocol {
		t.Errorf("other host: %q, RST_STREAM %v", r.status, r.rst)
	}
}

// TestH2Upgrade: an HTTP/1.1 request with Upgrade: h2c is answered 101
// and served as stream 1 of an HTTP/2 connection, body included; the
// connection then serves further streams.
func TestH2Upgrade(t *testing.T) {
	h, ch := recordHandler()
	addr, _ := startUpgrade(t, h, Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	settings := base64.RawURLEncoding.EncodeToString([]byte{0, 3, 0, 0, 0, 100}) // MAX_CONCURRENT_STREAMS 100
	fmt.Fprintf(c, "POST /up?q=1 HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"+
		"HTTP2-Settings: %s\r\nX-Test: up\r\nContent-Length: 4\r\n\r\nping", addr, settings)
	br := bufio.NewReader(c)
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	if err != nil || status != "HTTP/1.1 101 Switching Protocols" {
		t.Fatalf("status line %q, %v", status, err)
	}
	head, err := tp.ReadMIMEHeader()
	if err != nil || head.Get("Upgrade") != "h2c" || head.Get("Connection") != "Upgrade" {
		t.Fatalf("101 header %v, %v", head, err)
	}
	rc := newRaw(t, c, br)
	r := rc.response(1)
	if r.status != "200" || string(r.body) != "ping" || r.header["x-echo"] != "up" || r.header["x-proto"] != "HTTP/2.0" {
		t.Errorf("stream 1: %q %q %v", r.status, r.body, r.header)
	}
	s := <-ch
	if s.protoMajor != 2 || s.method != "POST" || s.path != "/up" || s.rawQuery != "q=1" || s.host != addr || s.body != "ping" || s.contentLength != 4 {
		t.Errorf("upgraded request: %+v", s)
	}
	if s.local != addr || s.remote == "" {
		t.Errorf("local %q, remote %q", s.local, s.remote)
	}
	for _, f := range s.header {
		if f.Name == "connection" || f.Name == "upgrade" || f.Name == "http2-settings" {
			t.Errorf("connection field %v reached the handler", f)
		}
	}
	if !hasField(s.header, "x-test", "up") {
		t.Errorf("header %v", s.header)
	}

	rc.request(3, true, "GET", "/next", "x-test", "stream 3")
	if r := rc.response(3); r.status != "200" || r.header["x-echo"] != "stream 3" {
		t.Errorf("stream 3: %q %v", r.status, r.header)
	}
	if s := <-ch; s.path != "/next" || s.protoMajor != 2 {
		t.Errorf("stream 3 request: %+v", s)
	}
}

// TestH2UpgradeCurl: curl's h2c upgrade (curl --http2 on http://), a GET
// and a POST with a body, against the upgrade path.
func TestH2UpgradeCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	h, ch := recordHandler()
	addr, _ := startUpgrade(t, h, Config{})
	for _, args := range [][]string{
		{"http://" + addr + "/curl?x=1"},
		{"--data-binary", "posted", "http://" + addr + "/curl?x=1"},
	} {
		cmd := exec.Command(curl, append([]string{"-sS", "--max-time", "10", "--http2", "-H", "X-Test: curl", "-w", "\n%{http_version}"}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		body, version, _ := strings.Cut(string(out), "\n")
		s := <-ch
		if version == "1.1" && body == "h1" {
			t.Logf("curl %v did not upgrade", args) // curl may keep a request with a body on HTTP/1.1
			continue
		}
		if version != "2" || s.protoMajor != 2 || s.path != "/curl" || s.rawQuery != "x=1" || !hasField(s.header, "x-test", "curl") {
			t.Errorf("curl %v: HTTP/%s %q; request %+v", args, version, body, s)
		}
		if len(args) == 2 && (body != "posted" || s.method != "POST") {
			t.Errorf("curl POST: body %q, method %s", body, s.method)
		}
	}
}

// TestH2UpgradeDuringShutdown: once the front shuts down, an upgrade is
// refused before anything is written (the request stays on HTTP/1.1).
func TestH2UpgradeDuringShutdown(t *testing.T) {
	addr, f := startUpgrade(t, echoHandler, Config{})
	if err := f.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n")
	got, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(got), "HTTP/1.1 200 OK\r\n") {
		t.Errorf("answer %q", got)
	}
}

// TestH2UpgradeRefused: requests that cannot be upgraded are left to
// HTTP/1.1, nothing read or written.
func TestH2UpgradeRefused(t *testing.T) {
	addr, _ := startUpgrade(t, echoHandler, Config{})
	ok := base64.RawURLEncoding.EncodeToString([]byte{0, 3, 0, 0, 0, 100})
	tests := []struct{ name, head string }{
		{"no HTTP2-Settings", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"},
		{"bad base64", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: !!!\r\n"},
		{"settings not a multiple of 6", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAA\r\n"},
		{"invalid setting", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: " +
			base64.RawURLEncoding.EncodeToString([]byte{0, 2, 0, 0, 0, 7}) + "\r\n"}, // ENABLE_PUSH 7
		{"two HTTP2-Settings", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: " + ok + "\r\nHTTP2-Settings: " + ok + "\r\n"},
		{"Connection without HTTP2-Settings", "Connection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: " + ok + "\r\n"},
		{"other protocol", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: websocket\r\nHTTP2-Settings: " + ok + "\r\n"},
		{"body of unknown length", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: " + ok + "\r\nTransfer-Encoding: chunked\r\n"},
		{"body too large", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: " + ok + "\r\nContent-Length: 70000\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\n"+tt.head+"\r\n")
			if c.(*net.TCPConn).CloseWrite() != nil {
				t.Fatal("CloseWrite")
			}
			got, _ := io.ReadAll(c)
			if !strings.HasPrefix(string(got), "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(string(got), "\r\n\r\nh1") {
				t.Errorf("answer %q", got)
			}
		})
	}
}

// TestH2Shutdown: shutdown sends GOAWAY; the request in flight finishes,
// connections handed over afterwards are closed, and shutdown returns
// once every connection has ended.
func TestH2Shutdown(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		if r.Path == "/slow" {
			started <- struct{}{}
			<-release
		}
		w.Send(200, []byte("done "+r.Path))
	})
	addr, f := startH2C(t, h, Config{})
	idle := h2cClient(nil) // a connection without streams at the shutdown
	if resp, _ := get(t, idle, newReq(t, "GET", "http://"+addr+"/", nil)); resp.StatusCode != 200 {
		t.Fatalf("idle connection: %d", resp.StatusCode)
	}
	results := make(chan string, 1)
	go func() {
		resp, err := h2cClient(nil).Get("http://" + addr + "/slow")
		if err != nil {
			results <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		results <- strconv.Itoa(resp.StatusCode) + " " + string(body)
	}()
	<-started

	shut := make(chan error, 1)
	begin := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- f.shutdown(ctx)
	}()
	// Connections handed over now are closed at once.
	waitFor(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.closing })
	if resp, err := h2cClient(nil).Get("http://" + addr + "/new"); err == nil {
		resp.Body.Close()
		t.Error("a new connection was served during shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("shutdown returned %v with a request in flight", err)
	default:
	}
	close(release)
	if r := <-results; r != "200 done /slow" {
		t.Errorf("in-flight request: %s", r)
	}
	if err := <-shut; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	f.mu.Lock()
	n := len(f.conns)
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("%d connections left", n)
	}
	if err := f.shutdown(context.Background()); err != nil {
		t.Errorf("second shutdown: %v", err)
	}
}

// TestH2ShutdownTimeout: at the end of shutdown's context, connections
// still serving are closed.
func TestH2ShutdownTimeout(t *testing.T) {
	b := &slowBackend{release: make(chan struct{}), started: make(chan struct{}, 1)}
	defer close(b.release)
	addr, f := startH2C(t, b, Config{})
	errs := make(chan error, 1)
	go func() {
		resp, err := h2cClient(nil).Get("http://" + addr + "/stuck")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		errs <- err
	}()
	<-b.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := f.shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shutdown: %v", err)
	}
	if err := <-errs; err == nil {
		t.Error("the cut-off request succeeded")
	}
}

// TestH2CloseIdle: closeIdle closes connections without open streams and
// leaves busy ones.
func TestH2CloseIdle(t *testing.T) {
	b := &slowBackend{release: make(chan struct{}), started: make(chan struct{}, 2)}
	addr, f := startH2C(t, b, Config{})
	go func() { b.release <- struct{}{} }()
	if resp, _ := get(t, h2cClient(nil), newReq(t, "GET", "http://"+addr+"/", nil)); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	<-b.started
	busy := make(chan error, 1)
	go func() {
		resp, err := h2cClient(nil).Get("http://" + addr + "/busy")
		if err == nil {
			resp.Body.Close()
		}
		busy <- err
	}()
	<-b.started
	states := func() (idle, active int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, s := range f.conns {
			switch s {
			case http.StateIdle:
				idle++
			case http.StateActive:
				active++
			}
		}
		return
	}
	waitFor(t, func() bool { i, a := states(); return i == 1 && a == 1 })
	f.closeIdle()
	waitFor(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.conns) == 1 })
	close(b.release)
	if err := <-busy; err != nil {
		t.Errorf("busy connection: %v", err)
	}
}

// TestH2MaxRequestsPerConn: the response to the Nth stream starts a
// graceful close.
func TestH2MaxRequestsPerConn(t *testing.T) {
	addr, _ := startH2C(t, echoHandler, Config{MaxRequestsPerConn: 2})
	rc := dialRaw(t, addr)
	rc.request(1, true, "GET", "/")
	if r := rc.response(1); r.status != "200" || rc.goAway != nil {
		t.Fatalf("first: %q, GOAWAY %v", r.status, rc.goAway)
	}
	rc.request(3, true, "GET", "/")
	if r := rc.response(3); r.status != "200" {
		t.Fatalf("second: %q", r.status)
	}
	rc.readUntil(func(http2.Frame) bool { return rc.goAway != nil })
	if rc.goAway.ErrCode != http2.ErrCodeNo || rc.goAway.LastStreamID != 3 {
		t.Errorf("GOAWAY %v, last stream %d", rc.goAway.ErrCode, rc.goAway.LastStreamID)
	}
}

// TestH2WriteTimeout: a write that the client's flow control holds up
// longer than WriteTimeout resets the stream and fails the handler's
// write; a pause between writes longer than it does not.
func TestH2WriteTimeout(t *testing.T) {
	writeErr := make(chan error, 1)
	pause := make(chan struct{})
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		if r.Path == "/pause" {
			w.Write([]byte("a"))
			w.Flush()
			<-pause
			w.Write([]byte("b"))
			return
		}
		chunk := make([]byte, 16<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				writeErr <- err
				return
			}
		}
	})
	addr, _ := startH2C(t, h, Config{WriteTimeout: 200 * time.Millisecond})

	rc := dialRaw(t, addr) // never sends WINDOW_UPDATE: 64 KiB is all it takes
	rc.request(1, true, "GET", "/big")
	begin := time.Now()
	select {
	case err := <-writeErr:
		if err == nil {
			t.Fatal("nil error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the blocked write did not fail")
	}
	if d := time.Since(begin); d < 200*time.Millisecond {
		t.Errorf("failed after %v", d)
	}
	var rst *http2.RSTStreamFrame
	rc.readUntil(func(f http2.Frame) bool {
		rst, _ = f.(*http2.RSTStreamFrame)
		return rst != nil
	})
	if rst.StreamID != 1 {
		t.Errorf("RST_STREAM on stream %d", rst.StreamID)
	}

	resp, err := h2cClient(nil).Get("http://" + addr + "/pause")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // twice the timeout, no write in progress
	close(pause)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(first)+string(rest) != "ab" {
		t.Errorf("paused stream: %q %q, %v", first, rest, err)
	}
}

func TestH2FrontSettings(t *testing.T) {
	if newH2Front(echoHandler, Config{DisableHTTP2: true}) != nil {
		t.Error("a front with DisableHTTP2")
	}
	f := newH2Front(echoHandler, Config{MaxHeaderBytes: 5000, IdleTimeout: 7 * time.Second})
	if f.srv.MaxConcurrentStreams != 250 || f.srv.MaxReadFrameSize != 16384 || f.srv.IdleTimeout != 7*time.Second || f.srv.WriteByteTimeout != DefaultWriteTimeout {
		t.Errorf("http2.Server %+v", f.srv)
	}
	if f.base.MaxHeaderBytes != 5000 || f.base.ReadTimeout != DefaultReadBodyTimeout || f.base.WriteTimeout != 0 {
		t.Errorf("base: header bytes %d, read %v, write %v", f.base.MaxHeaderBytes, f.base.ReadTimeout, f.base.WriteTimeout)
	}
}

// waitFor polls cond for up to 5 s (for states that have no event).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawConn is an HTTP/2 client made of frames, for what net/http's client
// will not send or does not show.
type rawConn struct {
	t          *testing.T
	c          net.Conn
	fr         *http2.Framer
	enc        *hpack.Encoder
	encBuf     bytes.Buffer
	responses  map[uint32]*rawResponse
	goAway     *http2.GoAwayFrame
	onSettings func(*http2.SettingsFrame)
}

type rawResponse struct {
	status string
	header map[string]string
	body   []byte
	done   bool
	rst    http2.ErrCode // of a RST_STREAM
}

// dialRaw connects to an h2c server with prior knowledge.
func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return newRaw(t, c, c)
}

// newRaw sends the client preface and SETTINGS on c and reads frames from r.
func newRaw(t *testing.T, c net.Conn, r io.Reader) *rawConn {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	rc := &rawConn{t: t, c: c, responses: map[uint32]*rawResponse{}}
	rc.fr = http2.NewFramer(c, r)
	rc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	rc.enc = hpack.NewEncoder(&rc.encBuf)
	if _, err := io.WriteString(c, h2Preface); err != nil {
		t.Fatal(err)
	}
	if err := rc.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return rc
}

// request sends a HEADERS frame; kv are regular fields after the
// pseudo-fields.
func (rc *rawConn) request(id uint32, end bool, method, path string, kv ...string) {
	rc.t.Helper()
	rc.encBuf.Reset()
	fields := []string{":method", method, ":scheme", "http", ":path", path, ":authority", "example.com"}
	for i := 0; i < len(fields); i += 2 {
		rc.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	for i := 0; i+1 < len(kv); i += 2 {
		rc.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	err := rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.encBuf.Bytes(), EndStream: end, EndHeaders: true})
	if err != nil {
		rc.t.Fatal(err)
	}
}

// readUntil reads frames, answering SETTINGS and PING, until stop (which
// is first asked with a nil frame, about what was read already).
func (rc *rawConn) readUntil(stop func(http2.Frame) bool) {
	rc.t.Helper()
	for !stop(nil) {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			rc.t.Fatalf("read frame: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if rc.onSettings != nil {
					rc.onSettings(f)
				}
				rc.fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				rc.fr.WritePing(true, f.Data)
			}
		case *http2.GoAwayFrame:
			rc.goAway = f
		case *http2.MetaHeadersFrame:
			r := rc.resp(f.StreamID)
			for _, hf := range f.Fields {
				if hf.Name == ":status" {
					r.status = hf.Value
				} else {
					r.header[hf.Name] = hf.Value
				}
			}
			r.done = r.done || f.StreamEnded()
		case *http2.DataFrame:
			r := rc.resp(f.StreamID)
			r.body = append(r.body, f.Data()...)
			r.done = r.done || f.StreamEnded()
		case *http2.RSTStreamFrame:
			r := rc.resp(f.StreamID)
			r.done, r.rst = true, f.ErrCode
		}
		if stop(f) {
			return
		}
	}
}

func (rc *rawConn) resp(id uint32) *rawResponse {
	r := rc.responses[id]
	if r == nil {
		r = &rawResponse{header: map[string]string{}}
		rc.responses[id] = r
	}
	return r
}

// response reads frames until stream id has ended and returns it.
func (rc *rawConn) response(id uint32) *rawResponse {
	rc.t.Helper()
	if r := rc.responses[id]; r != nil && r.done {
		return r
	}
	rc.readUntil(func(http2.Frame) bool { r := rc.responses[id]; return r != nil && r.done })
	return rc.responses[id]
}
