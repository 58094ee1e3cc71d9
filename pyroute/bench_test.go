package pyroute

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/databridge/databridge/wire"
)

// nopBackend answers every request with the same small response.
type nopBackend struct{ resp wire.Reply }

func (b *nopBackend) Call(string, []byte) *wire.Reply { return &b.resp }

// nopWriter is a ResponseWriter that keeps only the header map, so the
// benchmark counts the handler's allocations rather than a recorder's.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkHandler is a GET with an int path parameter and a few headers
// through routing, encoding, the backend call and response writing.
func BenchmarkHandler(b *testing.B) {
	h := NewHandler(testRoutes(b), &nopBackend{resp: wire.Reply{
		Status: 200,
		Header: [][2]string{{"Content-Type", "application/json"}},
		Body:   []byte(`{"id": 42}`),
	}}, Config{})
	req := httptest.NewRequest("GET", "/users/42?verbose=1", nil)
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("Accept", "*/*")
	w := &nopWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
