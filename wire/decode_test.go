package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// canonDecoded renders a DecodeJSON value as canonWire renders the wire
// value it came from.
func canonDecoded(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return canonMap(v, canonDecoded)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = canonDecoded(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case json.Number:
		return string(v)
	}
	return pyRepr(v)
}

// checkDecodeJSON decodes the value AppendJSON wrote for data and compares
// it with the wire value itself.
func checkDecodeJSON(t *testing.T, data []byte) {
	t.Helper()
	var e Encoder
	if err := AppendJSON(&e, data); err != nil {
		t.Fatalf("AppendJSON(%q): %v", data, err)
	}
	e.Str("after") // DecodeJSON reads one value, not the whole buffer
	v, n, err := DecodeJSON(e.Buf, 0)
	if err != nil {
		t.Fatalf("DecodeJSON(%q): %v", data, err)
	}
	if n != len(e.Buf)-len("after")-5 {
		t.Fatalf("DecodeJSON(%q) took %d bytes of %d", data, n, len(e.Buf)-len("after")-5)
	}
	w, err := decodeWire(e.Buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := canonDecoded(v), canonWire(w); got != want {
		t.Fatalf("DecodeJSON(%q)\n got %s\nwant %s", data, got, want)
	}
}

func TestDecodeJSON(t *testing.T) {
	for _, s := range []string{
		`null`, `true`, `false`, `0`, `-0`, `-9223372036854775808`, `9223372036854775808`,
		`-12345678901234567890123`, `1.5`, `-0.0`, `1e308`, `""`, `"\u0017"`, `"\ud89e\udfd5x"`,
		`[]`, `{}`, `{"age": 92, "name": "bob", "\u0017": 1}`, `[1, [2, {"a": []}], {"": null}]`,
		strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth),
		string(benchJSON),
	} {
		checkDecodeJSON(t, []byte(s))
	}
	// The Go types are the ones the schema library expects.
	var e Encoder
	if err := AppendJSON(&e, []byte(`{"i": 1, "b": 99999999999999999999, "f": 1.0, "s": "x", "l": [true, null]}`)); err != nil {
		t.Fatal(err)
	}
	v, _, err := DecodeJSON(e.Buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if m["i"] != int64(1) || m["b"] != json.Number("99999999999999999999") || m["f"] != 1.0 || m["s"] != "x" {
		t.Errorf("DecodeJSON types: %#v", m)
	}
	if l := m["l"].([]any); len(l) != 2 || l[0] != true || l[1] != nil {
		t.Errorf("DecodeJSON list: %#v", m["l"])
	}
}

func TestDecodeJSONTooManyValues(t *testing.T) {
	var e Encoder
	if err := AppendJSON(&e, []byte(`[1, {"a": 2, "b": [3]}]`)); err != nil { // 6 values
		t.Fatal(err)
	}
	if _, _, err := DecodeJSON(e.Buf, 6); err != nil {
		t.Errorf("6 values, limit 6: %v", err)
	}
	if _, _, err := DecodeJSON(e.Buf, 5); !errors.Is(err, ErrTooManyValues) {
		t.Errorf("6 values, limit 5: %v, want ErrTooManyValues", err)
	}
}

func TestDecodeJSONCorrupt(t *testing.T) {
	deep := NewEncoder(nil)
	for range MaxJSONDepth + 1 {
		deep.List(1)
	}
	deep.None()
	for _, b := range [][]byte{
		nil, {'x'}, {TagInt, 1, 2}, {TagStr, 9, 0, 0, 0, 'a'}, {TagList, 2, 0, 0, 0, TagNone},
		{TagDict, 1, 0, 0, 0, TagInt, 0, 0, 0, 0, 0, 0, 0, 0, TagNone}, // a key that is not a str
		{TagList, 0xff, 0xff, 0xff, 0xff},
		{TagBytes, 0, 0, 0, 0}, {TagKey, 0}, {TagUUID, 0, 0, 0, 0}, // not from AppendJSON
		deep.Buf,
	} {
		if v, _, err := DecodeJSON(b, 0); err == nil {
			t.Errorf("DecodeJSON(%q) = %v, want an error", b, v)
		}
	}
}
