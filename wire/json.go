package wire

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// MaxJSONDepth is the deepest nesting of arrays and objects that AppendJSON
// accepts. Python's own json module would hit its recursion limit not far
// beyond this. It is the engine's one JSON depth limit: pybridge hands it to
// the C decoder (which must decode every body AppendJSON accepts) and to the
// C encoder of responses (so that any such body can be echoed back).
const MaxJSONDepth = 512

// maxJSONIntDigits bounds the digits of an integer. CPython (3.11 and
// later) refuses by default to convert decimal text of more than 4300
// digits to an int, json.loads included, because the conversion is
// quadratic; rejecting such numbers here keeps that cost off the Python
// thread and the error where the client can see it.
const maxJSONIntDigits = 4300

// SyntaxError reports JSON that AppendJSON rejects. Offset is the byte
// offset in the input at which the problem was found.
type SyntaxError struct {
	Msg    string
	Offset int64
}

func (e *SyntaxError) Error() string {
	return "databridge: invalid JSON at offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

// AppendJSON transcodes one JSON document (RFC 8259) to a single wire
// value appended to e, the value Python's json.loads(data) would return:
//
//   - objects become dicts with str keys, in document order; a repeated key
//     is written each time it occurs, so Python keeps the last, as json.loads
//     does
//   - arrays become lists
//   - strings become str, with escapes decoded; an unpaired surrogate escape
//     (\ud800) becomes U+FFFD, as in Go's encoding/json
//   - numbers without fraction or exponent become ints (beyond int64 as big
//     integers); all others become floats
//   - true, false and null become True, False and None
//
// It is stricter than json.loads: it rejects invalid UTF-8 in strings,
// NaN and Infinity, numbers that overflow a float64, integers of more than
// 4300 digits, nesting deeper than MaxJSONDepth, a byte order mark, and
// input that is not UTF-8.
//
// The error, if any, is a *SyntaxError; the buffer is then cut back to its
// length on entry.
func AppendJSON(e *Encoder, data []byte) error {
	start := len(e.Buf)
	buf, err := appendJSON(e.Buf, data)
	if err != nil {
		e.Buf = buf[:start]
		return err
	}
	e.Buf = buf
	return nil
}

// jsonFrame is an array or object that has been opened and not yet closed.
type jsonFrame struct {
	at   int // offset in buf of the container's header
	n    int // entries (values or key/value pairs) seen so far
	keys int // for an object: where its keys start in the parse's key list

	// For an object with more than linearKeys keys: the keys seen, so that
	// duplicate detection stays linear in the object's size.
	set map[string]struct{}
}

// linearKeys is the object size up to which duplicate keys are found by
// comparing with each earlier key (no allocation).
const linearKeys = 16

// keySpan locates a decoded key in buf.
type keySpan struct{ start, end int }

// duplicateKey reports whether the key just appended to buf (the Str value
// that starts at at) repeats a key of the object top. RFC 8259 leaves
// duplicates to the parser; Python would keep the last one silently, which
// lets two parsers of one body disagree, so databridge rejects them.
func duplicateKey(buf []byte, at int, top *jsonFrame, keys []keySpan) ([]keySpan, bool) {
	key := keySpan{at + 5, len(buf)} // after the tag and the uint32 length
	k := buf[key.start:key.end]
	own := keys[top.keys:]
	if top.set == nil && len(own) < linearKeys {
		for _, other := range own {
			if string(buf[other.start:other.end]) == string(k) {
				return keys, true
			}
		}
		return append(keys, key), false
	}
	if top.set == nil {
		top.set = make(map[string]struct{}, 2*linearKeys)
		for _, other := range own {
			top.set[string(buf[other.start:other.end])] = struct{}{}
		}
	}
	if _, dup := top.set[string(k)]; dup {
		return keys, true
	}
	top.set[string(k)] = struct{}{}
	return keys, false
}

func appendJSON(buf, data []byte) ([]byte, error) {
	// Every length and count written is at most len(data), so this one check
	// keeps them all within the format's uint32.
	if uint64(len(data)) > math.MaxUint32 {
		return buf, &SyntaxError{Msg: "input too large", Offset: 0}
	}
	var small [32]jsonFrame
	stack := small[:0]
	var smallKeys [64]keySpan
	keys := smallKeys[:0]
	var err error

	i := skipJSONSpace(data, 0)
	if i == len(data) {
		return buf, &SyntaxError{Msg: "empty input", Offset: int64(i)}
	}
	for {
		// A value starts at data[i], after any whitespace.
		if i >= len(data) {
			return buf, jsonUnexpected(data, i)
		}
		switch c := data[i]; c {
		case '"':
			buf, i, err = appendJSONString(buf, data, i)
			if err != nil {
				return buf, err
			}
		case '{', '[':
			if len(stack) >= MaxJSONDepth {
				return buf, &SyntaxError{Msg: "nested too deep", Offset: int64(i)}
			}
			at := len(buf)
			if c == '{' {
				buf = appendHeader(buf, TagDict, 0)
			} else {
				buf = appendHeader(buf, TagList, 0)
			}
			i = skipJSONSpace(data, i+1)
			if i < len(data) && data[i] == c+2 { // '}' or ']'
				i++
				break // an empty container is a complete value
			}
			stack = append(stack, jsonFrame{at: at, keys: len(keys)})
			if c == '{' {
				if buf, keys, i, err = appendObjectKey(buf, data, i, &stack[len(stack)-1], keys); err != nil {
					return buf, err
				}
			}
			continue
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			buf, i, err = appendJSONNumber(buf, data, i)
			if err != nil {
				return buf, err
			}
		case 't':
			if i, err = expectJSONLiteral(data, i, "true"); err != nil {
				return buf, err
			}
			buf = append(buf, TagTrue)
		case 'f':
			if i, err = expectJSONLiteral(data, i, "false"); err != nil {
				return buf, err
			}
			buf = append(buf, TagFalse)
		case 'n':
			if i, err = expectJSONLiteral(data, i, "null"); err != nil {
				return buf, err
			}
			buf = append(buf, TagNone)
		default:
			return buf, jsonBadValue(data, i)
		}

		// A value has ended just before data[i]: go on to the next entry of
		// the innermost container, closing containers as they end.
		for {
			if len(stack) == 0 {
				if i = skipJSONSpace(data, i); i != len(data) {
					return buf, &SyntaxError{
						Msg:    "unexpected " + describeJSONByte(data, i) + " after top-level value",
						Offset: int64(i),
					}
				}
				return buf, nil
			}
			top := &stack[len(stack)-1]
			top.n++
			i = skipJSONSpace(data, i)
			if i >= len(data) {
				return buf, jsonUnexpected(data, i)
			}
			c := data[i]
			obj := buf[top.at] == TagDict
			if c == ',' {
				i = skipJSONSpace(data, i+1)
				if obj {
					if buf, keys, i, err = appendObjectKey(buf, data, i, top, keys); err != nil {
						return buf, err
					}
				}
				break // to the next value
			}
			if obj && c != '}' || !obj && c != ']' {
				return buf, jsonUnexpected(data, i)
			}
			binary.LittleEndian.PutUint32(buf[top.at+1:], uint32(top.n))
			keys = keys[:top.keys]
			stack = stack[:len(stack)-1]
			i++
		}
	}
}

// appendObjectKey appends the key at data[i] of the object top, rejecting a
// key the object already has.
func appendObjectKey(buf, data []byte, i int, top *jsonFrame, keys []keySpan) ([]byte, []keySpan, int, error) {
	at, start := len(buf), i
	buf, i, err := appendJSONKey(buf, data, i)
	if err != nil {
		return buf, keys, i, err
	}
	keys, dup := duplicateKey(buf, at, top, keys) // the key is all of buf[at:]
	if dup {
		return buf, keys, i, &SyntaxError{Msg: "duplicate key " + strconv.Quote(string(buf[at+5:])), Offset: int64(start)}
	}
	return buf, keys, i, nil
}

// appendJSONKey reads an object key at data[i], the ':' after it and the
// whitespace around that, and returns the offset of the value.
func appendJSONKey(buf, data []byte, i int) ([]byte, int, error) {
	if i >= len(data) || data[i] != '"' {
		return buf, i, jsonUnexpected(data, i)
	}
	buf, i, err := appendJSONString(buf, data, i)
	if err != nil {
		return buf, i, err
	}
	i = skipJSONSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return buf, i, jsonUnexpected(data, i)
	}
	return buf, skipJSONSpace(data, i+1), nil
}

