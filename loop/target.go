package loop

import (
	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/validate"
)

// Target is what the engine stores as a router.Route's Handler: the Python
// handler and, for a route with a spec, the validator that converts its
// keyword arguments (package server runs it before calling the Loop).
type Target struct {
	Handler   *pybridge.Handler
	Validator *validate.Validator // nil: the handler takes only the request
}

// RequestValidator implements server.RequestValidator.
func (t *Target) RequestValidator() *validate.Validator { return t.Validator }
