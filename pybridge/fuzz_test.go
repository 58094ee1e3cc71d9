package pybridge

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"testing"

	python3 "github.com/go-python/cpy3"

	"github.com/databridge/databridge/wire"
)

// FuzzJSONToPython sends JSON through the whole request path of a body:
// AppendJSON (Go) -> wire -> db_decode (C, Python objects) -> a handler
// that returns the value -> the C JSON encoder. Whatever the input, the
// process must not crash, and valid input must come back as the same JSON
// value.
func FuzzJSONToPython(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,false,null],"c":{"d":"é\n\u0000"}}`,
		`[1e308,-0.0,0.1,12345678901234567890123,-9223372036854775808]`,
		`"\ud83d\ude00 \ud800"`, `{}`, `[]`, `0`, `"x"`, `{"":{"":{"":[]}}}`,
	} {
		f.Add([]byte(s))
	}
	var h *Handler
	var r *Result
	WithGIL(func(gil GIL) {
		// A str would be a text body: it alone is wrapped in a list, so that
		// a value at the depth limit echoes as itself.
		python3.PyRun_SimpleString("def fuzz_echo(request):\n    return [request] if isinstance(request, str) else (200, request)\n")
		h = NewHandler(gil, python3.PyDict_GetItemString(mainDict, "fuzz_echo"), "fuzz")
		r = NewResult()
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e wire.Encoder
		if wire.AppendJSON(&e, data) != nil {
			return
		}
		var status int
		var body []byte
		WithGIL(func(gil GIL) {
			Invoke(gil, h, e.Buf, false, nil, r)
			resp := r.Reply()
			status, body = resp.Status, resp.Body
		})
		if status != 200 {
			t.Fatalf("status %d for %q: %s", status, data, body)
		}
		var want, got any
		if err := decodeNumbers(data, &want); err != nil {
			t.Fatalf("AppendJSON accepted %q, encoding/json: %v", data, err)
		}
		if err := decodeNumbers(body, &got); err != nil {
			t.Fatalf("the encoder wrote invalid JSON %q for %q: %v", body, data, err)
		}
		if _, isStr := want.(string); isStr {
			want = []any{want}
		}
		if !sameJSON(want, got) {
			t.Fatalf("round trip changed the value:\n in: %s\nout: %s", data, body)
		}
	})
}

func decodeNumbers(data []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// sameJSON compares decoded JSON values; numbers by value (integers
// exactly, others as float64), objects with the last duplicate winning.
func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		ai, aok := new(big.Int).SetString(string(a), 10)
		bi, bok := new(big.Int).SetString(string(b), 10)
		if aok && bok {
			return ai.Cmp(bi) == 0
		}
		af, err1 := a.Float64()
		bf, err2 := b.Float64()
		return err1 == nil && err2 == nil && af == bf
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !sameJSON(v, b[k]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(a, b)
	}
}
