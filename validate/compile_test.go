package validate

import (
	"strings"
	"testing"
)

// TestCompileErrors checks that a bad spec fails at registration with a
// message naming the culprit.
func TestCompileErrors(t *testing.T) {
	p := func(params ...string) string { return `{"params": [` + strings.Join(params, ", ") + `]}` }
	tests := []struct {
		name, spec string
		want       string // the error starts with this
		contains   string // and contains this
	}{
		// The document itself.
		{"not json", `{`, "databridge: route spec: ", ""},
		{"trailing", `{} {}`, "databridge: route spec: trailing data", ""},
		{"trailing bracket", `{}]`, "databridge: route spec: trailing data", ""},
		{"params not a list", `{"params": {}}`, "databridge: route spec: ", ""},
		// Entries of params.
		{"no name", p(`{"in": "query"}`), `databridge: route spec: params[0]: "name" is missing`, ""},
		{"bad in", p(`{"name": "x", "in": "cookie"}`), `databridge: route spec: params[0] ("x"): "in" is "cookie", want "path", "query" or "header"`, ""},
		{"duplicate", p(`{"name": "x", "in": "query"}`, `{"name": "x", "in": "header"}`), `databridge: route spec: params[1] ("x"): duplicate name`, ""},
		{"bad schema json", p(`{"name": "x", "in": "query", "schema": {"type": 1}}`), `databridge: route spec: params[0] ("x"): invalid schema: `, "/type"},
		{"bad type", p(`{"name": "a", "in": "query"}`, `{"name": "limit", "in": "query", "schema": {"type": "integr"}}`), `databridge: route spec: params[1] ("limit"): invalid schema: `, "/type"},
		{"bad keyword value", p(`{"name": "x", "in": "query", "schema": {"type": "integer", "minimum": "1"}}`), `databridge: route spec: params[0] ("x"): invalid schema: `, "/minimum"},
		{"bad pattern", p(`{"name": "x", "in": "query", "schema": {"type": "string", "pattern": "("}}`), `databridge: route spec: params[0] ("x"): invalid schema: `, "pattern"},
		{"schema not object", p(`{"name": "x", "in": "query", "schema": 5}`), `databridge: route spec: params[0] ("x"): invalid schema: `, ""},
		// Conversions that cannot be.
		{"array header", p(`{"name": "x", "in": "header", "schema": {"type": "array"}}`), `databridge: route spec: params[0] ("x"): schema: an array is only possible for a query parameter`, ""},
		{"array path", p(`{"name": "x", "in": "path", "schema": {"type": "array"}}`), `databridge: route spec: params[0] ("x"): schema: an array is only possible for a query parameter`, ""},
		{"object query", p(`{"name": "x", "in": "query", "schema": {"type": "object"}}`), `databridge: route spec: params[0] ("x"): schema: type object cannot be converted from text`, ""},
		{"array of arrays", p(`{"name": "x", "in": "query", "schema": {"type": "array", "items": {"type": "array"}}}`), `databridge: route spec: params[0] ("x"): schema: array items must be scalars`, ""},
		{"array or scalar", p(`{"name": "x", "in": "query", "schema": {"anyOf": [{"type": "array"}, {"type": "integer"}]}}`), `databridge: route spec: params[0] ("x"): schema: a parameter cannot be both an array and a scalar`, ""},
		// References stay inside the schema.
		{"dangling ref", p(`{"name": "x", "in": "query", "schema": {"$ref": "#/$defs/Nope"}}`), `databridge: route spec: params[0] ("x"): schema: $ref "#/$defs/Nope": no "$defs"`, ""},
		{"ref loop", p(`{"name": "x", "in": "query", "schema": {"$defs": {"A": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}}`), `databridge: route spec: params[0] ("x"): schema: schema nests`, ""},
		{"self ref", p(`{"name": "x", "in": "query", "schema": {"$ref": "#"}}`), `databridge: route spec: params[0] ("x"): schema: schema nests`, ""},
		{"external ref", p(`{"name": "x", "in": "query", "schema": {"$ref": "file:///etc/passwd"}}`), `databridge: route spec: params[0] ("x"): invalid schema: `, "refusing to load file:///etc/passwd"},
		{"http ref", `{"params": [], "body": {"schema": {"$ref": "https://example.com/s.json"}}}`, `databridge: route spec: body: invalid schema: `, "refusing to load"},
		// The other schemas.
		{"body schema", `{"params": [], "body": {"required": true, "schema": {"type": "obj"}}}`, `databridge: route spec: body: invalid schema: `, ""},
		{"query schema", `{"params": [], "query": {"properties": 1}}`, `databridge: route spec: query: invalid schema: `, ""},
		{"headers schema", `{"params": [], "headers": {"required": "a"}}`, `databridge: route spec: headers: invalid schema: `, ""},
		{"path schema", `{"params": [], "path": {"minProperties": -1}}`, `databridge: route spec: path: invalid schema: `, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Compile([]byte(tt.spec))
			if err == nil {
				t.Fatalf("Compile succeeded: %+v", v)
			}
			if !strings.HasPrefix(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q\nwant prefix %q and %q", err, tt.want, tt.contains)
			}
		})
	}
}

