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

// validateRequest runs the route's validator, if it has one. On success it
// appends the handler's keyword arguments after the request dict in s.enc
// and returns nil; otherwise it returns the 422 body, and the backend must
// not be called.
func validateRequest(s *scratch, req *http.Request, m *router.Match) []byte {
	rv, ok := m.Route.Handler.(RequestValidator)
	if !ok {
		return nil
	}
	v := rv.RequestValidator()
	if v == nil {
		return nil
	}
	r := &s.check
	*r = validate.Request{
		Query:      req.URL.RawQuery,
		Header:     req.Header,
		Params:     m.Route.Pattern.Params,
		PathValues: m.Values,
		Body:       s.body,
		BodyIsJSON: s.bodyJSON,
	}
	details := v.Check(&s.enc, r)
	*r = validate.Request{} // drop references to the request
	if details != nil {
		return validate.ErrorBody(details)
	}
	return nil
}
