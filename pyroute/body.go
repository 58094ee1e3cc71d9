package server

import (
	"errors"
	"io"
	"net/http"
)

// errBodyTooLarge reports a Content-Length over the limit, found before
// reading anything.
var errBodyTooLarge = errors.New("databridge: request body too large")

// readBody reads the whole request body into buf (reusing its capacity)
// and returns it. A body over max bytes fails with errBodyTooLarge or an
// *http.MaxBytesError; http.MaxBytesReader also makes net/http close the
// connection instead of draining the rest.
//
// Allocations: none for a request without a body; for one with a body,
// the MaxBytesReader and, when buf is too small, one buffer sized from
// Content-Length (or grown by doubling when the length is unknown).
func readBody(w http.ResponseWriter, req *http.Request, max int64, buf []byte) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
		return buf[:0], nil
	}
	if req.ContentLength > max {
		return buf[:0], errBodyTooLarge
	}
	r := http.MaxBytesReader(w, req.Body, max)
	buf = buf[:0]
	if n := req.ContentLength; n > 0 && int64(cap(buf)) < n+1 {
		// +1 so that the read which sees io.EOF needs no growth.
		buf = make([]byte, 0, n+1)
	}
	return appendAll(buf, r)
}

// appendAll appends everything r yields to b, like io.ReadAll but into a
// caller's buffer.
func appendAll(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append pick the growth
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
