package server

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A streamed response learns that its client left while it writes nothing:
// the read-ahead cancels the request's context.
func TestStreamedResponseSeesClientClose(t *testing.T) {
	gone := make(chan struct{})
	addr := serveH1(t, HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Write([]byte("first"))
		w.Flush()
		select {
		case <-r.Context().Done():
			close(gone)
		case <-time.After(5 * time.Second):
		}
	}), Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(line, "first") {
			break
		}
	}
	c.Close()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context was not cancelled after the client closed")
	}
}

// The read-ahead ends with the response and leaves the connection usable:
// a request sent while the previous response streamed is served next.
func TestReadAheadKeepsPipelinedRequest(t *testing.T) {
	release := make(chan struct{})
	addr := serveH1(t, HandlerFunc(func(w ResponseWriter, r *Request) {
		if r.Path == "/slow" {
			w.Write([]byte("a"))
			w.Flush()
			<-release
			w.Write([]byte("b"))
			return
		}
		w.Send(200, []byte("fast"))
	}), Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"))
	buf := make([]byte, 4096)
	var got []byte
	for !strings.Contains(string(got), "1\r\na\r\n") {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	c.Write([]byte("GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
	time.Sleep(50 * time.Millisecond) // let the read-ahead take the bytes
	close(release)
	rest, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest...)
	if !strings.Contains(string(got), "1\r\nb\r\n0\r\n\r\n") || !strings.HasSuffix(string(got), "\r\n\r\nfast") {
		t.Fatalf("got %q", got)
	}
}
