package validate

import (
	"strings"
	"testing"
	"time"

	"github.com/databridge/databridge/wire"
)

// userSchema is what pydantic gives for
//
//	class Address(BaseModel): city: str; zip: str = Field(pattern=r"^\d{5}$")
//	class NewUser(BaseModel, extra="forbid"):
//	    name: str = Field(min_length=1, max_length=50)
//	    age: int = Field(ge=0, le=150)
//	    email: Optional[str] = None
//	    tags: list[int] = []
//	    address: Optional[Address] = None
const userSchema = `{
  "$defs": {"Address": {"type": "object", "title": "Address",
    "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^\\d{5}$"}},
    "required": ["city", "zip"]}},
  "additionalProperties": false,
  "properties": {
    "name": {"maxLength": 50, "minLength": 1, "title": "Name", "type": "string"},
    "age": {"maximum": 150, "minimum": 0, "title": "Age", "type": "integer"},
    "email": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null},
    "tags": {"items": {"type": "integer"}, "type": "array", "default": []},
    "address": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}], "default": null}
  },
  "required": ["name", "age"], "title": "NewUser", "type": "object"}`

func TestBody(t *testing.T) {
	spec := `{"params": [], "body": {"required": true, "schema": ` + userSchema + `}}`
	optional := `{"params": [], "body": {"required": false, "schema": ` + userSchema + `}}`
	j := func(s string) Request { return Request{Body: []byte(s), BodyIsJSON: true} }
	runCases(t, []checkCase{
		// Valid bodies inject nothing: Python reads request["body"].
		{"valid", spec, j(`{"name": "Ann", "age": 30}`), `{}`, nil},
		{"valid full", spec, j(`{"name": "Ann", "age": 30.0, "email": null, "tags": [1, 2], "address": {"city": "X", "zip": "12345"}}`), `{}`, nil},
		// Missing required fields.
		{"missing", spec, j(`{}`), "", []string{
			`"body" "age" | missing | Field required`,
			`"body" "name" | missing | Field required`}},
		// Wrong types, nested: the loc follows the JSON path, array
		// indexes as ints.
		{"nested types", spec, j(`{"name": 5, "age": "x", "tags": [1, "two", 3, null], "address": {"city": 1, "zip": "1"}}`), "", []string{
			`"body" "address" "city" | string_type | Input should be a valid string`,
			`"body" "address" "zip" | string_pattern_mismatch | String should match pattern '^\d{5}$'`,
			`"body" "age" | int_type | Input should be a valid integer`,
			`"body" "name" | string_type | Input should be a valid string`,
			`"body" "tags" 1 | int_type | Input should be a valid integer`,
			`"body" "tags" 3 | int_type | Input should be a valid integer`}},
		{"bounds", spec, j(`{"name": "", "age": 151}`), "", []string{
			`"body" "age" | less_than_equal | Input should be less than or equal to 150`,
			`"body" "name" | string_too_short | String should have at least 1 character`}},
		// Extra fields are forbidden.
		{"extra", spec, j(`{"name": "a", "age": 1, "admin": true}`), "", []string{`"body" "admin" | extra_forbidden | Extra inputs are not permitted`}},
		// An object key that looks like an index stays a string.
		{"numeric key", body(`{"type": "object", "additionalProperties": {"type": "integer"}}`), j(`{"0": "a"}`), "", []string{`"body" "0" | int_type | Input should be a valid integer`}},
		// Arrays in arrays.
		{"nested arrays", body(`{"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}}`), j(`[[true], [false, 0]]`), "", []string{`"body" 1 1 | bool_type | Input should be a valid boolean`}},
		// The body is required but absent.
		{"absent", spec, Request{}, "", []string{`"body" | missing | Field required`}},
		{"absent json type", spec, j(``), "", []string{`"body" | missing | Field required`}},
		{"absent optional", optional, Request{}, `{}`, nil},
		// Not JSON (another content type) while a schema wants an object.
		{"not json", spec, Request{Body: []byte("name=Ann")}, "", []string{`"body" | model_attributes_type | Input should be a JSON object`}},
		{"not json optional", optional, Request{Body: []byte("x")}, "", []string{`"body" | model_attributes_type | Input should be a JSON object`}},
		{"not json array", body(`{"type": "array"}`), Request{Body: []byte("x")}, "", []string{`"body" | list_type | Input should be a valid list`}},
		{"not json int", body(`{"type": "integer"}`), Request{Body: []byte("x")}, "", []string{`"body" | int_type | Input should be a valid integer`}},
		// A body entry without a schema only checks presence.
		{"no schema present", `{"params": [], "body": {"required": true}}`, Request{Body: []byte("anything")}, `{}`, nil},
		{"no schema absent", `{"params": [], "body": {"required": true}}`, Request{}, "", []string{`"body" | missing | Field required`}},
		// Invalid JSON never reaches Check, but is reported if it does.
		{"invalid json", spec, j(`{"name": `), "", []string{`"body" | json_invalid | Invalid JSON: ` + jsonErr(`{"name": `)}},
		{"trailing data", spec, j(`{} {}`), "", []string{`"body" | json_invalid | Invalid JSON: unexpected character '{' after top-level value at offset 3`}},
		{"trailing space", body(`{}`), j("{} \n"), `{}`, nil},
		// Numbers: exact integers beyond int64; fractions as floats.
		{"big int", body(`{"type": "integer", "maximum": 99999999999999999999}`), j(`99999999999999999998`), `{}`, nil},
		{"big int over", body(`{"type": "integer", "maximum": 99999999999999999999}`), j(`100000000000000000000`), "", []string{`"body" | less_than_equal | Input should be less than or equal to 99999999999999999999`}},
		{"integer 1.0", body(`{"type": "integer"}`), j(`1.0`), `{}`, nil},
		{"float like python", body(`{"type": "number", "exclusiveMinimum": 1}`), j(`1.00000000000000000001`), "", []string{`"body" | greater_than | Input should be greater than 1`}},
		{"int beyond float64", body(`{"type": "integer", "minimum": 0}`), j(strings.Repeat("9", 400)), `{}`, nil},
		// What wire.AppendJSON rejects (the server's 400) is json_invalid
		// here: one parser decides, for the server and for Check.
		{"float overflow", body(`{"type": "number"}`), j(`1e400`), "", []string{`"body" | json_invalid | Invalid JSON: number out of range at offset 0`}},
		{"int too long", body(`{}`), j(strings.Repeat("9", maxIntDigits+1)), "", []string{`"body" | json_invalid | Invalid JSON: integer too long (more than 4300 digits) at offset 0`}},
		{"duplicate keys", body(`{"type": "object", "properties": {"a": {"type": "integer"}}}`), j(`{"a": "x", "a": 1}`), "", []string{`"body" | json_invalid | Invalid JSON: duplicate key "a" at offset 11`}},
		{"nan", body(`{}`), j(`[NaN]`), "", []string{`"body" | json_invalid | Invalid JSON: NaN and Infinity are not valid JSON at offset 1`}},
		// Issue #12: valid JSON that the second decoder of old refused
		// (trailing data after the value).
		{"control escape key", spec, j(`{"age": 92, "name": "bob", "\u0017": 1}`), "", []string{`"body" "\x17" | extra_forbidden | Extra inputs are not permitted`}},
		{"surrogate pair key", spec, j(`{"age": 92, "name": "bob", "\ud89e\udfd5x": 1}`), "", []string{`"body" "\U00037bd5x" | extra_forbidden | Extra inputs are not permitted`}},
		{"control escape value", spec, j(`{"age": 92, "name": "b\u0017\ud89e\udfd5"}`), `{}`, nil},
	})
}

