package main

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/databridge/databridge/files"
	"github.com/databridge/databridge/loop"
	"github.com/databridge/databridge/metrics"
	"github.com/databridge/databridge/middleware"
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

	// Native middleware in add_middleware order; the last added is the
	// outermost, as in Starlette. router.Use appends innermost, so the
	// router gets one middleware that serves this chain, rebuilt on each
	// add.
	middleware []server.Middleware
	inner      server.Handler
	chain      atomic.Pointer[server.Handler]

	// The response hook (hook.go): Go-made responses through Python.
	hook          *pybridge.Handler
	hookOn        bool
	hookInstalled bool

	prod *prodState // prod.go: middleware and what to close after stopping
	dirs []*files.Dir

	// wsSessions are the live WebSocket sessions: closed with 1001 when
	// the server stops.
	wsSessions wsroute.Sessions

	pipe *server.PipeListener // the in-process test client's listener, once used
}

func newEngine() (*engine, error) {
	l, err := loop.New()
	if err != nil {
		return nil, err
	}
	e := &engine{router: router.New(), loop: l}
	// Native middleware (add_middleware) sit outside everything else the
	// router serves, the Python response hook (hook.go) included, whatever
	// is added first: this entry is installed first, and its chain is
	// rebuilt whenever a middleware is added or what it wraps changes.
	e.router.Use(func(next server.Handler) server.Handler {
		e.inner = next
		e.rebuildChain()
		return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
			(*e.chain.Load()).Serve(w, r)
		})
	})
	return e, nil
}

// routeOptions are a route's own settings, as add_route passes them (JSON).
type routeOptions struct {
	MaxBodySize int64  `json:"max_body_size"` // 0: the server's limit
	Body        string `json:"body"`          // "buffer" (""), "stream" or "spool"
}

// pyrouteOptions checks o and gives the route's options.
func (e *engine) pyrouteOptions(o routeOptions) (pyroute.Options, error) {
	opts := pyroute.Options{MaxBody: o.MaxBodySize, Deliver: e.loop.Deliver}
	if o.MaxBodySize < 0 {
		return opts, fmt.Errorf("databridge: max_body_size must be >= 0, not %d", o.MaxBodySize)
	}
	switch o.Body {
	case "", "buffer":
		opts.Body = pyroute.BodyBuffer
	case "stream":
		opts.Body = pyroute.BodyStream
	case "spool":
		opts.Body = pyroute.BodySpool
	default:
		return opts, fmt.Errorf("databridge: unknown body mode %q", o.Body)
	}
	return opts, nil
}

