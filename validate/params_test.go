package validate

import (
	"net/http"
	"testing"

	"github.com/databridge/databridge/router"
)

// searchSpec is the spec of docs/route-spec.md's example.
const searchSpec = `{
  "params": [
    {"name": "item_id", "in": "path",   "required": true,  "schema": {"type": "integer"}},
    {"name": "q",       "in": "query",  "required": true,  "schema": {"type": "string"}},
    {"name": "limit",   "in": "query",  "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}},
    {"name": "tags",    "in": "query",  "required": false, "schema": {"type": "array", "items": {"type": "string"}, "default": []}},
    {"name": "x_token", "in": "header", "alias": "x-token", "required": true, "schema": {"type": "string"}}
  ],
  "body":    {"required": true, "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
  "query":   {"type": "object", "properties": {"full": {"type": "boolean"}}},
  "headers": null,
  "path":    null
}`

// TestSpecExample runs the document of docs/route-spec.md.
func TestSpecExample(t *testing.T) {
	path := func(value string) Request {
		return Request{
			PathNames: []string{"item_id"}, PathKinds: []router.Kind{router.Int}, PathValues: []string{value},
		}
	}
	with := func(r Request, query string, h http.Header, b string) Request {
		r.Query, r.Header, r.Body, r.BodyIsJSON = query, h, []byte(b), true
		return r
	}
	token := http.Header{"X-Token": {"s3cr3t"}}
	runCases(t, []checkCase{
		{"valid", searchSpec, with(path("42"), "q=go&tags=a&tags=b&full=yes", token, `{"name": "n"}`),
			`{"item_id": 42, "q": "go", "limit": 10, "tags": ["a", "b"], "x_token": "s3cr3t"}`, nil},
		// Every problem at once: params in spec order, then the
		// whole-object query schema, then the body.
		{"everything wrong", searchSpec, with(path("-1"), "limit=500&tags=a&full=maybe", nil, `{"name": 1}`), "", []string{
			`"query" "q" | missing | Field required`,
			`"query" "limit" | less_than_equal | Input should be less than or equal to 100`,
			`"header" "x-token" | missing | Field required`,
			`"query" "full" | bool_parsing | Input should be a valid boolean, unable to interpret input`,
			`"body" "name" | string_type | Input should be a valid string`,
		}},
		{"body absent", searchSpec, with(path("1"), "q=a", token, ""), "", []string{`"body" | missing | Field required`}},
	})
}

