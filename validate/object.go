package validate

import (
	"fmt"
	"github.com/databridge/databridge/server"
	"net/http"
	"slices"
	"strings"

	json "github.com/goccy/go-json"
	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
)

// objectSchema is a whole-object schema of the spec (query, headers or
// path): it validates the object of all the request's values of its kind.
// It only validates; it injects nothing.
type objectSchema struct {
	in     location
	schema *jsonschema.Schema
	// props converts the value of each declared property by its type;
	// other names are str.
	props map[string]conv
}

func compileObject(c *schemaCompiler, raw json.RawMessage, in location) (*objectSchema, error) {
	if isNull(raw) {
		return nil, nil
	}
	doc, err := decodeSchema(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid schema: %v", err)
	}
	compiled, err := c.compile(in.String()+"-object", doc)
	if err != nil {
		return nil, fmt.Errorf("invalid schema: %v", err)
	}
	o := &objectSchema{in: in, schema: compiled, props: map[string]conv{}}
	top := doc
	for range maxSchemaDepth {
		m, ok := top.(map[string]any)
		if !ok {
			break
		}
		ref, ok := m["$ref"].(string)
		if !ok || m["properties"] != nil {
			break
		}
		if top, err = resolveRef(doc, ref); err != nil {
			return nil, err
		}
	}
	m, _ := top.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	for name, s := range props {
		cv, err := inferConv(s, doc)
		if err != nil || (cv.array && in != inQuery) {
			// Left to the schema: the value stays a str and the schema
			// reports the type it wanted.
			cv = conv{}
		}
		if in == inHeader {
			name = strings.ToLower(name)
		}
		o.props[name] = cv
	}
	return o, nil
}

// checkQuery validates the object of every query name: each name's first
// value converted by its property's type, or every value for an array.
// A value that does not convert is reported at its name, and the schema's
// own complaints about that name are dropped.
func (o *objectSchema) checkQuery(pairs []pair, ds []Detail) []Detail {
	obj := make(map[string]any, len(pairs))
	var failed []string
	for _, pr := range pairs {
		cv := o.props[pr.name]
		if !cv.array {
			if _, dup := obj[pr.name]; dup || slices.Contains(failed, pr.name) {
				continue
			}
			x, prob := convert(cv.kinds, pr.value)
			if prob != nil {
				ds = append(ds, Detail{Loc: []any{"query", pr.name}, Msg: prob.msg, Type: prob.typ})
				failed = append(failed, pr.name)
				continue
			}
			obj[pr.name] = x.instance()
			continue
		}
		list, _ := obj[pr.name].([]any)
		x, prob := convert(cv.items, pr.value)
		if prob != nil {
			ds = append(ds, Detail{Loc: []any{"query", pr.name, len(list)}, Msg: prob.msg, Type: prob.typ})
			if !slices.Contains(failed, pr.name) {
				failed = append(failed, pr.name)
			}
			x = scalar{kind: convStr, s: pr.value} // keeps the indexes of later values
		}
		obj[pr.name] = append(list, x.instance())
	}
	return o.validate(obj, failed, ds)
}

// checkFields validates the object of every header of the engine's header
// list: lower-case names, the values of a repeated header joined with ", "
// (as in the request dict), each converted by its property's type.
func (o *objectSchema) checkFields(h *server.Header, ds []Detail) []Detail {
	obj := make(map[string]any, h.Len())
	var failed []string
	fields := h.Fields()
	for i, f := range fields {
		lower := strings.ToLower(f.Name)
		if _, dup := obj[lower]; dup || slices.Contains(failed, lower) {
			continue
		}
		value := f.Value
		for _, g := range fields[i+1:] { // a repeated header: its values joined with ", "
			if strings.EqualFold(g.Name, lower) {
				value += ", " + g.Value
			}
		}
		x, prob := convert(o.props[lower].kinds, value)
		if prob != nil {
			ds = append(ds, Detail{Loc: []any{"header", lower}, Msg: prob.msg, Type: prob.typ})
			failed = append(failed, lower)
			continue
		}
		obj[lower] = x.instance()
	}
	return o.validate(obj, failed, ds)
}

// checkHeaders is checkFields for a net/http header map (tests and
// callers outside the engine), in sorted name order.
func (o *objectSchema) checkHeaders(h http.Header, ds []Detail) []Detail {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var fields server.Header
	for _, name := range names {
		for _, v := range h[name] {
			fields.Add(name, v)
		}
	}
	return o.checkFields(&fields, ds)
}

// checkPath validates the object of the path params, each converted by its
// property's type or, when that names none, by its router converter.
func (o *objectSchema) checkPath(r *Request, ds []Detail) []Detail {
	obj := make(map[string]any, r.pathLen())
	var failed []string
	for j := range r.pathLen() {
		name, kind := r.pathParam(j)
		cv := o.props[name]
		kinds := cv.kinds
		if !cv.typed {
			kinds = routerKinds(kind)
		}
		x, prob := convert(kinds, r.PathValues[j])
		if prob != nil {
			ds = append(ds, Detail{Loc: []any{"path", name}, Msg: prob.msg, Type: prob.typ})
			failed = append(failed, name)
			continue
		}
		obj[name] = x.instance()
	}
	return o.validate(obj, failed, ds)
}

// validate runs the schema on obj, dropping what it says about the names
// whose conversion already failed.
func (o *objectSchema) validate(obj map[string]any, failed []string, ds []Detail) []Detail {
	err := o.schema.Validate(obj)
	if err == nil {
		return ds
	}
	start := len(ds)
	ds = appendSchemaErrors(ds, err, obj, o.in.String())
	if len(failed) == 0 {
		return ds
	}
	kept := ds[:start]
	for _, d := range ds[start:] {
		if len(d.Loc) > 1 {
			if name, ok := d.Loc[1].(string); ok && slices.Contains(failed, name) {
				continue
			}
		}
		kept = append(kept, d)
	}
	return kept
}
