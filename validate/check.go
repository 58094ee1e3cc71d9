package validate

import (
	"cmp"
	"net/http"
	"strings"

	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/wire"
)

// Request is what Check needs from an HTTP request.
type Request struct {
	Query  string      // raw query string (req.URL.RawQuery)
	Header http.Header // canonical keys, as net/http gives them
	// Fields, when not nil, replaces Header: the engine's header list
	// (lower-case names, Host included).
	Fields     *server.Header
	PathNames  []string      // the route's path param names, in order
	PathKinds  []router.Kind // their converter kinds
	PathValues []string      // the raw values (router.Match.Values)
	Body       []byte        // the raw body
	BodyIsJSON bool          // the content type is JSON

	// BodyValue, when not nil, is the wire value that wire.AppendJSON made
	// of Body (the one Python's request["body"] is decoded from): the body
	// schema validates that value, so the JSON is parsed once. When nil and
	// BodyIsJSON, Check runs AppendJSON on Body itself.
	BodyValue []byte

	// Params, when not nil, replaces PathNames and PathKinds: the route's
	// Pattern.Params, which costs no per-request slice.
	Params []router.Param
}

// Check converts and validates. When everything is valid it appends ONE
// wire value to e: a dict of the injected keyword arguments (param name ->
// converted value; absent optional params without a schema default are
// omitted) and returns nil. Otherwise it appends nothing and returns every
// problem: the params in spec order, then the whole-object path, query and
// headers schemas, then the body; within one schema, in order of Loc. It
// is safe for concurrent use.
//
// Allocations, for a valid request: none for the query scan and the
// conversions of plain text, none for a param whose schema the conversion
// alone satisfies (a type, a default, Optional); the schema library's own
// for each other param (23 for an integer with minimum and maximum); the
// body's instance (read from the wire value the server parsed) and the
// library's work on it (about 190 for a 1 KB object
// of 5 fields). Errors cost their Details.
func (v *Validator) Check(e *wire.Encoder, r *Request) []Detail {
	start := len(e.Buf)
	sc := getScratch()
	defer putScratch(sc)
	if len(v.queryNames) > 0 || v.query != nil {
		sc.scanQuery(r.Query, v.queryNames, v.queryParams, v.query != nil)
	}

	var ds []Detail
	e.Dict(0)
	n := 0
	for i := range v.params {
		p := &v.params[i]
		var ok bool
		if p.conv.array {
			ds, ok = p.checkArray(e, sc, i, ds)
		} else {
			ds, ok = p.checkScalar(e, sc, i, r, ds)
		}
		if ok {
			n++
		}
	}
	if v.path != nil {
		ds = v.path.checkPath(r, ds)
	}
	if v.query != nil {
		ds = v.query.checkQuery(sc.pairs, ds)
	}
	if v.headers != nil {
		if r.Fields != nil {
			ds = v.headers.checkFields(r.Fields, ds)
		} else {
			ds = v.headers.checkHeaders(r.Header, ds)
		}
	}
	if v.body != nil {
		ds = v.body.check(r, ds)
	}
	if len(ds) > 0 {
		e.Buf = e.Buf[:start]
		return ds
	}
	e.PatchCount(start, n)
	return nil
}

// checkScalar handles a path, query or header param that is not an array.
// It reports whether it appended a keyword argument.
func (p *param) checkScalar(e *wire.Encoder, sc *scratch, i int, r *Request, ds []Detail) ([]Detail, bool) {
	var text string
	var present bool
	kinds := p.conv.kinds
	switch p.in {
	case inQuery:
		text, present = sc.first(i)
	case inHeader:
		if r.Fields != nil {
			text, present = r.Fields.Lookup(p.alias)
		} else {
			text, present = headerValue(r.Header, p.header)
		}
	case inPath:
		for j := range r.pathLen() {
			name, kind := r.pathParam(j)
			if name == p.alias {
				text, present = r.PathValues[j], true
				if !p.conv.typed {
					kinds = routerKinds(kind)
				}
				break
			}
		}
	}
	if !present {
		return p.absent(e, ds)
	}
	var x scalar
	if len(kinds) > 1 && p.schema != nil {
		var ok bool
		if x, ds, ok = p.convertUnion(kinds, text, ds); !ok {
			return ds, false
		}
	} else {
		var prob *problem
		if x, prob = convert(kinds, text); prob != nil {
			return append(ds, Detail{Loc: []any{p.in.String(), p.alias}, Msg: prob.msg, Type: prob.typ}), false
		}
		if p.schema != nil {
			inst := x.instance()
			if err := p.schema.Validate(inst); err != nil {
				return appendSchemaErrors(ds, err, inst, p.in.String(), p.alias), false
			}
		} else if p.bounds != nil {
			if typ, msg, ok := p.bounds.check(&x); !ok {
				return append(ds, Detail{Loc: []any{p.in.String(), p.alias}, Msg: msg, Type: typ}), false
			}
		}
	}
	if len(ds) > 0 {
		return ds, false // the kwargs will be dropped anyway
	}
	e.Str(p.name)
	x.encode(e)
	return ds, true
}

