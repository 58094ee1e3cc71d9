package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/pyroute"
	"github.com/databridge/databridge/server"
)

// The response hook: when the app has Python middleware, or exception
// handlers for statuses the engine answers itself (404, 405, 413, 422 ...),
// the responses Go makes go through Python too, as they would in FastAPI.
//
// It is a router-level server.Middleware, installed the first time the app
// sets a hook. Each request runs with a hookWriter: a Python route tells
// it (pyroute.PythonAnswered) that its reply comes from Python, and the
// writer passes that reply straight through, since the Python stack
// already wrapped the endpoint; anything else (the router's 404/405,
// pyroute's 400/413/422) is recorded, and an error status (>= 400) is
// handed to the hook function, hook(request, status=, headers=, body=),
// through the same loop.Call path as a handler; what it returns is sent.
// Fixed responses below 400 are replayed as recorded. An app without a
// hook pays one nil check per request.

// setHook makes fn the response hook; nil turns it off. Only while the
// engine is not serving (request goroutines read the hook unsynchronised).
func (e *engine) setHook(gil pybridge.GIL, fn pybridge.Object) {
	if fn == nil {
		e.hookOn = false
		return
	}
	if e.hook == nil {
		e.hook = pybridge.NewHandler(gil, fn, "response hook (databridge)")
	} else {
		e.hook.SetFn(gil, fn)
	}
	e.hookOn = true
	if !e.hookInstalled {
		e.router.Use(e.hookMiddleware)
		e.hookInstalled = true
	}
}

func (e *engine) hookMiddleware(next server.Handler) server.Handler {
	return server.HandlerFunc(func(w server.ResponseWriter, req *server.Request) {
		hook := e.hook
		if !e.hookOn {
			next.Serve(w, req)
			return
		}
		hw := &hookWriter{w: w}
		next.Serve(hw, req)
		if hw.python || hw.rec.Status == 0 {
			return // Python's reply, already written; or no response at all
		}
		status, fields, body := hw.rec.Status, hw.rec.Header().Fields(), hw.rec.Body
		if status < 400 {
			replay(w, status, fields, body)
			return
		}
		request, msg := pyroute.EncodeGoResponse(req, status, fields, body)
		if msg != "" {
			replay(w, status, fields, body)
			return
		}
		reply := e.loop.Call(hook, request, true)
		if reply == nil {
			server.WriteError(w, http.StatusInternalServerError, server.MsgInternal)
			return
		}
		w.Header().Reset()
		pyroute.WriteReply(w, req, reply, "response hook")
	})
}

func replay(w server.ResponseWriter, status int, fields []server.Field, body []byte) {
	h := w.Header()
	for _, f := range fields {
		h.Add(f.Name, f.Value)
	}
	w.Send(status, body)
}

// hookWriter records a Go-made response, and passes a Python one through.
type hookWriter struct {
	w      server.ResponseWriter
	rec    server.Recorder
	python bool
}

func (h *hookWriter) PythonAnswered() { h.python = true }

// Unwrap is the writer under the hook's (metrics find theirs through it).
func (h *hookWriter) Unwrap() server.ResponseWriter { return h.w }

// Hijack hands the connection over (a WebSocket route): what follows is
// the route's, so nothing is recorded for the hook.
func (h *hookWriter) Hijack() (net.Conn, *bufio.Reader, error) {
	hj, ok := server.HijackerOf(h.w)
	if !ok {
		return nil, nil, errors.New("databridge: this connection cannot be handed over")
	}
	h.python = true
	return hj.Hijack()
}

func (h *hookWriter) Header() *server.Header {
	if h.python {
		return h.w.Header()
	}
	return h.rec.Header()
}

func (h *hookWriter) WriteHeader(status int) {
	if h.python {
		h.w.WriteHeader(status)
		return
	}
	h.rec.WriteHeader(status)
}

func (h *hookWriter) Write(p []byte) (int, error) {
	if h.python {
		return h.w.Write(p)
	}
	return h.rec.Write(p)
}

func (h *hookWriter) Flush() error {
	if h.python {
		return h.w.Flush()
	}
	return h.rec.Flush()
}

func (h *hookWriter) Send(status int, body []byte) error {
	if h.python {
		return h.w.Send(status, body)
	}
	return h.rec.Send(status, body)
}

// ReadFrom passes Python's reply on to the writer below, through its
// ReadFrom when it has one (a FileResponse by sendfile), and records a Go
// one.
func (h *hookWriter) ReadFrom(r io.Reader) (int64, error) {
	if h.python {
		return server.CopyBody(h.w, r)
	}
	return io.Copy(&h.rec, r)
}
