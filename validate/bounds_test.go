package validate

import (
	"fmt"
	"testing"
)

// TestBoundsMatchTheLibrary checks the native bounds against the schema
// library on the same values: same verdict, same type and message.
func TestBoundsMatchTheLibrary(t *testing.T) {
	schemas := []string{
		`{"type": "integer", "minimum": 1, "maximum": 100}`,
		`{"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10, "default": 5}`,
		`{"type": "number", "minimum": -1.5, "maximum": 2.25}`,
		`{"type": "number", "exclusiveMinimum": 0.5}`,
		`{"type": "integer", "minimum": 9223372036854775807}`, // beyond int64 comparisons
		`{"type": "string", "minLength": 2, "maxLength": 4, "title": "Code"}`,
	}
	values := []string{"-5", "0", "1", "5", "10", "100", "101", "1.5", "-1.5", "2.25", "2.5", "0.5",
		"9223372036854775807", "99999999999999999999", "a", "ab", "abcd", "abcde", "éé"}
	c := newSchemaCompiler()
	for i, text := range schemas {
		doc, err := decodeSchema([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		b := compileBounds(doc)
		if b == nil {
			t.Fatalf("%s: no native bounds", text)
		}
		lib, err := c.compile(fmt.Sprintf("s%d", i), doc)
		if err != nil {
			t.Fatal(err)
		}
		conv, err := inferConv(doc, doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			x, prob := convert(conv.kinds, v)
			if prob != nil {
				continue // not a value of this type
			}
			typ, msg, ok := b.check(&x)
			var want []Detail
			inst := x.instance()
			if err := lib.Validate(inst); err != nil {
				want = appendSchemaErrors(nil, err, inst, "query", "p")
			}
			if ok != (len(want) == 0) {
				t.Errorf("%s with %s: native ok=%v, library %v", text, v, ok, want)
				continue
			}
			if !ok && (want[0].Type != typ || want[0].Msg != msg) {
				t.Errorf("%s with %s: native %s %q, library %s %q", text, v, typ, msg, want[0].Type, want[0].Msg)
			}
		}
	}
}

func TestBoundsOnlyForSimpleSchemas(t *testing.T) {
	for _, text := range []string{
		`{"type": "integer"}`,                                 // trivial: nothing to check
		`{"type": "integer", "minimum": 1, "multipleOf": 2}`,  // another keyword: the library
		`{"type": "string", "minLength": 1, "pattern": "^a"}`, // ditto
		`{"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}`,
		`{"type": "array", "items": {"type": "integer"}, "minItems": 1}`,
	} {
		doc, err := decodeSchema([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if compileBounds(doc) != nil {
			t.Errorf("%s: native bounds, want the library", text)
		}
	}
}
