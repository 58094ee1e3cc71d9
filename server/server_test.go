package server

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// slowBackend answers every request after delay, or once release is
// closed when release is set, and counts finished calls.
type slowBackend struct {
	delay    time.Duration
	release  chan struct{}
	started  chan struct{} // receives once per call, when it starts
	finished atomic.Int32
}

func (s *slowBackend) Serve(w ResponseWriter, r *Request) {
	s.started <- struct{}{}
	if s.release != nil {
		<-s.release
	} else {
		time.Sleep(s.delay)
	}
	s.finished.Add(1)
	w.Send(200, []byte("slow done"))
}

// notFound answers 404 to everything.
var notFound = HandlerFunc(func(w ResponseWriter, r *Request) { WriteError(w, 404, MsgNotFound) })

// waitClosed fails the test unless ch closes within d.
func waitClosed(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: not done after %v", what, d)
	}
}

// isClosed reports whether ch is closed right now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// refused fails the test if a new connection to addr succeeds.
func refused(t *testing.T, addr string) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("connection to %s accepted after shutdown", addr)
	}
}

// TestServerGracefulShutdown: an in-flight request finishes during
// Shutdown, Done closes after it, and the port is closed afterwards.
func TestServerGracefulShutdown(t *testing.T) {
	b := &slowBackend{delay: 200 * time.Millisecond, started: make(chan struct{}, 1)}
	s, err := Listen(b, Config{}, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Port() == 0 {
		t.Fatal("Port() is 0 after binding port 0")
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port()))
	s.Serve()
	s.Serve() // a second call does nothing

	type result struct {
		status int
		body   string
		err    error
	}
	results := make(chan result, 1)
	client := &http.Client{Timeout: 5 * time.Second}
	go func() {
		resp, err := client.Get("http://" + addr + "/items")
		if err != nil {
			results <- result{err: err}
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		results <- result{resp.StatusCode, string(body), err}
	}()

	select {
	case <-b.started:
	case <-time.After(5 * time.Second):
		t.Fatal("request never reached the backend")
	}
	begin := time.Now()
	s.Shutdown(5 * time.Second)
	s.Shutdown(5 * time.Second) // a second call does nothing
	if isClosed(s.Done()) {
		t.Fatal("Done closed while a request was in flight")
	}

	r := <-results
	if r.err != nil || r.status != 200 || r.body != "slow done" {
		t.Fatalf("in-flight request: %d %q %v", r.status, r.body, r.err)
	}
	waitClosed(t, s.Done(), 5*time.Second, "Done")
	if b.finished.Load() != 1 {
		t.Error("Done closed before the backend call finished")
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	refused(t, addr)
	s.Serve() // after Shutdown: does nothing
	s.Shutdown(time.Second)
	refused(t, addr)
}

// TestServerShutdownTimeout: a request still running at the timeout has
// its connection closed and Done closes anyway.
func TestServerShutdownTimeout(t *testing.T) {
	b := &slowBackend{release: make(chan struct{}), started: make(chan struct{}, 1)}
	defer close(b.release) // let the stuck handler goroutine end
	s, err := Listen(b, Config{}, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	errs := make(chan error, 1)
	go func() {
		c := &http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://127.0.0.1:" + strconv.Itoa(s.Port()) + "/items")
		if err == nil {
			resp.Body.Close()
		}
		errs <- err
	}()
	<-b.started
	s.Shutdown(50 * time.Millisecond)
	waitClosed(t, s.Done(), 5*time.Second, "Done after timeout")
	if err := <-errs; err == nil {
		t.Error("the cut-off request succeeded")
	}
}

// TestServerShutdownBeforeServe: the listener is released without ever
// serving.
func TestServerShutdownBeforeServe(t *testing.T) {
	s, err := Listen(notFound, Config{}, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	s.Shutdown(time.Second)
	waitClosed(t, s.Done(), 5*time.Second, "Done")
	refused(t, addr)
	s.Serve() // does nothing
	s.Shutdown(time.Second)
}

func TestListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name string
		host string
		port int
		want string // error prefix
	}{
		// Out of range ports are refused before binding.
		{"negative port", "127.0.0.1", -1, "databridge: invalid port -1"},
		{"port too large", "127.0.0.1", 65536, "databridge: invalid port 65536"},
		// A taken port fails with the address in the message.
		{"port in use", "127.0.0.1", busyPort, "databridge: listen on 127.0.0.1:" + strconv.Itoa(busyPort) + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Listen(notFound, Config{}, tt.host, tt.port)
			if err == nil {
				s.Shutdown(0)
				t.Fatal("Listen succeeded")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want prefix %q", err, tt.want)
			}
		})
	}
}

// TestServerSettings checks the configuration defaults and the logger.
func TestServerSettings(t *testing.T) {
	s, err := Listen(notFound, Config{}, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(0)
	c := s.cfg
	if c.ReadHeaderTimeout != 10*time.Second || c.IdleTimeout != 5*time.Second ||
		c.ReadBodyTimeout != 30*time.Second || c.WriteTimeout != 30*time.Second {
		t.Errorf("timeouts: header %v, idle %v, body %v, write %v", c.ReadHeaderTimeout, c.IdleTimeout, c.ReadBodyTimeout, c.WriteTimeout)
	}
	if c.MaxTargetBytes != 16<<10 || c.MaxHeaderBytes != 64<<10 || c.MaxHeaderFields != 100 || c.MaxBodyBytes != 16<<20 {
		t.Errorf("limits: %+v", c)
	}
	logs := captureLog(t)
	Logf("x")
	if got := logs.String(); !strings.HasSuffix(got, " databridge: x\n") {
		t.Errorf("logger wrote %q", got)
	}
}

// A connection accepted before Shutdown whose request comes after it is
// still answered (with Connection: close), not closed as idle: its client
// has no way to know the request was never read.
func TestShutdownServesANewConnectionsFirstRequest(t *testing.T) {
	h := HandlerFunc(func(w ResponseWriter, r *Request) { w.Send(200, []byte("ok")) })
	s, err := Listen(h, Config{}, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the connection was not accepted")
		}
		time.Sleep(time.Millisecond)
	}
	s.Shutdown(5 * time.Second)
	for { // until the stop loop has looked for idle connections once
		s.mu.Lock()
		passes := s.idlePasses
		s.mu.Unlock()
		if passes > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stop loop did not run")
		}
		time.Sleep(time.Millisecond)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(resp), "HTTP/1.1 200 ") || !strings.Contains(string(resp), "Connection: close\r\n") || !strings.HasSuffix(string(resp), "ok") {
		t.Fatalf("response %q", resp)
	}
	<-s.Done()
}
