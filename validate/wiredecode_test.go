package validate

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/databridge/databridge/wire"
)

// A test-only decoder of the wire format, printing a value in a
// Python-like notation so that tests state the kwargs as one string:
//
//	None True False 42 2.5 "str" big(123...) UUID("...") {"k": v} [v, ...]

// decodeWire decodes the one value that must fill b and prints it.
func decodeWire(b []byte) (string, error) {
	d := wireDecoder{b: b}
	var sb strings.Builder
	if err := d.value(&sb, 0); err != nil {
		return "", err
	}
	if d.i != len(b) {
		return "", fmt.Errorf("%d trailing bytes", len(b)-d.i)
	}
	return sb.String(), nil
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

// value prints one value; depth guards against corrupt input.
func (d *wireDecoder) value(sb *strings.Builder, depth int) error {
	if depth > 1000 {
		return fmt.Errorf("nesting too deep")
	}
	tag, err := d.need(1)
	if err != nil {
		return err
	}
	switch tag[0] {
	case wire.TagNone:
		sb.WriteString("None")
	case wire.TagTrue:
		sb.WriteString("True")
	case wire.TagFalse:
		sb.WriteString("False")
	case wire.TagInt:
		p, err := d.need(8)
		if err != nil {
			return err
		}
		sb.WriteString(strconv.FormatInt(int64(binary.LittleEndian.Uint64(p)), 10))
	case wire.TagFloat:
		p, err := d.need(8)
		if err != nil {
			return err
		}
		sb.WriteString(pyFloat(math.Float64frombits(binary.LittleEndian.Uint64(p))))
	case wire.TagBigInt, wire.TagStr, wire.TagUUID:
		s, err := d.text()
		if err != nil {
			return err
		}
		switch tag[0] {
		case wire.TagBigInt:
			if s == "" || strings.TrimLeft(strings.TrimPrefix(s, "-"), "0123456789") != "" {
				return fmt.Errorf("bad big int %q", s)
			}
			fmt.Fprintf(sb, "big(%s)", s)
		case wire.TagUUID:
			fmt.Fprintf(sb, "UUID(%q)", s)
		default:
			fmt.Fprintf(sb, "%q", s)
		}
	case wire.TagDict, wire.TagList:
		n, err := d.u32()
		if err != nil {
			return err
		}
		if n > len(d.b) {
			return fmt.Errorf("count %d beyond the buffer", n)
		}
		open, close := "[", "]"
		if tag[0] == wire.TagDict {
			open, close = "{", "}"
		}
		sb.WriteString(open)
		for i := range n {
			if i > 0 {
				sb.WriteString(", ")
			}
			if err := d.value(sb, depth+1); err != nil {
				return err
			}
			if tag[0] == wire.TagDict {
				sb.WriteString(": ")
				if err := d.value(sb, depth+1); err != nil {
					return err
				}
			}
		}
		sb.WriteString(close)
	default:
		return fmt.Errorf("unexpected tag %q at %d", tag[0], d.i-1)
	}
	return nil
}
