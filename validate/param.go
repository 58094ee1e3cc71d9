package validate

import (
	"encoding/json"
	"errors"
	"math"
	"net/textproto"
	"slices"
	"strconv"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/databridge/databridge/wire"
)

// param is one compiled entry of the spec's params: a keyword argument of
// the handler.
type param struct {
	name  string // the keyword argument
	alias string // the query key, header name or path param name
	// header is alias in canonical MIME form, the key of http.Header.
	header   string
	in       location
	required bool
	conv     conv
	// def is schema.default already in wire form; nil when there is none.
	def []byte
	// schema validates the converted value; nil when the conversion alone
	// guarantees validity (see trivial), which spares the library call.
	schema *jsonschema.Schema
	// bounds checks a schema that only adds simple bounds to what the
	// conversion guarantees, without the library (schema is then nil).
	bounds *bounds
}

func compileParam(c *schemaCompiler, sp specParam, name string) (param, error) {
	if sp.Name == "" {
		return param{}, errors.New(`"name" is missing`)
	}
	in, err := parseLocation(sp.In)
	if err != nil {
		return param{}, err
	}
	p := param{name: sp.Name, alias: sp.Alias, in: in, required: sp.Required}
	if p.alias == "" {
		p.alias = p.name
	}
	if in == inHeader {
		p.header = textproto.CanonicalMIMEHeaderKey(p.alias)
	}
	var doc any = map[string]any{}
	if !isNull(sp.Schema) {
		if doc, err = decodeSchema(sp.Schema); err != nil {
			return param{}, errors.New("invalid schema: " + err.Error())
		}
	}
	if p.conv, err = inferConv(doc, doc); err != nil {
		return param{}, errors.New("schema: " + err.Error())
	}
	if p.conv.array && in != inQuery {
		return param{}, errors.New("schema: an array is only possible for a query parameter")
	}
	compiled, err := c.compile(name, doc)
	if err != nil {
		return param{}, errors.New("invalid schema: " + err.Error())
	}
	if !trivial(doc) {
		if p.bounds = compileBounds(doc); p.bounds == nil {
			p.schema = compiled
		}
	}
	if m, ok := doc.(map[string]any); ok {
		if d, ok := m["default"]; ok {
			var e wire.Encoder
			encodeDefault(&e, d, p.conv.kinds, p.conv.items)
			p.def = e.Buf
		}
	}
	return p, nil
}

// encodeDefault appends a schema default (decoded JSON) as the wire value
// Python gets: what json.loads would give, except that a string default of
// a uuid parameter becomes a uuid.UUID as a sent value would. kinds are the
// parameter's conversions, items those of its array items.
func encodeDefault(e *wire.Encoder, v any, kinds, items []convKind) {
	switch v := v.(type) {
	case nil:
		e.None()
	case bool:
		e.Bool(v)
	case string:
		if slices.Contains(kinds, convUUID) {
			if x, p := parseUUID(v); p == nil {
				e.UUID(x.s)
				return
			}
		}
		e.Str(v)
	case json.Number:
		encodeNumber(e, string(v))
	case []any:
		e.List(len(v))
		for _, item := range v {
			encodeDefault(e, item, items, nil)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the decoded map lost the document's order
		e.Dict(len(keys))
		for _, k := range keys {
			e.Str(k)
			encodeDefault(e, v[k], nil, nil)
		}
	default:
		e.None() // not produced by the JSON decoder
	}
}

// encodeNumber appends a JSON number as json.loads reads it: an int when it
// has neither fraction nor exponent, else a float.
func encodeNumber(e *wire.Encoder, text string) {
	if isIntegerLiteral(text) {
		if x, p := parseInt(text); p == nil {
			x.encode(e)
			return
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(f, 0) {
		f = 0
	}
	e.Float(f)
}
