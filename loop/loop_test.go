package loop

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	python3 "github.com/go-python/cpy3"

	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/wire"
)

// The tests embed CPython (scripts/test.sh links libpython into test
// binaries); the handlers are defined in __main__.
const prelude = `
class Response:
    def __init__(self, body=None, status=200, headers=None, media_type=None):
        self.body, self.status, self.headers, self.media_type = body, status, headers, media_type

class HTTPError(Exception):
    pass

def report(kind, route, exc):
    pass

def jsonable(obj):
    raise TypeError("not JSON serializable")

def echo(request):
    return (201, {"n": request["n"]}, {"x-n": str(request["n"])})

def big(request):
    return "x" * 10000
`

var mainDict pybridge.Object

func TestMain(m *testing.M) {
	runtime.LockOSThread()
	python3.Py_Initialize()
	if python3.PyRun_SimpleString(prelude) != 0 {
		panic("prelude failed")
	}
	mainDict = python3.PyModule_GetDict(python3.PyImport_AddModule("__main__"))
	get := func(name string) pybridge.Object { return python3.PyDict_GetItemString(mainDict, name) }
	if err := pybridge.Configure(pybridge.Held(), get("Response"), get("HTTPError"), get("report"), get("jsonable")); err != nil {
		panic(err)
	}
	state := python3.PyEval_SaveThread()
	code := m.Run()
	python3.PyEval_RestoreThread(state)
	os.Exit(code)
}

// handler makes a Handler of the __main__ function name.
func handler(name string) *pybridge.Handler {
	var h *pybridge.Handler
	pybridge.WithGIL(func(gil pybridge.GIL) {
		h = pybridge.NewHandler(gil, python3.PyDict_GetItemString(mainDict, name), name)
	})
	return h
}

// drainUntil plays the GIL thread: it drains batches on a locked thread
// holding the GIL until stop is closed.
func drainUntil(t *testing.T, l *Loop, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			pybridge.WithGIL(func(gil pybridge.GIL) {
				if err := l.queue.Drain(gil); err != nil {
					t.Errorf("drain: %v", err)
				}
			})
			time.Sleep(100 * time.Microsecond) // an event loop waits on the fd here
		}
	})
	return &wg
}

func request(n int64) []byte {
	var e wire.Encoder
	e.Dict(1)
	e.Str("n")
	e.Int(n)
	return e.Buf
}

// TestCallFromManyGoroutines: every caller gets its own reply, whatever the
// batch it was drained in.
func TestCallFromManyGoroutines(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	h := handler("echo")
	stop := make(chan struct{})
	drainer := drainUntil(t, l, stop)

	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				n := int64(g*1000 + i)
				r := l.Call(h, request(n), false)
				if r == nil {
					t.Errorf("call %d: no reply", n)
					return
				}
				want := fmt.Sprintf(`{"n":%d}`, n)
				if r.Status != 201 || string(r.Body) != want {
					t.Errorf("call %d: %d %q, want 201 %q", n, r.Status, r.Body, want)
				}
				if len(r.Header) != 2 || r.Header[0] != [2]string{"x-n", fmt.Sprint(n)} {
					t.Errorf("call %d: header %q", n, r.Header)
				}
				if r.Release != nil {
					r.Release()
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	drainer.Wait()
	pybridge.WithGIL(func(gil pybridge.GIL) {
		h.Close(gil)
		l.Close(gil)
	})
}

// TestLargeReplyIsHandedOver: a body from 4 KB on comes without a copy and
// must be released once written.
func TestLargeReplyIsHandedOver(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	h := handler("big")
	stop := make(chan struct{})
	drainer := drainUntil(t, l, stop)
	r := l.Call(h, request(1), false)
	close(stop)
	drainer.Wait()
	if r == nil || r.Status != 200 || len(r.Body) != 10000 || r.Release == nil {
		t.Fatalf("reply %+v", r)
	}
	r.Release()
	pybridge.WithGIL(func(gil pybridge.GIL) {
		h.Close(gil)
		l.Close(gil)
	})
}
