package validate

import "testing"

// TestErrorTypes covers every row of the type/msg table of
// docs/route-spec.md, with its exact loc.
func TestErrorTypes(t *testing.T) {
	q := func(query string) Request { return Request{Query: query} }
	j := func(s string) Request { return Request{Body: []byte(s), BodyIsJSON: true} }
	runCases(t, []checkCase{
		// required / absent
		{"missing query", query(`{"type": "string"}`, true), q(""), "", []string{`"query" "x" | missing | Field required`}},
		{"missing body field", body(`{"type": "object", "required": ["a", "b"]}`), j(`{"a": 1}`), "", []string{`"body" "b" | missing | Field required`}},

		// type
		{"int_type", body(`{"type": "integer"}`), j(`"1"`), "", []string{`"body" | int_type | Input should be a valid integer`}},
		{"int_type fraction", body(`{"type": "integer"}`), j(`1.5`), "", []string{`"body" | int_type | Input should be a valid integer`}},
		{"float_type", body(`{"type": "number"}`), j(`true`), "", []string{`"body" | float_type | Input should be a valid number`}},
		{"string_type", body(`{"type": "string"}`), j(`1`), "", []string{`"body" | string_type | Input should be a valid string`}},
		{"bool_type", body(`{"type": "boolean"}`), j(`"true"`), "", []string{`"body" | bool_type | Input should be a valid boolean`}},
		{"list_type", body(`{"type": "array"}`), j(`{}`), "", []string{`"body" | list_type | Input should be a valid list`}},
		{"dict_type", body(`{"type": "object"}`), j(`[]`), "", []string{`"body" | dict_type | Input should be a valid dictionary`}},
		{"none_type", body(`{"type": "null"}`), j(`0`), "", []string{`"body" | none_type | Input should be None`}},
		{"type list picks non-null", body(`{"type": ["null", "string"]}`), j(`0`), "", []string{`"body" | string_type | Input should be a valid string`}},

		// minimum / maximum, exclusive ones, with int and float bounds
		{"greater_than_equal", query(`{"type": "integer", "minimum": 1}`, true), q("x=0"), "", []string{`"query" "x" | greater_than_equal | Input should be greater than or equal to 1`}},
		{"less_than_equal", query(`{"type": "integer", "maximum": 100}`, true), q("x=101"), "", []string{`"query" "x" | less_than_equal | Input should be less than or equal to 100`}},
		{"greater_than", query(`{"type": "number", "exclusiveMinimum": 0}`, true), q("x=0"), "", []string{`"query" "x" | greater_than | Input should be greater than 0`}},
		{"less_than", query(`{"type": "number", "exclusiveMaximum": 2.5}`, true), q("x=2.5"), "", []string{`"query" "x" | less_than | Input should be less than 2.5`}},
		{"bound small float", query(`{"type": "number", "minimum": 0.00001}`, true), q("x=0"), "", []string{`"query" "x" | greater_than_equal | Input should be greater than or equal to 1e-05`}},
		{"big int vs bound", query(`{"type": "integer", "maximum": 10}`, true), q("x=99999999999999999999999"), "", []string{`"query" "x" | less_than_equal | Input should be less than or equal to 10`}},
		{"big int within bound", query(`{"type": "integer", "minimum": 0}`, true), q("x=99999999999999999999999"), `{"x": big(99999999999999999999999)}`, nil},

		// minLength / maxLength count characters, not bytes
		{"string_too_short", query(`{"type": "string", "minLength": 1}`, true), q("x="), "", []string{`"query" "x" | string_too_short | String should have at least 1 character`}},
		{"string_too_long", query(`{"type": "string", "maxLength": 3}`, true), q("x=abcd"), "", []string{`"query" "x" | string_too_long | String should have at most 3 characters`}},
		{"length in runes", query(`{"type": "string", "maxLength": 3}`, true), q("x=%C3%A9%C3%A9%C3%A9"), `{"x": "ééé"}`, nil},

		// minItems / maxItems
		{"too_short", query(`{"type": "array", "items": {"type": "integer"}, "minItems": 2}`, true), q("x=1"), "", []string{`"query" "x" | too_short | List should have at least 2 items after validation, not 1`}},
		{"too_long", query(`{"type": "array", "maxItems": 1}`, true), q("x=1&x=2"), "", []string{`"query" "x" | too_long | List should have at most 1 item after validation, not 2`}},

		// pattern
		{"string_pattern_mismatch", query(`{"type": "string", "pattern": "^[a-z]+$"}`, true), q("x=A1"), "", []string{`"query" "x" | string_pattern_mismatch | String should match pattern '^[a-z]+$'`}},

		// enum / const
		{"enum", query(`{"type": "string", "enum": ["a", "b", "c"]}`, true), q("x=d"), "", []string{`"query" "x" | enum | Input should be 'a', 'b' or 'c'`}},
		{"enum two", body(`{"enum": ["a", null]}`), j(`true`), "", []string{`"body" | enum | Input should be 'a' or None`}},
		{"literal_error", query(`{"type": "string", "const": "on"}`, true), q("x=off"), "", []string{`"query" "x" | literal_error | Input should be 'on'`}},
		{"literal bool", body(`{"const": true}`), j(`false`), "", []string{`"body" | literal_error | Input should be True`}},

		// additionalProperties false
		{"extra_forbidden", body(`{"type": "object", "properties": {"a": {}}, "additionalProperties": false}`), j(`{"a": 1, "z": 2, "y": 3}`), "", []string{
			`"body" "y" | extra_forbidden | Extra inputs are not permitted`,
			`"body" "z" | extra_forbidden | Extra inputs are not permitted`}},
		{"unevaluatedProperties false", body(`{"type": "object", "properties": {"a": {}}, "unevaluatedProperties": false}`), j(`{"a": 1, "z": 2}`), "", []string{
			`"body" "z" | extra_forbidden | Extra inputs are not permitted`}},

		// format: the library's message, asserted in 2020-12
		{"format email", query(`{"type": "string", "format": "email"}`, true), q("x=nope"), "", []string{`"query" "x" | format | 'nope' is not valid email: missing @`}},
		{"format date-time", body(`{"type": "string", "format": "date-time"}`), j(`"2024-13-01T00:00:00Z"`), "", []string{`"body" | format | '2024-13-01T00:00:00Z' is not valid date-time: invalid date element: parsing time "2024-13-01": month out of range`}},
		{"format date ok", body(`{"type": "string", "format": "date"}`), j(`"2024-02-29"`), `{}`, nil},
		{"uuid format in body", body(`{"type": "string", "format": "uuid"}`), j(`"nope"`), "", []string{`"body" | format | 'nope' is not valid uuid: must have 5 elements`}},

		// anything else: value_error with the library's message
		{"multipleOf", query(`{"type": "integer", "multipleOf": 5}`, true), q("x=7"), "", []string{`"query" "x" | value_error | multipleOf: got 7, want 5`}},
		{"not", query(`{"type": "string", "not": {"const": "x"}}`, true), q("x=x"), "", []string{`"query" "x" | value_error | 'not' failed`}},
		{"uniqueItems", query(`{"type": "array", "uniqueItems": true}`, true), q("x=a&x=a"), "", []string{`"query" "x" | value_error | items at 0 and 1 are equal`}},
		{"minProperties", body(`{"type": "object", "minProperties": 1}`), j(`{}`), "", []string{`"body" | value_error | minProperties: got 0, want 1`}},
		{"oneOf both", body(`{"oneOf": [{"type": "integer"}, {"type": "number"}]}`), j(`1`), "", []string{`"body" | value_error | 'oneOf' failed, subschemas 0, 1 matched`}},
		{"false schema", body(`false`), j(`1`), "", []string{`"body" | value_error | false schema`}},
		{"false property", body(`{"properties": {"a": false}}`), j(`{"a": 1}`), "", []string{`"body" "a" | extra_forbidden | Extra inputs are not permitted`}},
		{"dependentRequired", body(`{"dependentRequired": {"a": ["b"]}}`), j(`{"a": 1}`), "", []string{`"body" | value_error | properties 'b' required, if 'a' exists`}},

		// Conversions from text, beyond the table.
		{"int_parsing", query(`{"type": "integer"}`, true), q("x=a"), "", []string{`"query" "x" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"float_parsing", query(`{"type": "number"}`, true), q("x=a"), "", []string{`"query" "x" | float_parsing | Input should be a valid number, unable to parse string as a number`}},
		{"bool_parsing", query(`{"type": "boolean"}`, true), q("x=a"), "", []string{`"query" "x" | bool_parsing | Input should be a valid boolean, unable to interpret input`}},
		{"uuid_parsing", query(`{"type": "string", "format": "uuid"}`, true), q("x=a"), "", []string{`"query" "x" | uuid_parsing | Input should be a valid UUID, unable to parse string as a UUID`}},
		{"finite_number", query(`{"type": "number"}`, true), q("x=1e999"), "", []string{`"query" "x" | finite_number | Input should be a finite number`}},
	})
}

// TestUnions covers how failed anyOf/oneOf are reported: the branch that
// got furthest speaks; a mere type mismatch (the null of Optional) does
// not.
func TestUnions(t *testing.T) {
	j := func(s string) Request { return Request{Body: []byte(s), BodyIsJSON: true} }
	model := `{"$defs": {"M": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}},
		"type": "object", "properties": {"m": {"anyOf": [{"$ref": "#/$defs/M"}, {"type": "null"}]}}}`
	runCases(t, []checkCase{
		// Optional[int] given a str: the int error only.
		{"optional wrong type", body(`{"anyOf": [{"type": "integer"}, {"type": "null"}]}`), j(`"a"`), "", []string{`"body" | int_type | Input should be a valid integer`}},
		{"optional null ok", body(`{"anyOf": [{"type": "integer"}, {"type": "null"}]}`), j(`null`), `{}`, nil},
		// Optional[int] with a bound: the bound.
		{"optional bound", body(`{"anyOf": [{"type": "integer", "maximum": 3}, {"type": "null"}]}`), j(`4`), "", []string{`"body" | less_than_equal | Input should be less than or equal to 3`}},
		// Optional[Model] via $ref: the model's problems, in place.
		{"optional model", body(model), j(`{"m": {"n": "x"}}`), "", []string{`"body" "m" "n" | int_type | Input should be a valid integer`}},
		{"optional model missing", body(model), j(`{"m": {}}`), "", []string{`"body" "m" "n" | missing | Field required`}},
		{"optional model null", body(model), j(`{"m": null}`), `{}`, nil},
		// Union[int, str] given a list: the first type.
		{"union all types", body(`{"anyOf": [{"type": "integer"}, {"type": "string"}]}`), j(`[]`), "", []string{`"body" | int_type | Input should be a valid integer`}},
		// oneOf with nothing matching behaves alike.
		{"oneOf none", body(`{"oneOf": [{"type": "string", "minLength": 3}, {"type": "null"}]}`), j(`"a"`), "", []string{`"body" | string_too_short | String should have at least 3 characters`}},
		// Only null accepted (anyOf of nulls): none_type.
		{"null only", body(`{"anyOf": [{"type": "null"}]}`), j(`1`), "", []string{`"body" | none_type | Input should be None`}},
	})
}
