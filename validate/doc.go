// Package validate converts and validates a request against its route
// spec (docs/route-spec.md) in Go, before Python is entered, and gives
// either the handler's keyword arguments or the problems for a 422.
//
//	v, err := validate.Compile([]byte(`{"params": [
//	    {"name": "q", "in": "query", "required": true, "schema": {"type": "string"}},
//	    {"name": "limit", "in": "query", "required": false,
//	     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}}]}`))
//	...
//	if ds := v.Check(&enc, &validate.Request{Query: "q=go&limit=500"}); ds != nil {
//	    w.WriteHeader(422)
//	    w.Write(validate.ErrorBody(ds)) // {"error":"validation failed","details":[{"loc":["query","limit"],...}]}
//	}
//	// else enc.Buf ends with the wire dict {"q": "go", "limit": 10}
//
// # What runs where
//
// Compile parses the spec once, at registration, and compiles every schema
// with github.com/santhosh-tekuri/jsonschema/v6 (draft 2020-12, formats
// asserted). It also works out, from each schema's type, how the text of a
// path, query or header value becomes a value (int, float, bool, str,
// uuid.UUID, or a list of them for a repeated query key), and whether the
// conversion alone already satisfies the schema, in which case Check does
// not call the library for it.
//
// Check then runs per request, off the Python thread: it scans the query
// once for the declared names, converts, validates, parses and validates
// the JSON body, and appends the keyword arguments to a wire buffer. It
// appends nothing when anything fails, and returns every problem instead,
// in pydantic's vocabulary ("missing", "int_parsing",
// "less_than_equal", ...), which ErrorBody renders as the 422 body.
//
// Pydantic-only rules (field_validator, model_validator, custom types)
// are not here: they run in Python after Check, when the body model is
// built.
package validate
