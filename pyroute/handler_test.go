package pyroute

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/databridge/databridge/server"
)

// onlyReader hides the length of a strings.Reader, so net/http sends the
// body chunked.
type onlyReader struct{ io.Reader }

// TestHandlerOverHTTP runs requests through a real server and client,
// where net/http (not httptest.NewRequest) builds the request.
func TestHandlerOverHTTP(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        io.Reader
		wantStatus  int
		wantInBody  []string // substrings of the echoed request dict
	}{
		// The client's own headers arrive lower-cased with host first.
		{
			name: "GET", method: "GET", path: "/users/7?x=1&x=2",
			wantStatus: 200,
			wantInBody: []string{
				`"method": "GET", "path": "/users/7", "url": "http://127.0.0.1:`,
				`"headers": {"host": "127.0.0.1:`,
				`"accept-encoding": "gzip", "user-agent": "Go-http-client/1.1"}`,
				`"cookies": {}, "query_params": {"x": "1"} + getlist {"x": ["1", "2"]}, "path_params": {"id": 7}`,
				`"client": "127.0.0.1:`,
			},
		},
		// A chunked JSON body is read in full and parsed.
		{
			name: "chunked JSON", method: "POST", path: "/submit", contentType: "application/json",
			body:       onlyReader{strings.NewReader(`{"k": [true, 1.5]}`)},
			wantStatus: 200,
			wantInBody: []string{
				`"transfer-encoding": "chunked"`,
				`"body": {"k": [True, 1.5]}`,
				`"raw_body": b"{\"k\": [true, 1.5]}"`,
			},
		},
		// A chunked body over the limit is cut off with 413.
		{
			name: "chunked too large", method: "POST", path: "/submit", contentType: "text/plain",
			body:       onlyReader{strings.NewReader(strings.Repeat("x", 2000))},
			wantStatus: 413,
			wantInBody: []string{`{"error":"request body too large"}`},
		},
		// A known length over the limit is refused without reading.
		{
			name: "declared too large", method: "POST", path: "/submit", contentType: "text/plain",
			body:       strings.NewReader(strings.Repeat("x", 2000)),
			wantStatus: 413,
			wantInBody: []string{`{"error":"request body too large"}`},
		},
	}
	b := &fakeBackend{}
	// The same table over both ways a request reaches a Python route: the
	// engine's own HTTP/1.1 front, and the net/http adapter that the HTTP/2
	// front feeds (TestHandlerOverHTTP2 runs HTTP/2 itself).
	adapter := httptest.NewServer(NewHandler(testRoutes(t), b, Config{MaxBodyBytes: 1000}))
	defer adapter.Close()
	front, err := server.Listen(newRouter(testRoutes(t), b), server.Config{MaxBodyBytes: 1000}, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	front.Serve()
	defer front.Shutdown(0)
	client := &http.Client{Timeout: 5 * time.Second}
	for _, base := range []struct{ name, url string }{
		{"http1 front", "http://" + front.Addr().String()},
		{"net/http adapter", adapter.URL},
	} {
		for _, tt := range tests {
			if s, ok := tt.body.(interface {
				Seek(int64, int) (int64, error)
			}); ok {
				s.Seek(0, 0) // the body is sent once per front
			} else if o, ok := tt.body.(onlyReader); ok {
				o.Reader.(*strings.Reader).Seek(0, 0)
			}
			t.Run(base.name+"/"+tt.name, func(t *testing.T) {
				serveOne(t, client, base.url, tt.method, tt.path, tt.contentType, tt.body, tt.wantStatus, tt.wantInBody)
			})
		}
	}
}

// serveOne sends one request and checks the status and body substrings.
func serveOne(t *testing.T, client *http.Client, base, method, path, contentType string, body io.Reader,
	wantStatus int, wantInBody []string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, wantStatus, got)
	}
	for _, want := range wantInBody {
		if !strings.Contains(string(got), want) {
			t.Errorf("body lacks %s:\n%s", want, got)
		}
	}
}

// TestHandlerOverHTTP2 runs Python routes over the engine's HTTP/2 front
// (h2c with prior knowledge through server.Listen): the handler sees the
// same request view as over HTTP/1.1.
func TestHandlerOverHTTP2(t *testing.T) {
	b := &fakeBackend{}
	front, err := server.Listen(newRouter(testRoutes(t), b), server.Config{MaxBodyBytes: 1000}, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	front.Serve()
	defer front.Shutdown(0)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	base := "http://" + front.Addr().String()
	serveOne(t, client, base, "GET", "/users/7?x=1&x=2", "", nil, 200, []string{
		`"method": "GET", "path": "/users/7", "url": "http://127.0.0.1:`,
		`"headers": {"host": "127.0.0.1:`,
		`"cookies": {}, "query_params": {"x": "1"} + getlist {"x": ["1", "2"]}, "path_params": {"id": 7}`,
	})
	serveOne(t, client, base, "POST", "/submit", "application/json", strings.NewReader(`{"k": [true, 1.5]}`), 200,
		[]string{`"body": {"k": [True, 1.5]}`})
	serveOne(t, client, base, "POST", "/submit", "text/plain", onlyReader{strings.NewReader(strings.Repeat("x", 2000))},
		413, []string{`{"error":"request body too large"}`})
	serveOne(t, client, base, "GET", "/nope", "", nil, 404, []string{`{"error":"Not Found"}`})
}
