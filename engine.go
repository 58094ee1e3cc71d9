package main

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/databridge/databridge/loop"
	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/pyroute"
	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/validate"
	"github.com/databridge/databridge/wire"
	"github.com/databridge/databridge/wsroute"
)

// engine is one App's Go side: its routes, the loop that runs its handlers,
// and the listener while it serves.
type engine struct {
	router   *router.Router
	loop     *loop.Loop
	srv      *server.Server
	handlers []*pybridge.Handler
	// wsSessions are the live WebSocket sessions: closed with 1001 when
	// the server stops.
	wsSessions wsroute.Sessions
}

func newEngine() (*engine, error) {
	l, err := loop.New()
	if err != nil {
		return nil, err
	}
	return &engine{router: router.New(), loop: l}, nil
}

// addRoute registers a handler. spec, when not nil, is the route spec of
// docs/route-spec.md: compiled now, it validates every request in Go and
// gives the handler keyword arguments.
func (e *engine) addRoute(gil pybridge.GIL, method, path string, fn pybridge.Object, name string, spec []byte) error {
	label := strings.ToUpper(method) + " " + path + " (" + name + ")"
	var v *validate.Validator
	if spec != nil {
		var err error
		if v, err = validate.Compile(spec); err != nil {
			return fmt.Errorf("%w (route %s)", err, label)
		}
	}
	pattern, err := router.Parse(path)
	if err != nil {
		return err
	}
	// Logs name the route by method, path and handler: GET /users/<id> (get_user).
	h := pybridge.NewHandler(gil, fn, label)
	call := func(request []byte, kwargs bool) *wire.Reply { return e.loop.Call(h, request, kwargs) }
	if _, err := e.router.Add(method, path, name, pyroute.New(call, label, pattern, v, 0)); err != nil {
		h.Close(gil)
		return err
	}
	e.handlers = append(e.handlers, h)
	return nil
}

// addFixed registers a route answered in Go with a fixed response: no
// Python call per request.
func (e *engine) addFixed(method, path, name string, status int, header [][2]string, body []byte) error {
	if status < 200 || status > 599 {
		return fmt.Errorf("databridge: status %d of route %q is not a final status (200-599)", status, path)
	}
	_, err := e.router.Add(method, path, name, server.Fixed(status, header, body))
	return err
}

func (e *engine) listen(host string, port int, cfg server.Config) (int, error) {
	if e.srv != nil {
		select {
		case <-e.srv.Done():
		default:
			return 0, errors.New("databridge: this app is already listening")
		}
	}
	srv, err := server.Listen(e.router, cfg, host, port)
	if err != nil {
		return 0, err
	}
	e.wsSessions.Reopen()
	e.srv = srv
	srv.Serve()
	return srv.Port(), nil
}

func (e *engine) shutdown(timeout time.Duration) {
	if e.srv != nil {
		e.wsSessions.GoingAway()
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

// inject runs one request through the router without a socket and
// resolves future (owned from now on) with (status, [(name, value)], body).
func (e *engine) inject(method, target string, header [][2]string, body []byte, future pybridge.Object) error {
	req, err := injected(method, target, header, body)
	if err != nil {
		return err
	}
	go func() {
		rec := &server.Recorder{Head: method == http.MethodHead}
		serveRecovered(e.router, rec, req)
		rec.Finish()
		fields := rec.Fields.Fields()
		var enc wire.Encoder
		enc.List(3)
		enc.Int(int64(rec.Status))
		enc.List(len(fields))
		for _, f := range fields {
			enc.List(2)
			enc.Str(f.Name)
			enc.Str(f.Value)
		}
		enc.Bytes(rec.Body)
		if err := e.loop.Deliver(future, enc.Buf); err != nil {
			log.Printf("%v", err) // the test client times out
		}
	}()
	return nil
}

// injected builds the request view of an in-process request, as the
// fronts would from the same bytes.
func injected(method, target string, header [][2]string, body []byte) (*server.Request, error) {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, err
	}
	req := &server.Request{
		Method: method, Target: target, Path: u.Path, RawPath: u.EscapedPath(), RawQuery: u.RawQuery,
		ProtoMajor: 1, ProtoMinor: 1, ContentLength: int64(len(body)), Body: server.NoBody,
		RemoteAddr: "testclient:50000", LocalAddr: "testserver:80", BodyLimit: server.DefaultMaxBodyBytes,
	}
	if len(body) > 0 {
		req.Body = strings.NewReader(string(body))
	}
	for _, h := range header {
		name := strings.ToLower(h[0])
		if name == "host" {
			if req.Host != "" {
				continue
			}
			req.Host = h[1]
		}
		req.Header.Add(name, h[1])
	}
	return req, nil
}

// serveRecovered runs h like a front does: a panic is logged and becomes a 500.
func serveRecovered(h server.Handler, rec *server.Recorder, req *server.Request) {
	defer func() {
		if p := recover(); p != nil {
			server.Logf("handler panic for %s %s: %v", req.Method, req.Path, p)
			*rec = server.Recorder{Head: rec.Head}
			server.WriteError(rec, http.StatusInternalServerError, server.MsgInternal)
		}
	}()
	h.Serve(rec, req)
}
