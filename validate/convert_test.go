package validate

import "testing"

// TestConvertQuery covers every conversion of a query value, by the
// schema's type.
func TestConvertQuery(t *testing.T) {
	const (
		intS   = `{"type": "integer"}`
		floatS = `{"type": "number"}`
		boolS  = `{"type": "boolean"}`
		uuidS  = `{"type": "string", "format": "uuid"}`
		strS   = `{"type": "string"}`
	)
	q := func(query string) Request { return Request{Query: query} }
	runCases(t, []checkCase{
		// integer: decimal with optional sign; leading zeros are fine.
		{"int", query(intS, true), q("x=42"), `{"x": 42}`, nil},
		{"int negative", query(intS, true), q("x=-7"), `{"x": -7}`, nil},
		{"int plus", query(intS, true), q("x=%2B5"), `{"x": 5}`, nil},
		{"int leading zeros", query(intS, true), q("x=007"), `{"x": 7}`, nil},
		{"int64 max", query(intS, true), q("x=9223372036854775807"), `{"x": 9223372036854775807}`, nil},
		{"int64 min", query(intS, true), q("x=-9223372036854775808"), `{"x": -9223372036854775808}`, nil},
		// Beyond int64: a big int, normalized.
		{"big int", query(intS, true), q("x=123456789012345678901234567890"), `{"x": big(123456789012345678901234567890)}`, nil},
		{"big negative", query(intS, true), q("x=-9223372036854775809"), `{"x": big(-9223372036854775809)}`, nil},
		{"big with zeros and plus", query(intS, true), q("x=%2B00099999999999999999999"), `{"x": big(99999999999999999999)}`, nil},
		{"int fraction", query(intS, true), q("x=1.0"), "", []string{`"query" "x" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"int empty", query(intS, true), q("x="), "", []string{`"query" "x" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"int sign only", query(intS, true), q("x=-"), "", []string{`"query" "x" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"int space", query(intS, true), q("x=+1"), "", []string{`"query" "x" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}}, // '+' is a space
		{"int underscore", query(intS, true), q("x=1_000"), "", []string{`"query" "x" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},

		// number: a float, from any decimal form; not nan/inf.
		{"float", query(floatS, true), q("x=2.5"), `{"x": 2.5}`, nil},
		{"float from int", query(floatS, true), q("x=3"), `{"x": 3.0}`, nil},
		{"float forms", `{"params": [
			{"name": "a", "in": "query", "required": true, "schema": {"type": "number"}},
			{"name": "b", "in": "query", "required": true, "schema": {"type": "number"}},
			{"name": "c", "in": "query", "required": true, "schema": {"type": "number"}},
			{"name": "d", "in": "query", "required": true, "schema": {"type": "number"}}]}`,
			q("a=.5&b=5.&c=-1e-3&d=1E%2B2"), `{"a": 0.5, "b": 5.0, "c": -0.001, "d": 100.0}`, nil},
		{"float underflow", query(floatS, true), q("x=1e-400"), `{"x": 0.0}`, nil},
		{"float overflow", query(floatS, true), q("x=1e400"), "", []string{`"query" "x" | finite_number | Input should be a finite number`}},
		{"float nan", query(floatS, true), q("x=nan"), "", []string{`"query" "x" | float_parsing | Input should be a valid number, unable to parse string as a number`}},
		{"float inf", query(floatS, true), q("x=inf"), "", []string{`"query" "x" | float_parsing | Input should be a valid number, unable to parse string as a number`}},
		{"float hex", query(floatS, true), q("x=0x1p4"), "", []string{`"query" "x" | float_parsing | Input should be a valid number, unable to parse string as a number`}},
		{"float text", query(floatS, true), q("x=abc"), "", []string{`"query" "x" | float_parsing | Input should be a valid number, unable to parse string as a number`}},

		// boolean: eight spellings, any case.
		{"bool spellings", `{"params": [
			{"name": "a", "in": "query", "schema": {"type": "boolean"}},
			{"name": "b", "in": "query", "schema": {"type": "boolean"}},
			{"name": "c", "in": "query", "schema": {"type": "boolean"}},
			{"name": "d", "in": "query", "schema": {"type": "boolean"}},
			{"name": "e", "in": "query", "schema": {"type": "boolean"}},
			{"name": "f", "in": "query", "schema": {"type": "boolean"}},
			{"name": "g", "in": "query", "schema": {"type": "boolean"}},
			{"name": "h", "in": "query", "schema": {"type": "boolean"}}]}`,
			q("a=true&b=FALSE&c=1&d=0&e=Yes&f=no&g=ON&h=off"),
			`{"a": True, "b": False, "c": True, "d": False, "e": True, "f": False, "g": True, "h": False}`, nil},
		{"bool bad", query(boolS, true), q("x=2"), "", []string{`"query" "x" | bool_parsing | Input should be a valid boolean, unable to interpret input`}},
		{"bool t", query(boolS, true), q("x=t"), "", []string{`"query" "x" | bool_parsing | Input should be a valid boolean, unable to interpret input`}},

		// uuid: canonical (any case), 32 hex, braces, urn; passed canonical.
		{"uuid", query(uuidS, true), q("x=0f8fad5b-d9cb-469f-a165-70867728950e"), `{"x": UUID("0f8fad5b-d9cb-469f-a165-70867728950e")}`, nil},
		{"uuid upper", query(uuidS, true), q("x=0F8FAD5B-D9CB-469F-A165-70867728950E"), `{"x": UUID("0F8FAD5B-D9CB-469F-A165-70867728950E")}`, nil},
		{"uuid hex32", query(uuidS, true), q("x=0f8fad5bd9cb469fa16570867728950e"), `{"x": UUID("0f8fad5b-d9cb-469f-a165-70867728950e")}`, nil},
		{"uuid braces", query(uuidS, true), q("x=%7B0f8fad5b-d9cb-469f-a165-70867728950e%7D"), `{"x": UUID("0f8fad5b-d9cb-469f-a165-70867728950e")}`, nil},
		{"uuid urn", query(uuidS, true), q("x=urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e"), `{"x": UUID("0f8fad5b-d9cb-469f-a165-70867728950e")}`, nil},
		{"uuid bad", query(uuidS, true), q("x=0f8fad5b-d9cb-469f-a165-70867728950g"), "", []string{`"query" "x" | uuid_parsing | Input should be a valid UUID, unable to parse string as a UUID`}},
		{"uuid short", query(uuidS, true), q("x=1234"), "", []string{`"query" "x" | uuid_parsing | Input should be a valid UUID, unable to parse string as a UUID`}},

		// string, and no type at all: the text as is, unescaped.
		{"string", query(strS, true), q("x=a+b%20c%2B"), `{"x": "a b c+"}`, nil},
		{"string empty", query(strS, true), q("x"), `{"x": ""}`, nil},
		{"no type", query(`{}`, true), q("x=5"), `{"x": "5"}`, nil},
		{"no schema", `{"params": [{"name": "x", "in": "query", "required": true}]}`, q("x=5"), `{"x": "5"}`, nil},
		{"true schema", query(`true`, true), q("x=5"), `{"x": "5"}`, nil},
		{"invalid utf-8 kept", query(strS, true), q("x=%FF"), `{"x": "\xff"}`, nil},

		// Repeated keys: the first value for a scalar, all for an array.
		{"first value wins", query(intS, true), q("x=1&x=2"), `{"x": 1}`, nil},
		{"array", query(`{"type": "array", "items": {"type": "string"}}`, true), q("x=a&y=0&x=b&x=a"), `{"x": ["a", "b", "a"]}`, nil},
		{"array one", query(`{"type": "array", "items": {"type": "string"}}`, true), q("x=a"), `{"x": ["a"]}`, nil},
		{"array no items", query(`{"type": "array"}`, true), q("x=1&x=2"), `{"x": ["1", "2"]}`, nil},
		{"array of int", query(`{"type": "array", "items": {"type": "integer"}}`, true), q("x=1&x=99999999999999999999"), `{"x": [1, big(99999999999999999999)]}`, nil},
		{"array item errors", query(`{"type": "array", "items": {"type": "integer"}}`, true), q("x=1&x=a&x=3&x=b"), "", []string{
			`"query" "x" 1 | int_parsing | Input should be a valid integer, unable to parse string as an integer`,
			`"query" "x" 3 | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"array item bounds", query(`{"type": "array", "items": {"type": "integer", "maximum": 5}}`, true), q("x=1&x=9"), "", []string{
			`"query" "x" 1 | less_than_equal | Input should be less than or equal to 5`}},
		{"array of uuid", query(`{"type": "array", "items": {"type": "string", "format": "uuid"}}`, true), q("x=0f8fad5bd9cb469fa16570867728950e"), `{"x": [UUID("0f8fad5b-d9cb-469f-a165-70867728950e")]}`, nil},
		{"array default", query(`{"type": "array", "items": {"type": "string"}, "default": []}`, false), q("y=1"), `{"x": []}`, nil},

		// Optional[int] arrives as anyOf with null: converted as int.
		{"optional present", query(`{"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null}`, false), q("x=3"), `{"x": 3}`, nil},
		{"optional absent", query(`{"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null}`, false), q(""), `{"x": None}`, nil},
		{"optional bad", query(`{"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null}`, false), q("x=a"), "", []string{`"query" "x" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"optional bounds", query(`{"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}`, false), q("x=0"), "", []string{`"query" "x" | greater_than_equal | Input should be greater than or equal to 1`}},
		{"type list with null", query(`{"type": ["integer", "null"]}`, false), q("x=4"), `{"x": 4}`, nil},
		{"optional list", query(`{"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}], "default": null}`, false), q("x=1&x=2"), `{"x": [1, 2]}`, nil},
		{"optional uuid via $ref", query(`{"$defs": {"U": {"type": "string", "format": "uuid"}}, "anyOf": [{"$ref": "#/$defs/U"}, {"type": "null"}]}`, true), q("x=0f8fad5bd9cb469fa16570867728950e"), `{"x": UUID("0f8fad5b-d9cb-469f-a165-70867728950e")}`, nil},

		// Unions: str first, as pydantic's smart mode keeps text that a str
		// member accepts; the next type when the schema refuses the value.
		{"union int str", query(`{"anyOf": [{"type": "integer"}, {"type": "string"}]}`, true), q("x=5"), `{"x": "5"}`, nil},
		{"union int float", query(`{"anyOf": [{"type": "integer"}, {"type": "number"}]}`, true), q("x=5"), `{"x": 5}`, nil},
		{"union int float fraction", query(`{"anyOf": [{"type": "integer"}, {"type": "number"}]}`, true), q("x=5.5"), `{"x": 5.5}`, nil},
		{"union int float bad", query(`{"anyOf": [{"type": "integer"}, {"type": "number"}]}`, true), q("x=a"), "", []string{`"query" "x" | int_parsing | Input should be a valid integer, unable to parse string as an integer`}},
		{"decimal keeps digits", query(`{"anyOf": [{"type": "number"}, {"type": "string", "pattern": "^[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"}]}`, true), q("x=1.00000000000000000001"), `{"x": "1.00000000000000000001"}`, nil},
		{"decimal bad", query(`{"anyOf": [{"type": "number"}, {"type": "string", "pattern": "^[0-9.]+$"}]}`, true), q("x=abc"), "", []string{`"query" "x" | string_pattern_mismatch | String should match pattern '^[0-9.]+$'`}},
		{"str refused then int", query(`{"anyOf": [{"type": "integer", "maximum": 9}, {"type": "string", "pattern": "^[a-z]+$"}]}`, true), q("x=5"), `{"x": 5}`, nil},
		{"str refused int bound", query(`{"anyOf": [{"type": "integer", "maximum": 9}, {"type": "string", "pattern": "^[a-z]+$"}]}`, true), q("x=50"), "", []string{`"query" "x" | string_pattern_mismatch | String should match pattern '^[a-z]+$'`}},
		{"literal mixed", query(`{"enum": [1, "a"]}`, true), q("x=1"), `{"x": 1}`, nil},
		{"literal mixed str", query(`{"enum": [1, "a"]}`, true), q("x=a"), `{"x": "a"}`, nil},
		{"literal mixed bad", query(`{"enum": [1, "a"]}`, true), q("x=b"), "", []string{`"query" "x" | enum | Input should be 1 or 'a'`}},
		// Enums without a type convert by their values.
		{"enum ints", query(`{"enum": [1, 2, 3]}`, true), q("x=2"), `{"x": 2}`, nil},
		{"enum ints bad", query(`{"enum": [1, 2, 3]}`, true), q("x=4"), "", []string{`"query" "x" | enum | Input should be 1, 2 or 3`}},
		{"enum strings via $ref", query(`{"$defs": {"Color": {"enum": ["red", "green"], "type": "string"}}, "$ref": "#/$defs/Color"}`, true), q("x=red"), `{"x": "red"}`, nil},
		{"const", query(`{"const": 1.5}`, true), q("x=1.5"), `{"x": 1.5}`, nil},

		// Defaults: injected when absent and not required, converted like
		// a sent value (a uuid default is a UUID); omitted without one.
		{"default int", query(`{"type": "integer", "default": 10}`, false), q(""), `{"x": 10}`, nil},
		{"default float", query(`{"type": "number", "default": 0.5}`, false), q(""), `{"x": 0.5}`, nil},
		{"default big", query(`{"type": "integer", "default": 123456789012345678901234567890}`, false), q(""), `{"x": big(123456789012345678901234567890)}`, nil},
		{"default str", query(`{"type": "string", "default": "hi"}`, false), q(""), `{"x": "hi"}`, nil},
		{"default bool", query(`{"type": "boolean", "default": false}`, false), q(""), `{"x": False}`, nil},
		{"default uuid", query(`{"type": "string", "format": "uuid", "default": "0f8fad5b-d9cb-469f-a165-70867728950e"}`, false), q(""), `{"x": UUID("0f8fad5b-d9cb-469f-a165-70867728950e")}`, nil},
		{"default list", query(`{"type": "array", "items": {"type": "integer"}, "default": [1, 2.5, "a"]}`, false), q(""), `{"x": [1, 2.5, "a"]}`, nil},
		{"default dict", query(`{"type": "string", "default": {"b": 1, "a": null}}`, false), q(""), `{"x": {"a": None, "b": 1}}`, nil},
		{"default not validated", query(`{"type": "integer", "minimum": 5, "default": 0}`, false), q(""), `{"x": 0}`, nil},
		{"no default omitted", query(`{"type": "integer"}`, false), q(""), `{}`, nil},
		{"required ignores default", query(`{"type": "integer", "default": 1}`, true), q(""), "", []string{`"query" "x" | missing | Field required`}},
		{"present overrides default", query(`{"type": "integer", "default": 1}`, false), q("x=2"), `{"x": 2}`, nil},
	})
}

// TestQuerySyntax covers url.ParseQuery's rules in the query scanner.
func TestQuerySyntax(t *testing.T) {
	spec := `{"params": [
		{"name": "a", "in": "query", "schema": {"type": "string"}},
		{"name": "b_c", "alias": "b c", "in": "query", "schema": {"type": "string"}},
		{"name": "d", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}]}`
	q := func(query string) Request { return Request{Query: query} }
	runCases(t, []checkCase{
		{"plain", spec, q("a=1&d=x&d=y"), `{"a": "1", "d": ["x", "y"]}`, nil},
		// An escaped name matches: "b+c" and "b%20c" are "b c".
		{"escaped name plus", spec, q("b+c=1"), `{"b_c": "1"}`, nil},
		{"escaped name pct", spec, q("b%20c=2"), `{"b_c": "2"}`, nil},
		{"escaped a", spec, q("%61=3"), `{"a": "3"}`, nil},
		// Names are case-sensitive.
		{"case", spec, q("A=1"), `{}`, nil},
		// A pair with ';' is skipped, the rest still counts.
		{"semicolon", spec, q("a=1;x&a=2"), `{"a": "2"}`, nil},
		// A bad escape in a value skips that pair; a later one counts.
		{"bad value escape", spec, q("a=%zz&a=ok&d=%&d=x"), `{"a": "ok", "d": ["x"]}`, nil},
		// A bad escape in a name skips the pair.
		{"bad name escape", spec, q("a%=1&a=2"), `{"a": "2"}`, nil},
		// Empty pairs and a bare name (value "").
		{"empty pairs", spec, q("&&a&&"), `{"a": ""}`, nil},
		// '=' in a value stays.
		{"equals", spec, q("a=x=y"), `{"a": "x=y"}`, nil},
	})
}

// TestParseFunctions checks the converters directly on edge cases.
func TestParseFunctions(t *testing.T) {
	tests := []struct {
		kind convKind
		in   string
		ok   bool
	}{
		{convInt, "0", true},
		{convInt, "-0", true},
		{convInt, "", false},
		{convInt, "+", false},
		{convInt, "1e3", false},
		{convInt, " 1", false},
		{convFloat, ".", false},
		{convFloat, "1e", false},
		{convFloat, "1e+", false},
		{convFloat, "-.5e-2", true},
		{convFloat, "Infinity", false},
		{convBool, "", false},
		{convBool, "tRuE", true},
		{convUUID, "{0f8fad5bd9cb469fa16570867728950e}", true},
		{convUUID, "0f8fad5b-d9cb-469f-a165_70867728950e", false},
		{convUUID, "URN:UUID:0f8fad5bd9cb469fa16570867728950e", true},
		{convUUID, "urn:uuid:{0f8fad5bd9cb469fa16570867728950e}", false},
	}
	for _, tt := range tests {
		_, p := convertOne(tt.kind, tt.in)
		if (p == nil) != tt.ok {
			t.Errorf("convertOne(%d, %q): ok=%t, want %t", tt.kind, tt.in, p == nil, tt.ok)
		}
	}
	// An int of maxIntDigits digits converts; one more does not.
	long := make([]byte, maxIntDigits+1)
	for i := range long {
		long[i] = '9'
	}
	if _, p := parseInt(string(long[:maxIntDigits])); p != nil {
		t.Errorf("%d digits: %v", maxIntDigits, p)
	}
	if _, p := parseInt(string(long)); p == nil {
		t.Errorf("%d digits converted", maxIntDigits+1)
	}
}
