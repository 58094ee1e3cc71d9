package main

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/databridge/databridge/loop"
	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/validate"
	"github.com/databridge/databridge/wire"
)

// engine is one App's Go side: its routes, the loop that runs its handlers,
// and the listener while it serves.
type engine struct {
	router   *router.Router
	loop     *loop.Loop
	handler  http.Handler
	srv      *server.Server
	handlers []*pybridge.Handler
}

func newEngine() (*engine, error) {
	l, err := loop.New()
	if err != nil {
		return nil, err
	}
	rt := router.New()
	return &engine{router: rt, loop: l, handler: server.NewHandler(rt, l, server.Config{})}, nil
}

// addRoute registers a handler. spec, when not nil, is the route spec of
// docs/route-spec.md: compiled now, it validates every request in Go and
// gives the handler keyword arguments.
func (e *engine) addRoute(gil pybridge.GIL, method, path string, fn pybridge.Object, name string, spec []byte) error {
	label := strings.ToUpper(method) + " " + path + " (" + name + ")"
	t := &loop.Target{}
	if spec != nil {
		v, err := validate.Compile(spec)
		if err != nil {
			return fmt.Errorf("%w (route %s)", err, label)
		}
		t.Validator = v
	}
	// Logs name the route by method, path and handler: GET /users/<id> (get_user).
	h := pybridge.NewHandler(gil, fn, label)
	t.Handler = h
	if _, err := e.router.Add(method, path, name, t); err != nil {
		h.Close(gil)
		return err
	}
	e.handlers = append(e.handlers, h)
	return nil
}

func (e *engine) listen(host string, port int) (int, error) {
	if e.srv != nil {
		select {
		case <-e.srv.Done():
		default:
			return 0, errors.New("databridge: this app is already listening")
		}
	}
	srv, err := server.Listen(e.handler, host, port)
	if err != nil {
		return 0, err
	}
	e.srv = srv
	srv.Serve()
	return srv.Port(), nil
}

func (e *engine) shutdown(timeout time.Duration) {
	if e.srv != nil {
		e.srv.Shutdown(timeout)
	}
}

func (e *engine) stopped() bool {
	if e.srv == nil {
		return true
	}
	select {
	case <-e.srv.Done():
		return true
	default:
		return false
	}
}

func (e *engine) close(gil pybridge.GIL) {
	e.shutdown(0)
	e.loop.Close(gil)
	for _, h := range e.handlers {
		h.Close(gil)
	}
	e.handlers = nil
}

// inject runs one request through the handler without a socket and
// resolves future (owned from now on) with (status, [(name, value)], body).
func (e *engine) inject(method, target string, header [][2]string, body []byte, future pybridge.Object) error {
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.RequestURI = target
	req.RemoteAddr = "testclient:50000"
	for _, h := range header {
		if http.CanonicalHeaderKey(h[0]) == "Host" {
			req.Host = h[1]
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	go func() {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		res := rec.Result()
		names := make([]string, 0, len(res.Header))
		for k := range res.Header {
			names = append(names, k)
		}
		sort.Strings(names)
		var enc wire.Encoder
		enc.List(3)
		enc.Int(int64(res.StatusCode))
		n := 0
		for _, k := range names {
			n += len(res.Header[k])
		}
		enc.List(n)
		for _, k := range names {
			for _, v := range res.Header[k] {
				enc.List(2)
				enc.Str(k)
				enc.Str(v)
			}
		}
		if method == http.MethodHead {
			enc.Bytes(nil)
		} else {
			enc.Bytes(rec.Body.Bytes())
		}
		if err := e.loop.Deliver(future, enc.Buf); err != nil {
			log.Printf("%v", err) // the test client times out
		}
	}()
	return nil
}
