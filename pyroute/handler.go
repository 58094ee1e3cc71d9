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
	opts      Options
}

// BodyMode is how a route reads request bodies.
type BodyMode uint8

const (
	// BodyBuffer reads the whole body before the call and gives it to the
	// handler parsed (body, form_data) and raw (raw_body).
	BodyBuffer BodyMode = iota
	// BodyStream leaves the body on the connection: the handler reads it
	// as it arrives (request.stream(), ReadChunk); the dict's body keys
	// are empty.
	BodyStream
	// BodySpool parses a multipart body as it arrives, before the call,
	// spooling large files to temporary files (UploadFile parameters).
	BodySpool
)

// Options are a route's own settings.
type Options struct {
	// MaxBody, when > 0, is the route's body limit, replacing the
	// server's (larger or smaller).
	MaxBody int64
	// Body is how the body is read; Deliver is required for BodyStream.
	Body    BodyMode
	Deliver Deliver
	// SpoolDir is where BodySpool writes files ("": os.TempDir()).
	SpoolDir string
}

// New returns the handler of one Python route. pattern is the route's
// parsed path; v, when not nil, validates every request before Python
// runs.
func New(call CallFunc, name string, pattern *router.Pattern, v *validate.Validator, opts Options) *Route {
	var params []router.Param
	if pattern != nil {
		params = pattern.Params
	}
	return &Route{call: call, name: name, params: params, validator: v, opts: opts}
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

	mode    BodyMode // how encodeRequest reads the body
	stream  uint64   // BodyStream: the body's id for ReadChunk (0: no body)
	spool   spool    // BodySpool: the temporary files
	bodyErr error    // BodySpool: reading the body failed (not the form)
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
	s.mode, s.stream, s.bodyErr = BodyBuffer, 0, nil
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

	limit := req.BodyLimit
	if rt.opts.MaxBody > 0 {
		limit = rt.opts.MaxBody
		server.SetBodyLimit(req, limit)
	}
	if limit <= 0 {
		limit = math.MaxInt64
	}
	s.body = s.body[:0]
	s.mode = rt.opts.Body
	switch rt.opts.Body {
	case BodyBuffer:
		var err error
		if s.body, err = server.ReadBody(req, limit, s.body); err != nil {
			bodyError(w, req, err)
			return
		}
	case BodyStream:
		if req.Body != server.NoBody && req.ContentLength != 0 {
			id, bs := newBodyStream(req, rt.opts.Deliver)
			defer bs.finish(id)
			s.stream = id
		}
	case BodySpool:
		s.spool.dir = rt.opts.SpoolDir
		defer s.spool.remove()
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
		if s.bodyErr != nil {
			rt.spoolFailed(w, req, s.bodyErr)
			return
		}
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
	WriteReply(w, req, reply, rt.name)
}

// WriteReply answers req with a Python reply, whatever its kind: its
// headers added to w's, then the streamed body, the file or the whole
// body, and releases it (the streaming closes Stream). name names the
// route in logs. The response hook's replies take this path too.
func WriteReply(w server.ResponseWriter, req *server.Request, reply *wire.Reply, name string) {
	h := w.Header()
	for _, kv := range reply.Header {
		h.Add(kv[0], kv[1])
	}
	if reply.Stream != nil {
		if reply.Release != nil {
			reply.Release()
		}
		streamBody(w, req, reply.Status, reply.Stream)
		return
	}
	if reply.File != "" {
		file := reply.File
		if reply.Release != nil {
			reply.Release()
		}
		serveFile(w, req, reply.Status, file, name)
		return
	}
	w.Send(reply.Status, reply.Body)
	if reply.Release != nil {
		reply.Release()
	}
}

// spoolFailed answers a BodySpool body that could not be parsed for a
// reason other than a malformed form.
func (rt *Route) spoolFailed(w server.ResponseWriter, req *server.Request, err error) {
	var se *spoolError
	switch {
	case errors.As(err, &se):
		server.Logf("route %s: %v", rt.name, err)
		req.Close = true
		server.WriteError(w, http.StatusInternalServerError, server.MsgInternal)
	case errors.Is(err, errFieldTooLarge):
		req.Close = true
		server.WriteError(w, http.StatusRequestEntityTooLarge, clientMessage(err))
	default:
		bodyError(w, req, err)
	}
}

// bodyError answers a body that could not be read.
func bodyError(w server.ResponseWriter, req *server.Request, err error) {
	req.Close = true // the rest of the body is not read
	switch {
	case errors.Is(err, server.ErrBodyTooLarge):
		server.WriteError(w, http.StatusRequestEntityTooLarge, server.MsgBodyTooLarge)
	case errors.Is(err, server.ErrBadFraming):
		server.WriteError(w, http.StatusBadRequest, server.ErrorMessage(err))
	}
	// Any other read error means the client went away: there is no one
	// to answer.
}

// serveFile answers a FileResponse: the file is opened and sent in Go
// (package files), off the GIL. A file that cannot be served is a 500,
// logged, as Starlette raises for it.
func serveFile(w server.ResponseWriter, req *server.Request, status int, value, name string) {
	path, typeName, _ := strings.Cut(value, "\x00")
	if err := files.Serve(w, req, path, &files.Options{Status: status, TypeName: typeName}); err != nil {
		server.Logf("FileResponse of route %s: %v", name, err)
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
