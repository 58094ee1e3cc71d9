package wire

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
)

// ErrTooManyValues is returned by DecodeJSON when the value holds more
// than the allowed number of values.
var ErrTooManyValues = errors.New("databridge: too many values")

// errCorrupt reports a buffer that is not one value AppendJSON wrote.
var errCorrupt = errors.New("databridge: corrupt wire value")

// DecodeJSON turns the one wire value at the start of b, as AppendJSON
// wrote it, back into the Go values that encoding/json with UseNumber (and
// github.com/santhosh-tekuri/jsonschema/v6) use for the same JSON:
//
//   - dict → map[string]any, list → []any, str → string
//   - int → int64, int beyond int64 → json.Number (its exact digits),
//     float → float64
//   - True, False → bool; None → nil
//
// So the value is exactly what Python receives: it is read from the same
// bytes that db_decode turns into Python objects, and no second JSON
// parser can disagree with the one that accepted the body. It returns the
// number of bytes of b the value took.
//
// maxValues, when positive, bounds the values (scalars and containers,
// all counted) decoded: beyond it DecodeJSON stops early with
// ErrTooManyValues, having built at most maxValues of them. Only the tags
// AppendJSON writes are accepted; anything else is an error, as is a
// nesting deeper than MaxJSONDepth.
func DecodeJSON(b []byte, maxValues int) (v any, n int, err error) {
	d := jsonDecoder{b: b, left: maxValues}
	if maxValues <= 0 {
		d.left = math.MaxInt
	}
	v, err = d.value(0)
	if err != nil {
		return nil, 0, err
	}
	return v, d.i, nil
}

type jsonDecoder struct {
	b    []byte
	i    int
	left int // values that may still be decoded
}

func (d *jsonDecoder) u32() (int, error) {
	if len(d.b)-d.i < 4 {
		return 0, errCorrupt
	}
	n := binary.LittleEndian.Uint32(d.b[d.i:])
	d.i += 4
	if uint64(n) > uint64(len(d.b)) {
		return 0, errCorrupt // no count or length exceeds the buffer's size
	}
	return int(n), nil
}

func (d *jsonDecoder) span() ([]byte, error) {
	n, err := d.u32()
	if err != nil {
		return nil, err
	}
	if len(d.b)-d.i < n {
		return nil, errCorrupt
	}
	s := d.b[d.i : d.i+n]
	d.i += n
	return s, nil
}

func (d *jsonDecoder) value(depth int) (any, error) {
	if d.left--; d.left < 0 {
		return nil, ErrTooManyValues
	}
	if d.i >= len(d.b) {
		return nil, errCorrupt
	}
	tag := d.b[d.i]
	d.i++
	switch tag {
	case TagNone:
		return nil, nil
	case TagTrue:
		return true, nil
	case TagFalse:
		return false, nil
	case TagInt, TagFloat:
		if len(d.b)-d.i < 8 {
			return nil, errCorrupt
		}
		u := binary.LittleEndian.Uint64(d.b[d.i:])
		d.i += 8
		if tag == TagInt {
			return int64(u), nil
		}
		return math.Float64frombits(u), nil
	case TagBigInt:
		s, err := d.span()
		if err != nil {
			return nil, err
		}
		return json.Number(s), nil
	case TagStr:
		s, err := d.span()
		if err != nil {
			return nil, err
		}
		return string(s), nil
	case TagList, TagDict:
		if depth >= MaxJSONDepth {
			return nil, errCorrupt
		}
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		if tag == TagList {
			l := make([]any, 0, min(n, d.left, len(d.b)-d.i))
			for range n {
				x, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				l = append(l, x)
			}
			return l, nil
		}
		m := make(map[string]any, min(n, d.left, (len(d.b)-d.i)/5))
		for range n {
			if len(d.b)-d.i < 5 || d.b[d.i] != TagStr {
				return nil, errCorrupt // AppendJSON writes every key as a str
			}
			d.i++
			k, err := d.span()
			if err != nil {
				return nil, err
			}
			x, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m[string(k)] = x
		}
		return m, nil
	}
	return nil, errCorrupt
}
