package server

import (
	"errors"
	"net/http"
	"runtime/debug"
	"sync"

	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/validate"
	"github.com/databridge/databridge/wire"
)

// Backend runs a route's handler. Call blocks until the response is ready;
// it is called on the request's goroutine, possibly by many goroutines at
// once. request is a wire-encoded dict (see the package documentation) that
// Call must not keep after it returns. A nil Response, or a panic, becomes a
// 500 response.
type Backend interface {
	Call(route *router.Route, request []byte) *Response
}

// Config tunes a handler. The zero value is ready to use.
type Config struct {
	// MaxBodyBytes is the largest request body accepted; larger bodies get
	// a 413 response. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes is the body limit used when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 16 << 20

// NewHandler returns the http.Handler that routes requests with rt and runs
// them with b. rt must not change once the handler serves requests.
func NewHandler(rt *router.Router, b Backend, cfg Config) http.Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &handler{rt: rt, backend: b, maxBody: cfg.MaxBodyBytes}
}

type handler struct {
	rt      *router.Router
	backend Backend
	maxBody int64
}

// scratch is the per-request working memory, pooled so that a steady
// stream of requests allocates no buffers.
type scratch struct {
	enc   wire.Encoder // the request value passed to the backend
	files wire.Encoder // multipart files, copied after the fields
	body  []byte       // the request body as read
	names []string     // header names, to sort
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
	clear(s.names[:cap(s.names)]) // drop references to the request's strings
	s.names = s.names[:0]
	s.seen.reset()
	scratchPool.Put(s)
}

// ServeHTTP runs one request. This is the hot path. For a GET without a
// body, this package allocates once (the backing array of the response
// header values, see writeResponse): the request value is built in pooled
// buffers, header names are lower-cased in place and plain query text is
// not copied. Escaped query text (url.QueryUnescape), bodies (see
// readBody), forms and Content-Type parsing add their own allocations.
func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	m := h.rt.Match(req)
	switch m.Status {
	case http.StatusOK:
	case http.StatusMethodNotAllowed:
		w.Header()["Allow"] = []string{m.Allow}
		writeError(w, http.StatusMethodNotAllowed, bodyMethodNotAllowed)
		return
	default:
		writeError(w, http.StatusNotFound, bodyNotFound)
		return
	}

	s := getScratch()
	defer putScratch(s)

	var err error
	s.body, err = readBody(w, req, h.maxBody, s.body[:0])
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.Is(err, errBodyTooLarge) || errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
		}
		// Any other read error means the client went away or sent a
		// broken body; there is no one to answer.
		return
	}

	// A route without a body schema is validated before the request dict is
	// built, so that a 422 costs no encoding; with one, after it, so that
	// malformed JSON stays a 400 (the validator expects well-formed JSON).
	v := validatorOf(m.Route)
	if v != nil && !v.HasBody() {
		if body := validateRequest(s, v, req, &m); body != nil {
			writeError(w, http.StatusUnprocessableEntity, body)
			return
		}
	}
	s.enc.Reset()
	if msg := encodeRequest(s, req, &m); msg != "" {
		writeError(w, http.StatusBadRequest, errorBody(msg))
		return
	}
	if v != nil {
		if v.HasBody() {
			if body := validateRequest(s, v, req, &m); body != nil {
				writeError(w, http.StatusUnprocessableEntity, body)
				return
			}
		}
		s.enc.Buf = append(s.enc.Buf, s.kwargs.Buf...)
	}

	resp := h.call(m.Route, s.enc.Buf)
	if resp == nil {
		writeError(w, http.StatusInternalServerError, bodyInternal)
		return
	}
	writeResponse(w, req, resp)
	if resp.Release != nil {
		resp.Release()
	}
}

// call runs the backend, turning a panic or a nil response into nil.
func (h *handler) call(route *router.Route, request []byte) (resp *Response) {
	defer func() {
		if p := recover(); p != nil {
			logger.Printf("backend panic in route %q: %v\n%s", routeName(route), p, debug.Stack())
			resp = nil
		}
	}()
	resp = h.backend.Call(route, request)
	if resp == nil {
		logger.Printf("backend returned no response for route %q", routeName(route))
		return nil
	}
	if resp.Status < 100 || resp.Status > 999 {
		logger.Printf("backend returned invalid status %d for route %q", resp.Status, routeName(route))
		if resp.Release != nil {
			resp.Release()
		}
		return nil
	}
	return resp
}

func routeName(r *router.Route) string {
	if r == nil {
		return ""
	}
	if r.Name != "" {
		return r.Name
	}
	if r.Pattern != nil {
		return r.Method + " " + r.Pattern.Source
	}
	return r.Method
}
