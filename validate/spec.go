package validate

import (
	"bytes"
	"errors"
	"fmt"

	json "github.com/goccy/go-json"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// specDoc is the route spec document of docs/route-spec.md. Unknown fields
// are ignored, so that Python may add annotations (descriptions for
// OpenAPI, say) without breaking older engines.
type specDoc struct {
	Params  []specParam     `json:"params"`
	Body    *specBody       `json:"body"`
	Query   json.RawMessage `json:"query"`
	Headers json.RawMessage `json:"headers"`
	Path    json.RawMessage `json:"path"`
}

type specParam struct {
	Name     string          `json:"name"`
	In       string          `json:"in"`
	Alias    string          `json:"alias"`
	Required bool            `json:"required"`
	Schema   json.RawMessage `json:"schema"`
}

type specBody struct {
	Required bool            `json:"required"`
	Schema   json.RawMessage `json:"schema"`
}

// Validator checks the requests of one route against its compiled spec. It
// is built once by Compile and is then read-only, so Check may run on many
// goroutines at once.
type Validator struct {
	params []param

	// queryNames and queryParams list the wire names of the query params
	// and the index in params of each, for the query scanner.
	queryNames  []string
	queryParams []int

	// Whole-object schemas; nil when the spec has none.
	path, query, headers *objectSchema

	body *bodySpec
}

// HasBody reports whether the spec says anything about the body (so the
// server reads it and tells Check whether it is JSON).
func (v *Validator) HasBody() bool { return v.body != nil }

// Compile parses and compiles a route spec (docs/route-spec.md) once, at
// registration. Errors name what is wrong:
//
//	databridge: route spec: params[2] ("limit"): invalid schema: ...
//
// Every schema is compiled as JSON Schema draft 2020-12 (unless it names
// another draft with $schema) with format assertions on. A schema may use
// $ref within itself ("#/$defs/..."), but refers to nothing outside: no
// file or network is ever read.
func Compile(spec []byte) (*Validator, error) {
	var doc specDoc
	d := json.NewDecoder(bytes.NewReader(spec))
	if err := d.Decode(&doc); err != nil {
		return nil, errorf("route spec: %v", err)
	}
	if err := onlySpace(spec[min(int(d.InputOffset()), len(spec)):]); err != nil {
		return nil, errorf("route spec: %v", err)
	}
	v := &Validator{}
	c := newSchemaCompiler()
	seen := make(map[string]bool, len(doc.Params))
	for i, sp := range doc.Params {
		where := fmt.Sprintf("params[%d] (%q)", i, sp.Name)
		if sp.Name == "" {
			where = fmt.Sprintf("params[%d]", i)
		}
		p, err := compileParam(c, sp, fmt.Sprintf("params/%d", i))
		if err != nil {
			return nil, errorf("route spec: %s: %v", where, err)
		}
		if seen[p.name] {
			return nil, errorf("route spec: %s: duplicate name", where)
		}
		seen[p.name] = true
		if p.in == inQuery {
			v.queryNames = append(v.queryNames, p.alias)
			v.queryParams = append(v.queryParams, len(v.params))
		}
		v.params = append(v.params, p)
	}
	var err error
	if v.path, err = compileObject(c, doc.Path, inPath); err != nil {
		return nil, errorf("route spec: path: %v", err)
	}
	if v.query, err = compileObject(c, doc.Query, inQuery); err != nil {
		return nil, errorf("route spec: query: %v", err)
	}
	if v.headers, err = compileObject(c, doc.Headers, inHeader); err != nil {
		return nil, errorf("route spec: headers: %v", err)
	}
	if doc.Body != nil {
		if v.body, err = compileBody(c, doc.Body); err != nil {
			return nil, errorf("route spec: body: %v", err)
		}
	}
	return v, nil
}

// isNull reports whether raw is absent or the JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// decodeSchema decodes a schema document keeping numbers exact
// (json.Number), as the schema library wants.
func decodeSchema(raw json.RawMessage) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(raw))
}

// onlySpace checks that nothing but JSON whitespace follows the spec.
func onlySpace(rest []byte) error {
	if len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return errors.New("trailing data after the value")
	}
	return nil
}
