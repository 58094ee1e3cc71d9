package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// rawExchange sends one request on a fresh connection to srv and returns
// the parsed response, its body, and any bytes that followed the response
// (which must be none).
func rawExchange(t *testing.T, addr, method, path string) (*http.Response, string, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", method, path)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(br)
	return resp, string(body), string(rest)
}

// captureLog sends the standard logger's output to a buffer for the rest
// of the test.
func captureLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := log.Writer()
	log.SetOutput(&buf)
	t.Cleanup(func() { log.SetOutput(old) })
	return &buf
}

// reply is a response a test handler sends with Send.
type reply struct {
	status int
	header [][2]string
	body   string
}

func TestResponse(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		handler    HandlerFunc
		wantStatus int
		wantHeader map[string][]string // listed names only; nil means absent
		wantBody   string
		wantLog    string // substring of the log; "" means nothing logged
	}{
		// Names are canonicalised; repeats keep their order.
		{
			name: "header order and repeats", method: "GET",
			handler: send(reply{200, [][2]string{
				{"set-cookie", "a=1"}, {"X-Multi", "1"}, {"Set-Cookie", "b=2"},
				{"x-multi", "2"}, {"content-type", "text/html"}, {"SET-COOKIE", "c=3"},
			}, "<p>hi</p>"}),
			wantStatus: 200,
			wantHeader: map[string][]string{
				"Set-Cookie":     {"a=1", "b=2", "c=3"},
				"X-Multi":        {"1", "2"},
				"Content-Type":   {"text/html"},
				"Content-Length": {"9"},
			},
			wantBody: "<p>hi</p>",
		},
		// Without a Content-Type none is sniffed, though this is HTML.
		{
			name: "no sniffing", method: "GET",
			handler:    send(reply{200, nil, "<html><body>x"}),
			wantStatus: 200,
			wantHeader: map[string][]string{"Content-Type": nil, "Content-Length": {"13"}},
			wantBody:   "<html><body>x",
		},
		// An empty body still gets Content-Length: 0 (no chunking).
		{
			name: "empty body", method: "POST",
			handler:    send(reply{201, nil, ""}),
			wantStatus: 201,
			wantHeader: map[string][]string{"Content-Length": {"0"}, "Transfer-Encoding": nil},
		},
		// The engine's Content-Length wins; Transfer-Encoding is dropped.
		{
			name: "handler framing headers", method: "GET",
			handler: send(reply{200, [][2]string{
				{"Content-Length", "999"}, {"Transfer-Encoding", "chunked"}, {"Content-Type", "text/plain"},
			}, "abc"}),
			wantStatus: 200,
			wantHeader: map[string][]string{"Content-Length": {"3"}, "Transfer-Encoding": nil},
			wantBody:   "abc",
		},
		// 204 and 304 have neither body nor Content-Length.
		{
			name: "204", method: "GET",
			handler:    send(reply{204, nil, "dropped"}),
			wantStatus: 204,
			wantHeader: map[string][]string{"Content-Length": nil},
		},
		{
			name: "304", method: "GET",
			handler:    send(reply{304, [][2]string{{"ETag", `"v1"`}}, "dropped"}),
			wantStatus: 304,
			wantHeader: map[string][]string{"Content-Length": nil, "Etag": {`"v1"`}},
		},
		// HEAD: the Content-Length of the body, no body.
		{
			name: "HEAD", method: "HEAD",
			handler:    send(reply{200, [][2]string{{"Content-Type", "text/plain"}}, "hello"}),
			wantStatus: 200,
			wantHeader: map[string][]string{"Content-Length": {"5"}, "Content-Type": {"text/plain"}},
		},
		// A HEAD handler that computes the length itself keeps it.
		{
			name: "HEAD with handler length", method: "HEAD",
			handler:    send(reply{200, [][2]string{{"content-length", "42"}}, ""}),
			wantStatus: 200,
			wantHeader: map[string][]string{"Content-Length": {"42"}},
		},
		// Any status the handler picks.
		{
			name: "teapot", method: "GET",
			handler:    send(reply{418, nil, "short and stout"}),
			wantStatus: 418,
			wantHeader: map[string][]string{"Content-Length": {"15"}},
			wantBody:   "short and stout",
		},
		// Writes before the handler returns are framed with a length.
		{
			name: "buffered writes", method: "GET",
			handler: func(w ResponseWriter, r *Request) {
				w.Header().Add("content-type", "text/plain")
				w.Write([]byte("ab"))
				w.Write([]byte("cd"))
			},
			wantStatus: 200,
			wantHeader: map[string][]string{"Content-Length": {"4"}},
			wantBody:   "abcd",
		},
		// A panic becomes a JSON 500 and a log line.
		{
			name: "panic", method: "GET",
			handler:    func(ResponseWriter, *Request) { panic("boom") },
			wantStatus: 500,
			wantHeader: map[string][]string{"Content-Type": {"application/json"}, "Content-Length": {"33"}},
			wantBody:   `{"error":"Internal Server Error"}`,
			wantLog:    `databridge: handler panic for GET /resp: boom`,
		},
		// A status that cannot be final (1xx, or out of range) is a 500.
		{
			name: "invalid status", method: "GET",
			handler:    send(reply{42, nil, ""}),
			wantStatus: 500,
			wantBody:   `{"error":"Internal Server Error"}`,
			wantLog:    `databridge: handler answered status 42, which cannot be a final response`,
		},
		{
			name: "101 is not a final response", method: "GET",
			handler:    send(reply{101, nil, ""}),
			wantStatus: 500,
			wantBody:   `{"error":"Internal Server Error"}`,
			wantLog:    `databridge: handler answered status 101`,
		},
		// The one error writer.
		{
			name: "error", method: "GET",
			handler:    func(w ResponseWriter, r *Request) { WriteError(w, 404, MsgNotFound) },
			wantStatus: 404,
			wantHeader: map[string][]string{"Content-Type": {"application/json"}, "Content-Length": {"21"}},
			wantBody:   `{"error":"Not Found"}`,
		},
	}
	fronts := []struct {
		name  string
		serve func(t *testing.T, h Handler) string
	}{
		{"nethttp", func(t *testing.T, h Handler) string {
			srv := httptest.NewServer(FromNetHTTP(h, 0))
			t.Cleanup(srv.Close)
			return srv.Listener.Addr().String()
		}},
		{"h1", func(t *testing.T, h Handler) string { return serveH1(t, h, Config{}) }},
	}
	for _, front := range fronts {
		for _, tt := range tests {
			t.Run(front.name+"/"+tt.name, func(t *testing.T) {
				logs := captureLog(t)
				addr := front.serve(t, tt.handler)
				resp, body, rest := rawExchange(t, addr, tt.method, "/resp")
				if resp.StatusCode != tt.wantStatus {
					t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
				}
				for name, want := range tt.wantHeader {
					if got := resp.Header[name]; !reflect.DeepEqual(got, want) {
						t.Errorf("%s: %q, want %q", name, got, want)
					}
				}
				if body != tt.wantBody || rest != "" {
					t.Errorf("body %q then %q, want %q", body, rest, tt.wantBody)
				}
				got := logs.String()
				if tt.wantLog == "" && got != "" || tt.wantLog != "" && !strings.Contains(got, " "+tt.wantLog) {
					t.Errorf("log %q, want %q", got, tt.wantLog)
				}
			})
		}
	}
}

func send(r reply) HandlerFunc {
	return func(w ResponseWriter, _ *Request) {
		for _, kv := range r.header {
			w.Header().Add(kv[0], kv[1])
		}
		w.Send(r.status, []byte(r.body))
	}
}
