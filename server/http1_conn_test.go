package server

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// echo answers 200 with the request body, 400 for a malformed one and
// 413 for one too large, as pyroute does.
var echo = HandlerFunc(func(w ResponseWriter, r *Request) {
	body, err := ReadBody(r, r.BodyLimit, nil)
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		WriteError(w, 413, MsgBodyTooLarge)
	case errors.Is(err, ErrBadFraming):
		WriteError(w, 400, err.Error())
	case err != nil:
		WriteError(w, 500, err.Error())
	default:
		w.Header().Add("x-path", r.Path)
		w.Send(200, body)
	}
})

// serveH1 starts the front on a loopback port for the test.
func serveH1(t testing.TB, h Handler, cfg Config) string {
	t.Helper()
	s, err := Listen(h, cfg, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	t.Cleanup(func() {
		s.Shutdown(time.Second)
		<-s.Done()
	})
	return s.Addr().String()
}

// exchange sends raw on a new connection and returns everything the
// server sends until it closes (or 3 s pass).
func exchange(t testing.TB, addr, raw string) string {
	t.Helper()
	return exchangeOpt(t, addr, raw, false)
}

// exchangeEOF is exchange with the sending side shut after raw.
func exchangeEOF(t testing.TB, addr, raw string) string {
	t.Helper()
	return exchangeOpt(t, addr, raw, true)
}

func exchangeOpt(t testing.TB, addr, raw string, eof bool) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	if eof {
		c.(*net.TCPConn).CloseWrite()
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// readResponses parses the responses in s.
func readResponses(t testing.TB, s string, method string) []*http.Response {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(s))
	var out []*http.Response
	for {
		if _, err := br.Peek(1); err != nil {
			return out
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("reading response %d of %q: %v", len(out), s, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("reading body of %q: %v", s, err)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("X-Body", string(body))
		out = append(out, resp)
	}
}

func TestH1Rejections(t *testing.T) {
	addr := serveH1(t, echo, Config{DisableHTTP2: true})
	for _, tt := range []struct {
		in     string
		status string
	}{
		{"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
		{"GET / HTTP/3.0\r\nHost: a\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "HTTP/1.1 501 Not Implemented\r\n"},
		{"POST / HTTP/1.1\r\nHost: a\r\nExpect: nothing\r\n\r\n", "HTTP/1.1 417 Expectation Failed\r\n"},
		{"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", "HTTP/1.1 501 Not Implemented\r\n"},
		{h2ClientPreface, "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
		{"GET /" + strings.Repeat("a", 20000) + " HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 414 Request URI Too Long\r\n"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 70000) + "\r\n\r\n", "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
	} {
		got := exchange(t, addr, tt.in+"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		if !strings.HasPrefix(got, tt.status) {
			t.Errorf("%.60q: got %.80q, want %q", tt.in, got, tt.status)
			continue
		}
		resps := readResponses(t, got, "GET")
		if len(resps) != 1 || !resps[0].Close {
			t.Errorf("%.60q: the connection did not close after the rejection: %q", tt.in, got)
		}
	}
}

func TestH1PipeliningAndKeepAlive(t *testing.T) {
	addr := serveH1(t, echo, Config{})
	got := exchange(t, addr, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"+
		"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"+
		"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=\"y\"\r\nabc\r\n0\r\nT: 1\r\n\r\n"+
		"GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"+
		"GET /e HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"+
		"GET /never HTTP/1.1\r\nHost: a\r\n\r\n")
	resps := readResponses(t, got, "GET")
	want := []struct{ path, body string }{{"/a", ""}, {"/b", "hello"}, {"/c", "abc"}, {"/d", ""}, {"/e", ""}}
	if len(resps) != len(want) {
		t.Fatalf("%d responses, want %d: %q", len(resps), len(want), got)
	}
	for i, w := range want {
		r := resps[i]
		if r.StatusCode != 200 || r.Header.Get("X-Path") != w.path || r.Header.Get("X-Body") != w.body {
			t.Errorf("response %d: %d %q %q, want %q %q", i, r.StatusCode, r.Header.Get("X-Path"), r.Header.Get("X-Body"), w.path, w.body)
		}
		if r.Header.Get("Date") == "" {
			t.Errorf("response %d has no Date", i)
		}
	}
	if resps[3].Header.Get("Connection") != "keep-alive" {
		t.Errorf("HTTP/1.0 keep-alive response: Connection %q", resps[3].Header.Get("Connection"))
	}
	if !resps[4].Close {
		t.Error("Connection: close not honoured")
	}
	if got := exchange(t, addr, "GET / HTTP/1.0\r\n\r\nGET /never HTTP/1.0\r\n\r\n"); strings.Count(got, "HTTP/1.1 200") != 1 || !strings.Contains(got, "Connection: close\r\n") {
		t.Errorf("HTTP/1.0 without keep-alive: %q", got)
	}
}

func TestH1Bodies(t *testing.T) {
	addr := serveH1(t, echo, Config{MaxBodyBytes: 100})
	const post = "POST / HTTP/1.1\r\nHost: a\r\n"
	const te = post + "Transfer-Encoding: chunked\r\n\r\n"
	for _, tt := range []struct {
		name   string
		in     string
		status int
		body   string
	}{
		{"content-length", post + "Content-Length: 3\r\n\r\nabc", 200, "abc"},
		{"content-length zero", post + "Content-Length: 0\r\n\r\n", 200, ""},
		{"content-length too large", post + "Content-Length: 101\r\n\r\n", 413, ""},
		{"content-length truncated", post + "Content-Length: 10\r\n\r\nabc", 400, ""},
		{"chunked", te + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 200, "abcde"},
		{"chunked upper hex and leading zeros", te + "00A\r\n0123456789\r\n0\r\n\r\n", 200, "0123456789"},
		{"chunked extensions", te + "3 ; a = b ;c;d=\"e\\\"f\"\r\nabc\r\n0;z\r\n\r\n", 200, "abc"},
		{"chunked trailers", te + "3\r\nabc\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n", 200, "abc"},
		{"chunked too large", te + "65\r\n" + strings.Repeat("a", 101) + "\r\n0\r\n\r\n", 413, ""},
		{"chunked too large in pieces", te + strings.Repeat("20\r\n"+strings.Repeat("a", 32)+"\r\n", 4) + "0\r\n\r\n", 413, ""},
		{"chunk size sign", te + "+3\r\nabc\r\n0\r\n\r\n", 400, ""},
		{"chunk size 0x", te + "0x3\r\nabc\r\n0\r\n\r\n", 400, ""},
		{"chunk size leading space", te + " 3\r\nabc\r\n0\r\n\r\n", 400, ""},
		{"chunk size empty", te + "\r\nabc\r\n0\r\n\r\n", 400, ""},
		{"chunk size overflow", te + "10000000000000000\r\nabc\r\n0\r\n\r\n", 400, ""},
		{"chunk size bare LF", te + "3\nabc\r\n0\r\n\r\n", 400, ""},
		{"chunk data without CRLF", te + "3\r\nabcd\r\n0\r\n\r\n", 400, ""},
		{"chunk data bare LF", te + "3\r\nabc\n0\r\n\r\n", 400, ""},
		{"chunk ext bad", te + "3;\r\nabc\r\n0\r\n\r\n", 400, ""},
		{"chunk ext bad value", te + "3;a=\r\nabc\r\n0\r\n\r\n", 400, ""},
		{"chunk ext unterminated quote", te + "3;a=\"b\r\nabc\r\n0\r\n\r\n", 400, ""},
		{"chunk ext too long", te + "3;a=" + strings.Repeat("b", 5000) + "\r\nabc\r\n0\r\n\r\n", 400, ""},
		{"trailer obs-fold", te + "3\r\nabc\r\n0\r\nX: 1\r\n 2\r\n\r\n", 400, ""},
		{"trailer bad name", te + "3\r\nabc\r\n0\r\nX Y: 1\r\n\r\n", 400, ""},
		{"trailer bare LF", te + "3\r\nabc\r\n0\r\nX: 1\n\r\n", 400, ""},
		{"no final CRLF", te + "3\r\nabc\r\n0\r\n", 400, ""},
		{"truncated chunk", te + "5\r\nabc", 400, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := exchangeEOF(t, addr, tt.in)
			resps := readResponses(t, got, "POST")
			if len(resps) != 1 {
				t.Fatalf("%d responses: %q", len(resps), got)
			}
			r := resps[0]
			if r.StatusCode != tt.status || tt.status == 200 && r.Header.Get("X-Body") != tt.body {
				t.Errorf("%d %q, want %d %q", r.StatusCode, r.Header.Get("X-Body"), tt.status, tt.body)
			}
			if tt.status != 200 && !r.Close {
				t.Errorf("connection not closed after %d", tt.status)
			}
		})
	}
}

func TestH1UnreadBody(t *testing.T) {
	ignore := HandlerFunc(func(w ResponseWriter, r *Request) { w.Send(200, []byte("ignored")) })
	addr := serveH1(t, ignore, Config{})
	const post = "POST / HTTP/1.1\r\nHost: a\r\n"
	const next = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	// A small unread body is drained: the connection goes on.
	got := exchange(t, addr, post+"Content-Length: 3\r\n\r\nabc"+post+"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"+next+"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if n := strings.Count(got, "HTTP/1.1 200 OK"); n != 4 {
		t.Errorf("%d responses after drained bodies: %q", n, got)
	}
	// A malformed unread body: 400, and the connection closes.
	got = exchange(t, addr, post+"Transfer-Encoding: chunked\r\n\r\nzz\r\n"+next)
	if !strings.HasPrefix(got, "HTTP/1.1 400 ") || strings.Count(got, "HTTP/1.1") != 1 || !strings.Contains(got, "Connection: close") {
		t.Errorf("malformed unread body: %q", got)
	}
	// A large unread body is not drained: the connection closes.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, post+"Content-Length: %d\r\n\r\n", 10<<20)
	resps := readResponses(t, readUntilClose(c), "POST")
	if len(resps) != 1 || !resps[0].Close || resps[0].Header.Get("X-Body") != "ignored" {
		t.Errorf("large unread body: %v", resps)
	}
}

func readUntilClose(c net.Conn) string {
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestH1ExpectContinue(t *testing.T) {
	addr := serveH1(t, echo, Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
	br := bufio.NewReader(c)
	line, _ := br.ReadString('\n')
	blank, _ := br.ReadString('\n')
	if line != "HTTP/1.1 100 Continue\r\n" || blank != "\r\n" {
		t.Fatalf("interim response %q %q", line, blank)
	}
	io.WriteString(c, "abc")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "abc" || resp.Close {
		t.Errorf("final response %d %q close=%v", resp.StatusCode, body, resp.Close)
	}

	// A handler that answers without reading: no 100, and the connection
	// closes (the client may never send the body).
	ignore := HandlerFunc(func(w ResponseWriter, r *Request) { WriteError(w, 401, "no") })
	addr = serveH1(t, ignore, Config{})
	got := exchange(t, addr, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 401 ") || !strings.Contains(got, "Connection: close\r\n") {
		t.Errorf("unread expect body: %q", got)
	}
	// HTTP/1.0 ignores the expectation.
	got = exchange(t, serveH1(t, echo, Config{}), "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc")
	if !strings.HasPrefix(got, "HTTP/1.1 200 ") || strings.Contains(got, "100 Continue") {
		t.Errorf("HTTP/1.0 expect: %q", got)
	}
}

func TestH1Writer(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	handlers := map[string]HandlerFunc{
		"/flush": func(w ResponseWriter, r *Request) {
			w.Header().Add("content-length", "99")
			w.Write([]byte("ab"))
			w.Flush()
			w.Write([]byte("cd"))
		},
		"/bigsend": func(w ResponseWriter, r *Request) { w.Send(200, []byte(big)) },
		"/bigwrite": func(w ResponseWriter, r *Request) {
			for i := 0; i < 10; i++ {
				w.Write([]byte(big[:10<<10]))
			}
		},
		"/panic":     func(w ResponseWriter, r *Request) { panic("boom") },
		"/status599": func(w ResponseWriter, r *Request) { w.Send(599, nil) },
		"/status42":  func(w ResponseWriter, r *Request) { w.Send(42, nil) },
		"/inject":    func(w ResponseWriter, r *Request) { w.Header().Add("x-a", "1\r\nx-b: 2"); w.Send(200, nil) },
		"/close":     func(w ResponseWriter, r *Request) { r.Close = true; w.Send(200, nil) },
		"/204":       func(w ResponseWriter, r *Request) { w.Send(204, []byte("dropped")) },
		"/connclose": func(w ResponseWriter, r *Request) { w.Header().Add("connection", "close"); w.Send(200, nil) },
		"/date": func(w ResponseWriter, r *Request) {
			w.Header().Add("date", "Thu, 01 Jan 1970 00:00:00 GMT")
			w.Send(200, nil)
		},
	}
	h := HandlerFunc(func(w ResponseWriter, r *Request) { handlers[r.Path](w, r) })
	logs := captureLog(t)
	addr := serveH1(t, h, Config{})
	get := func(path, proto string) (string, []*http.Response) {
		got := exchange(t, addr, "GET "+path+" "+proto+"\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		return got, readResponses(t, got, "GET")
	}
	raw, r := get("/flush", "HTTP/1.1")
	if r[0].Header.Get("X-Body") != "abcd" || len(r[0].TransferEncoding) != 1 || r[0].Header.Get("Content-Length") != "" || len(r) != 2 {
		t.Errorf("flush: %q", raw)
	}
	raw, r = get("/flush", "HTTP/1.0")
	if r[0].Header.Get("X-Body") != "abcd" || !r[0].Close || len(r) != 1 {
		t.Errorf("flush on HTTP/1.0: %q", raw)
	}
	for _, p := range []string{"/bigsend", "/bigwrite"} {
		_, r = get(p, "HTTP/1.1")
		if len(r) != 2 || r[0].Header.Get("X-Body") != big {
			t.Errorf("%s: %d responses, body %d bytes", p, len(r), len(r[0].Header.Get("X-Body")))
		}
	}
	raw, r = get("/panic", "HTTP/1.1")
	if r[0].StatusCode != 500 || len(r) != 1 || r[0].Header.Get("X-Body") != `{"error":"Internal Server Error"}` {
		t.Errorf("panic: %q", raw)
	}
	if !strings.Contains(logs.String(), "databridge: handler panic for GET /panic: boom") {
		t.Errorf("panic log: %q", logs.String())
	}
	raw, _ = get("/status599", "HTTP/1.1")
	if !strings.HasPrefix(raw, "HTTP/1.1 599 \r\n") {
		t.Errorf("599: %q", raw)
	}
	_, r = get("/status42", "HTTP/1.1")
	if r[0].StatusCode != 500 {
		t.Errorf("status 42 answered %d", r[0].StatusCode)
	}
	raw, r = get("/inject", "HTTP/1.1")
	if r[0].Header.Get("X-A") != "1  x-b: 2" || r[0].Header.Get("X-B") != "" {
		t.Errorf("header injection: %q", raw)
	}
	raw, r = get("/date", "HTTP/1.1")
	if d := r[0].Header.Values("Date"); len(d) != 1 || d[0] != "Thu, 01 Jan 1970 00:00:00 GMT" {
		t.Errorf("handler's Date: %q", raw)
	}
	raw, r = get("/connclose", "HTTP/1.1")
	if len(r) != 1 || strings.Count(strings.ToLower(raw), "connection: close") != 1 {
		t.Errorf("handler's Connection: close: %q", raw)
	}
	raw, r = get("/close", "HTTP/1.1")
	if len(r) != 1 || !r[0].Close {
		t.Errorf("Request.Close: %q", raw)
	}
	raw = exchange(t, addr, "HEAD /bigsend HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if !strings.Contains(raw, "Content-Length: 102400\r\n") || !strings.HasSuffix(raw, "\r\n\r\n") {
		t.Errorf("HEAD: %q", raw)
	}
	raw = exchange(t, addr, "OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(raw, "HTTP/1.1 200 OK\r\n") || !strings.Contains(raw, "Content-Length: 0\r\n") {
		t.Errorf("OPTIONS *: %q", raw)
	}
}

// TestH1FrontResponse runs the response table of the net/http front over
// this front.
func TestH1Timeouts(t *testing.T) {
	addr := serveH1(t, echo, Config{ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond, MaxRequestsPerConn: 2})
	start := time.Now()
	got := exchange(t, addr, "GET / HTTP/1.1\r\nHost:")
	if !strings.HasPrefix(got, "HTTP/1.1 408 ") || time.Since(start) > 2*time.Second {
		t.Errorf("header timeout: %q after %v", got, time.Since(start))
	}
	start = time.Now()
	got = exchange(t, addr, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if strings.Count(got, "200 OK") != 1 || time.Since(start) > 2*time.Second {
		t.Errorf("idle timeout: %q after %v", got, time.Since(start))
	}
	got = exchange(t, addr, strings.Repeat("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 3))
	if strings.Count(got, "200 OK") != 2 || strings.Count(got, "Connection: close") != 1 {
		t.Errorf("MaxRequestsPerConn: %q", got)
	}
}

func TestH1Hijack(t *testing.T) {
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		c, br, err := w.(Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		go func() {
			defer c.Close()
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
			line, _ := br.ReadString('\n')
			io.WriteString(c, "echo: "+line)
		}()
	})
	addr := serveH1(t, h, Config{})
	got := exchange(t, addr, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\nhello\n")
	if got != "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\necho: hello\n" {
		t.Errorf("hijacked: %q", got)
	}
}

func TestH1Shutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		if r.Path == "/slow" {
			started <- struct{}{}
			<-release
		}
		w.Send(200, []byte("done"))
	})
	s, err := Listen(h, Config{}, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	addr := s.Addr().String()
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idle.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(idle)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.Close {
		t.Fatalf("idle conn first response: %v", err)
	} else {
		io.ReadAll(resp.Body)
	}
	active, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer active.Close()
	active.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(active, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	s.Shutdown(3 * time.Second)
	// The idle connection is closed at once.
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("idle connection: %v, want EOF", err)
	}
	close(release)
	got := readUntilClose(active)
	if !strings.HasPrefix(got, "HTTP/1.1 200 OK") || !strings.Contains(got, "Connection: close\r\n") || !strings.HasSuffix(got, "done") {
		t.Errorf("active response: %q", got)
	}
	waitClosed(t, s.Done(), 3*time.Second, "Done")
}

// TestH1SlowHeaders: 500 connections that send a header byte a second do
// not delay a normal client, and are closed at the header timeout.
func TestH1SlowHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const n = 500
	timeout := 1500 * time.Millisecond
	addr := serveH1(t, echo, Config{ReadHeaderTimeout: timeout})
	var wg sync.WaitGroup
	var closedInTime, opened atomic.Int32
	stop := make(chan struct{})
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		opened.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			begin := time.Now()
			msg := "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "
			go func() {
				for i := 0; ; i++ {
					c.SetWriteDeadline(time.Now().Add(time.Second))
					if _, err := c.Write([]byte{msg[i%len(msg)]}); err != nil {
						return
					}
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
					}
				}
			}()
			c.SetReadDeadline(time.Now().Add(timeout + 3*time.Second))
			io.ReadAll(c)
			if d := time.Since(begin); d < timeout+time.Second {
				closedInTime.Add(1)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 5; i++ {
		begin := time.Now()
		got := exchange(t, addr, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 200 OK") {
			t.Fatalf("normal client: %q", got)
		}
		if d := time.Since(begin); d > 200*time.Millisecond {
			t.Errorf("normal client took %v", d)
		}
	}
	wg.Wait()
	close(stop)
	if got := closedInTime.Load(); got != n {
		t.Errorf("%d of %d slow connections closed at the header timeout", got, n)
	}
}

func TestH1TLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Send(200, []byte(r.Scheme()+" "+r.Proto()))
	})
	addr := serveH1(t, h, Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}, DisableHTTP2: true})
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(der)
	pool.AddCert(leaf)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}, Timeout: 3 * time.Second}
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "https HTTP/1.1" {
		t.Errorf("TLS: %q over %s", body, resp.Proto)
	}
}

// TestH1IdleBuffers: a connection waiting for its next request does not
// keep the buffers of a large response.
func TestH1IdleBuffers(t *testing.T) {
	big := make([]byte, 60<<10)
	h := HandlerFunc(func(w ResponseWriter, r *Request) { w.Write(big) })
	s, err := Listen(h, Config{}, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	defer s.Shutdown(time.Second)
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "GET /"+strings.Repeat("a", 8000)+" HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); len(b) != len(big) {
		t.Fatalf("body of %d bytes", len(b))
	}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		held := -1
		for c := range s.conns {
			if c.state.Load() == stateIdle {
				held = cap(c.head) + cap(c.wbuf) + cap(c.w.buf) + cap(c.pathBuf)
			}
		}
		s.mu.Unlock()
		if held >= 0 && held <= 4*maxIdleBuffer {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("idle connection holds %d bytes of buffers", held)
		}
	}
}
