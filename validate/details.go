package validate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Detail is one problem of a request, an entry of the 422 body's
// "details". Loc starts with "path", "query", "header" or "body", then the
// param's wire name and, inside a value, its JSON path: object keys as
// strings, array indexes as ints.
type Detail struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

const (
	msgMissing = "Field required"
	msgExtra   = "Extra inputs are not permitted"
	msgList    = "Input should be a valid list"
)

// typeProblems maps a JSON Schema type to pydantic's type error.
var typeProblems = map[string]*problem{
	"integer": {"int_type", "Input should be a valid integer"},
	"number":  {"float_type", "Input should be a valid number"},
	"string":  {"string_type", "Input should be a valid string"},
	"boolean": {"bool_type", "Input should be a valid boolean"},
	"array":   {"list_type", msgList},
	"object":  {"dict_type", "Input should be a valid dictionary"},
	"null":    {"none_type", "Input should be None"},
}

func typeProblem(t string) *problem {
	if p := typeProblems[t]; p != nil {
		return p
	}
	return &problem{"value_error", "Input should be of type " + t}
}

// printer renders the library's messages (format and value_error). A
// message.Printer is safe for concurrent use.
var printer = message.NewPrinter(language.English)

// maxMsg bounds a message, which may quote the client's input.
const maxMsg = 300

// clip shortens s to about maxMsg bytes, on a rune boundary.
func clip(s string) string {
	if len(s) <= maxMsg {
		return s
	}
	cut := maxMsg
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// appendSchemaErrors appends the leaves of the library's error tree as
// Details whose Loc is prefix then the instance location (inst is the
// validated value, to tell array indexes from object keys). The new
// Details are sorted by Loc, since the library visits object properties
// in map order; the sort is stable, so problems of one value keep the
// library's order (type, then keywords).
func appendSchemaErrors(ds []Detail, err error, inst any, prefix ...any) []Detail {
	verr, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return append(ds, Detail{Loc: prefix, Msg: clip(err.Error()), Type: "value_error"})
	}
	start := len(ds)
	c := collector{ds: ds, inst: inst, prefix: prefix}
	c.walk(verr, nil)
	if len(c.ds) == start { // a tree with no leaf: say something anyway
		c.ds = append(c.ds, Detail{Loc: prefix, Msg: clip(verr.ErrorKind.LocalizedString(printer)), Type: "value_error"})
	}
	slices.SortStableFunc(c.ds[start:], func(a, b Detail) int { return compareLoc(a.Loc, b.Loc) })
	return c.ds
}

