package pybridge

import (
	"strconv"
	"strings"
	"testing"

	python3 "github.com/go-python/cpy3"

	"github.com/databridge/databridge/wire"
)

// jsonDiffPython is the Python half of FuzzJSONMatchesPython. strict_loads
// is json.loads on the same bytes with exactly the rules by which
// databridge is documented to be stricter (README.md, "The request";
// docs/validation.md), each raising Stricter:
//
//   - the body is UTF-8 and nothing else: no UTF-16/32 detection, no byte
//     order mark, no encoded surrogates (json.loads(bytes) takes all three);
//   - a repeated object key is an error (json.loads keeps the last);
//   - NaN, Infinity and -Infinity are errors (not JSON by RFC 8259);
//   - a number that overflows a float64 is an error (json.loads gives inf);
//   - nesting deeper than MAX_DEPTH is an error.
//
// And one documented difference of value: an unpaired surrogate escape
// (\ud800) decodes to U+FFFD, as in Go's encoding/json, where json.loads
// keeps a lone surrogate that no UTF-8 text can hold. Keys are compared
// after that replacement too, so two keys that differ only there repeat.
//
// check(accepted, value, data) compares the verdict and the value the C
// decoder built from AppendJSON's wire bytes with strict_loads(data):
// types exactly (int is not float, True is not 1), floats with their sign,
// dicts with their key order. It returns "ok" or what differs.
const jsonDiffPython = `
import json, math, re

class Stricter(Exception):
    pass

_SURROGATE = re.compile("[\ud800-\udfff]")

def _fix(s):
    return _SURROGATE.sub("\ufffd", s)

def _pairs(pairs):
    d = {}
    for k, v in pairs:
        k = _fix(k)
        if k in d:
            raise Stricter("duplicate key")
        d[k] = v
    return d

def _constant(name):
    raise Stricter("NaN and Infinity")

def _float(text):
    f = float(text)
    if math.isinf(f):
        raise Stricter("number out of range")
    return f

def _depth(v):
    deepest, stack = 0, [(v, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        elif not isinstance(v, list):
            continue
        deepest = max(deepest, d)
        stack.extend((x, d + 1) for x in v)
    return deepest

def strict_loads(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Stricter("invalid UTF-8")
    v = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float)
    if _depth(v) > MAX_DEPTH:
        raise Stricter("nested too deep")
    return v

def _same(want, got):
    stack = [(want, got, "$")]
    while stack:
        a, b, at = stack.pop()
        if type(a) is not type(b):
            return f"{at}: {type(a).__name__} {a!r:.60} != {type(b).__name__} {b!r:.60}"
        if type(a) is float:
            if a != b or math.copysign(1, a) != math.copysign(1, b):
                return f"{at}: {a!r} != {b!r}"
        elif type(a) is str:
            if _fix(a) != b:
                return f"{at}: {a!r:.60} != {b!r:.60}"
        elif type(a) is list:
            if len(a) != len(b):
                return f"{at}: {len(a)} items != {len(b)}"
            stack.extend((x, y, f"{at}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
        elif type(a) is dict:
            if list(a) != list(b):
                return f"{at}: keys {list(a)!r:.80} != {list(b)!r:.80}"
            stack.extend((a[k], b[k], f"{at}[{k!r}]") for k in a)
        elif a != b:
            return f"{at}: {a!r:.60} != {b!r:.60}"
    return "ok"

def check(accepted, value, data):
    try:
        want = strict_loads(data)
    except Exception as e:  # ValueError, Stricter, RecursionError
        return "ok" if not accepted else f"databridge accepts, Python: {type(e).__name__}: {e}"
    if not accepted:
        return "Python accepts"
    return _same(want, value)

def fuzz_diff(request):
    return check(*request)
`

