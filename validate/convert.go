package validate

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/wire"
)

// convKind is one conversion of text to a value.
type convKind uint8

const (
	convStr   convKind = iota // str as is
	convInt                   // int: decimal, optional sign, any size
	convFloat                 // float: decimal, optional fraction and exponent
	convBool                  // bool: true/false/1/0/yes/no/on/off, any case
	convUUID                  // uuid.UUID: 8-4-4-4-12 hex, 32 hex, {...}, urn:uuid:...
)

// maxIntDigits is the most digits an integer may have: CPython (3.11 and
// later) refuses to convert longer decimal text to an int, because the
// conversion is quadratic. wire.AppendJSON has the same limit.
const maxIntDigits = 4300

// routerKinds is the conversion of a path param by its router converter,
// used when its schema names no type.
func routerKinds(k router.Kind) []convKind {
	switch k {
	case router.Int:
		return kindsInt
	case router.Float:
		return kindsFloat
	case router.UUID:
		return kindsUUID
	}
	return nil // Str, Path: str
}

var (
	kindsInt   = []convKind{convInt}
	kindsFloat = []convKind{convFloat}
	kindsUUID  = []convKind{convUUID}
)

// scalar is a converted value. It is a plain struct so that converting
// costs nothing; only instance (for the schema library) boxes it.
type scalar struct {
	kind convKind
	s    string // str, uuid text, or an int's normalized digits when big
	i    int64
	f    float64
	b    bool
	big  bool // an int beyond int64, in s
}

// encode appends x as a wire value.
func (x *scalar) encode(e *wire.Encoder) {
	switch x.kind {
	case convInt:
		if x.big {
			e.BigInt(x.s)
		} else {
			e.Int(x.i)
		}
	case convFloat:
		e.Float(x.f)
	case convBool:
		e.Bool(x.b)
	case convUUID:
		e.UUID(x.s)
	default:
		e.Str(x.s)
	}
}

// instance returns x as a value of the schema library's instance model:
// string, int64, json.Number (big ints, exact), float64 or bool.
// Allocations: one for a str, a uuid, a big int, a float and an int
// beyond 255; none for a bool or a small int.
func (x *scalar) instance() any {
	switch x.kind {
	case convInt:
		if x.big {
			return json.Number(x.s)
		}
		return x.i
	case convFloat:
		return x.f
	case convBool:
		return x.b
	}
	return x.s
}

// problem is a conversion failure: a Detail without its Loc.
type problem struct {
	typ, msg string
}

var (
	probInt    = &problem{"int_parsing", "Input should be a valid integer, unable to parse string as an integer"}
	probFloat  = &problem{"float_parsing", "Input should be a valid number, unable to parse string as a number"}
	probFinite = &problem{"finite_number", "Input should be a finite number"}
	probBool   = &problem{"bool_parsing", "Input should be a valid boolean, unable to interpret input"}
	probUUID   = &problem{"uuid_parsing", "Input should be a valid UUID, unable to parse string as a UUID"}
)

// convert converts text by the first of kinds that accepts it (see
// inferConv for the order); with no kinds, text is a str. When none accepts it, the problem is that of
// kinds[0]. Allocations: none, except a big int with a '+' or leading
// zeros and a uuid not in 8-4-4-4-12 form (the normalized text).
func convert(kinds []convKind, text string) (scalar, *problem) {
	if len(kinds) == 0 {
		return scalar{kind: convStr, s: text}, nil
	}
	var first *problem
	for _, k := range kinds {
		x, p := convertOne(k, text)
		if p == nil {
			return x, nil
		}
		if first == nil {
			first = p
		}
	}
	return scalar{}, first
}

func convertOne(k convKind, text string) (scalar, *problem) {
	switch k {
	case convInt:
		return parseInt(text)
	case convFloat:
		return parseFloat(text)
	case convBool:
		return parseBool(text)
	case convUUID:
		return parseUUID(text)
	}
	return scalar{kind: convStr, s: text}, nil
}

