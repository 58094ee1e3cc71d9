package server

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"
)

// memConn is a net.Conn that hands out the same request on every Read
// and drops what is written.
type memConn struct {
	req     []byte
	written int
}

func (c *memConn) Read(p []byte) (int, error)         { return copy(p, c.req), nil }
func (c *memConn) Write(p []byte) (int, error)        { c.written += len(p); return len(p), nil }
func (c *memConn) Close() error                       { return nil }
func (c *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// benchConn returns a connection of s that reads req over and over.
func benchConn(b *testing.B, h Handler, req string) (*conn, *memConn) {
	s := &Server{cfg: Config{}.withDefaults(), h: h, conns: map[*conn]struct{}{}}
	mc := &memConn{req: []byte(req)}
	c := &conn{s: s, nc: mc, raw: mc, remote: "127.0.0.1:1", local: "127.0.0.1:2"}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.br = bufio.NewReaderSize(mc, readBufferSize)
	s.track(c, time.Now())
	return c, mc
}

// BenchmarkHTTP1Post reads a Content-Length and a chunked body with
// ReadBody into a reused buffer, as pyroute does.
func BenchmarkHTTP1Post(b *testing.B) {
	for _, tt := range []struct{ name, req string }{
		{"content-length", "POST /users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{\"name\":\"alice\",\"age\":30}"},
		{"chunked", "POST /users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"name\":\"alice\",\r\n9\r\n\"age\":30}\r\n0\r\n\r\n"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var buf []byte
			h := HandlerFunc(func(w ResponseWriter, r *Request) {
				var err error
				buf, err = ReadBody(r, r.BodyLimit, buf)
				if err != nil || len(buf) != 25 || r.Method != "POST" {
					b.Fatalf("body %q: %v", buf, err)
				}
				w.Send(201, buf)
			})
			c, _ := benchConn(b, h, tt.req)
			if !c.serveOne() {
				b.Fatal("the connection closed")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if !c.serveOne() {
					b.Fatal("the connection closed")
				}
			}
		})
	}
}

// BenchmarkHTTP1Hello serves a GET with a few header fields and a small
// body sent with Send, through the connection loop, over an in-memory
// connection: parse, handler, response, one write.
func BenchmarkHTTP1Hello(b *testing.B) {
	hello := []byte("Hello, World!")
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Header().Add("content-type", "text/plain")
		w.Send(200, hello)
	})
	c, mc := benchConn(b, h, "GET /hello?name=x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n")
	if !c.serveOne() {
		b.Fatal("the connection closed")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !c.serveOne() {
			b.Fatal("the connection closed")
		}
	}
	b.StopTimer()
	if mc.written == 0 {
		b.Fatal("nothing written")
	}
}

func TestHTTP1HelloAllocs(t *testing.T) {
	res := testing.Benchmark(BenchmarkHTTP1Hello)
	if a := res.AllocsPerOp(); a != 0 {
		t.Errorf("%d allocations per request", a)
	}
}
