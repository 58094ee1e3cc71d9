package router

import (
	"regexp"
	"strconv"
	"strings"
)

// Param is one parameter of a Pattern.
type Param struct {
	Name   string // a Python identifier, unique in its pattern
	Kind   Kind
	Regexp string // the user's regexp of a {name:regexp} parameter, else ""
}

// Pattern is a parsed route path.
type Pattern struct {
	// Source is the path as the user wrote it, e.g. "/users/<int:user_id>".
	Source string
	// Template is the gorilla/mux template with every regexp spelled out,
	// e.g. "/users/{user_id:-?[0-9]+}".
	Template string
	// Canonical is Template with the parameters named by position, e.g.
	// "/users/{0:-?[0-9]+}". Patterns that match the same URLs through the
	// same regexps have the same Canonical: "/u/{id}", "/u/<id>" and
	// "/u/<str:x>" do, "/u/<int:id>" and "/u/<id>" do not. Regexps are
	// compared as text, so "{id:[0-9]+}" and "{id:\d+}" differ. Canonical is
	// itself a mux template; the Router matches requests with it.
	Canonical string
	// Params are the parameters in path order.
	Params []Param
	// Plain is the path with every parameter as a bare {name}, the form
	// OpenAPI documents use: "/users/{user_id}".
	Plain string
}

// Parse parses a route path. The syntax is described in the package
// documentation; every error names the path and starts with "databridge: ".
func Parse(path string) (*Pattern, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, errorf("route path %q must start with \"/\"", path)
	}
	p := &Pattern{Source: path}
	var tpl, canon, plain strings.Builder
	for i := 0; i < len(path); {
		var name, expr string
		var kind Kind
		var custom bool // a {name:expr} parameter: expr needs checking
		switch path[i] {
		case '{':
			end := closingBrace(path, i)
			if end < 0 {
				return nil, errorf("unbalanced \"{\" in route path %q", path)
			}
			body := path[i+1 : end]
			i = end + 1
			name, expr, custom = strings.Cut(body, ":")
			if !custom {
				expr = strRegexp
			}
		case '<':
			end := strings.IndexAny(path[i+1:], "<>")
			if end < 0 || path[i+1+end] == '<' {
				return nil, errorf("unbalanced \"<\" in route path %q", path)
			}
			body := path[i+1 : i+1+end]
			i += end + 2
			conv, n, hasConv := strings.Cut(body, ":")
			if !hasConv {
				conv, n = "str", body
			}
			k, ok := converters[conv]
			if !ok {
				return nil, errorf("unknown converter %q in route path %q (want int, float, uuid, path, str or string)", conv, path)
			}
			name, kind, expr = n, k, k.Regexp()
		case '}', '>':
			return nil, errorf("unbalanced %q in route path %q", path[i:i+1], path)
		default:
			end := strings.IndexAny(path[i:], "{}<>")
			if end < 0 {
				end = len(path) - i
			}
			tpl.WriteString(path[i : i+end])
			canon.WriteString(path[i : i+end])
			plain.WriteString(path[i : i+end])
			i += end
			continue
		}
		if !isIdentifier(name) {
			return nil, errorf("invalid parameter name %q in route path %q: must be a Python identifier", name, path)
		}
		for _, q := range p.Params {
			if q.Name == name {
				return nil, errorf("parameter %q appears twice in route path %q", name, path)
			}
		}
		if custom {
			if err := checkRegexp(path, name, expr); err != nil {
				return nil, err
			}
		}
		writeVar(&tpl, name, expr)
		writeVar(&canon, strconv.Itoa(len(p.Params)), expr)
		plain.WriteString("{" + name + "}")
		param := Param{Name: name, Kind: kind}
		if custom {
			param.Regexp = expr
		}
		p.Params = append(p.Params, param)
	}
	p.Template = tpl.String()
	p.Canonical = canon.String()
	p.Plain = plain.String()
	return p, nil
}

// closingBrace returns the index of the "}" that closes the "{" at
// path[open], counting nested braces as gorilla/mux does, or -1.
func closingBrace(path string, open int) int {
	level := 0
	for i := open; i < len(path); i++ {
		switch path[i] {
		case '{':
			level++
		case '}':
			if level--; level == 0 {
				return i
			}
		}
	}
	return -1
}

// checkRegexp reports whether expr can be the regexp of a {name:expr}
// parameter: non-empty, valid on its own (so wrapping it in a group cannot
// change its meaning) and without capturing groups, which gorilla/mux
// rejects.
func checkRegexp(path, name, expr string) error {
	if expr == "" {
		return errorf("empty regexp for parameter %q in route path %q", name, path)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return errorf("invalid regexp for parameter %q in route path %q: %v", name, path, err)
	}
	if re.NumSubexp() > 0 {
		return errorf("regexp for parameter %q in route path %q has a capturing group; use (?:...)", name, path)
	}
	return nil
}

// writeVar appends the mux variable {name:expr} to b.
func writeVar(b *strings.Builder, name, expr string) {
	b.WriteByte('{')
	b.WriteString(name)
	b.WriteByte(':')
	b.WriteString(expr)
	b.WriteByte('}')
}
