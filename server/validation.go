package server

import (
	"net/http"

	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/validate"
)

// RequestValidator is implemented by a route's Handler when the route
// converts and validates requests in Go before the backend runs (issue #4,
// docs/route-spec.md). A nil validator means none.
type RequestValidator interface {
	RequestValidator() *validate.Validator
}

// validatorOf returns the route's validator, or nil.
func validatorOf(route *router.Route) *validate.Validator {
	if rv, ok := route.Handler.(RequestValidator); ok {
		return rv.RequestValidator()
	}
	return nil
}

// validateRequest converts and validates the request for v. On success it
// leaves the handler's keyword arguments in s.kwargs (the caller appends
// them after the request dict) and returns nil; otherwise it returns the
// 422 body, and the backend must not be called.
func validateRequest(s *scratch, v *validate.Validator, req *http.Request, m *router.Match) []byte {
	r := &s.check
	*r = validate.Request{
		Query:      req.URL.RawQuery,
		Header:     req.Header,
		Params:     m.Route.Pattern.Params,
		PathValues: m.Values,
		Body:       s.body,
		BodyIsJSON: s.bodyJSON,
	}
	// A route with a body is validated after encodeRequest: the schema
	// checks the value AppendJSON parsed there, the one Python gets.
	if v.HasBody() && s.bodyJSON && s.bodyWire[1] <= len(s.enc.Buf) {
		r.BodyValue = s.enc.Buf[s.bodyWire[0]:s.bodyWire[1]]
	}
	s.kwargs.Reset()
	details := v.Check(&s.kwargs, r)
	*r = validate.Request{} // drop references to the request
	if details != nil {
		return validate.ErrorBody(details)
	}
	return nil
}