// jsonErr is AppendJSON's message for s, as Check reports it.
func jsonErr(s string) string {
	_, p := decodeBody(&Request{Body: []byte(s), BodyIsJSON: true})
	return strings.TrimPrefix(p.msg, "Invalid JSON: ")
}

// TestBodyValue checks that Check validates the wire value the server
// hands it (Request.BodyValue) and does not parse Body again.
func TestBodyValue(t *testing.T) {
	v, err := Compile([]byte(`{"params": [], "body": {"required": true, "schema": ` + userSchema + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	val := func(s string) []byte {
		var e wire.Encoder
		if err := wire.AppendJSON(&e, []byte(s)); err != nil {
			t.Fatal(err)
		}
		return e.Buf
	}
	for _, tt := range []struct {
		name, value string
		details     []string
	}{
		{"valid", `{"name": "Ann", "age": 30}`, nil},
		{"invalid", `{"name": "", "age": 30}`, []string{`"body" "name" | string_too_short | String should have at least 1 character`}},
		{"escaped key", `{"age": 92, "name": "bob", "\u0017": 1}`, []string{`"body" "\x17" | extra_forbidden | Extra inputs are not permitted`}},
	} {
		// Body is not even JSON: only BodyValue is read.
		r := &Request{Body: []byte("not json"), BodyIsJSON: true, BodyValue: val(tt.value)}
		var e wire.Encoder
		got := detailStrings(v.Check(&e, r))
		if !equalStrings(got, tt.details) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.details)
		}
	}
	// A corrupt value is reported, not trusted.
	var e wire.Encoder
	got := detailStrings(v.Check(&e, &Request{Body: []byte("{}"), BodyIsJSON: true, BodyValue: []byte{'d', 1}}))
	if !equalStrings(got, []string{`"body" | json_invalid | Invalid JSON: databridge: corrupt wire value`}) {
		t.Errorf("corrupt BodyValue: %q", got)
	}
}

