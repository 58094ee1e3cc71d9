package pyroute

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
	srv := httptest.NewServer(NewHandler(testRoutes(t), b, Config{MaxBodyBytes: 1000}))
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			for _, want := range tt.wantInBody {
				if !strings.Contains(string(body), want) {
					t.Errorf("body lacks %s:\n%s", want, body)
				}
			}
		})
	}
}