// jsonWhitespace has bit c set for each JSON whitespace byte c.
const jsonWhitespace = 1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\r'

func skipJSONSpace(data []byte, i int) int {
	for i < len(data) {
		c := data[i]
		if c > ' ' || jsonWhitespace&(uint64(1)<<c) == 0 {
			break
		}
		i++
	}
	return i
}

const (
	lsb8 = 0x0101010101010101
	msb8 = 0x8080808080808080
)

// stringSpecial reports whether c needs a closer look inside a string: a
// quote, a backslash, a control character or a non-ASCII byte.
func stringSpecial(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf }

// stringSpecial8 flags (sets the top bit of) the bytes of v, 8 bytes
// loaded little-endian, for which stringSpecial is true. It never misses
// one, and the lowest flagged byte is always a true one (a borrow can only
// flag bytes above a true one), so the number of trailing zero bits / 8 is
// the index of the first special byte.
func stringSpecial8(v uint64) uint64 {
	q := v ^ (lsb8 * '"')
	b := v ^ (lsb8 * '\\')
	return (q-lsb8)&^q&msb8 | // a byte is '"'
		(b-lsb8)&^b&msb8 | // a byte is '\\'
		((v-lsb8*0x20)|v)&msb8 // a byte is < 0x20 or >= 0x80
}

