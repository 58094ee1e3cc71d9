package validate

import (
	"errors"
	"fmt"
	"strconv"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/databridge/databridge/wire"
)

// MaxBodyValues bounds the JSON values (scalars, arrays and objects) of a
// body that Check validates; a body beyond it gets one Detail instead. The
// schema library builds an error per failing value: at the bound, a body
// whose every item is wrong costs about 0.2 s and 110 MB of garbage (1
// million values: 1.4 s, 820 MB), where a 16 MiB body may hold 8 million.
// The values are counted while the body's instance is built, which stops
// at the bound.
const MaxBodyValues = 1 << 17

// bodySpec is the compiled "body" entry of a spec.
type bodySpec struct {
	required bool
	schema   *jsonschema.Schema // nil: only presence is checked
	// notJSON is the problem of a body that is not JSON while a schema
	// wants one, from the schema's type.
	notJSON problem
}

func compileBody(c *schemaCompiler, sb *specBody) (*bodySpec, error) {
	b := &bodySpec{required: sb.Required}
	if isNull(sb.Schema) {
		return b, nil
	}
	doc, err := decodeSchema(sb.Schema)
	if err != nil {
		return nil, fmt.Errorf("invalid schema: %v", err)
	}
	if b.schema, err = c.compile("body", doc); err != nil {
		return nil, fmt.Errorf("invalid schema: %v", err)
	}
	b.notJSON = problem{"model_attributes_type", "Input should be a JSON object"}
	var cands candidates
	_ = collect(doc, doc, 0, &cands) // errors were the compiler's to report
	switch {
	case cands.object:
	case cands.array:
		b.notJSON = problem{"list_type", msgList}
	case len(cands.kinds) > 0:
		b.notJSON = *typeProblem(kindTypeName[cands.kinds[0]])
	case cands.null:
		b.notJSON = *typeProblem("null")
	}
	return b, nil
}

// kindTypeName is the JSON Schema type of each conversion.
var kindTypeName = [...]string{
	convStr:   "string",
	convInt:   "integer",
	convFloat: "number",
	convBool:  "boolean",
	convUUID:  "string",
}

// check validates the body: missing when required and empty, a type error
// when it is not JSON, else the schema's verdict on the parsed JSON.
func (b *bodySpec) check(r *Request, ds []Detail) []Detail {
	switch {
	case len(r.Body) == 0:
		if b.required {
			ds = append(ds, Detail{Loc: []any{"body"}, Msg: msgMissing, Type: "missing"})
		}
		return ds
	case b.schema == nil:
		return ds
	case !r.BodyIsJSON:
		return append(ds, Detail{Loc: []any{"body"}, Msg: b.notJSON.msg, Type: b.notJSON.typ})
	}
	inst, prob := decodeBody(r)
	if prob != nil {
		return append(ds, Detail{Loc: []any{"body"}, Msg: prob.msg, Type: prob.typ})
	}
	if err := b.schema.Validate(inst); err != nil {
		ds = appendSchemaErrors(ds, err, inst, "body")
	}
	return ds
}

// decodeBody returns the body in the schema library's instance model, with
// the values Python's request["body"] holds: integers exact (int64, or
// json.Number beyond it), other numbers float64. It reads them from the
// wire value that wire.AppendJSON made of the body (r.BodyValue), the one
// Python gets, so that the JSON is parsed once and by one parser. Without
// r.BodyValue it runs AppendJSON itself; a body that AppendJSON rejects
// (the server answers it with a 400 before Check) is json_invalid.
func decodeBody(r *Request) (any, *problem) {
	val := r.BodyValue
	if val == nil {
		var e wire.Encoder
		if err := wire.AppendJSON(&e, r.Body); err != nil {
			msg := err.Error()
			var se *wire.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg + " at offset " + strconv.FormatInt(se.Offset, 10)
			}
			return nil, &problem{"json_invalid", clip("Invalid JSON: " + msg)}
		}
		val = e.Buf
	}
	v, _, err := wire.DecodeJSON(val, MaxBodyValues)
	switch {
	case errors.Is(err, wire.ErrTooManyValues):
		return nil, errTooManyValues
	case err != nil:
		return nil, &problem{"json_invalid", clip("Invalid JSON: " + err.Error())}
	}
	return v, nil
}

var errTooManyValues = &problem{"value_error", "Body has too many values to validate (the limit is " + strconv.Itoa(MaxBodyValues) + ")"}
