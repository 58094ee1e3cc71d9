package accesslog

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/databridge/databridge/server"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }

func serve(t *testing.T, f Format) string {
	t.Helper()
	var out syncBuf
	l := New(f, &out)
	h := l.Middleware(server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
		w.Send(201, []byte("hello"))
	}))
	req := &server.Request{Method: "GET", Target: "/a?b=\"c\"", Path: "/a", ProtoMajor: 1, ProtoMinor: 1,
		RemoteAddr: "10.0.0.1:5555", Body: server.NoBody}
	req.Header.Add("user-agent", "test/1")
	req.Header.Add("x-request-id", "abc")
	rec := &server.Recorder{}
	h.Serve(rec, req)
	l.Close()
	return out.b.String()
}

func TestCombined(t *testing.T) {
	line := serve(t, Combined)
	re := regexp.MustCompile(`^10\.0\.0\.1 - - \[[^\]]+\] "GET /a\?b=\\x22c\\x22 HTTP/1\.1" 201 5 "-" "test/1"\n$`)
	if !re.MatchString(line) {
		t.Fatalf("combined line %q", line)
	}
}

func TestCommon(t *testing.T) {
	line := serve(t, Common)
	if !strings.HasSuffix(line, `HTTP/1.1" 201 5`+"\n") {
		t.Fatalf("common line %q", line)
	}
}

func TestJSON(t *testing.T) {
	var v map[string]any
	if err := json.Unmarshal([]byte(serve(t, JSON)), &v); err != nil {
		t.Fatal(err)
	}
	if v["remote_addr"] != "10.0.0.1" || v["status"] != 201.0 || v["bytes"] != 5.0 || v["request_id"] != "abc" ||
		v["user_agent"] != "test/1" || v["target"] != `/a?b="c"` {
		t.Fatalf("json line %v", v)
	}
}

type blocked struct{ ch chan struct{} }

func (b blocked) Write(p []byte) (int, error) { <-b.ch; return len(p), nil }

func TestFullQueueDrops(t *testing.T) {
	out := blocked{make(chan struct{})}
	l := New(Common, out)
	h := l.Middleware(server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) { w.Send(200, nil) }))
	req := &server.Request{Method: "GET", Target: "/", RemoteAddr: "1.2.3.4:1", Body: server.NoBody}
	for i := 0; i < 2*Queue+batchBytes; i++ { // the writer holds up to a batch too
		h.Serve(&server.Recorder{}, req)
	}
	if l.Dropped() == 0 {
		t.Fatal("nothing dropped with the writer blocked")
	}
	close(out.ch)
	l.Close()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkMiddleware is the access log's cost per request (format and
// queue a combined line; the writer goroutine runs alongside).
func BenchmarkMiddleware(b *testing.B) {
	l := New(Combined, discard{})
	h := l.Middleware(server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) { w.Send(200, nil) }))
	req := &server.Request{Method: "GET", Target: "/api/items/42", ProtoMajor: 1, ProtoMinor: 1,
		RemoteAddr: "127.0.0.1:50000", Body: server.NoBody}
	req.Header.Add("user-agent", "wrk/4.2")
	rec := &server.Recorder{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		*rec = server.Recorder{}
		h.Serve(rec, req)
	}
	b.StopTimer()
	l.Close()
	if l.Dropped() > 0 {
		b.Logf("dropped %d of %d", l.Dropped(), b.N)
	}
}

func BenchmarkBaseline(b *testing.B) {
	h := server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) { w.Send(200, nil) })
	req := &server.Request{Method: "GET", Target: "/", Body: server.NoBody}
	rec := &server.Recorder{}
	for i := 0; i < b.N; i++ {
		*rec = server.Recorder{}
		h.Serve(rec, req)
	}
}