// TestCompileAccepts checks specs that are fine, including the empty one
// and unknown fields (for later additions).
func TestCompileAccepts(t *testing.T) {
	for _, spec := range []string{
		`{}`,
		`{"params": []}`,
		`{"params": [], "body": null, "query": null, "headers": null, "path": null}`,
		`{"params": [{"name": "x", "in": "query", "description": "future field"}], "openapi": {}}`,
		`{"params": [{"name": "x", "in": "query", "schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "integer"}}]}`,
	} {
		v, err := Compile([]byte(spec))
		if err != nil {
			t.Errorf("Compile(%s): %v", spec, err)
			continue
		}
		if v.HasBody() {
			t.Errorf("Compile(%s).HasBody()", spec)
		}
	}
	v, err := Compile([]byte(`{"params": [], "body": {"required": false}}`))
	if err != nil || !v.HasBody() {
		t.Errorf("a body entry: HasBody false (%v)", err)
	}
}

// TestTrivial checks which schemas let Check skip the library.
func TestTrivial(t *testing.T) {
	tests := []struct {
		schema string
		want   bool
	}{
		{`{}`, true},
		{`true`, true},
		{`false`, false},
		{`{"type": "integer", "title": "Page", "default": 1}`, true},
		{`{"type": "integer", "minimum": 1}`, false},
		{`{"type": "string", "format": "uuid"}`, true},
		{`{"type": "string", "format": "email"}`, false},
		{`{"type": "null"}`, false},
		{`{"type": "object"}`, false},
		{`{"type": ["integer", "null"]}`, true},
		{`{"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null}`, true},
		{`{"anyOf": [{"type": "integer", "maximum": 3}, {"type": "null"}]}`, false},
		{`{"oneOf": [{"type": "integer"}, {"type": "null"}]}`, true},
		{`{"oneOf": [{"type": "integer"}, {"type": "number"}]}`, false},
		{`{"type": "integer", "anyOf": [{"type": "integer"}]}`, false},
		{`{"type": "array", "items": {"type": "string"}, "default": []}`, true},
		{`{"type": "array", "items": {"type": "string", "maxLength": 2}}`, false},
		{`{"type": "array", "minItems": 1}`, false},
		{`{"enum": ["a"]}`, false},
		{`{"$ref": "#/$defs/A", "$defs": {"A": {}}}`, false},
	}
	for _, tt := range tests {
		doc, err := decodeSchema([]byte(tt.schema))
		if err != nil {
			t.Fatal(err)
		}
		if got := trivial(doc); got != tt.want {
			t.Errorf("trivial(%s) = %t, want %t", tt.schema, got, tt.want)
		}
	}
}
