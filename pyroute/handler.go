package pyroute

import (
	"errors"
	"math"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/databridge/databridge/files"
	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/validate"
	"github.com/databridge/databridge/wire"
)

// CallFunc runs the route's Python handler with a wire-encoded request
// (the request dict, then a dict of keyword arguments when kwargs is set)
// and blocks until its reply is ready. request must not be kept after it
// returns. A nil reply, or a panic, becomes a 500.
type CallFunc func(request []byte, kwargs bool) *wire.Reply

// Route is a Python route: a server.Handler that reads the body, validates
// the request in Go (answering 422 without Python), encodes the request
// dict and calls Python through its CallFunc.
type Route struct {
	call      CallFunc
	name      string              // for logs: GET /users/<id> (get_user)
	params    []router.Param      // the path's parameters, in order
	validator *validate.Validator // nil: the handler takes only the request
	maxBody   int64
}

// New returns the handler of one Python route. pattern is the route's
// parsed path; v, when not nil, validates every request before Python
// runs; maxBody bounds the body below the server's limit (0: no bound
// of the route's own).
func New(call CallFunc, name string, pattern *router.Pattern, v *validate.Validator, maxBody int64) *Route {
	if maxBody <= 0 {
		maxBody = math.MaxInt64
	}
	var params []router.Param
	if pattern != nil {
		params = pattern.Params
	}
	return &Route{call: call, name: name, params: params, validator: v, maxBody: maxBody}
}

// scratch is the per-request working memory, pooled so that a steady
// stream of requests allocates no buffers.
type scratch struct {
	enc   wire.Encoder // the request value passed to the backend
	files wire.Encoder // multipart files, copied after the fields
	body  []byte       // the request body as read
	names []int        // header field indexes, sorted by name
	seen  keySet       // names already written to a first-value dict

	bodyJSON bool             // the body was parsed as JSON
	bodyWire [2]int           // where AppendJSON wrote the body's value in enc.Buf
	check    validate.Request // the validator's view of the request
	kwargs   wire.Encoder     // the handler's keyword arguments, after validation
}

// maxPooledBytes bounds the buffers a pooled scratch keeps, so that one
// large upload does not pin megabytes in the pool.
const maxPooledBytes = 64 << 10

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.enc.Buf) > maxPooledBytes {
		s.enc.Buf = nil
	}
	if cap(s.files.Buf) > maxPooledBytes {
		s.files.Buf = nil
	}
	if cap(s.kwargs.Buf) > maxPooledBytes {
		s.kwargs.Buf = nil
	}
	if cap(s.body) > maxPooledBytes {
		s.body = nil
	}
	s.names = s.names[:0]
	s.seen.reset()
	scratchPool.Put(s)
}

// Serve runs one request. This is the hot path. For a GET without a body,
// this package allocates nothing: the request value is built in pooled
// buffers and header names are already lower-case. Escaped query text
// (url.QueryUnescape), bodies, forms and Content-Type parsing add their
// own allocations.
func (rt *Route) Serve(w server.ResponseWriter, req *server.Request) {
	s := getScratch()
	defer putScratch(s)

	var err error
	limit := rt.maxBody
	if req.BodyLimit > 0 && req.BodyLimit < limit {
		limit = req.BodyLimit
	}
	s.body, err = server.ReadBody(req, limit, s.body[:0])
	if err != nil {
		req.Close = true // the rest of the body is not read
		switch {
		case errors.Is(err, server.ErrBodyTooLarge):
			server.WriteError(w, http.StatusRequestEntityTooLarge, server.MsgBodyTooLarge)
		case errors.Is(err, server.ErrBadFraming):
			server.WriteError(w, http.StatusBadRequest, server.ErrorMessage(err))
		}
		// Any other read error means the client went away: there is no
		// one to answer.
		return
	}

	// A route without a body schema is validated before the request dict is
	// built, so that a 422 costs no encoding; with one, after it, so that
	// malformed JSON stays a 400 (the validator expects well-formed JSON).
	v := rt.validator
	if v != nil && !v.HasBody() {
		if body := rt.validate(s, req); body != nil {
			server.WriteJSON(w, http.StatusUnprocessableEntity, body)
			return
		}
	}
	s.enc.Reset()
	if msg := encodeRequest(s, req, rt.params); msg != "" {
		server.WriteError(w, http.StatusBadRequest, msg)
		return
	}
	if v != nil {
		if v.HasBody() {
			if body := rt.validate(s, req); body != nil {
				server.WriteJSON(w, http.StatusUnprocessableEntity, body)
				return
			}
		}
		s.enc.Buf = append(s.enc.Buf, s.kwargs.Buf...)
	}

	reply := rt.invoke(s.enc.Buf, v != nil)
	if reply == nil {
		server.WriteError(w, http.StatusInternalServerError, server.MsgInternal)
		return
	}
	if pa, ok := w.(PythonAnswered); ok {
		pa.PythonAnswered()
	}
	h := w.Header()
	file, isFile := "", false
	for _, kv := range reply.Header {
		if len(kv[0]) == len(wire.FileHeader) && kv[0] == wire.FileHeader {
			file, isFile = kv[1], true
			continue
		}
		h.Add(kv[0], kv[1])
	}
	if reply.Stream != nil {
		if reply.Release != nil {
			reply.Release()
		}
		streamBody(w, req, reply.Status, reply.Stream)
		return
	}
	if isFile {
		if reply.Release != nil {
			reply.Release()
		}
		rt.serveFile(w, req, reply.Status, file)
		return
	}
	w.Send(reply.Status, reply.Body)
	if reply.Release != nil {
		reply.Release()
	}
}

// serveFile answers a FileResponse: the file is opened and sent in Go
// (package files), off the GIL. A file that cannot be served is a 500,
// logged, as Starlette raises for it.
func (rt *Route) serveFile(w server.ResponseWriter, req *server.Request, status int, value string) {
	path, typeName, _ := strings.Cut(value, "\x00")
	if err := files.Serve(w, req, path, &files.Options{Status: status, TypeName: typeName}); err != nil {
		server.Logf("FileResponse of route %s: %v", rt.name, err)
		w.Header().Reset()
		server.WriteError(w, http.StatusInternalServerError, server.MsgInternal)
	}
}

// invoke runs the backend, turning a panic or a nil reply into nil.
func (rt *Route) invoke(request []byte, kwargs bool) (reply *wire.Reply) {
	defer func() {
		if p := recover(); p != nil {
			server.Logf("backend panic in route %q: %v\n%s", rt.name, p, debug.Stack())
			reply = nil
		}
	}()
	reply = rt.call(request, kwargs)
	if reply == nil {
		server.Logf("backend returned no response for route %q", rt.name)
	}
	return reply
}
