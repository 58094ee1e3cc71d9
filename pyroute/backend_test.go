package pyroute

import (
	"fmt"
	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/wire"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/databridge/databridge/router"
)

// fakeBackend decodes every request it gets and, unless respond is set,
// echoes the decoded request dict back as a text/plain body.
type fakeBackend struct {
	respond func(route string, req dict) *wire.Reply

	mu    sync.Mutex
	calls int
	raw   []byte // copy of the last request value
	last  dict   // the last request, decoded
}

func (f *fakeBackend) Call(route string, request []byte) *wire.Reply {
	raw := append([]byte(nil), request...)
	v, err := decodeWire(raw)
	f.mu.Lock()
	f.calls++
	f.raw = raw
	f.last, _ = v.(dict)
	f.mu.Unlock()
	if err != nil {
		return &wire.Reply{Status: 599, Body: []byte("bad wire value: " + err.Error())}
	}
	if f.respond != nil {
		return f.respond(route, v.(dict))
	}
	return &wire.Reply{
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

// Backend answers the test routes' calls: route is the route's path.
type Backend interface {
	Call(route string, request []byte) *wire.Reply
}

// Config is what the tests vary of a server.
type Config struct{ MaxBodyBytes int64 }

// routeTable is the routes every handler test uses.
type routeTable [][2]string

func testRoutes(t testing.TB) routeTable {
	t.Helper()
	return routeTable{
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
	}
}

// NewHandler serves the routes of table with Python routes that call b,
// behind net/http (the adapter the HTTP/2 front uses).
func NewHandler(table routeTable, b Backend, cfg Config) http.Handler {
	return server.FromNetHTTP(newRouter(table, b), cfg.MaxBodyBytes)
}

// newRouter routes the table to Python routes that call b.
func newRouter(table routeTable, b Backend) *router.Router {
	rt := router.New()
	for _, r := range table {
		path := r[1]
		p, err := router.Parse(path)
		if err != nil {
			panic(err)
		}
		call := func(request []byte, kwargs bool) *wire.Reply { return b.Call(path, request) }
		if _, err := rt.Add(r[0], path, path, New(call, path, p, nil, Options{})); err != nil {
			panic(fmt.Sprintf("Add(%s %s): %v", r[0], path, err))
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