// TestBadBodies feeds bodies beyond any validator's comfort; each must
// end quickly with a clear answer.
func TestBadBodies(t *testing.T) {
	deep := strings.Repeat("[", wire.MaxJSONDepth) + strings.Repeat("]", wire.MaxJSONDepth)
	deepObj := strings.Repeat(`{"a":`, wire.MaxJSONDepth) + "1" + strings.Repeat("}", wire.MaxJSONDepth)
	atLimit := "[" + strings.Repeat("1,", MaxBodyValues-2) + "1]"   // MaxBodyValues values
	overLimit := "[" + strings.Repeat("1,", MaxBodyValues-1) + "1]" // one more
	recursive := `{"$defs": {"N": {"type": "object", "properties": {"a": {"$ref": "#/$defs/N"}}}}, "$ref": "#/$defs/N"}`
	bigArray := "[" + strings.Repeat(`"ab",`, 2_000_000) + `"ab"]` // 10 MB, 2M values
	smallArray := "[" + strings.Repeat("1,", 100_000) + "1]"       // 200 KB under the value limit
	tests := []struct {
		name, schema, body string
		details            []string
	}{
		// The deepest JSON AppendJSON accepts: no stack trouble, in the
		// decoder or the library. One level more is invalid JSON.
		{"deep arrays", `{"type": "array"}`, deep, nil},
		{"deep arrays items", `{"$defs": {"A": {"type": "array", "items": {"$ref": "#/$defs/A"}}}, "$ref": "#/$defs/A"}`, deep, nil},
		{"deep objects recursive", recursive, deepObj, []string{`"body" ` + strings.Repeat(`"a" `, wire.MaxJSONDepth-1) + `"a" | dict_type | Input should be a valid dictionary`}},
		{"too deep", `{"type": "array"}`, "[" + deep + "]", []string{`"body" | json_invalid | Invalid JSON: nested too deep at offset 512`}},
		// A 10 MB array is refused as a whole, with one Detail.
		{"10 MB array", `{"type": "array", "items": {"type": "integer"}}`, bigArray, []string{`"body" | value_error | Body has too many values to validate (the limit is 131072)`}},
		// Under the limit it is validated.
		{"large array", `{"type": "array", "items": {"type": "integer"}}`, smallArray, nil},
		{"values at the limit", `{"type": "array"}`, atLimit, nil},
		{"values over the limit", `{"type": "array"}`, overLimit, []string{`"body" | value_error | Body has too many values to validate (the limit is 131072)`}},
		{"large array wrong length", `{"type": "array", "items": {"type": "integer"}, "maxItems": 3}`, smallArray, []string{`"body" | too_long | List should have at most 3 items after validation, not 100001`}},
		// Numbers out of int64 range in every position.
		{"big numbers", `{"type": "array", "items": {"type": "integer", "minimum": -1e30}}`, `[9223372036854775808, -9223372036854775809, 1e20]`, nil},
		// Invalid UTF-8 in a string (the server's 400, from AppendJSON).
		{"invalid utf-8", `{"type": "string", "maxLength": 3}`, "\"a\xffb\"", []string{`"body" | json_invalid | Invalid JSON: invalid UTF-8 in string at offset 2`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			kwargs, details := run(t, body(tt.schema), &Request{Body: []byte(tt.body), BodyIsJSON: true})
			if tt.details == nil && kwargs != "{}" {
				t.Errorf("got %d details, first %q", len(details), details[0])
			}
			if tt.details != nil && !equalStrings(details, tt.details) {
				t.Errorf("got %d details, first %q", len(details), details[:min(len(details), 3)])
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