// addRoute registers a handler. spec, when not nil, is the route spec of
// docs/route-spec.md: compiled now, it validates every request in Go and
// gives the handler keyword arguments.
func (e *engine) addRoute(gil pybridge.GIL, method, path string, fn pybridge.Object, name string, spec []byte, o routeOptions) error {
	label := strings.ToUpper(method) + " " + path + " (" + name + ")"
	opts, err := e.pyrouteOptions(o)
	if err != nil {
		return fmt.Errorf("%w (route %s)", err, label)
	}
	var v *validate.Validator
	if spec != nil {
		if v, err = validate.Compile(spec); err != nil {
			return fmt.Errorf("%w (route %s)", err, label)
		}
	}
	pattern, err := router.Parse(path)
	if err != nil {
		return err
	}
	// Logs name the route by method, path and handler: GET /users/<id> (get_user).
	pool, err := pybridge.RunsInPool(gil, fn)
	if err != nil {
		return err // raised
	}
	h := pybridge.NewHandler(gil, fn, label)
	h.Pool = pool
	call := func(request []byte, kwargs bool) *wire.Reply {
		if !metrics.On() {
			return e.loop.Call(h, request, kwargs)
		}
		start := time.Now()
		reply := e.loop.Call(h, request, kwargs)
		metrics.ObserveCall(start)
		return reply
	}
	route := metrics.Label(pattern.Canonical, pyroute.New(call, label, pattern, v, opts))
	if _, err := e.router.Add(method, path, name, route); err != nil {
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
	_, err := e.router.Add(method, path, name, metrics.Label(path, server.Fixed(status, header, body)))
	return err
}

// addMiddleware adds a native middleware (package middleware) around
// everything the router serves, 404s and 405s included, outside those
// added before.
func (e *engine) addMiddleware(kind string, options []byte) error {
	mw, err := middleware.New(kind, options)
	if err != nil {
		return err
	}
	e.middleware = append(e.middleware, mw)
	e.rebuildChain()
	return nil
}

// rebuildChain wraps e.inner in the native middleware, the last added
// outermost (Starlette's order).
func (e *engine) rebuildChain() {
	outermostFirst := make(server.Chain, len(e.middleware))
	for i, m := range e.middleware {
		outermostFirst[len(e.middleware)-1-i] = m
	}
	h := outermostFirst.Then(e.inner)
	e.chain.Store(&h)
}

// addStatic serves directory at prefix in Go (StaticFiles): the routes
// "prefix", "prefix/" and "prefix/<path:path>" when only is empty, else
// just "prefix/<name>" for each name in only (the docs page's assets).
func (e *engine) addStatic(prefix, directory, name string, opts files.DirOptions, only []string) error {
	if strings.ContainsAny(prefix, "{}<>") || (prefix != "" && !strings.HasPrefix(prefix, "/")) {
		return fmt.Errorf("databridge: mount path %q must be a literal path starting with \"/\"", prefix)
	}
	d, err := files.NewDir(directory, prefix, opts)
	if err != nil {
		return err
	}
	base := strings.TrimRight(prefix, "/")
	paths := []string{base + "/<path:path>", base + "/"}
	if base != "" {
		paths = append(paths, base)
	}
	if only != nil {
		paths = paths[:0]
		for _, n := range only {
			paths = append(paths, base+"/"+n)
		}
	}
	e.dirs = append(e.dirs, d) // closed with the engine, even if a route below fails
	for _, p := range paths {
		if _, err := e.router.Add(http.MethodGet, p, name, d); err != nil {
			return err
		}
	}
	return nil
}

func (e *engine) listen(host string, port int, cfg server.Config) (int, error) {
	return e.listenProd(host, port, cfg, nil)
}

// pipeConnect connects the in-process test client (TestClient's
// WebSockets) through a socket pair, serving the app on a PipeListener
// the first time: it returns the client end's fd.
func (e *engine) pipeConnect() (int, error) {
	if e.pipe == nil || e.srv == nil || isDone(e.srv.Done()) {
		pl := server.NewPipeListener()
		if _, err := e.listen("", 0, server.Config{Listener: pl}); err != nil {
			return -1, err
		}
		e.pipe = pl
	}
	return e.pipe.Dial()
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (e *engine) listenProd(host string, port int, cfg server.Config, prod *prodOptions) (int, error) {
	if e.srv != nil {
		select {
		case <-e.srv.Done():
		default:
			return 0, errors.New("databridge: this app is already listening")
		}
	}
	var h server.Handler = e.router
	if prod != nil {
		loopPending = e.loop.Pending
		e.loop.OnBatch = metrics.ObserveBatch
		e.loop.OnTiming = func(t pybridge.Timing) { metrics.ObserveTiming(t.Wait, t.Run) }
		st, err := prod.setup(&cfg)
		if err != nil {
			return 0, err
		}
		h = st.chain.Then(e.router)
		e.prod = st
	}
	srv, err := server.Listen(h, cfg, host, port)
	if err != nil {
		e.prod.close()
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
	}
	if e.srv != nil && !e.prod.shutdown(e.srv, timeout) {
		e.srv.Shutdown(timeout)
	}
}

func (e *engine) stopped() bool {
	if e.srv == nil {
		return true
	}
	select {
	case <-e.srv.Done():
		e.prod.close() // the access log written out
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
	if e.hook != nil {
		e.hook.Close(gil)
		e.hook, e.hookOn = nil, false
	}
	for _, d := range e.dirs {
		d.Close()
	}
	e.dirs = nil
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
