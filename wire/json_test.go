package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Test-only decoding of wire bytes back into Go values.

// kv is one dict entry; dicts decode to []kv so that order and repeated
// keys stay visible.
type kv struct{ K, V any }

// bigInt is a 'n' value: the decimal text as written.
type bigInt string

// uuidText is a 'u' value.
type uuidText string

// decodeWire decodes the single value that buf must hold entirely.
func decodeWire(buf []byte) (any, error) {
	d := wireDecoder{buf: buf}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.pos != len(buf) {
		return nil, fmt.Errorf("wire: %d trailing bytes after value", len(buf)-d.pos)
	}
	return v, nil
}

type wireDecoder struct {
	buf []byte
	pos int
}

func (d *wireDecoder) take(n int) ([]byte, error) {
	if n < 0 || len(d.buf)-d.pos < n {
		return nil, fmt.Errorf("wire: truncated at %d (want %d bytes)", d.pos, n)
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *wireDecoder) u32() (int, error) {
	b, err := d.take(4)
	if err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint32(b)), nil
}

func (d *wireDecoder) text() (string, error) {
	n, err := d.u32()
	if err != nil {
		return "", err
	}
	b, err := d.take(n)
	return string(b), err
}

func (d *wireDecoder) value(depth int) (any, error) {
	if depth > MaxJSONDepth+10 {
		return nil, errors.New("wire: nested too deep")
	}
	tag, err := d.take(1)
	if err != nil {
		return nil, err
	}
	switch tag[0] {
	case TagNone:
		return nil, nil
	case TagTrue:
		return true, nil
	case TagFalse:
		return false, nil
	case TagInt:
		b, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return int64(binary.LittleEndian.Uint64(b)), nil
	case TagFloat:
		b, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	case TagBigInt:
		s, err := d.text()
		if err != nil {
			return nil, err
		}
		if _, ok := new(big.Int).SetString(s, 10); !ok {
			return nil, fmt.Errorf("wire: bad big int %q", s)
		}
		return bigInt(s), nil
	case TagStr:
		return d.text()
	case TagUUID:
		s, err := d.text()
		return uuidText(s), err
	case TagBytes:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		b, err := d.take(n)
		return bytes.Clone(b), err
	case TagKey:
		b, err := d.take(1)
		if err != nil {
			return nil, err
		}
		if int(b[0]) >= len(Keys) {
			return nil, fmt.Errorf("wire: bad key index %d", b[0])
		}
		return Keys[b[0]], nil
	case TagDict:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		out := make([]kv, 0, min(n, len(d.buf)-d.pos))
		for range n {
			k, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, kv{k, v})
		}
		return out, nil
	case TagList:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, min(n, len(d.buf)-d.pos))
		for range n {
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("wire: unknown tag %q at %d", tag[0], d.pos-1)
}

// pyRepr renders a decoded value much as Python's repr would, so that
// expectations read like the Python objects they stand for. Floats always
// show a '.' or an exponent, big ints end in 'n' (to check the tag used),
// and strings use Go quoting.
func pyRepr(v any) string {
	var sb strings.Builder
	writeRepr(&sb, v)
	return sb.String()
}

func writeRepr(sb *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		sb.WriteString("None")
	case bool:
		if v {
			sb.WriteString("True")
		} else {
			sb.WriteString("False")
		}
	case int64:
		sb.WriteString(strconv.FormatInt(v, 10))
	case bigInt:
		sb.WriteString(string(v) + "n")
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") {
			s += ".0"
		}
		sb.WriteString(s)
	case string:
		sb.WriteString(strconv.Quote(v))
	case []byte:
		sb.WriteString("b" + strconv.Quote(string(v)))
	case uuidText:
		sb.WriteString("UUID(" + strconv.Quote(string(v)) + ")")
	case []kv:
		sb.WriteByte('{')
		for i, e := range v {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeRepr(sb, e.K)
			sb.WriteString(": ")
			writeRepr(sb, e.V)
		}
		sb.WriteByte('}')
	case []any:
		sb.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeRepr(sb, e)
		}
		sb.WriteByte(']')
	default:
		fmt.Fprintf(sb, "<%T %v>", v, v)
	}
}