// appendJSONString appends the string whose opening quote is data[i] and
// returns the offset just past its closing quote. The str header is
// written first and its length patched at the end, so the text, escaped or
// not, is copied once, straight from data into buf.
func appendJSONString(buf, data []byte, i int) ([]byte, int, error) {
	quote := i
	at := len(buf)
	buf = appendHeader(buf, TagStr, 0)
	i++
	run := i // start of the text not yet copied
	for {
		// Skip to the next byte that is not plain ASCII text.
		for {
			if len(data)-i < 8 {
				for i < len(data) && !stringSpecial(data[i]) {
					i++
				}
				break
			}
			if m := stringSpecial8(binary.LittleEndian.Uint64(data[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(data) {
			return buf, i, &SyntaxError{Msg: "unterminated string", Offset: int64(quote)}
		}
		switch c := data[i]; {
		case c == '"':
			buf = append(buf, data[run:i]...)
			binary.LittleEndian.PutUint32(buf[at+1:], uint32(len(buf)-at-5))
			return buf, i + 1, nil
		case c == '\\':
			if i+1 >= len(data) {
				return buf, i, &SyntaxError{Msg: "unterminated string", Offset: int64(quote)}
			}
			buf = append(buf, data[run:i]...)
			var err error
			if buf, i, err = appendJSONEscape(buf, data, i); err != nil {
				return buf, i, err
			}
			run = i
		case c < 0x20:
			return buf, i, &SyntaxError{
				Msg:    "control character " + hexByte(c) + " in string (must be escaped)",
				Offset: int64(i),
			}
		default: // c >= utf8.RuneSelf
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				return buf, i, &SyntaxError{Msg: "invalid UTF-8 in string", Offset: int64(i)}
			}
			i += size
		}
	}
}

// appendJSONEscape decodes the escape sequence at data[i] (a backslash,
// not the last byte of data) and returns the offset just past it.
func appendJSONEscape(buf, data []byte, i int) ([]byte, int, error) {
	switch c := data[i+1]; c {
	case '"', '\\', '/':
		return append(buf, c), i + 2, nil
	case 'b':
		return append(buf, '\b'), i + 2, nil
	case 'f':
		return append(buf, '\f'), i + 2, nil
	case 'n':
		return append(buf, '\n'), i + 2, nil
	case 'r':
		return append(buf, '\r'), i + 2, nil
	case 't':
		return append(buf, '\t'), i + 2, nil
	case 'u':
		r := jsonHex4(data, i+2)
		if r < 0 {
			return buf, i, &SyntaxError{Msg: `invalid \u escape (want 4 hex digits)`, Offset: int64(i)}
		}
		i += 6
		if 0xD800 <= r && r < 0xE000 { // a surrogate
			// Only a high surrogate escape directly followed by a low one
			// makes a character; any other surrogate becomes U+FFFD, and
			// what follows it is decoded on its own.
			if r < 0xDC00 && i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
				if r2 := jsonHex4(data, i+2); 0xDC00 <= r2 && r2 < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					return utf8.AppendRune(buf, r), i + 6, nil
				}
			}
			r = utf8.RuneError
		}
		return utf8.AppendRune(buf, r), i, nil
	default:
		return buf, i, &SyntaxError{Msg: "invalid escape " + describeEscape(data, i+1) + " in string", Offset: int64(i)}
	}
}

// jsonHex4 returns the value of the 4 hex digits at data[i:], or -1.
func jsonHex4(data []byte, i int) rune {
	if i < 0 || len(data)-i < 4 {
		return -1
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// appendJSONNumber appends the number that starts at data[i] (a '-' or a
// digit) and returns the offset just past it.
func appendJSONNumber(buf, data []byte, i int) ([]byte, int, error) {
	start := i
	neg := data[i] == '-'
	if neg {
		i++
	}
	// mant accumulates the first 19 digits, integer part and fraction
	// (19 nines < 2**64); nd counts all of them.
	var mant uint64
	nd := 0

	// Integer part: 0, or a nonzero digit and more digits.
	digits := i
	switch {
	case i >= len(data):
		return buf, i, jsonBadNumber(data, i)
	case data[i] == '0':
		i++
		nd = 1
		if i < len(data) && isDigit(data[i]) {
			return buf, i, &SyntaxError{Msg: "invalid number: leading zero", Offset: int64(digits)}
		}
	case isDigit(data[i]):
		for ; i < len(data) && isDigit(data[i]); i++ {
			if nd < 19 {
				mant = mant*10 + uint64(data[i]-'0')
			}
			nd++
		}
	default:
		if hasPrefix(string(data[i:min(len(data), i+8)]), "Infinity") {
			return buf, i, jsonBadValue(data, start)
		}
		return buf, i, jsonBadNumber(data, i)
	}
	intDigits := nd

	isFloat := false
	exp10 := 0 // the value is mant * 10**exp10 while nd <= 19
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return buf, i, jsonBadNumber(data, i)
		}
		for ; i < len(data) && isDigit(data[i]); i++ {
			if nd < 19 {
				mant = mant*10 + uint64(data[i]-'0')
				exp10--
			}
			nd++
		}
		isFloat = true
	}
	if i < len(data) && data[i]|0x20 == 'e' {
		i++
		expNeg := false
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			expNeg = data[i] == '-'
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return buf, i, jsonBadNumber(data, i)
		}
		e := 0
		for ; i < len(data) && isDigit(data[i]); i++ {
			if e < 1e6 { // beyond that, only ParseFloat looks at it
				e = e*10 + int(data[i]-'0')
			}
		}
		if expNeg {
			e = -e
		}
		exp10 += e
		isFloat = true
	}

	if !isFloat {
		if intDigits <= 19 && (mant <= math.MaxInt64 || neg && mant == 1<<63) {
			v := int64(mant) // for -2**63 this wraps to the right value
			if neg {
				v = -v
			}
			buf = append(buf, TagInt)
			return binary.LittleEndian.AppendUint64(buf, uint64(v)), i, nil
		}
		if intDigits > maxJSONIntDigits {
			return buf, i, &SyntaxError{
				Msg:    "integer too long (more than " + strconv.Itoa(maxJSONIntDigits) + " digits)",
				Offset: int64(start),
			}
		}
		buf = appendHeader(buf, TagBigInt, i-start)
		return append(buf, data[start:i]...), i, nil
	}

	var f float64
	if nd <= 19 && mant <= 1<<53 && -22 <= exp10 && exp10 <= 22 {
		// Clinger's fast path: mant and 10**|exp10| are exact float64s, so
		// one IEEE multiplication or division rounds correctly, just as
		// strconv (and Python's float) would.
		f = float64(mant)
		if exp10 < 0 {
			f /= float64pow10[-exp10]
		} else {
			f *= float64pow10[exp10]
		}
		if neg {
			f = -f
		}
	} else {
		// The text is valid Go float syntax, so the only possible error is
		// range. (The string conversion does not allocate for numbers of up
		// to 32 bytes, which is every float a JSON encoder writes.)
		var err error
		f, err = strconv.ParseFloat(string(data[start:i]), 64)
		if err != nil || math.IsInf(f, 0) {
			return buf, i, &SyntaxError{Msg: "number out of range", Offset: int64(start)}
		}
	}
	buf = append(buf, TagFloat)
	return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f)), i, nil
}

