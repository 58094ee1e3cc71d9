package pyroute

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/databridge/databridge/wire"
)

// A test-only decoder of the wire format into Go values, and a printer of
// those values in a Python-like notation, so that tests can state the
// request dict the backend sees as one readable string:
//
//	None True False 42 2.5 "str" b"bytes" big(123...) UUID("...")
//	{"key": value, ...}   [value, ...]
//
// Dicts keep their order. Interned keys decode to the key type, which
// prints like a str; tests that care about interning check the type.

type (
	kv   struct{ k, v any }
	dict []kv
	list []any
	// key is a str sent as an interned wire.Key.
	key string
	// bigInt is an int sent as decimal text.
	bigInt string
	// uuidText is a uuid.UUID sent as its text.
	uuidText string
	// multi is a multi-value dict with repeated names: it prints as
	// {first values} + getlist {name: [values]}.
	multi struct {
		first dict
		lists any
	}
)

// get returns the value of the first entry named name, and whether there
// is one.
func (d dict) get(name string) (any, bool) {
	for _, e := range d {
		if fmt.Sprint(e.k) == name {
			return e.v, true
		}
	}
	return nil, false
}

// decodeWire decodes one value that must fill b.
func decodeWire(b []byte) (any, error) {
	d := wireDecoder{b: b}
	v, err := d.value()
	if err == nil && d.i != len(b) {
		err = fmt.Errorf("%d trailing bytes", len(b)-d.i)
	}
	return v, err
}

type wireDecoder struct {
	b []byte
	i int
}

func (d *wireDecoder) need(n int) ([]byte, error) {
	if n < 0 || len(d.b)-d.i < n {
		return nil, fmt.Errorf("truncated at %d (need %d bytes)", d.i, n)
	}
	p := d.b[d.i : d.i+n]
	d.i += n
	return p, nil
}

func (d *wireDecoder) u32() (int, error) {
	p, err := d.need(4)
	if err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint32(p)), nil
}

func (d *wireDecoder) text() (string, error) {
	n, err := d.u32()
	if err != nil {
		return "", err
	}
	p, err := d.need(n)
	return string(p), err
}

func (d *wireDecoder) value() (any, error) {
	p, err := d.need(1)
	if err != nil {
		return nil, err
	}
	switch tag := p[0]; tag {
	case wire.TagNone:
		return nil, nil
	case wire.TagTrue:
		return true, nil
	case wire.TagFalse:
		return false, nil
	case wire.TagInt, wire.TagFloat:
		p, err := d.need(8)
		if err != nil {
			return nil, err
		}
		u := binary.LittleEndian.Uint64(p)
		if tag == wire.TagInt {
			return int64(u), nil
		}
		return math.Float64frombits(u), nil
	case wire.TagBigInt:
		s, err := d.text()
		return bigInt(s), err
	case wire.TagUUID:
		s, err := d.text()
		return uuidText(s), err
	case wire.TagStr:
		return d.text()
	case wire.TagBytes:
		s, err := d.text()
		return []byte(s), err
	case wire.TagKey:
		p, err := d.need(1)
		if err != nil {
			return nil, err
		}
		if int(p[0]) >= len(wire.Keys) {
			return nil, fmt.Errorf("bad key index %d", p[0])
		}
		return key(wire.Keys[p[0]]), nil
	case wire.TagDict:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		out := dict{}
		for range n {
			k, err := d.value()
			if err != nil {
				return nil, err
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			out = append(out, kv{k, v})
		}
		return out, nil
	case wire.TagMultiDict:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		first := dict{}
		for range n {
			k, err := d.value()
			if err != nil {
				return nil, err
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			first = append(first, kv{k, v})
		}
		lists, err := d.value()
		if err != nil {
			return nil, err
		}
		if lists == nil {
			return first, nil
		}
		return multi{first, lists}, nil
	case wire.TagList:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		out := list{}
		for range n {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("bad tag %q at %d", tag, d.i-1)
	}
}

// repr prints v in the notation described above.
func repr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch v := v.(type) {
	case multi:
		writeRepr(b, v.first)
		b.WriteString(" + getlist ")
		writeRepr(b, v.lists)
	case nil:
		b.WriteString("None")
	case bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case bigInt:
		b.WriteString("big(" + string(v) + ")")
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") {
			s += ".0" // Python prints 3.0, not 3
		}
		b.WriteString(s)
	case string:
		b.WriteString(strconv.Quote(v))
	case key:
		b.WriteString(strconv.Quote(string(v)))
	case []byte:
		b.WriteString("b" + strconv.Quote(string(v)))
	case uuidText:
		b.WriteString(`UUID("` + string(v) + `")`)
	case dict:
		b.WriteByte('{')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e.k)
			b.WriteString(": ")
			writeRepr(b, e.v)
		}
		b.WriteByte('}')
	case list:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	default:
		fmt.Fprintf(b, "?%T(%v)", v, v)
	}
}