func transcode(t testing.TB, in string) (string, error) {
	t.Helper()
	var e Encoder
	if err := AppendJSON(&e, []byte(in)); err != nil {
		if len(e.Buf) != 0 {
			t.Errorf("AppendJSON(%q) failed but left %d bytes in the buffer", in, len(e.Buf))
		}
		return "", err
	}
	v, err := decodeWire(e.Buf)
	if err != nil {
		t.Fatalf("AppendJSON(%q) wrote undecodable wire bytes %x: %v", in, e.Buf, err)
	}
	return pyRepr(v), nil
}

func TestAppendJSON(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name, in, want string
	}{
		{"null", `null`, `None`},
		{"true", `true`, `True`},
		{"false", `false`, `False`},
		{"spaces", " \t\r\n true \t\r\n ", `True`},

		{"zero", `0`, `0`},
		{"minus zero int", `-0`, `0`},
		{"minus zero float", `-0.0`, `-0.0`},
		{"minus zero exp", `-0e0`, `-0.0`},
		{"int", `42`, `42`},
		{"negative int", `-17`, `-17`},
		{"18 digits", `999999999999999999`, `999999999999999999`},
		{"max int64", `9223372036854775807`, `9223372036854775807`},
		{"min int64", `-9223372036854775808`, `-9223372036854775808`},
		{"max int64 + 1", `9223372036854775808`, `9223372036854775808n`},
		{"min int64 - 1", `-9223372036854775809`, `-9223372036854775809n`},
		{"19 nines", `9999999999999999999`, `9999999999999999999n`},
		{"2**64", `18446744073709551616`, `18446744073709551616n`},
		{"big int", `12345678901234567890123`, `12345678901234567890123n`},
		{"negative big int", `-12345678901234567890123`, `-12345678901234567890123n`},
		{"4300 digits", "9" + strings.Repeat("0", 4299), "9" + strings.Repeat("0", 4299) + "n"},
		{"float", `1.5`, `1.5`},
		{"negative float", `-0.25`, `-0.25`},
		{"float with int value", `1.0`, `1.0`},
		{"exponent is float", `1e2`, `100.0`},
		{"exponent upper plus", `1E+2`, `100.0`},
		{"exponent minus", `25e-2`, `0.25`},
		{"fraction and exponent", `-1.25e-3`, `-0.00125`},
		{"decimal point one", `0.1`, `0.1`},
		{"long mantissa", `3.141592653589793238462643383279`, `3.141592653589793`},
		{"huge float text", `123456789012345678901234567890.0`, `1.2345678901234568e+29`},
		{"max float", `1.7976931348623157e308`, `1.7976931348623157e+308`},
		{"min subnormal", `5e-324`, `5e-324`},
		{"underflow to zero", `1e-400`, `0.0`},
		{"negative underflow", `-1e-400`, `-0.0`},
		{"big exponent zero", `0e999999`, `0.0`},

		{"empty string", `""`, `""`},
		{"string", `"abc"`, `"abc"`},
		{"long string", `"` + strings.Repeat("abcdefgh", 20) + `"`, strconv.Quote(strings.Repeat("abcdefgh", 20))},
		{"utf8", `"héllo 世界 😀"`, `"héllo 世界 😀"`},
		{"DEL is not a control character", "\"a\x7fb\"", `"a\x7fb"`},
		{"simple escapes", `"\"\\\/\b\f\n\r\t"`, `"\"\\/\b\f\n\r\t"`},
		{"escape first", `"\nabcdefghijklmnop"`, `"\nabcdefghijklmnop"`},
		{"escape last", `"abcdefghijklmnop\n"`, `"abcdefghijklmnop\n"`},
		{"escapes between runs", `"abcdefghij\tklmnopqrstu\"vwxyz0123456789\\"`, `"abcdefghij\tklmnopqrstu\"vwxyz0123456789\\"`},
		{"u escape", `"\u0041\u00e9\u20AC"`, `"Aé€"`},
		{"u escape NUL", `"a\u0000b"`, `"a\x00b"`},
		{"surrogate pair", `"\uD83D\uDE00"`, `"😀"`},
		{"surrogate pair lower case", `"x\ud83d\ude00y"`, `"x😀y"`},
		{"max code point", `"\uDBFF\uDFFF"`, `"\U0010ffff"`},
		{"lone high surrogate", `"\uD800"`, `"�"`},
		{"lone low surrogate", `"\uDC00"`, `"�"`},
		{"high surrogate then text", `"\uD800x"`, `"�x"`},
		{"high surrogate then other escape", `"\uD800\n"`, `"�\n"`},
		{"high surrogate then BMP escape", `"\uD800\u0041"`, `"�A"`},
		{"two high surrogates then low", `"\uD800\uD83D\uDE00"`, `"�😀"`},
		{"low then high surrogate", `"\uDC00\uD800"`, `"��"`},
		{"high surrogate at end of input string", `"\uD83D"`, `"�"`},
		{"escapes and utf8", `"é\u00e9é"`, `"ééé"`},

		{"empty list", `[]`, `[]`},
		{"empty list spaced", `[ ]`, `[]`},
		{"empty dict", `{}`, `{}`},
		{"empty dict spaced", "{ \n }", `{}`},
		{"list", `[1,"a",true,null,1.5]`, `[1, "a", True, None, 1.5]`},
		{"nested lists", `[1,[2,[3,[]]],4]`, `[1, [2, [3, []]], 4]`},
		{"key order kept", `{"b":1,"a":2,"c":3}`, `{"b": 1, "a": 2, "c": 3}`},
		{"escaped key", `{"a\"b\u00e9":1}`, `{"a\"bé": 1}`},
		{"empty key", `{"":null}`, `{"": None}`},
		{"nested", `{"a":{"b":[{},{"c":[]}]},"d":[{"e":null}]}`,
			`{"a": {"b": [{}, {"c": []}]}, "d": [{"e": None}]}`},
		{"whitespace everywhere", " \t\n\r{ \"a\" :\n[ 1 ,\t2 ] , \"b\" : { } }\r\n",
			`{"a": [1, 2], "b": {}}`},
		{"pretty printed", "{\n  \"id\": 7,\n  \"tags\": [\n    \"x\",\n    \"y\"\n  ]\n}\n",
			`{"id": 7, "tags": ["x", "y"]}`},
		{"numbers before delimiters", `[0,-0,1e1,2.5]`, `[0, 0, 10.0, 2.5]`},
		{"number before brace", `{"a":0}`, `{"a": 0}`},
		{"max depth", deep(MaxJSONDepth), strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth)},
		{"max depth objects", strings.Repeat(`{"a":`, MaxJSONDepth-1) + "{}" + strings.Repeat("}", MaxJSONDepth-1),
			strings.Repeat(`{"a": `, MaxJSONDepth-1) + "{}" + strings.Repeat("}", MaxJSONDepth-1)},
		{"many entries", "[" + strings.Repeat("1,", 999) + "1]", "[" + strings.Repeat("1, ", 999) + "1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := transcode(t, tt.in)
			if err != nil {
				t.Fatalf("AppendJSON(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("AppendJSON(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestAppendJSONErrors(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name, in string
		offset   int64
		msg      string
	}{
		// Empty input and trailing data.
		{"empty", ``, 0, "empty input"},
		{"only spaces", " \n\t ", 4, "empty input"},
		{"two values", `1 2`, 2, "unexpected character '2' after top-level value"},
		{"trailing bracket", `[1]]`, 3, "unexpected character ']' after top-level value"},
		{"trailing garbage", `{}x`, 2, "unexpected character 'x' after top-level value"},
		{"trailing NUL", "null\x00", 4, `unexpected character '\x00' after top-level value`},
		{"byte order mark", "\xEF\xBB\xBF{}", 0, "unexpected UTF-8 byte order mark"},
		{"UTF-16", "\x00[\x00]", 0, `unexpected character '\x00'`},

		// Grammar.
		{"trailing comma in object", `{"a":1,}`, 7, "unexpected character '}'"},
		{"example", `{"name": "x", "a":}`, 18, "unexpected character '}'"},
		{"trailing comma in list", `[1,]`, 3, "unexpected character ']'"},
		{"leading comma", `[,1]`, 1, "unexpected character ','"},
		{"missing comma", `[1 2]`, 3, "unexpected character '2'"},
		{"missing colon", `{"a" 1}`, 5, "unexpected character '1'"},
		{"unquoted key", `{a:1}`, 1, "unexpected character 'a'"},
		{"number key", `{1:2}`, 1, "unexpected character '1'"},
		{"single quotes", `['a']`, 1, `unexpected character '\''`},
		{"missing value", `{"a":}`, 5, "unexpected character '}'"},
		{"mismatched close", `[1}`, 2, "unexpected character '}'"},
		{"mismatched close object", `{"a":1]`, 6, "unexpected character ']'"},
		{"unclosed list", `[`, 1, "unexpected end of input"},
		{"unclosed list after value", `[1, 2`, 5, "unexpected end of input"},
		{"unclosed object", `{"a":1`, 6, "unexpected end of input"},
		{"unclosed object after key", `{"a"`, 4, "unexpected end of input"},
		{"unclosed object after comma", `{"a":1, `, 8, "unexpected end of input"},
		{"close only", `]`, 0, "unexpected character ']'"},
		{"bad literal", `tru`, 3, "unexpected end of input"},
		{"bad literal char", `trUe`, 2, "unexpected character 'U'"},
		{"capital True", `True`, 0, "unexpected character 'T'"},
		{"nul", `[nul]`, 4, "unexpected character ']'"},
		{"fals", `fals`, 4, "unexpected end of input"},
		{"literal run on", `nullx`, 4, "unexpected character 'x' after top-level value"},
		{"non-ASCII outside strings", "[\u00e9]", 1, "unexpected character 'é'"},
		{"invalid UTF-8 outside strings", "[\xff]", 1, "unexpected byte 0xFF (invalid UTF-8)"},
		{"comment", `[1 /* x */]`, 3, "unexpected character '/'"},
		{"vertical tab is not whitespace", "[\v1]", 1, `unexpected character '\v'`},
		{"NBSP is not whitespace", "[\u00a01]", 1, `unexpected character '\u00a0'`},

		// Numbers.
		{"leading zero", `01`, 0, "invalid number: leading zero"},
		{"negative leading zero", `-01`, 1, "invalid number: leading zero"},
		{"double zero", `[00]`, 1, "invalid number: leading zero"},
		{"leading zero float", `00.5`, 0, "invalid number: leading zero"},
		{"minus alone", `-`, 1, "invalid number: unexpected end of input"},
		{"minus space", `- 1`, 1, "invalid number: unexpected character ' '"},
		{"minus minus", `--1`, 1, "invalid number: unexpected character '-'"},
		{"plus", `+1`, 0, "unexpected character '+'"},
		{"leading dot", `.5`, 0, "unexpected character '.'"},
		{"trailing dot", `1.`, 2, "invalid number: unexpected end of input"},
		{"dot exponent", `1.e5`, 2, "invalid number: unexpected character 'e'"},
		{"dot in list", `[1.]`, 3, "invalid number: unexpected character ']'"},
		{"empty exponent", `1e`, 2, "invalid number: unexpected end of input"},
		{"signed empty exponent", `1e+`, 3, "invalid number: unexpected end of input"},
		{"exponent letter", `1ex`, 2, "invalid number: unexpected character 'x'"},
		{"hex", `0x10`, 1, "unexpected character 'x' after top-level value"},
		{"two dots", `1.2.3`, 3, "unexpected character '.' after top-level value"},
		{"NaN", `NaN`, 0, "NaN and Infinity are not valid JSON"},
		{"Infinity", `[Infinity]`, 1, "NaN and Infinity are not valid JSON"},
		{"-Infinity", `{"a":-Infinity}`, 5, "NaN and Infinity are not valid JSON"},
		{"-Inf", `-Inf`, 1, "invalid number: unexpected character 'I'"},
		{"overflow", `1e400`, 0, "number out of range"},
		{"negative overflow", `[-1.5e309]`, 1, "number out of range"},
		{"overflow by digits", "1" + strings.Repeat("0", 400) + ".0", 0, "number out of range"},
		{"int too long", "1" + strings.Repeat("0", 4300), 0, "integer too long (more than 4300 digits)"},
		{"negative int too long", "[-1" + strings.Repeat("0", 4300) + "]", 1, "integer too long (more than 4300 digits)"},

		// Strings.
		{"unterminated", `"abc`, 0, "unterminated string"},
		{"unterminated long", `["abcdefghijklmnopqrstuvwxyz`, 1, "unterminated string"},
		{"unterminated escape", `"abc\`, 0, "unterminated string"},
		{"unterminated after escape", `"abc\n`, 0, "unterminated string"},
		{"unterminated key", `{"a`, 1, "unterminated string"},
		{"newline", "\"a\nb\"", 2, "control character 0x0A in string (must be escaped)"},
		{"tab", "\"abcdefghijk\tb\"", 12, "control character 0x09 in string (must be escaped)"},
		{"NUL", "\"\x00\"", 1, "control character 0x00 in string (must be escaped)"},
		{"unit separator", "[\"\x1f\"]", 2, "control character 0x1F in string (must be escaped)"},
		{"control in key", "{\"a\rb\":1}", 3, "control character 0x0D in string (must be escaped)"},
		{"bad escape", `"\x41"`, 1, `invalid escape '\x' in string`},
		{"single quote escape", `"\'"`, 1, `invalid escape '\'' in string`},
		{"capital U escape", `"ab\U0041"`, 3, `invalid escape '\U' in string`},
		{"escaped newline", "\"\\\n\"", 1, `invalid escape '\' followed by 0x0A in string`},
		{"escaped invalid byte", "\"\\\xff\"", 1, `invalid escape '\' followed by byte 0xFF in string`},
		{"short u escape", `"\u12"`, 1, `invalid \u escape (want 4 hex digits)`},
		{"short u escape at end", `"\u12`, 1, `invalid \u escape (want 4 hex digits)`},
		{"bad hex", `"\u12G4"`, 1, `invalid \u escape (want 4 hex digits)`},
		{"bad hex after high surrogate", `"\uD800\uDZ00"`, 7, `invalid \u escape (want 4 hex digits)`},
		{"invalid UTF-8", "\"\xff\"", 1, "invalid UTF-8 in string"},
		{"invalid UTF-8 in long string", "\"abcdefghijklmnop\xfe\"", 17, "invalid UTF-8 in string"},
		{"truncated UTF-8", "\"\xc3\"", 1, "invalid UTF-8 in string"},
		{"truncated UTF-8 at end", "\"\xe4\xb8", 1, "invalid UTF-8 in string"},
		{"overlong UTF-8", "\"\xc0\xaf\"", 1, "invalid UTF-8 in string"},
		{"UTF-8 surrogate", "\"\xed\xa0\x80\"", 1, "invalid UTF-8 in string"},
		{"beyond U+10FFFF", "\"\xf4\x90\x80\x80\"", 1, "invalid UTF-8 in string"},
		{"continuation byte", "[\"ok\", \"a\x80\"]", 9, "invalid UTF-8 in string"},
		{"invalid UTF-8 in key", "{\"\xff\":1}", 2, "invalid UTF-8 in string"},
		{"invalid UTF-8 after escape", "\"\\n\xff\"", 3, "invalid UTF-8 in string"},

		// Depth.
		{"too deep", deep(MaxJSONDepth + 1), MaxJSONDepth, "nested too deep"},
		// Duplicates are rejected, also past the linear-scan size and when
		// they differ only in escaping; nested objects have keys of their own.
		{"duplicate key", `{"a":1,"b":2,"a":3}`, 13, `duplicate key "a"`},
		{"duplicate escaped key", `{"é":1,"\u00e9":2}`, 8, `duplicate key "é"`},
		{"too deep objects", strings.Repeat(`{"a":`, MaxJSONDepth) + "{}" + strings.Repeat("}", MaxJSONDepth),
			int64(len(`{"a":`)) * MaxJSONDepth, "nested too deep"},
		{"far too deep", strings.Repeat("[", 100000), MaxJSONDepth, "nested too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := transcode(t, tt.in)
			if err == nil {
				t.Fatalf("AppendJSON(%q) = %s, want error %q", tt.in, got, tt.msg)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("AppendJSON(%q) error %T %v, want *SyntaxError", tt.in, err, err)
			}
			if se.Msg != tt.msg || se.Offset != tt.offset {
				t.Errorf("AppendJSON(%q) error at %d %q, want at %d %q", tt.in, se.Offset, se.Msg, tt.offset, tt.msg)
			}
			want := fmt.Sprintf("databridge: invalid JSON at offset %d: %s", tt.offset, tt.msg)
			if err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestSyntaxErrorText(t *testing.T) {
	err := &SyntaxError{Msg: "unexpected character '}'", Offset: 17}
	if got, want := err.Error(), "databridge: invalid JSON at offset 17: unexpected character '}'"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestAppendJSONAppends checks that AppendJSON adds to what the buffer
// holds, with offsets that take the existing bytes into account, and cuts
// the buffer back on error.
func TestAppendJSONAppends(t *testing.T) {
	e := NewEncoder(nil)
	e.Dict(3)
	e.Key(KeyMethod)
	e.Str("POST")
	e.Key(KeyBody)
	if err := AppendJSON(e, []byte(`{"b":[1,{"c":"d\n"}],"a":{}}`)); err != nil {
		t.Fatal(err)
	}
	e.Key(KeyPath)
	n := len(e.Buf)
	if err := AppendJSON(e, []byte(`{"b":[1,{"c":"d\n"}],"a":{]`)); err == nil {
		t.Fatal("no error for bad JSON")
	}
	if len(e.Buf) != n {
		t.Fatalf("buffer is %d bytes after an error, want %d", len(e.Buf), n)
	}
	e.Str("/x")
	v, err := decodeWire(e.Buf)
	if err != nil {
		t.Fatal(err)
	}
	got := pyRepr(v)
	want := `{"method": "POST", "body": {"b": [1, {"c": "d\n"}], "a": {}}, "path": "/x"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestAppendJSONDeepNesting checks nesting beyond the inline frame stack,
// with values and closes at every level.
func TestAppendJSONDeepNesting(t *testing.T) {
	var in, want strings.Builder
	for i := range MaxJSONDepth {
		if i%2 == 0 {
			fmt.Fprintf(&in, `[%d,`, i)
			fmt.Fprintf(&want, `[%d, `, i)
		} else {
			fmt.Fprintf(&in, `{"k%d":`, i)
			fmt.Fprintf(&want, `{"k%d": `, i)
		}
	}
	in.WriteString(`"x"`)
	want.WriteString(`"x"`)
	for i := MaxJSONDepth - 1; i >= 0; i-- {
		if i%2 == 0 {
			in.WriteString(`,true]`)
			want.WriteString(`, True]`)
		} else {
			fmt.Fprintf(&in, `,"z":null}`)
			fmt.Fprintf(&want, `, "z": None}`)
		}
	}
	got, err := transcode(t, in.String())
	if err != nil {
		t.Fatal(err)
	}
	if got != want.String() {
		t.Errorf("deep nesting mismatch:\n got %.200s...\nwant %.200s...", got, want.String())
	}
}

// TestAppendJSONFloatsMatchStrconv checks float conversion, fast path
// and slow path, against strconv.ParseFloat (correctly rounded, like
// Python's float).
func TestAppendJSONFloatsMatchStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var e Encoder
	for range 200000 {
		var sb strings.Builder
		if r.IntN(2) == 0 {
			sb.WriteByte('-')
		}
		nd := 1 + r.IntN(22)
		digits := make([]byte, nd)
		for k := range digits {
			digits[k] = byte('0' + r.IntN(10))
		}
		if r.IntN(3) == 0 {
			digits[0] = '9' // near 2**53 and beyond
		}
		point := r.IntN(nd + 1)
		intPart := strings.TrimLeft(string(digits[:point]), "0")
		if intPart == "" {
			intPart = "0"
		}
		sb.WriteString(intPart)
		frac := string(digits[point:])
		if frac != "" {
			sb.WriteString("." + frac)
		}
		if frac == "" || r.IntN(2) == 0 { // an exponent, or the text would be an int
			fmt.Fprintf(&sb, "e%d", r.IntN(70)-35)
		}
		text := sb.String()
		want, err := strconv.ParseFloat(text, 64)
		if err != nil {
			t.Fatal(err)
		}
		e.Reset()
		if err := AppendJSON(&e, []byte(text)); err != nil {
			t.Fatalf("AppendJSON(%s): %v", text, err)
		}
		v, err := decodeWire(e.Buf)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := v.(float64)
		if !ok || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("AppendJSON(%s) = %s, want %s", text, pyRepr(v), pyRepr(want))
		}
	}
}

// TestStringSpecial8 checks the word-at-a-time scan against the byte test:
// no special byte is missed, and the first flagged byte is the first
// special one.
func TestStringSpecial8(t *testing.T) {
	interesting := []byte{0, 1, 0x1f, 0x20, 0x21, '"', '"' - 1, '"' + 1, '\\', '\\' - 1, '\\' + 1, 0x7e, 0x7f, 0x80, 0x81, 0xa0, 0xdf, 0xfe, 0xff, 'a'}
	r := rand.New(rand.NewPCG(5, 6))
	var w [8]byte
	for range 500000 {
		for k := range w {
			if r.IntN(3) == 0 {
				w[k] = byte(r.Uint32())
			} else {
				w[k] = interesting[r.IntN(len(interesting))]
			}
		}
		first := 8
		for k, c := range w {
			if stringSpecial(c) {
				first = k
				break
			}
		}
		m := stringSpecial8(binary.LittleEndian.Uint64(w[:]))
		got := 8
		if m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != first {
			t.Fatalf("stringSpecial8(% x): first special byte %d, want %d", w, got, first)
		}
	}
}

// Round trip: random Go values, encoded by encoding/json, must come back
// as the values Python's json.loads would build.

// orderedObject marshals as a JSON object with its keys in slice order.
type orderedObject []kv

func (o orderedObject) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, e := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(e.K)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(e.V)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

func randomString(r *rand.Rand) string {
	n := r.IntN(20)
	if r.IntN(10) == 0 {
		n = r.IntN(300)
	}
	var b []byte
	for range n {
		switch r.IntN(10) {
		case 0:
			b = append(b, byte(r.IntN(0x20))) // control character
		case 1:
			b = append(b, `"\/<>&`[r.IntN(6)])
		case 2:
			b = utf8.AppendRune(b, rune(0x80+r.IntN(0x800)))
		case 3:
			b = utf8.AppendRune(b, rune(0x10000+r.IntN(0x100000))) // needs a surrogate pair in JSON escapes
		case 4:
			b = utf8.AppendRune(b, []rune{0x2028, 0x2029, 0xFFFD, 0xFEFF, 0xE000}[r.IntN(5)])
		case 5:
			if r.IntN(5) == 0 {
				b = append(b, byte(0x80+r.IntN(0x80))) // invalid UTF-8: Marshal writes \ufffd
				break
			}
			fallthrough
		default:
			b = append(b, byte(0x20+r.IntN(0x5f)))
		}
	}
	return string(b)
}

func randomFloat(r *rand.Rand) float64 {
	for {
		var f float64
		switch r.IntN(5) {
		case 0:
			f = math.Float64frombits(r.Uint64())
		case 1:
			f = float64(r.IntN(2000)-1000) / 8 // short, often integral
		case 2:
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
		case 3:
			f = []float64{0, math.Copysign(0, -1), 1e20, 1e21, -1e21, 0.1, 1e-7, 5e-324, math.MaxFloat64, -math.SmallestNonzeroFloat64, 1 << 63, -(1 << 63), 1 << 64}[r.IntN(13)]
		default:
			f = r.Float64()
		}
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

func randomValue(r *rand.Rand, depth int) any {
	k := r.IntN(10)
	if depth > 4 {
		k = r.IntN(7)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		switch r.IntN(4) {
		case 0:
			return int64(r.Uint64())
		case 1:
			return []int64{0, 1, -1, math.MaxInt64, math.MinInt64}[r.IntN(5)]
		default:
			return int64(r.IntN(2000) - 1000)
		}
	case 3:
		x := new(big.Int).Lsh(big.NewInt(1), uint(63+r.IntN(200)))
		x.Add(x, new(big.Int).SetUint64(r.Uint64()))
		if r.IntN(2) == 0 {
			x.Neg(x)
		}
		if r.IntN(4) == 0 {
			x.Add(x, big.NewInt(-1)) // around the int64 edges too
		}
		return x
	case 4:
		return randomFloat(r)
	case 5, 6:
		return randomString(r)
	case 7, 8:
		// Keys are unique as JSON text (Marshal turns invalid UTF-8 into
		// U+FFFD, which can make two keys equal): duplicates are an error.
		n := r.IntN(6)
		o := make(orderedObject, 0, n)
		seen := map[string]bool{}
		for range n {
			key := randomString(r)
			text, _ := json.Marshal(key)
			if seen[string(text)] {
				continue
			}
			seen[string(text)] = true
			o = append(o, kv{key, randomValue(r, depth+1)})
		}
		return o
	default:
		n := r.IntN(6)
		l := make([]any, 0, n)
		for range n {
			l = append(l, randomValue(r, depth+1))
		}
		return l
	}
}

// intValue is the wire value of an integer: int64 when it fits.
func intValue(x *big.Int) any {
	if x.IsInt64() {
		return x.Int64()
	}
	return bigInt(x.String())
}

// expectedValue is what Python's json.loads makes of json.Marshal(v).
func expectedValue(t *testing.T, v any) any {
	switch v := v.(type) {
	case nil, bool, int64:
		return v
	case *big.Int:
		return intValue(v)
	case float64:
		// encoding/json writes integral floats below 1e21 without a '.' or
		// an exponent (shortest digits padded with zeros, so not always
		// the float's exact value), and Python reads that text as an int.
		text, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsAny(text, ".eE") {
			return v
		}
		x, ok := new(big.Int).SetString(string(text), 10)
		if !ok {
			t.Fatalf("%s is not an integer", text)
		}
		if f, _ := new(big.Float).SetInt(x).Float64(); f != v {
			t.Fatalf("%s does not round to %v", text, v)
		}
		return intValue(x)
	case string:
		return string([]rune(v)) // each invalid byte becomes U+FFFD
	case orderedObject:
		out := make([]kv, len(v))
		for i, e := range v {
			out[i] = kv{expectedValue(t, e.K), expectedValue(t, e.V)}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = expectedValue(t, e)
		}
		return out
	}
	t.Fatalf("unexpected %T", v)
	return nil
}

func TestAppendJSONRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var e Encoder
	for i := range 3000 {
		v := randomValue(r, 0)
		var data []byte
		var err error
		if i%3 == 0 {
			data, err = json.MarshalIndent(v, " ", "\t")
		} else {
			data, err = json.Marshal(v)
		}
		if err != nil {
			t.Fatal(err)
		}
		e.Reset()
		if err := AppendJSON(&e, data); err != nil {
			t.Fatalf("AppendJSON(%s): %v", data, err)
		}
		got, err := decodeWire(e.Buf)
		if err != nil {
			t.Fatalf("AppendJSON(%s): decoding wire: %v", data, err)
		}
		if g, w := pyRepr(got), pyRepr(expectedValue(t, v)); g != w {
			t.Fatalf("AppendJSON(%s)\n got %s\nwant %s", data, g, w)
		}
	}
}

// benchJSON is a realistic request body of about 1 KB.
var benchJSON = []byte(`{
  "order_id": "ord_8f14e45fceea167a5a36dedd4bea2543",
  "created_at": "2024-05-17T09:31:27.512Z",
  "customer": {
    "id": 1048576,
    "name": "Zoë Lindqvist-Müller",
    "email": "zoe.lindqvist@example.com",
    "verified": true,
    "tags": ["wholesale", "eu", "net-30"],
    "address": {"street": "Rue de l'Église 12", "city": "Genève", "zip": "1204", "country": "CH"}
  },
  "items": [
    {"sku": "A-1001", "title": "Ceramic mug, 350 ml", "qty": 4, "unit_price": 12.5, "discount": null},
    {"sku": "B-2040", "title": "Tea sampler \"Four Seasons\"", "qty": 1, "unit_price": 39.99, "discount": 0.15},
    {"sku": "C-0007", "title": "Gift wrap", "qty": 1, "unit_price": 0, "discount": null},
    {"sku": "D-3150", "title": "Kettle 1.7 l\u2014matte black", "qty": 2, "unit_price": 74.9, "discount": 0.05}
  ],
  "shipping": {"method": "express", "cost": 14.95, "eta_days": 2, "tracking": null},
  "payment": {"method": "card", "last4": "4242", "amount": 289.41, "currency": "EUR", "captured": false},
  "notes": "Please leave at the front desk.\nCall on arrival: +41 22 555 01 23",
  "metadata": {"source": "web", "campaign": "spring-2024", "ab_bucket": 17, "score": -3.25e-2}
}`)

func TestBenchJSONIsValid(t *testing.T) {
	if !json.Valid(benchJSON) {
		t.Fatal("benchJSON is not valid JSON")
	}
	if _, err := transcode(t, string(benchJSON)); err != nil {
		t.Fatal(err)
	}
}

// TestAppendJSONAllocs checks that transcoding into a buffer with room
// does not allocate, escapes and floats included.
func TestAppendJSONAllocs(t *testing.T) {
	e := NewEncoder(make([]byte, 0, 4096))
	allocs := testing.AllocsPerRun(100, func() {
		e.Reset()
		if err := AppendJSON(e, benchJSON); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendJSON allocates %v times per run, want 0", allocs)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	var e Encoder
	b.SetBytes(int64(len(benchJSON)))
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		if err := AppendJSON(&e, benchJSON); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdlibUnmarshal is a point of reference: encoding/json decoding
// the same body into Go values (unordered, and not yet Python objects).
func BenchmarkStdlibUnmarshal(b *testing.B) {
	b.SetBytes(int64(len(benchJSON)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal(benchJSON, &v); err != nil {
			b.Fatal(err)
		}
	}
}
