// Package middleware holds the engine's native middleware: configured from
// Python (databridge.middleware, App.add_middleware), running in Go with no
// Python call per request. Each is a server.Middleware; their behaviour
// follows Starlette's middleware of the same name (starlette 1.10):
//
//   - CORS: preflight answered in Go; simple responses get the
//     access-control-* and Vary fields.
//   - Compress (GZipMiddleware): gzip, br or zstd, negotiated from
//     Accept-Encoding.
//   - TrustedHost: 400 "Invalid host header" for a Host not allowed; a
//     redirect to www.<host> when only that is allowed.
//   - HTTPSRedirect: 307 from http to https (ws to wss).
//
// Build one from its JSON options (the Python class's keywords) with New.
package middleware

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/databridge/databridge/server"
)

// New builds the middleware kind ("cors", "gzip", "trustedhost",
// "httpsredirect") from its options, a JSON object of the Python class's
// keyword arguments.
func New(kind string, options []byte) (server.Middleware, error) {
	switch kind {
	case "cors":
		var o CORSOptions
		if err := decode(options, &o); err != nil {
			return nil, err
		}
		return CORS(o)
	case "gzip":
		o := DefaultCompressOptions()
		if err := decode(options, &o); err != nil {
			return nil, err
		}
		return Compress(o)
	case "trustedhost":
		o := TrustedHostOptions{AllowedHosts: []string{"*"}, WWWRedirect: true}
		if err := decode(options, &o); err != nil {
			return nil, err
		}
		return TrustedHost(o)
	case "httpsredirect":
		return HTTPSRedirect(), nil
	}
	return nil, fmt.Errorf("databridge: unknown native middleware %q", kind)
}

func decode(data []byte, v any) error {
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("databridge: middleware options: %v", err)
	}
	return nil
}

// plain answers a text/plain response, as Starlette's PlainTextResponse.
func plain(w server.ResponseWriter, status int, text string) {
	w.Header().Set("content-type", "text/plain; charset=utf-8")
	w.Send(status, []byte(text))
}

// hookWriter calls before(status) once, before the status goes out (the
// first WriteHeader, Write, Flush or Send), so that a middleware can
// change the response header.
type hookWriter struct {
	server.ResponseWriter
	before func(status int)
	status int
	fired  bool
}

func (w *hookWriter) fire(status int) {
	if !w.fired {
		w.fired = true
		w.before(status)
	}
}

func (w *hookWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.fire(status)
	w.ResponseWriter.WriteHeader(status)
}

func (w *hookWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	w.fire(w.status)
	return w.ResponseWriter.Write(p)
}

func (w *hookWriter) Flush() error {
	if w.status == 0 {
		w.status = 200
	}
	w.fire(w.status)
	return w.ResponseWriter.Flush()
}

func (w *hookWriter) Send(status int, body []byte) error {
	w.fire(status)
	return w.ResponseWriter.Send(status, body)
}

// ReadFrom runs the hook and passes r on to the writer below, through
// its ReadFrom when it has one (sendfile on the HTTP/1.1 front).
func (w *hookWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = 200
	}
	w.fire(w.status)
	return server.CopyBody(w.ResponseWriter, r)
}

// Unwrap is the writer under the hook's (server.ReaderFromOf,
// server.HijackerOf and the metrics look through it).
func (w *hookWriter) Unwrap() server.ResponseWriter { return w.ResponseWriter }

// finish runs the hook for a handler that wrote nothing at all.
func (w *hookWriter) finish() {
	if w.status == 0 {
		w.status = 200
	}
	w.fire(w.status)
}

// addVary appends value to the response's Vary as Starlette's
// MutableHeaders.add_vary_header does: every Vary field joined into one.
func addVary(h *server.Header, value string) {
	vs := h.Values("vary")
	joined := value
	if len(vs) > 0 {
		joined = ""
		for _, v := range vs {
			joined += v + ", "
		}
		joined += value
	}
	h.Set("vary", joined)
}
