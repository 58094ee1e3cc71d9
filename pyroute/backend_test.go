package server

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/databridge/databridge/router"
)

// fakeBackend decodes every request it gets and, unless respond is set,
// echoes the decoded request dict back as a text/plain body.
type fakeBackend struct {
	respond func(route *router.Route, req dict) *Response

	mu    sync.Mutex
	calls int
	raw   []byte // copy of the last request value
	last  dict   // the last request, decoded
}

func (f *fakeBackend) Call(route *router.Route, request []byte) *Response {
	raw := append([]byte(nil), request...)
	v, err := decodeWire(raw)
	f.mu.Lock()
	f.calls++
	f.raw = raw
	f.last, _ = v.(dict)
	f.mu.Unlock()
	if err != nil {
		return &Response{Status: 599, Body: []byte("bad wire value: " + err.Error())}
	}
	if f.respond != nil {
		return f.respond(route, v.(dict))
	}
	return &Response{
		Status: http.StatusOK,
		Header: [][2]string{{"Content-Type", "text/plain; charset=utf-8"}},
		Body:   []byte(repr(v)),
	}
}

func (f *fakeBackend) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// field returns the repr of one entry of the last request dict.
func (f *fakeBackend) field(t *testing.T, name string) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.last.get(name)
	if !ok {
		t.Fatalf("request dict has no %q: %s", name, repr(f.last))
	}
	return repr(v)
}

// testRoutes is the router every handler test uses.
func testRoutes(t testing.TB) *router.Router {
	t.Helper()
	rt := router.New()
	for _, r := range [][2]string{
		{"GET", "/items"},
		{"GET", "/users/<int:id>"},
		{"GET", "/price/<float:p>"},
		{"GET", "/obj/<uuid:id>"},
		{"GET", "/files/<path:name>"},
		{"GET", "/s/{name}"},
		{"GET", "/mix/<name>/<int:n>/<float:f>"},
		{"POST", "/submit"},
		{"PUT", "/submit"},
		{"PURGE", "/submit"},
		{"GET", "/resp"},
		{"POST", "/resp"},
	} {
		if _, err := rt.Add(r[0], r[1], r[1], nil); err != nil {
			t.Fatalf("Add(%s %s): %v", r[0], r[1], err)
		}
	}
	return rt
}

// serve runs req through a handler with backend b and returns the
// recorded response.
func serve(t *testing.T, b Backend, cfg Config, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	NewHandler(testRoutes(t), b, cfg).ServeHTTP(rec, req)
	return rec
}
