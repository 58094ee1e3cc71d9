package server

import (
	"net/http"
	"strconv"
	"strings"
)

// Recorder is a ResponseWriter that keeps the response in memory, framed
// as the fronts frame it (Content-Length set, no body for HEAD, 1xx, 204
// and 304): for the in-process test client and for tests.
type Recorder struct {
	Status int
	Head   bool // the request was a HEAD: the body is dropped
	Fields Header
	Body   []byte

	header Header
	done   bool
}

func (r *Recorder) Header() *Header { return &r.header }

func (r *Recorder) WriteHeader(status int) {
	if r.Status == 0 {
		r.Status = status
	}
}

func (r *Recorder) Write(p []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	r.Body = append(r.Body, p...)
	return len(p), nil
}

func (r *Recorder) Flush() error { return nil }

func (r *Recorder) Send(status int, body []byte) error {
	r.Status = status
	r.Body = append(r.Body[:0], body...)
	return nil
}

// Finish frames the response once the handler has returned: it fills
// Fields from the header (framing fields replaced) and applies the
// status and HEAD rules to Body.
func (r *Recorder) Finish() {
	if r.done {
		return
	}
	r.done = true
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	if !statusValid(r.Status) {
		logger.Printf("handler answered status %d, which cannot be a final response", r.Status)
		r.Status = http.StatusInternalServerError
		r.header.Reset()
		r.header.Add("content-type", "application/json")
		r.Body = ErrorBody(MsgInternal)
	}
	handlerLength := ""
	for _, f := range r.header.Fields() {
		switch strings.ToLower(f.Name) {
		case "content-length":
			handlerLength = f.Value
			continue
		case "transfer-encoding":
			continue
		}
		r.Fields.Add(f.Name, f.Value)
	}
	if bodyAllowed(r.Status) {
		length := strconv.Itoa(len(r.Body))
		if r.Head && len(r.Body) == 0 && isDigits(handlerLength) {
			length = handlerLength
		}
		r.Fields.Add("content-length", length)
	}
	if r.Head || !bodyAllowed(r.Status) {
		r.Body = r.Body[:0]
	}
}