// TestHeaders covers header params: aliases match case-insensitively and
// the first value of a repeated header counts.
func TestHeaders(t *testing.T) {
	spec := `{"params": [
		{"name": "x_token", "in": "header", "alias": "x-token", "required": true, "schema": {"type": "string"}},
		{"name": "n", "in": "header", "alias": "X-COUNT", "required": false, "schema": {"type": "integer", "maximum": 9}},
		{"name": "user_agent", "in": "header", "required": false}]}`
	h := func(h http.Header) Request { return Request{Header: h} }
	runCases(t, []checkCase{
		{"canonical", spec, h(http.Header{"X-Token": {"t"}, "X-Count": {"3"}}), `{"x_token": "t", "n": 3}`, nil},
		{"first value", spec, h(http.Header{"X-Token": {"a", "b"}}), `{"x_token": "a"}`, nil},
		// A header map built by hand, not canonical, still matches.
		{"non-canonical key", spec, h(http.Header{"x-token": {"t"}, "x-COUNT": {"4"}}), `{"x_token": "t", "n": 4}`, nil},
		// The name, not the alias, when there is none: user_agent.
		{"no alias", spec, h(http.Header{"X-Token": {"t"}, "User_agent": {"ua"}}), `{"x_token": "t", "user_agent": "ua"}`, nil},
		{"missing", spec, h(nil), "", []string{`"header" "x-token" | missing | Field required`}},
		{"converted", spec, h(http.Header{"X-Token": {"t"}, "X-Count": {"x"}}), "", []string{`"header" "X-COUNT" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"bounds", spec, h(http.Header{"X-Token": {"t"}, "X-Count": {"10"}}), "", []string{`"header" "X-COUNT" | less_than_equal | Input should be less than or equal to 9`}},
	})
}

// TestPathParams covers path params: router-converted values, and text
// converted by the schema's type.
func TestPathParams(t *testing.T) {
	p := func(kind router.Kind, value string) Request {
		return Request{PathNames: []string{"x"}, PathKinds: []router.Kind{kind}, PathValues: []string{value}}
	}
	spec := func(schema string) string {
		return `{"params": [{"name": "x", "in": "path", "required": true, "schema": ` + schema + `}]}`
	}
	runCases(t, []checkCase{
		// <int:x> with bounds.
		{"int", spec(`{"type": "integer", "minimum": 1}`), p(router.Int, "5"), `{"x": 5}`, nil},
		{"int bound", spec(`{"type": "integer", "minimum": 1}`), p(router.Int, "0"), "", []string{`"path" "x" | greater_than_equal | Input should be greater than or equal to 1`}},
		{"int big", spec(`{"type": "integer"}`), p(router.Int, "-99999999999999999999"), `{"x": big(-99999999999999999999)}`, nil},
		// No type in the schema: the router's converter gives the value.
		{"int untyped", spec(`{}`), p(router.Int, "7"), `{"x": 7}`, nil},
		{"int untyped bound", spec(`{"maximum": 5}`), p(router.Int, "7"), "", []string{`"path" "x" | less_than_equal | Input should be less than or equal to 5`}},
		{"float untyped", spec(`{}`), p(router.Float, "2.5"), `{"x": 2.5}`, nil},
		{"uuid untyped", spec(`{}`), p(router.UUID, "0F8FAD5B-D9CB-469F-A165-70867728950E"), `{"x": UUID("0F8FAD5B-D9CB-469F-A165-70867728950E")}`, nil},
		{"path untyped", spec(`{}`), p(router.Path, "a/b"), `{"x": "a/b"}`, nil},
		// {x}: the schema's type converts the text.
		{"str to int", spec(`{"type": "integer"}`), p(router.Str, "12"), `{"x": 12}`, nil},
		{"str to int bad", spec(`{"type": "integer"}`), p(router.Str, "abc"), "", []string{`"path" "x" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"str to uuid", spec(`{"type": "string", "format": "uuid"}`), p(router.Str, "0f8fad5bd9cb469fa16570867728950e"), `{"x": UUID("0f8fad5b-d9cb-469f-a165-70867728950e")}`, nil},
		{"str pattern", spec(`{"type": "string", "pattern": "^[A-Z]{3}$"}`), p(router.Str, "eur"), "", []string{`"path" "x" | string_pattern_mismatch | String should match pattern '^[A-Z]{3}$'`}},
		// An explicit type wins over the converter: <int:x> with x: str.
		{"typed str over int", spec(`{"type": "string"}`), p(router.Int, "5"), `{"x": "5"}`, nil},
		{"typed float over int", spec(`{"type": "number"}`), p(router.Int, "5"), `{"x": 5.0}`, nil},
		// A path param the route does not have is missing.
		{"not in route", spec(`{"type": "integer"}`), Request{}, "", []string{`"path" "x" | missing | Field required`}},
		// Params (the route's Pattern.Params) instead of PathNames/PathKinds.
		{"params field", spec(`{"maximum": 5}`), Request{Params: []router.Param{{Name: "y", Kind: router.Str}, {Name: "x", Kind: router.Int}}, PathValues: []string{"a", "3"}}, `{"x": 3}`, nil},
		{"params field bound", spec(`{"maximum": 5}`), Request{Params: []router.Param{{Name: "x", Kind: router.Int}}, PathValues: []string{"6"}}, "", []string{`"path" "x" | less_than_equal | Input should be less than or equal to 5`}},
		// PathKinds shorter than PathNames: str.
		{"no kinds", spec(`{}`), Request{PathNames: []string{"x"}, PathValues: []string{"9"}}, `{"x": "9"}`, nil},
	})
}

// TestWholeObject covers the query, headers and path schemas of
// RequestValidator.
func TestWholeObject(t *testing.T) {
	querySpec := `{"params": [], "query": {"type": "object",
		"properties": {"full": {"type": "boolean"}, "n": {"type": "integer", "maximum": 5}, "ids": {"type": "array", "items": {"type": "integer"}}},
		"required": ["full"], "additionalProperties": false}}`
	headerSpec := `{"params": [], "headers": {"type": "object",
		"properties": {"x-api-key": {"type": "string", "minLength": 3}, "x-n": {"type": "integer"}}, "required": ["x-api-key"]}}`
	pathSpec := `{"params": [], "path": {"type": "object",
		"properties": {"id": {"type": "integer", "minimum": 1}, "slug": {"type": "string", "maxLength": 3}, "n": {"type": "integer"}}}}`
	q := func(query string) Request { return Request{Query: query} }
	h := func(h http.Header) Request { return Request{Header: h} }
	path := func(kinds []router.Kind, values ...string) Request {
		return Request{PathNames: []string{"id", "slug", "n"}[:len(values)], PathKinds: kinds, PathValues: values}
	}
	runCases(t, []checkCase{
		// query: each key's first value by its property's type, arrays all.
		{"query valid", querySpec, q("full=on&n=5&ids=1&ids=2&n=9"), `{}`, nil},
		{"query missing", querySpec, q("n=1"), "", []string{`"query" "full" | missing | Field required`}},
		{"query bound", querySpec, q("full=0&n=6"), "", []string{`"query" "n" | less_than_equal | Input should be less than or equal to 5`}},
		{"query extra", querySpec, q("full=0&zz=1&aa=2"), "", []string{
			`"query" "aa" | extra_forbidden | Extra inputs are not permitted`,
			`"query" "zz" | extra_forbidden | Extra inputs are not permitted`}},
		// A value that does not convert is reported once, at its name.
		{"query conversion", querySpec, q("full=perhaps"), "", []string{`"query" "full" | bool_parsing | Input should be a valid boolean, unable to interpret input`}},
		{"query array item", querySpec, q("full=1&ids=1&ids=x"), "", []string{`"query" "ids" 1 | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		// headers: lower-case names, converted by property type.
		{"headers valid", headerSpec, h(http.Header{"X-Api-Key": {"abcd"}, "X-N": {"3"}, "Accept": {"*/*"}}), `{}`, nil},
		{"headers short", headerSpec, h(http.Header{"X-Api-Key": {"ab"}}), "", []string{`"header" "x-api-key" | string_too_short | String should have at least 3 characters`}},
		{"headers missing", headerSpec, h(nil), "", []string{`"header" "x-api-key" | missing | Field required`}},
		{"headers conversion", headerSpec, h(http.Header{"X-Api-Key": {"abc"}, "X-N": {"x"}}), "", []string{`"header" "x-n" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"headers joined", headerSpec, h(http.Header{"X-Api-Key": {"a", "b"}}), `{}`, nil}, // "a, b" is 4 characters
		// path: router values, or property types for {x} params.
		{"path valid", pathSpec, path([]router.Kind{router.Int, router.Str, router.Str}, "3", "abc", "7"), `{}`, nil},
		{"path bound", pathSpec, path([]router.Kind{router.Int}, "0"), "", []string{`"path" "id" | greater_than_equal | Input should be greater than or equal to 1`}},
		{"path str converted", pathSpec, path([]router.Kind{router.Str, router.Str, router.Str}, "1", "ab", "x"), "", []string{`"path" "n" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"path params field", pathSpec, Request{Params: []router.Param{{Name: "id", Kind: router.Int}}, PathValues: []string{"0"}}, "", []string{`"path" "id" | greater_than_equal | Input should be greater than or equal to 1`}},
		{"path too long", pathSpec, path([]router.Kind{router.Int, router.Str}, "1", "abcd"), "", []string{`"path" "slug" | string_too_long | String should have at most 3 characters`}},
	})
}