// FuzzJSONMatchesPython is the differential test of issue #12: for any
// bytes, what the engine accepts as a JSON body (wire.AppendJSON) and the
// value Python then receives (the C decoder, db_decode, on AppendJSON's
// wire bytes) agree with Python's own json.loads on the same bytes, except
// where databridge is documented to be stricter (see jsonDiffPython). The
// verdict is Python's, compared in Python.
func FuzzJSONMatchesPython(f *testing.F) {
	for _, s := range []string{
		`{"age": 92, "name": "bob", "\u0017": 1}`, `{"age": 92, "name": "bob", "\ud89e\udfd5x": 1}`,
		`{"a":1,"b":[true,false,null],"c":{"d":"é\n\u0000"}}`, `[1e308,-0.0,0.1,12345678901234567890123,-9223372036854775808]`,
		`"\ud83d\ude00 \ud800"`, `{"\ud800": 1, "\udc00": 2}`, `"\udc00\ud800\udc00"`, `{}`, `[]`, `0`, `-0`, `"x"`,
		`{"a": 1, "a": 2}`, `NaN`, `[-Infinity]`, `1e400`, `-1e-400`, `1E2`, `1.0`, ` 7 `, "\xEF\xBB\xBF{}", "1\x00",
		"\"\xed\xa0\x80\"", "\"\xff\"", `[1,]`, `{"a" 1}`, `01`, `1.`, `.5`, `"\x"`, "\"\t\"", `tru`,
		strings.Repeat("9", 4300), "-" + strings.Repeat("9", 4300), strings.Repeat("9", 4301),
		nested(wire.MaxJSONDepth), nested(wire.MaxJSONDepth + 1),
	} {
		f.Add([]byte(s))
	}
	var h *Handler
	var r *Result
	WithGIL(func(gil GIL) {
		if python3.PyRun_SimpleString(jsonDiffPython+"\nMAX_DEPTH = "+strconv.Itoa(wire.MaxJSONDepth)+"\n") != 0 {
			f.Fatal("the Python half failed")
		}
		h = NewHandler(gil, python3.PyDict_GetItemString(mainDict, "fuzz_diff"), "fuzz_diff")
		r = NewResult()
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e wire.Encoder
		e.List(3)
		at := len(e.Buf)
		err := wire.AppendJSON(&e, data)
		accepted := err == nil
		e.Buf = e.Buf[:at]
		e.Bool(accepted)
		if accepted {
			_ = wire.AppendJSON(&e, data)
		} else {
			e.None()
		}
		e.Bytes(data)
		var status int
		var body string
		WithGIL(func(gil GIL) {
			Invoke(gil, h, e.Buf, false, nil, r)
			resp := r.Reply()
			status, body = resp.Status, string(resp.Body)
		})
		if status != 200 || body != "ok" {
			t.Fatalf("%q (AppendJSON: %v): %d %s", data, err, status, body)
		}
	})
}

// TestJSONDiffCheck shows that the Python half of FuzzJSONMatchesPython
// tells the differences it is meant to find.
func TestJSONDiffCheck(t *testing.T) {
	WithGIL(func(gil GIL) {
		if python3.PyRun_SimpleString(jsonDiffPython+"\nMAX_DEPTH = "+strconv.Itoa(wire.MaxJSONDepth)+"\n") != 0 {
			t.Fatal("the Python half failed")
		}
		cases := map[string]string{
			`check(True, 1, b"1")`:                             "ok",
			`check(True, 1.0, b"1")`:                           "$: int 1 != float 1.0",
			`check(True, 1, b"true")`:                          "$: bool True != int 1",
			`check(True, 0.0, b"-0.0")`:                        "$: -0.0 != 0.0",
			`check(False, None, b"[1]")`:                       "Python accepts",
			`check(True, [1], b"[1,]")`:                        "databridge accepts, Python: JSONDecodeError: ", // the rest depends on the version
			`check(False, None, b"NaN")`:                       "ok",
			`check(False, None, b'{"a":1,"a":2}')`:             "ok",
			`check(False, None, b'{"\\ud800":1,"\\udc00":2}')`: "ok",
			`check(True, "\ufffd", b'"\\ud800"')`:              "ok",
			`check(True, {"b": 1, "a": 2}, b'{"a":2,"b":1}')`:  "$: keys ['a', 'b'] != ['b', 'a']",
			`check(True, [[1, "x"]], b'[[1, "y"]]')`:           "$[0][1]: 'y' != 'x'",
		}
		for expr, want := range cases {
			if python3.PyRun_SimpleString("_r = "+expr) != 0 {
				t.Fatalf("%s raised", expr)
			}
			got := python3.PyUnicode_AsUTF8(python3.PyDict_GetItemString(mainDict, "_r"))
			if got != want && !(strings.HasSuffix(want, ": ") && strings.HasPrefix(got, want)) {
				t.Errorf("%s = %q, want %q", expr, got, want)
			}
		}
	})
}
