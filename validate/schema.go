package validate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaCompiler compiles the schemas of one route spec, each as its own
// resource of one jsonschema.Compiler.
type schemaCompiler struct {
	c *jsonschema.Compiler
}

func newSchemaCompiler() *schemaCompiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	return &schemaCompiler{c: c}
}

// compile compiles doc (a decoded schema) under a URL made from name,
// which is unique within the route spec ("params/2", "body").
func (sc *schemaCompiler) compile(name string, doc any) (*jsonschema.Schema, error) {
	url := "databridge:///" + name
	if err := sc.c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return sc.c.Compile(url)
}

// noLoader refuses every URL: a route spec's schemas refer only to
// themselves (the standard metaschemas are built into the library and do
// not come through a loader).
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, errors.New("refusing to load " + url + ": a route spec schema may only refer to itself")
}

// resolveRef follows a local $ref ("#" or "#/json/pointer") within root.
// Other references (anchors, URLs) are left to the schema library, and
// give no type here.
func resolveRef(root any, ref string) (any, error) {
	if ref == "#" {
		return root, nil
	}
	if !strings.HasPrefix(ref, "#/") {
		return nil, nil
	}
	cur := root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return nil, fmt.Errorf("$ref %q: no %q", ref, tok)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil, fmt.Errorf("$ref %q: no index %q", ref, tok)
			}
			cur = v[i]
		default:
			return nil, fmt.Errorf("$ref %q: %q is inside a scalar", ref, tok)
		}
	}
	return cur, nil
}

// isIntegerLiteral reports whether a JSON number's text has neither
// fraction nor exponent.
func isIntegerLiteral(s string) bool {
	return !strings.ContainsAny(s, ".eE")
}
