package validate

import (
	"math/big"
	"strconv"
	"unicode/utf8"
)

// bounds checks the common scalar constraints natively, for a param whose
// schema has nothing else the conversion does not already guarantee:
// minimum/maximum (also exclusive) on a number, minLength/maxLength on a
// string. Query(10, ge=1, le=100) is such a schema. The library would cost
// about 1.3 µs and 23 allocations per value; this costs a comparison per
// bound and no allocation for int64 values.
type bounds struct {
	nums           []numBound
	minLen, maxLen int // -1 when absent
	minLenText     string
	maxLenText     string
}

// numBound is one numeric keyword of a schema, with the Detail it gives.
type numBound struct {
	r        *big.Rat
	f        float64 // r, for float values
	fails    func(cmp int) bool
	typ, msg string
}

// numKeywords are the numeric keywords, in the order the library reports
// them, with pydantic's vocabulary (docs/route-spec.md).
var numKeywords = []struct {
	key, typ, prefix string
	fails            func(cmp int) bool // cmp: the value compared with the bound
}{
	{"minimum", "greater_than_equal", "Input should be greater than or equal to ", func(c int) bool { return c < 0 }},
	{"maximum", "less_than_equal", "Input should be less than or equal to ", func(c int) bool { return c > 0 }},
	{"exclusiveMinimum", "greater_than", "Input should be greater than ", func(c int) bool { return c <= 0 }},
	{"exclusiveMaximum", "less_than", "Input should be less than ", func(c int) bool { return c >= 0 }},
}

// lengthKeywords are the string keywords.
var lengthKeywords = map[string]bool{"minLength": true, "maxLength": true}

// compileBounds returns the bounds of a schema that is "trivial but for
// bounds", or nil.
func compileBounds(doc any) *bounds {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	rest := make(map[string]any, len(m))
	var numeric, lengths []string
	for k, v := range m {
		switch {
		case lengthKeywords[k]:
			lengths = append(lengths, k)
		case isNumKeyword(k):
			numeric = append(numeric, k)
		default:
			rest[k] = v
		}
	}
	if len(numeric)+len(lengths) == 0 || !trivial(rest) {
		return nil
	}
	b := &bounds{minLen: -1, maxLen: -1}
	switch m["type"] {
	case "integer", "number":
		if len(lengths) > 0 {
			return nil
		}
		for _, kw := range numKeywords {
			v, has := m[kw.key]
			if !has {
				continue
			}
			r, ok := ratOf(v)
			if !ok {
				return nil
			}
			f, _ := r.Float64()
			b.nums = append(b.nums, numBound{r: r, f: f, fails: kw.fails, typ: kw.typ, msg: kw.prefix + ratText(r)})
		}
	case "string":
		if len(numeric) > 0 {
			return nil
		}
		for _, k := range lengths {
			r, ok := ratOf(m[k])
			if !ok || !r.IsInt() || r.Sign() < 0 || !r.Num().IsInt64() {
				return nil
			}
			n := int(r.Num().Int64())
			if k == "minLength" {
				b.minLen, b.minLenText = n, "String should have at least "+strconv.Itoa(n)+" character"+plural(n)
			} else {
				b.maxLen, b.maxLenText = n, "String should have at most "+strconv.Itoa(n)+" character"+plural(n)
			}
		}
	default:
		return nil
	}
	return b
}

func isNumKeyword(k string) bool {
	for _, kw := range numKeywords {
		if kw.key == k {
			return true
		}
	}
	return false
}

// check returns the first bound x breaks, as the library would report it.
func (b *bounds) check(x *scalar) (typ, msg string, ok bool) {
	switch x.kind {
	case convInt, convFloat:
		var r *big.Rat // x as a Rat, made only for a big int
		for i := range b.nums {
			nb := &b.nums[i]
			if nb.fails(compare(x, nb, &r)) {
				return nb.typ, nb.msg, false
			}
		}
	case convStr:
		n := utf8.RuneCountInString(x.s)
		if b.minLen >= 0 && n < b.minLen {
			return "string_too_short", b.minLenText, false
		}
		if b.maxLen >= 0 && n > b.maxLen {
			return "string_too_long", b.maxLenText, false
		}
	}
	return "", "", true
}

// compare compares the number x with a bound: float64 for a float (the
// value Python gets), int64 when both fit, exact otherwise.
func compare(x *scalar, nb *numBound, r **big.Rat) int {
	switch {
	case x.kind == convFloat:
		return cmpFloat(x.f, nb.f)
	case !x.big && nb.r.IsInt() && nb.r.Num().IsInt64():
		return cmpInt(x.i, nb.r.Num().Int64())
	}
	if *r == nil {
		*r = new(big.Rat)
		if x.big {
			(*r).SetString(x.s)
		} else {
			(*r).SetInt64(x.i)
		}
	}
	return (*r).Cmp(nb.r)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ratOf reads a JSON number of a decoded schema.
func ratOf(v any) (*big.Rat, bool) {
	switch v := v.(type) {
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(v) == nil {
			return nil, false
		}
		return r, true
	case int:
		return new(big.Rat).SetInt64(int64(v)), true
	case int64:
		return new(big.Rat).SetInt64(v), true
	case interface{ String() string }: // json.Number
		return new(big.Rat).SetString(v.String())
	}
	return nil, false
}