// compareLoc orders Locs element by element: ints by value, before
// strings, strings by bytes; a prefix first.
func compareLoc(a, b []any) int {
	for i := range min(len(a), len(b)) {
		if c := compareSegment(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func compareSegment(a, b any) int {
	ai, aInt := a.(int)
	bi, bInt := b.(int)
	switch {
	case aInt && bInt:
		return cmp.Compare(ai, bi)
	case aInt:
		return -1
	case bInt:
		return 1
	}
	as, _ := a.(string)
	bs, _ := b.(string)
	return strings.Compare(as, bs)
}

// collector flattens a *jsonschema.ValidationError tree into Details.
type collector struct {
	ds     []Detail
	inst   any
	prefix []any
}

// walk adds the leaves under e; loc is the instance location of its parent,
// for the errors the library leaves without one (propertyNames).
func (c *collector) walk(e *jsonschema.ValidationError, loc []string) {
	if e.InstanceLocation != nil {
		loc = e.InstanceLocation
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.AllOf, *kind.Reference:
		if len(e.Causes) == 0 {
			c.leaf(e, loc)
		}
		for _, cause := range e.Causes {
			c.walk(cause, loc)
		}
	case *kind.AnyOf:
		c.union(e, loc)
	case *kind.OneOf:
		if k.Subschemas == nil { // none matched; else too many did: a leaf
			c.union(e, loc)
		} else {
			c.leaf(e, loc)
		}
	case *kind.Required:
		for _, name := range k.Missing {
			c.add(loc, name, "missing", msgMissing)
		}
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			c.add(loc, name, "extra_forbidden", msgExtra)
		}
	default:
		c.leaf(e, loc)
	}
}

// union reports a failed anyOf/oneOf the way pydantic reports an Optional
// or a union: branches that failed only because the value has another type
// (the null of Optional[int]) say nothing when some branch got further,
// whose problems are then reported; when every branch failed on the type,
// the first non-null type is reported once.
func (c *collector) union(e *jsonschema.ValidationError, loc []string) {
	var kept []*jsonschema.ValidationError
	var typeErr, nullErr *jsonschema.ValidationError
	for _, cause := range e.Causes {
		t := typeOnly(cause, len(loc))
		if t == nil {
			kept = append(kept, cause)
			continue
		}
		want := t.ErrorKind.(*kind.Type).Want
		if len(want) == 1 && want[0] == "null" {
			nullErr = cmp.Or(nullErr, t)
		} else if typeErr == nil {
			typeErr = t
		}
	}
	switch {
	case len(kept) > 0:
		for _, cause := range kept {
			c.walk(cause, loc)
		}
	case typeErr != nil:
		c.leaf(typeErr, loc)
	case nullErr != nil:
		c.leaf(nullErr, loc)
	default:
		c.leaf(e, loc)
	}
}

// typeOnly returns the type error that is all of e (through single-cause
// wrappers), when it is about the value at depth (the union's own value).
func typeOnly(e *jsonschema.ValidationError, depth int) *jsonschema.ValidationError {
	for {
		switch e.ErrorKind.(type) {
		case *kind.Type:
			if len(e.InstanceLocation) == depth {
				return e
			}
			return nil
		case *kind.Schema, *kind.Group, *kind.AllOf, *kind.Reference:
			if len(e.Causes) != 1 {
				return nil
			}
			e = e.Causes[0]
		default:
			return nil
		}
	}
}

// add appends a Detail at loc (plus name, when not empty).
func (c *collector) add(loc []string, name, typ, msg string) {
	n := len(c.prefix) + len(loc)
	if name != "" {
		n++
	}
	l := make([]any, 0, n)
	l = append(l, c.prefix...)
	cur := c.inst
	for _, tok := range loc {
		switch v := cur.(type) {
		case []any:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(v) {
				l = append(l, i)
				cur = v[i]
				continue
			}
		case map[string]any:
			cur = v[tok]
			l = append(l, tok)
			continue
		}
		cur = nil
		l = append(l, tok)
	}
	if name != "" {
		l = append(l, name)
	}
	c.ds = append(c.ds, Detail{Loc: l, Msg: msg, Type: typ})
}

// leaf adds the Detail of one failed keyword, with the table of
// docs/route-spec.md.
func (c *collector) leaf(e *jsonschema.ValidationError, loc []string) {
	typ, msg := describe(e.ErrorKind, len(loc) > 0)
	c.add(loc, "", typ, msg)
}

func describe(k jsonschema.ErrorKind, nested bool) (typ, msg string) {
	switch k := k.(type) {
	case *kind.Type:
		want := "null"
		for _, w := range k.Want {
			if w != "null" {
				want = w
				break
			}
		}
		p := typeProblem(want)
		return p.typ, p.msg
	case *kind.Minimum:
		return "greater_than_equal", "Input should be greater than or equal to " + ratText(k.Want)
	case *kind.Maximum:
		return "less_than_equal", "Input should be less than or equal to " + ratText(k.Want)
	case *kind.ExclusiveMinimum:
		return "greater_than", "Input should be greater than " + ratText(k.Want)
	case *kind.ExclusiveMaximum:
		return "less_than", "Input should be less than " + ratText(k.Want)
	case *kind.MinLength:
		return "string_too_short", fmt.Sprintf("String should have at least %d character%s", k.Want, plural(k.Want))
	case *kind.MaxLength:
		return "string_too_long", fmt.Sprintf("String should have at most %d character%s", k.Want, plural(k.Want))
	case *kind.MinItems:
		return "too_short", fmt.Sprintf("List should have at least %d item%s after validation, not %d", k.Want, plural(k.Want), k.Got)
	case *kind.MaxItems:
		return "too_long", fmt.Sprintf("List should have at most %d item%s after validation, not %d", k.Want, plural(k.Want), k.Got)
	case *kind.Pattern:
		return "string_pattern_mismatch", clip("String should match pattern '" + k.Want + "'")
	case *kind.Enum:
		return "enum", clip("Input should be " + alternatives(k.Want))
	case *kind.Const:
		return "literal_error", clip("Input should be " + pyRepr(k.Want))
	case *kind.Format:
		short := *k
		if s, ok := k.Got.(string); ok && len(s) > 64 {
			short.Got = clipTo(s, 64) + "..."
		}
		return "format", clip(short.LocalizedString(printer))
	case *kind.FalseSchema:
		if nested {
			return "extra_forbidden", msgExtra
		}
	}
	return "value_error", clip(k.LocalizedString(printer))
}

// clipTo cuts s to at most n bytes on a rune boundary.
func clipTo(s string, n int) string {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// alternatives renders enum values as pydantic does: 'a', 'b' or 'c'.
func alternatives(values []any) string {
	var sb strings.Builder
	for i, v := range values {
		switch {
		case i == 0:
		case i == len(values)-1:
			sb.WriteString(" or ")
		default:
			sb.WriteString(", ")
		}
		sb.WriteString(pyRepr(v))
		if sb.Len() > maxMsg {
			break
		}
	}
	return sb.String()
}

// pyRepr renders a schema value roughly as Python's repr would.
func pyRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
		return "'" + r.Replace(v) + "'"
	case json.Number:
		return string(v)
	case float64:
		return pyFloat(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ratText renders a schema bound: an integer as such, else as a Python
// float.
func ratText(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return pyFloat(f)
}

// pyFloat formats f as Python's repr does: "1.0", "0.5", "1e-05", "1e+16".
func pyFloat(f float64) string {
	abs := math.Abs(f)
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return strconv.FormatFloat(f, 'g', -1, 64)
	case abs != 0 && (abs < 1e-4 || abs >= 1e16):
		return strconv.FormatFloat(f, 'e', -1, 64)
	case f == math.Trunc(f):
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
