package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAppendJSON checks AppendJSON against encoding/json: it must never
// panic, must reject everything encoding/json rejects, and what it
// accepts must decode from wire bytes to the value encoding/json reads
// (compared as Python would see it: last key wins, ints and floats apart).
//
// AppendJSON is deliberately stricter than encoding/json in a few ways,
// which are the only inputs allowed to fail here while json.Valid accepts
// them: invalid UTF-8 inside strings (encoding/json replaces it with
// U+FFFD), nesting deeper than MaxJSONDepth (encoding/json allows 10000),
// numbers that overflow a float64 (json.Valid only checks syntax), and
// integers of more than 4300 digits (which CPython refuses to convert).
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{
		``, ` `, `null`, `true`, `false`, `0`, `-0`, `-0.0`, `1e400`, `01`,
		`9223372036854775808`, `-9223372036854775809`, `1.5e-7`,
		`""`, `"a\"b\\c\/\b\f\n\r\t"`, `"\u00e9\uD83D\uDE00\uD800"`, "\"\xff\"",
		`[]`, `{}`, `[1,[2,{"a":[]}]]`, `{"b":1,"a":2,"b":3}`, `{"a":1,}`, `[1 2]`,
		`NaN`, `-Infinity`, "\xEF\xBB\xBF{}", `{"a":"bcdefghijklmnopqrstuvwxyz\u0041"}`,
		string(benchJSON),
	} {
		f.Add([]byte(s))
	}
	prefix := []byte{TagDict, 1, 0, 0, 0, TagKey, byte(KeyBody)}
	f.Fuzz(func(t *testing.T, data []byte) {
		e := NewEncoder(nil)
		e.Buf = append(e.Buf, prefix...)
		err := AppendJSON(e, data)
		if !bytes.Equal(e.Buf[:min(len(e.Buf), len(prefix))], prefix) {
			t.Fatalf("AppendJSON overwrote the bytes already in the buffer")
		}
		valid := json.Valid(data)

		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v, want *SyntaxError", err, err)
			}
			if se.Offset < 0 || se.Offset > int64(len(data)) {
				t.Fatalf("error offset %d outside input of %d bytes: %v", se.Offset, len(data), err)
			}
			if len(e.Buf) != len(prefix) {
				t.Fatalf("buffer not cut back after error: %d bytes, want %d", len(e.Buf), len(prefix))
			}
			if valid && !stricterThanStdlib(se.Msg) {
				t.Fatalf("AppendJSON(%q) = %v, but encoding/json accepts it", data, err)
			}
			return
		}

		if !valid {
			t.Fatalf("AppendJSON(%q) succeeded, but encoding/json rejects it", data)
		}
		got, err := decodeWire(e.Buf)
		if err != nil {
			t.Fatalf("AppendJSON(%q) wrote undecodable wire bytes: %v", data, err)
		}
		body := got.([]kv)[0].V
		if !utf8.Valid(data) {
			// Invalid UTF-8 can only be outside strings, where it is a
			// syntax error, or inside them, where AppendJSON rejects it.
			t.Fatalf("AppendJSON(%q) accepted invalid UTF-8", data)
		}

		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var std any
		if err := dec.Decode(&std); err != nil {
			t.Fatalf("encoding/json cannot decode %q: %v", data, err)
		}
		if g, w := canonWire(body), canonStd(t, std); g != w {
			t.Fatalf("AppendJSON(%q)\n got %s\nwant %s", data, g, w)
		}
		// DecodeJSON reads the same value back, as the validator sees it.
		v, n, err := DecodeJSON(e.Buf[len(prefix):], 0)
		if err != nil || n != len(e.Buf)-len(prefix) {
			t.Fatalf("DecodeJSON of AppendJSON(%q): %d bytes of %d, %v", data, n, len(e.Buf)-len(prefix), err)
		}
		if g, w := canonDecoded(v), canonStd(t, std); g != w {
			t.Fatalf("DecodeJSON of AppendJSON(%q)\n got %s\nwant %s", data, g, w)
		}
	})
}

// stricterThanStdlib reports whether msg is one of the errors for input
// that encoding/json accepts on purpose and AppendJSON does not.
func stricterThanStdlib(msg string) bool {
	if strings.HasPrefix(msg, "duplicate key ") {
		return true // encoding/json keeps the last
	}
	switch msg {
	case "invalid UTF-8 in string", "nested too deep", "number out of range",
		"integer too long (more than 4300 digits)":
		return true
	}
	return false
}

// canonWire renders a decoded wire value as a Python dict would hold it:
// the last of repeated keys wins, keys sorted so that encoding/json's maps
// compare.
func canonWire(v any) string {
	switch v := v.(type) {
	case []kv:
		m := make(map[string]any, len(v))
		for _, e := range v {
			m[e.K.(string)] = e.V
		}
		return canonMap(m, canonWire)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = canonWire(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case bigInt:
		return string(v) // as an int, whatever tag
	}
	return pyRepr(v)
}

// canonStd renders a value from encoding/json (with UseNumber) the way
// canonWire renders the wire value Python would get.
func canonStd(t *testing.T, v any) string {
	switch v := v.(type) {
	case map[string]any:
		return canonMap(v, func(v any) string { return canonStd(t, v) })
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = canonStd(t, e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case json.Number:
		s := string(v)
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("encoding/json number %s: %v", s, err)
			}
			return pyRepr(f)
		}
		x, ok := new(big.Int).SetString(s, 10)
		if !ok {
			t.Fatalf("encoding/json integer %s", s)
		}
		return x.String()
	}
	return pyRepr(v)
}

func canonMap(m map[string]any, canon func(any) string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.Quote(k) + ": " + canon(m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
