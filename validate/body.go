package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	gojson "github.com/goccy/go-json"
	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
)

// MaxBodyValues bounds the JSON values (scalars, arrays and objects) of a
// body that Check validates; a body beyond it gets one Detail instead. The
// schema library builds an error per failing value: at the bound, a body
// whose every item is wrong costs about 0.2 s and 110 MB of garbage (1
// million values: 1.4 s, 820 MB), where a 16 MiB body may hold 8 million.
// Bodies under 2*MaxBodyValues bytes cannot exceed it and are not counted;
// counting larger ones is one pass over the bytes.
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
	inst, prob := decodeBody(r.Body)
	if prob != nil {
		return append(ds, Detail{Loc: []any{"body"}, Msg: prob.msg, Type: prob.typ})
	}
	if err := b.schema.Validate(inst); err != nil {
		ds = appendSchemaErrors(ds, err, inst, "body")
	}
	return ds
}

// decodeBody parses a JSON body into the schema library's instance model,
// with the values Python's json.loads gives: integers stay exact
// (json.Number), other numbers become float64. The server has already
// rejected invalid JSON; a body that still fails here is reported as
// json_invalid rather than trusted.
func decodeBody(body []byte) (any, *problem) {
	if len(body) > 2*MaxBodyValues && tooManyValues(body, MaxBodyValues) {
		return nil, &problem{"value_error", "Body has too many values to validate (the limit is " + strconv.Itoa(MaxBodyValues) + ")"}
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, &problem{"json_invalid", clip("Invalid JSON: " + err.Error())}
	}
	if err := normalizeNumbers(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeJSON decodes one JSON value with UseNumber, by goccy/go-json or,
// when that fails, by encoding/json: goccy refuses numbers beyond float64's
// range (a 400-digit integer) that json.loads, and so the server, accept.
// Invalid JSON pays for both; it never gets here from the server.
func decodeJSON(body []byte) (any, error) {
	var v any
	d := gojson.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err == nil {
		if err := onlySpace(body[min(int(d.InputOffset()), len(body)):]); err != nil {
			return nil, err
		}
		return v, nil
	}
	v = nil
	sd := json.NewDecoder(bytes.NewReader(body))
	sd.UseNumber()
	if err := sd.Decode(&v); err != nil {
		return nil, err
	}
	if err := onlySpace(body[min(int(sd.InputOffset()), len(body)):]); err != nil {
		return nil, err
	}
	return v, nil
}

func onlySpace(rest []byte) error {
	if len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return errors.New("trailing data after the value")
	}
	return nil
}

var (
	errIntTooLong = &problem{"int_parsing", "Input should be a valid integer, more than " + strconv.Itoa(maxIntDigits) + " digits"}
	errNotFinite  = &problem{"finite_number", "Input should be a finite number"}
)

// normalizeNumbers replaces, in place, each non-integer json.Number with
// its float64 (what Python sees, and cheap for the library to compare,
// where a long decimal's exact value is quadratic to compute). Integers
// stay json.Number: exact, and bounded to maxIntDigits.
func normalizeNumbers(v *any) *problem {
	switch x := (*v).(type) {
	case json.Number:
		s := string(x)
		if isIntegerLiteral(s) {
			digits := len(s)
			if s != "" && s[0] == '-' {
				digits--
			}
			if digits > maxIntDigits {
				return errIntTooLong
			}
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return errNotFinite
		}
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return &problem{"json_invalid", "Invalid JSON: bad number"}
		}
		*v = f
	case []any:
		for i := range x {
			if p := normalizeNumbers(&x[i]); p != nil {
				return p
			}
		}
	case map[string]any:
		for k, item := range x {
			if _, ok := item.(json.Number); ok {
				if p := normalizeNumbers(&item); p != nil {
					return p
				}
				x[k] = item
				continue
			}
			if p := normalizeNumbers(&item); p != nil {
				return p
			}
		}
	}
	return nil
}

// tooManyValues reports whether the JSON text b has more than limit
// values, counting an upper bound: one, plus one per ',', '[' and '{'
// outside strings.
func tooManyValues(b []byte, limit int) bool {
	n := 1
	inStr, esc := false, false
	for _, c := range b {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case ',', '[', '{':
			n++
			if n > limit {
				return true
			}
		}
	}
	return false
}
