package validate

import (
	"encoding/json"
	"errors"
)

// maxSchemaDepth bounds the $ref/anyOf/oneOf/allOf steps followed when
// looking for a schema's type, which also stops $ref cycles.
const maxSchemaDepth = 32

// conv says how a parameter's text becomes a value.
type conv struct {
	// kinds are the conversions tried in order; the first that succeeds
	// gives the value, and the error of the first one is reported when
	// none does. Empty: the text as a str.
	kinds []convKind
	// array: every value of the repeated query key, each converted by
	// items (as kinds above).
	array bool
	items []convKind
	// typed: the schema named a type (for path params, whose router
	// converter applies otherwise).
	typed bool
}

// candidates gathers the types a schema accepts, for conversion.
type candidates struct {
	kinds  []convKind
	array  bool
	items  any // the items schema of an array; nil: none
	object bool
	null   bool
}

func (c *candidates) add(k convKind) {
	for _, have := range c.kinds {
		if have == k {
			return
		}
	}
	c.kinds = append(c.kinds, k)
}

// inferConv derives the conversion of a parameter from its schema s (a
// decoded JSON Schema), whose $refs resolve within root. See
// docs/route-spec.md: the type, or the non-null types of anyOf/oneOf (so
// Optional[int] converts as int), or the types of enum/const values. A
// str candidate comes first, as in pydantic's smart unions, where text
// that a str member accepts stays text: Union[int, str] gives "5" for "5",
// and a Decimal (number, or string with a pattern) keeps all its digits.
// For a scalar param, Check tries the next candidate when a value fails
// the schema, so that Literal[1, "a"] still gives 1 for "1". An object
// type cannot come from text and is an error unless another type can.
func inferConv(s, root any) (conv, error) {
	var c candidates
	if err := collect(s, root, 0, &c); err != nil {
		return conv{}, err
	}
	cv := conv{typed: len(c.kinds) > 0 || c.array}
	switch {
	case c.array && len(c.kinds) > 0:
		return conv{}, errors.New("a parameter cannot be both an array and a scalar")
	case c.array:
		var ic candidates
		if err := collect(c.items, root, 0, &ic); err != nil {
			return conv{}, err
		}
		if ic.array || (ic.object && len(ic.kinds) == 0) {
			return conv{}, errors.New("array items must be scalars (integer, number, boolean or string)")
		}
		cv.array = true
		cv.items = strFirst(ic.kinds)
	case c.object:
		if len(c.kinds) == 0 {
			return conv{}, errors.New("type object cannot be converted from text")
		}
		fallthrough
	default:
		cv.kinds = strFirst(c.kinds)
	}
	return cv, nil
}

// strFirst moves convStr to the front of kinds.
func strFirst(kinds []convKind) []convKind {
	for i, k := range kinds {
		if k == convStr && i > 0 {
			out := append([]convKind{convStr}, kinds[:i]...)
			return append(out, kinds[i+1:]...)
		}
	}
	return kinds
}

func collect(s, root any, depth int, c *candidates) error {
	if depth > maxSchemaDepth {
		return errors.New("schema nests $ref, anyOf, oneOf or allOf too deeply (or $ref loops)")
	}
	m, ok := s.(map[string]any)
	if !ok {
		return nil // true, false: no type
	}
	if t, ok := m["type"]; ok {
		switch t := t.(type) {
		case string:
			c.addType(t, m)
		case []any:
			for _, t := range t {
				if t, ok := t.(string); ok {
					c.addType(t, m)
				}
			}
		}
		return nil
	}
	if ref, ok := m["$ref"].(string); ok {
		target, err := resolveRef(root, ref)
		if err != nil {
			return err
		}
		return collect(target, root, depth+1, c)
	}
	found := false
	for _, kw := range [...]string{"anyOf", "oneOf", "allOf"} {
		branches, _ := m[kw].([]any)
		for _, b := range branches {
			if err := collect(b, root, depth+1, c); err != nil {
				return err
			}
			if kw == "allOf" && (len(c.kinds) > 0 || c.array) {
				return nil // allOf: the first branch with a type says it
			}
		}
		found = found || len(branches) > 0
	}
	if found {
		return nil
	}
	values, _ := m["enum"].([]any)
	if cv, ok := m["const"]; ok {
		values = append(values[:len(values):len(values)], cv)
	}
	for _, v := range values {
		switch v := v.(type) {
		case string:
			c.add(convStr)
		case bool:
			c.add(convBool)
		case nil:
			c.null = true
		case json.Number:
			if isIntegerLiteral(string(v)) {
				c.add(convInt)
			} else {
				c.add(convFloat)
			}
		}
	}
	return nil
}

func (c *candidates) addType(t string, m map[string]any) {
	switch t {
	case "integer":
		c.add(convInt)
	case "number":
		c.add(convFloat)
	case "boolean":
		c.add(convBool)
	case "string":
		if m["format"] == "uuid" {
			c.add(convUUID)
		} else {
			c.add(convStr)
		}
	case "array":
		c.array = true
		c.items = m["items"]
	case "object":
		c.object = true
	case "null":
		c.null = true
	}
}