// convertUnion converts text for a param of several candidate types: the
// first conversion whose value the schema accepts wins. When none does, it
// reports the schema's errors for the first value that converted, else the
// first conversion problem.
func (p *param) convertUnion(kinds []convKind, text string, ds []Detail) (scalar, []Detail, bool) {
	var prob *problem
	var verr error
	var vinst any
	for _, k := range kinds {
		x, pr := convertOne(k, text)
		if pr != nil {
			prob = cmp.Or(prob, pr)
			continue
		}
		inst := x.instance()
		err := p.schema.Validate(inst)
		if err == nil {
			return x, ds, true
		}
		if verr == nil {
			verr, vinst = err, inst
		}
	}
	if verr != nil {
		return scalar{}, appendSchemaErrors(ds, verr, vinst, p.in.String(), p.alias), false
	}
	return scalar{}, append(ds, Detail{Loc: []any{p.in.String(), p.alias}, Msg: prob.msg, Type: prob.typ}), false
}

// checkArray handles a query param that takes every value of its key.
func (p *param) checkArray(e *wire.Encoder, sc *scratch, i int, ds []Detail) ([]Detail, bool) {
	count := sc.count(i)
	if count == 0 {
		return p.absent(e, ds)
	}
	var items []any // the instance, only when there is a schema
	if p.schema != nil {
		items = make([]any, 0, count)
	}
	start := len(e.Buf)
	e.Str(p.name)
	e.List(count)
	failed := false
	j := 0
	for _, h := range sc.hits {
		if h.param != i {
			continue
		}
		x, prob := convert(p.conv.items, h.value)
		if prob != nil {
			ds = append(ds, Detail{Loc: []any{p.in.String(), p.alias, j}, Msg: prob.msg, Type: prob.typ})
			failed = true
		} else {
			x.encode(e)
			if items != nil {
				items = append(items, x.instance())
			}
		}
		j++
	}
	if !failed && p.schema != nil {
		if err := p.schema.Validate(items); err != nil {
			ds = appendSchemaErrors(ds, err, items, p.in.String(), p.alias)
			failed = true
		}
	}
	if failed || len(ds) > 0 {
		e.Buf = e.Buf[:start]
		return ds, false
	}
	return ds, true
}

// absent handles a param the request does not have: missing when
// required, else its default when the schema has one, else nothing.
func (p *param) absent(e *wire.Encoder, ds []Detail) ([]Detail, bool) {
	if p.required {
		return append(ds, Detail{Loc: []any{p.in.String(), p.alias}, Msg: msgMissing, Type: "missing"}), false
	}
	if p.def == nil || len(ds) > 0 {
		return ds, false
	}
	e.Str(p.name)
	e.Buf = append(e.Buf, p.def...)
	return ds, true
}

// headerValue returns the first value of the header whose canonical name
// is key. A header stored under a non-canonical key (set by hand, not by
// net/http) is found by a case-insensitive scan.
func headerValue(h http.Header, key string) (string, bool) {
	if vs := h[key]; len(vs) > 0 {
		return vs[0], true
	}
	for name, vs := range h {
		if len(vs) > 0 && strings.EqualFold(name, key) {
			return vs[0], true
		}
	}
	return "", false
}

// pathLen returns the number of path params of r that have a value.
func (r *Request) pathLen() int {
	if r.Params != nil {
		return min(len(r.Params), len(r.PathValues))
	}
	return min(len(r.PathNames), len(r.PathValues))
}

// pathParam returns the name and converter kind of path param j; a kind
// missing from PathKinds is router.Str.
func (r *Request) pathParam(j int) (string, router.Kind) {
	if r.Params != nil {
		return r.Params[j].Name, r.Params[j].Kind
	}
	if j < len(r.PathKinds) {
		return r.PathNames[j], r.PathKinds[j]
	}
	return r.PathNames[j], router.Str
}