// float64pow10 holds the powers of ten that a float64 represents exactly.
var float64pow10 = [...]float64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

func isDigit(c byte) bool { return c-'0' < 10 }

// expectJSONLiteral checks that data[i:] starts with lit and returns the
// offset past it.
func expectJSONLiteral(data []byte, i int, lit string) (int, error) {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	k := 0
	for i+k < len(data) && data[i+k] == lit[k] {
		k++
	}
	return i, jsonUnexpected(data, i+k)
}

func appendHeader(buf []byte, tag byte, n int) []byte {
	buf = append(buf, tag)
	return binary.LittleEndian.AppendUint32(buf, uint32(n))
}

// Errors. These run only on bad input, so they may allocate.

// jsonUnexpected reports the byte at data[i], or the end of the input.
func jsonUnexpected(data []byte, i int) error {
	if i >= len(data) {
		return &SyntaxError{Msg: "unexpected end of input", Offset: int64(i)}
	}
	return &SyntaxError{Msg: "unexpected " + describeJSONByte(data, i), Offset: int64(i)}
}

// jsonBadValue reports data[i] where a value should start, naming the
// common mistakes.
func jsonBadValue(data []byte, i int) error {
	rest := string(data[i:min(len(data), i+9)])
	switch {
	case hasPrefix(rest, "NaN"), hasPrefix(rest, "Infinity"), hasPrefix(rest, "-Infinity"):
		return &SyntaxError{Msg: "NaN and Infinity are not valid JSON", Offset: int64(i)}
	case i == 0 && hasPrefix(rest, "\xEF\xBB\xBF"):
		return &SyntaxError{Msg: "unexpected UTF-8 byte order mark", Offset: 0}
	}
	return jsonUnexpected(data, i)
}

