package validate

// annotations are the keywords that never fail validation.
var annotations = map[string]bool{
	"title": true, "description": true, "default": true, "examples": true,
	"deprecated": true, "readOnly": true, "writeOnly": true, "$comment": true,
	"$schema": true, "$defs": true, "definitions": true,
}

// trivial reports whether every value that the conversion inferred from
// schema s can produce is valid against s, so that Check may skip the
// schema library: s holds only annotations, a "type" (which the
// conversion follows), format "uuid" on a string (which the conversion
// checks), items that are trivial too, and anyOf branches (or oneOf with
// one non-null branch) that are. {"type": "integer", "title": "Page",
// "default": 1} is trivial; {"type": "integer", "minimum": 1} is not.
func trivial(s any) bool {
	m, ok := s.(map[string]any)
	if !ok {
		return s == true
	}
	_, typed := m["type"]
	if typed && !typeConvertible(m["type"]) {
		return false
	}
	for k, val := range m {
		switch {
		case annotations[k], k == "type":
		case k == "format":
			if val != "uuid" || m["type"] != "string" {
				return false
			}
		case k == "items":
			if !trivial(val) {
				return false
			}
		case k == "anyOf" || k == "oneOf":
			branches, _ := val.([]any)
			if typed || len(branches) == 0 {
				return false
			}
			nonNull := 0
			for _, b := range branches {
				if isNullSchema(b) {
					continue // never matches a converted value, never needed
				}
				if !trivial(b) {
					return false
				}
				nonNull++
			}
			if nonNull == 0 || k == "oneOf" && nonNull > 1 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// typeConvertible reports whether a "type" value names at least one type
// a conversion produces, and none it cannot.
func typeConvertible(t any) bool {
	ok := func(s any) bool {
		switch s {
		case "integer", "number", "boolean", "string", "array", "null":
			return true
		}
		return false
	}
	switch t := t.(type) {
	case string:
		return t != "null" && ok(t)
	case []any:
		some := false
		for _, s := range t {
			if !ok(s) {
				return false
			}
			some = some || s != "null"
		}
		return some
	}
	return false
}

// isNullSchema reports whether s is {"type": "null"} (plus annotations).
func isNullSchema(s any) bool {
	m, ok := s.(map[string]any)
	if !ok || m["type"] != "null" {
		return false
	}
	for k := range m {
		if k != "type" && !annotations[k] {
			return false
		}
	}
	return true
}
