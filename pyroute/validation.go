package pyroute

import (
	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/validate"
)

// validate converts and validates the request for the route's validator.
// On success it leaves the handler's keyword arguments in s.kwargs (the
// caller appends them after the request dict) and returns nil; otherwise
// it returns the 422 body, and the backend must not be called. It reads
// the same request view as the encoder: the header list (Host included)
// and the query.
func (rt *Route) validate(s *scratch, req *server.Request) []byte {
	r := &s.check
	*r = validate.Request{
		Query:      req.RawQuery,
		Fields:     &req.Header,
		Params:     rt.params,
		PathValues: req.PathValues,
		Body:       s.body,
		BodyIsJSON: s.bodyJSON,
	}
	// The body's one parse: the validator reads the value AppendJSON made
	// (routes with a body are validated after encodeRequest).
	if rt.validator.HasBody() && s.bodyJSON && s.bodyWire[1] <= len(s.enc.Buf) {
		r.BodyValue = s.enc.Buf[s.bodyWire[0]:s.bodyWire[1]]
	}
	s.kwargs.Reset()
	details := rt.validator.Check(&s.kwargs, r)
	*r = validate.Request{} // drop references to the request
	if details != nil {
		return validate.ErrorBody(details)
	}
	return nil
}