// parseInt accepts an optional sign and 1 to maxIntDigits ASCII digits, as
// Python's int() does (without its whitespace and underscores).
func parseInt(text string) (scalar, *problem) {
	digits := text
	neg := false
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		neg = digits[0] == '-'
		digits = digits[1:]
	}
	if digits == "" || len(digits) > maxIntDigits || !allDigits(digits) {
		return scalar{}, probInt
	}
	if v, err := strconv.ParseInt(text, 10, 64); err == nil {
		return scalar{kind: convInt, i: v}, nil
	}
	// Beyond int64 (so not all zeros): '-' and digits without leading
	// zeros, which is both wire.BigInt's and json.Number's form.
	digits = strings.TrimLeft(digits, "0")
	if neg {
		if text[0] == '-' && len(text) == len(digits)+1 {
			digits = text // already normal: no allocation
		} else {
			digits = "-" + digits
		}
	}
	return scalar{kind: convInt, s: digits, big: true}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseFloat accepts decimal text with an optional sign, fraction and
// exponent ("1", "-2.5", ".5", "5.", "1e-3"), the forms of Python's
// float() without whitespace, underscores, "inf" and "nan". A value that
// overflows a float64 is not finite and fails as finite_number, since JSON
// Schema cannot compare infinities (neither can the schema library).
func parseFloat(text string) (scalar, *problem) {
	if !isDecimal(text) {
		return scalar{}, probFloat
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
			return scalar{}, probFinite
		}
		if !errors.Is(err, strconv.ErrRange) {
			return scalar{}, probFloat
		}
		// Underflow: f is 0 or a denormal, as Python gives.
	}
	return scalar{kind: convFloat, f: f}, nil
}

// isDecimal reports whether s is [+-] digits [. digits] [eE [+-] digits]
// with at least one mantissa digit.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	n := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		n++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			n++
		}
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := 0
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			e++
		}
		if e == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseBool accepts true/false, 1/0, yes/no, on/off in any case.
func parseBool(text string) (scalar, *problem) {
	for _, w := range [...]string{"true", "1", "yes", "on"} {
		if strings.EqualFold(text, w) {
			return scalar{kind: convBool, b: true}, nil
		}
	}
	for _, w := range [...]string{"false", "0", "no", "off"} {
		if strings.EqualFold(text, w) {
			return scalar{kind: convBool, b: false}, nil
		}
	}
	return scalar{}, probBool
}

// parseUUID accepts the forms Python's uuid.UUID and pydantic accept: the
// canonical 8-4-4-4-12 hex text, 32 hex digits, either in braces, or after
// "urn:uuid:", in any case. The value's text is the canonical form: a
// substring of text when text has it (no allocation), else built.
func parseUUID(text string) (scalar, *problem) {
	s := text
	if len(s) > 9 && strings.EqualFold(s[:9], "urn:uuid:") {
		s = s[9:]
	} else if len(s) >= 34 && s[0] == '{' && s[len(s)-1] == '}' {
		s = s[1 : len(s)-1]
	}
	switch len(s) {
	case 36:
		for i := 0; i < 36; i++ {
			switch i {
			case 8, 13, 18, 23:
				if s[i] != '-' {
					return scalar{}, probUUID
				}
			default:
				if !isHex(s[i]) {
					return scalar{}, probUUID
				}
			}
		}
		return scalar{kind: convUUID, s: s}, nil
	case 32:
		var b [36]byte
		j := 0
		for i := 0; i < 32; i++ {
			if !isHex(s[i]) {
				return scalar{}, probUUID
			}
			if i == 8 || i == 12 || i == 16 || i == 20 {
				b[j] = '-'
				j++
			}
			b[j] = s[i]
			j++
		}
		return scalar{kind: convUUID, s: string(b[:])}, nil
	}
	return scalar{}, probUUID
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