func jsonBadNumber(data []byte, i int) error {
	if i >= len(data) {
		return &SyntaxError{Msg: "invalid number: unexpected end of input", Offset: int64(i)}
	}
	return &SyntaxError{Msg: "invalid number: unexpected " + describeJSONByte(data, i), Offset: int64(i)}
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

// describeJSONByte names the character at data[i] for an error message:
// character '}', or byte 0xFF where the input is not UTF-8.
func describeJSONByte(data []byte, i int) string {
	r, size := utf8.DecodeRune(data[i:])
	if r == utf8.RuneError && size <= 1 {
		return "byte " + hexByte(data[i]) + " (invalid UTF-8)"
	}
	return "character " + strconv.QuoteRune(r)
}

// describeEscape names the character after a backslash.
func describeEscape(data []byte, i int) string {
	r, size := utf8.DecodeRune(data[i:])
	switch {
	case r == utf8.RuneError && size <= 1:
		return `'\' followed by byte ` + hexByte(data[i])
	case r < 0x20 || r == 0x7F:
		return `'\' followed by ` + hexByte(byte(r))
	}
	return `'\` + string(r) + `'`
}

func hexByte(c byte) string {
	const hex = "0123456789ABCDEF"
	return string([]byte{'0', 'x', hex[c>>4], hex[c&15]})
}
