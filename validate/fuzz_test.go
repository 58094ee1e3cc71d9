package validate

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/wire"
)

// fuzzSpec is a realistic route: every kind of query conversion, a
// header, a path param, a whole-object query schema and a pydantic-style
// body model.
const fuzzSpec = `{
  "params": [
    {"name": "item_id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}},
    {"name": "q", "in": "query", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 20}},
    {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}},
    {"name": "tags", "in": "query", "required": false, "schema": {"type": "array", "items": {"type": "string"}, "default": []}},
    {"name": "ids", "in": "query", "required": false, "schema": {"type": "array", "items": {"type": "integer", "exclusiveMinimum": 0}, "maxItems": 5}},
    {"name": "full", "in": "query", "required": false, "schema": {"type": "boolean", "default": false}},
    {"name": "ratio", "in": "query", "required": false, "schema": {"anyOf": [{"type": "number", "maximum": 1}, {"type": "null"}], "default": null}},
    {"name": "ref", "in": "query", "required": false, "schema": {"type": "string", "format": "uuid"}},
    {"name": "sort", "in": "query", "required": false, "schema": {"enum": ["asc", "desc"], "type": "string"}},
    {"name": "x_token", "in": "header", "alias": "x-token", "required": true, "schema": {"type": "string"}}
  ],
  "query": {"type": "object", "properties": {"page": {"type": "integer", "minimum": 0}}},
  "body": {"required": false, "schema": ` + userSchema + `}
}`

// FuzzCheck feeds any query and body to Check: it must never panic, and
// must either append exactly one well-formed wire dict and return nil, or
// append nothing and return complete Details.
func FuzzCheck(f *testing.F) {
	f.Add("q=go&limit=5&tags=a&tags=b", []byte(`{"name": "Ann", "age": 30}`))
	f.Add("limit=0&ids=1&ids=-2&ratio=2.5", []byte(`{"name": 1, "tags": [1, "x"]}`))
	v, err := Compile([]byte(fuzzSpec))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		r := &Request{
			Query:      query,
			Header:     http.Header{"X-Token": {"t"}},
			PathNames:  []string{"item_id"},
			PathKinds:  []router.Kind{router.Int},
			PathValues: []string{"7"},
			Body:       body,
			// A body starting with 'x' stands for another content type.
			BodyIsJSON: len(body) == 0 || body[0] != 'x',
		}
		_, details, err := checkOnce(v, r)
		if err != nil {
			t.Fatal(err)
		}
		if details != nil {
			var e wire.Encoder
			if b := ErrorBody(v.Check(&e, r)); !json.Valid(b) {
				t.Fatalf("ErrorBody is not JSON: %s", b)
			}
		}
	})
}

// TestFuzzSpec checks that the fuzz spec's seeds reach both outcomes.
func TestFuzzSpec(t *testing.T) {
	r := Request{
		Query:     "q=go&limit=5&tags=a&tags=b&full=on&ratio=0.5&ref=0f8fad5bd9cb469fa16570867728950e&sort=asc&page=2",
		Header:    http.Header{"X-Token": {"t"}},
		PathNames: []string{"item_id"}, PathKinds: []router.Kind{router.Int}, PathValues: []string{"7"},
		Body:       []byte(`{"name": "Ann", "age": 30, "tags": [1, 2], "address": {"city": "X", "zip": "12345"}}`),
		BodyIsJSON: true,
	}
	runCases(t, []checkCase{
		{"valid", fuzzSpec, r,
			`{"item_id": 7, "q": "go", "limit": 5, "tags": ["a", "b"], "full": True, "ratio": 0.5, "ref": UUID("0f8fad5b-d9cb-469f-a165-70867728950e"), "sort": "asc", "x_token": "t"}`, nil},
	})
}
