package pyroute

import (
	"github.com/databridge/databridge/server"
)

// PythonAnswered is implemented by a ResponseWriter that wants to know
// whether the response it is given came from Python (the app's response
// hook: it passes Go-made responses to Python middleware and exception
// handlers, and leaves Python's own alone). Route.Serve calls it just
// before writing a Python reply.
type PythonAnswered interface {
	PythonAnswered()
}

// EncodeGoResponse encodes the call of the app's response hook for a
// response Go made (a 404, 405, 413, 422 ...): the request dict of req,
// with an empty body (the hook does not read it: a 413 is about a body
// too large to read), then the keyword arguments
// {"status": int, "headers": [[name, value], ...], "body": bytes}.
// It returns the encoding and "", or the message of a 400 when the request
// itself cannot be encoded.
func EncodeGoResponse(req *server.Request, status int, header []server.Field, body []byte) ([]byte, string) {
	s := getScratch()
	defer putScratch(s)
	s.body = s.body[:0]
	s.enc.Reset()
	msg := encodeRequest(s, req, nil)
	if msg != "" {
		// An empty multipart body does not parse: encode the request
		// without its content type instead.
		saved := req.Header
		var h server.Header
		for _, f := range saved.Fields() {
			if f.Name != "content-type" {
				h.Add(f.Name, f.Value)
			}
		}
		req.Header = h
		s.enc.Reset()
		msg = encodeRequest(s, req, nil)
		req.Header = saved
		if msg != "" {
			return nil, msg
		}
	}
	e := &s.enc
	e.Dict(3)
	e.Str("status")
	e.Int(int64(status))
	e.Str("headers")
	e.List(len(header))
	for _, f := range header {
		e.List(2)
		e.Str(f.Name)
		e.Str(f.Value)
	}
	e.Str("body")
	e.Bytes(body)
	return append([]byte(nil), e.Buf...), ""
}
