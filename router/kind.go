package router

import "strconv"

// Kind is the converter of a path parameter: it fixes the regexp the value
// must match and the Python type the engine converts it to.
type Kind uint8

const (
	Str   Kind = iota // {name}, <name>, <str:name>, <string:name>, {name:regexp}
	Int               // <int:name>
	Float             // <float:name>
	UUID              // <uuid:name>
	Path              // <path:name>
)

// Regexps of the typed converters, as they appear in Pattern.Template.
// Path uses (?s) so that, like {name}, it also matches a decoded "%0A".
const (
	strRegexp   = `[^/]+`
	intRegexp   = `-?[0-9]+`
	floatRegexp = `-?[0-9]+(?:\.[0-9]+)?`
	uuidRegexp  = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
	pathRegexp  = `(?s:.+)`
)

// converters maps the Flask converter names to their kinds.
var converters = map[string]Kind{
	"str":    Str,
	"string": Str,
	"int":    Int,
	"float":  Float,
	"uuid":   UUID,
	"path":   Path,
}

// String returns the converter name of k: "str", "int", "float", "uuid" or
// "path".
func (k Kind) String() string {
	switch k {
	case Str:
		return "str"
	case Int:
		return "int"
	case Float:
		return "float"
	case UUID:
		return "uuid"
	case Path:
		return "path"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Regexp returns the regexp a value of kind k must match; for Str it is the
// default one-segment regexp, which a {name:regexp} parameter replaces.
func (k Kind) Regexp() string {
	switch k {
	case Int:
		return intRegexp
	case Float:
		return floatRegexp
	case UUID:
		return uuidRegexp
	case Path:
		return pathRegexp
	}
	return strRegexp
}
