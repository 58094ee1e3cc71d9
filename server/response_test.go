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

	"github.com/databridge/databridge/router"
)

// rawExchange sends one request on a fresh connection to srv and returns
// the parsed response, its body, and any bytes that followed the response
// (which must be none).
func rawExchange(t *testing.T, srv *httptest.Server, method, path string) (*http.Response, string, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
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

func TestResponse(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		resp       func() *Response // what the backend returns
		wantStatus int
		wantHeader map[string][]string // listed names only; nil means absent
		wantBody   string
		wantLog    string // substring of the log; "" means nothing logged
	}{
		// Names are canonicalised; repeats keep their order.
		{
			name: "header order and repeats", method: "GET", path: "/resp",
			resp: func() *Response {
				return &Response{Status: 200, Body: []byte("<p>hi</p>"), Header: [][2]string{
					{"set-cookie", "a=1"}, {"X-Multi", "1"}, {"Set-Cookie", "b=2"},
					{"x-multi", "2"}, {"content-type", "text/html"}, {"SET-COOKIE", "c=3"},
				}}
			},
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
			name: "no sniffing", method: "GET", path: "/resp",
			resp:       func() *Response { return &Response{Status: 200, Body: []byte("<html><body>x")} },
			wantStatus: 200,
			wantHeader: map[string][]string{"Content-Type": nil, "Content-Length": {"13"}},
			wantBody:   "<html><body>x",
		},
		// An empty body still gets Content-Length: 0 (no chunking).
		{
			name: "empty body", method: "POST", path: "/resp",
			resp:       func() *Response { return &Response{Status: 201} },
			wantStatus: 201,
			wantHeader: map[string][]string{"Content-Length": {"0"}, "Transfer-Encoding": nil},
		},
		// The engine's Content-Length wins; Transfer-Encoding is dropped.
		{
			name: "handler framing headers", method: "GET", path: "/resp",
			resp: func() *Response {
				return &Response{Status: 200, Body: []byte("abc"), Header: [][2]string{
					{"Content-Length", "999"}, {"Transfer-Encoding", "chunked"}, {"Content-Type", "text/plain"},
				}}
			},
			wantStatus: 200,
			wantHeader: map[string][]string{"Content-Length": {"3"}, "Transfer-Encoding": nil},
			wantBody:   "abc",
		},
		// 204 and 304 have neither body nor Content-Length.
		{
			name: "204", method: "GET", path: "/resp",
			resp:       func() *Response { return &Response{Status: 204, Body: []byte("dropped")} },
			wantStatus: 204,
			wantHeader: map[string][]string{"Content-Length": nil},
		},
		{
			name: "304", method: "GET", path: "/resp",
			resp: func() *Response {
				return &Response{Status: 304, Header: [][2]string{{"ETag", `"v1"`}}, Body: []byte("dropped")}
			},
			wantStatus: 304,
			wantHeader: map[string][]string{"Content-Length": nil, "Etag": {`"v1"`}},
		},
		// HEAD runs the GET route: its Content-Length, no body.
		{
			name: "HEAD", method: "HEAD", path: "/resp",
			resp: func() *Response {
				return &Response{Status: 200, Header: [][2]string{{"Content-Type", "text/plain"}}, Body: []byte("hello")}
			},
			wantStatus: 200,
			wantHeader: map[string][]string{"Content-Length": {"5"}, "Content-Type": {"text/plain"}},
		},
		// A HEAD handler that computes the length itself keeps it.
		{
			name: "HEAD with handler length", method: "HEAD", path: "/resp",
			resp: func() *Response {
				return &Response{Status: 200, Header: [][2]string{{"content-length", "42"}}}
			},
			wantStatus: 200,
			wantHeader: map[string][]string{"Content-Length": {"42"}},
		},
		// Any status the handler picks.
		{
			name: "teapot", method: "GET", path: "/resp",
			resp:       func() *Response { return &Response{Status: 418, Body: []byte("short and stout")} },
			wantStatus: 418,
			wantHeader: map[string][]string{"Content-Length": {"15"}},
			wantBody:   "short and stout",
		},
		// Backend failures become a JSON 500 and a log line.
		{
			name: "nil response", method: "GET", path: "/resp",
			resp:       func() *Response { return nil },
			wantStatus: 500,
			wantHeader: map[string][]string{"Content-Type": {"application/json"}, "Content-Length": {"34"}},
			wantBody:   `{"error": "Internal Server Error"}`,
			wantLog:    `databridge: backend returned no response for route "/resp"`,
		},
		{
			name: "panic", method: "GET", path: "/resp",
			resp:       func() *Response { panic("boom") },
			wantStatus: 500,
			wantBody:   `{"error": "Internal Server Error"}`,
			wantLog:    `databridge: backend panic in route "/resp": boom`,
		},
		// net/http would panic on a status outside 100-999.
		{
			name: "invalid status", method: "GET", path: "/resp",
			resp:       func() *Response { return &Response{Status: 42} },
			wantStatus: 500,
			wantBody:   `{"error": "Internal Server Error"}`,
			wantLog:    `databridge: backend returned invalid status 42`,
		},
		// Routing failures never reach the backend.
		{
			name: "404", method: "GET", path: "/nope",
			wantStatus: 404,
			wantHeader: map[string][]string{"Content-Type": {"application/json"}, "Content-Length": {"22"}},
			wantBody:   `{"error": "Not Found"}`,
		},
		{
			name: "405", method: "DELETE", path: "/items",
			wantStatus: 405,
			wantHeader: map[string][]string{"Allow": {"GET, HEAD"}, "Content-Type": {"application/json"}},
			wantBody:   `{"error": "Method Not Allowed"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := captureLog(t)
			b := &fakeBackend{}
			if tt.resp != nil {
				b.respond = func(*router.Route, dict) *Response { return tt.resp() }
			}
			srv := httptest.NewServer(NewHandler(testRoutes(t), b, Config{}))
			defer srv.Close()

			resp, body, rest := rawExchange(t, srv, tt.method, tt.path)
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
			wantCalls := 0
			if tt.resp != nil {
				wantCalls = 1
			}
			if b.callCount() != wantCalls {
				t.Errorf("backend called %d times, want %d", b.callCount(), wantCalls)
			}
			got := logs.String()
			if tt.wantLog == "" && got != "" || tt.wantLog != "" && !strings.Contains(got, " "+tt.wantLog) {
				t.Errorf("log %q, want %q", got, tt.wantLog)
			}
		})
	}
}
