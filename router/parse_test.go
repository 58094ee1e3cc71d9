package router

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		path      string
		template  string
		canonical string
		params    []Param
	}{
		// No parameters: both forms are the path itself.
		{"/", "/", "/", nil},
		{"/users/", "/users/", "/users/", nil},
		// The four spellings of a string parameter.
		{"/u/{id}", "/u/{id:[^/]+}", "/u/{0:[^/]+}", []Param{{"id", Str, ""}}},
		{"/u/<id>", "/u/{id:[^/]+}", "/u/{0:[^/]+}", []Param{{"id", Str, ""}}},
		{"/u/<str:id>", "/u/{id:[^/]+}", "/u/{0:[^/]+}", []Param{{"id", Str, ""}}},
		{"/u/<string:id>", "/u/{id:[^/]+}", "/u/{0:[^/]+}", []Param{{"id", Str, ""}}},
		// Typed converters.
		{"/users/<int:user_id>", "/users/{user_id:-?[0-9]+}", "/users/{0:-?[0-9]+}", []Param{{"user_id", Int, ""}}},
		{"/p/<float:price>", `/p/{price:-?[0-9]+(?:\.[0-9]+)?}`, `/p/{0:-?[0-9]+(?:\.[0-9]+)?}`, []Param{{"price", Float, ""}}},
		{"/o/<uuid:id>", "/o/{id:" + uuidRegexp + "}", "/o/{0:" + uuidRegexp + "}", []Param{{"id", UUID, ""}}},
		{"/f/<path:rest>", "/f/{rest:(?s:.+)}", "/f/{0:(?s:.+)}", []Param{{"rest", Path, ""}}},
		// A mux regexp, with nested braces and a non-capturing group.
		{"/v/{code:[A-Z]{3}}", "/v/{code:[A-Z]{3}}", "/v/{0:[A-Z]{3}}", []Param{{"code", Str, "[A-Z]{3}"}}},
		{"/x/{ab:(?:a|b)c}", "/x/{ab:(?:a|b)c}", "/x/{0:(?:a|b)c}", []Param{{"ab", Str, "(?:a|b)c"}}},
		// A regexp may contain ":" and "<": only the first ":" splits.
		{"/t/{t:[0-9]{2}:[0-9]{2}}", "/t/{t:[0-9]{2}:[0-9]{2}}", "/t/{0:[0-9]{2}:[0-9]{2}}", []Param{{"t", Str, "[0-9]{2}:[0-9]{2}"}}},
		{"/c/{op:<|>}", "/c/{op:<|>}", "/c/{0:<|>}", []Param{{"op", Str, "<|>"}}},
		// Several parameters, mixed syntaxes: Params and positions in path order.
		{
			"/orgs/<org>/repos/{repo}/<int:n>",
			"/orgs/{org:[^/]+}/repos/{repo:[^/]+}/{n:-?[0-9]+}",
			"/orgs/{0:[^/]+}/repos/{1:[^/]+}/{2:-?[0-9]+}",
			[]Param{{"org", Str, ""}, {"repo", Str, ""}, {"n", Int, ""}},
		},
		// A parameter may be part of a segment; literal text keeps ":" and ".".
		{"/file.<ext>", "/file.{ext:[^/]+}", "/file.{0:[^/]+}", []Param{{"ext", Str, ""}}},
		{"/a:b/<id>", "/a:b/{id:[^/]+}", "/a:b/{0:[^/]+}", []Param{{"id", Str, ""}}},
		// Non-ASCII literals and names; "_" and keywords are identifiers.
		{"/ünï/<ñame>", "/ünï/{ñame:[^/]+}", "/ünï/{0:[^/]+}", []Param{{"ñame", Str, ""}}},
		{"/<_>/<class>", "/{_:[^/]+}/{class:[^/]+}", "/{0:[^/]+}/{1:[^/]+}", []Param{{"_", Str, ""}, {"class", Str, ""}}},
	}
	for _, tt := range tests {
		p, err := Parse(tt.path)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.path, err)
			continue
		}
		want := &Pattern{Source: tt.path, Template: tt.template, Canonical: tt.canonical, Params: tt.params,
			Plain: p.Plain} // Plain: see TestPlain
		if !reflect.DeepEqual(p, want) {
			t.Errorf("Parse(%q) =\n\t%+v, want\n\t%+v", tt.path, p, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		path string
		err  string
	}{
		// Not absolute.
		{"", `databridge: route path "" must start with "/"`},
		{"users", `databridge: route path "users" must start with "/"`},
		// Unbalanced brackets, either kind, either side, or nested.
		{"/a/<id", `databridge: unbalanced "<" in route path "/a/<id"`},
		{"/a/id>", `databridge: unbalanced ">" in route path "/a/id>"`},
		{"/a/{id", `databridge: unbalanced "{" in route path "/a/{id"`},
		{"/a/id}", `databridge: unbalanced "}" in route path "/a/id}"`},
		{"/a/<<id>>", `databridge: unbalanced "<" in route path "/a/<<id>>"`},
		{"/a/{x:[0-9]{2}", `databridge: unbalanced "{" in route path "/a/{x:[0-9]{2}"`},
		// Converters: unknown names, Werkzeug arguments, wrong case.
		{"/a/<foo:id>", `databridge: unknown converter "foo" in route path "/a/<foo:id>" (want int, float, uuid, path, str or string)`},
		{"/a/<string(length=2):id>", `databridge: unknown converter "string(length=2)" in route path "/a/<string(length=2):id>" (want int, float, uuid, path, str or string)`},
		{"/a/<Int:id>", `databridge: unknown converter "Int" in route path "/a/<Int:id>" (want int, float, uuid, path, str or string)`},
		{"/a/<:id>", `databridge: unknown converter "" in route path "/a/<:id>" (want int, float, uuid, path, str or string)`},
		// Names that are not Python identifiers.
		{"/a/<1id>", `databridge: invalid parameter name "1id" in route path "/a/<1id>": must be a Python identifier`},
		{"/a/<>", `databridge: invalid parameter name "" in route path "/a/<>": must be a Python identifier`},
		{"/a/{}", `databridge: invalid parameter name "" in route path "/a/{}": must be a Python identifier`},
		{"/a/<int:>", `databridge: invalid parameter name "" in route path "/a/<int:>": must be a Python identifier`},
		{"/a/{user-id}", `databridge: invalid parameter name "user-id" in route path "/a/{user-id}": must be a Python identifier`},
		{"/a/< id>", `databridge: invalid parameter name " id" in route path "/a/< id>": must be a Python identifier`},
		{"/a/<a{b}>", `databridge: invalid parameter name "a{b}" in route path "/a/<a{b}>": must be a Python identifier`},
		{"/a/{:[0-9]+}", `databridge: invalid parameter name "" in route path "/a/{:[0-9]+}": must be a Python identifier`},
		// A name used twice, in any syntax.
		{"/a/<id>/<int:id>", `databridge: parameter "id" appears twice in route path "/a/<id>/<int:id>"`},
		{"/a/{id}/b/{id}", `databridge: parameter "id" appears twice in route path "/a/{id}/b/{id}"`},
		// Bad mux regexps: empty, invalid alone, capturing.
		{"/a/{id:}", `databridge: empty regexp for parameter "id" in route path "/a/{id:}"`},
		{"/a/{id:[0-9}", "databridge: invalid regexp for parameter \"id\" in route path \"/a/{id:[0-9}\": error parsing regexp: missing closing ]: `[0-9`"},
		{"/a/{id:a)|(b}", "databridge: invalid regexp for parameter \"id\" in route path \"/a/{id:a)|(b}\": error parsing regexp: unexpected ): `a)|(b`"},
		{"/a/{id:(a|b)}", `databridge: regexp for parameter "id" in route path "/a/{id:(a|b)}" has a capturing group; use (?:...)`},
		{"/a/{id:(?P<x>a)}", `databridge: regexp for parameter "id" in route path "/a/{id:(?P<x>a)}" has a capturing group; use (?:...)`},
	}
	for _, tt := range tests {
		p, err := Parse(tt.path)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want error %s", tt.path, p, tt.err)
		} else if err.Error() != tt.err {
			t.Errorf("Parse(%q) error:\n\t%s\nwant\n\t%s", tt.path, err, tt.err)
		}
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		// Names and string syntaxes do not matter.
		{"/u/{id}", "/u/<id>", true},
		{"/u/<id>", "/u/<str:x>", true},
		{"/u/<string:x>", "/u/{y:[^/]+}", true},
		// Converters with the same regexp are the same pattern.
		{"/u/<int:id>", "/u/{n:-?[0-9]+}", true},
		// Different converters or regexps differ, even when their URLs overlap.
		{"/u/<int:id>", "/u/<id>", false},
		{"/u/<path:p>", "/u/<id>", false},
		{"/u/{id:[0-9]+}", `/u/{id:\d+}`, false},
		// Literal text and trailing slashes matter.
		{"/a", "/a/", false},
		{"/u/<id>", "/v/<id>", false},
		// Parameter positions matter, a literal cannot mimic a parameter.
		{"/<a>/<b>", "/<b>/<a>", true},
		{"/<a>/x", "/x/<a>", false},
	}
	for _, tt := range tests {
		a, err := Parse(tt.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Parse(tt.b)
		if err != nil {
			t.Fatal(err)
		}
		if same := a.Canonical == b.Canonical; same != tt.same {
			t.Errorf("Canonical(%q) = %q, Canonical(%q) = %q; same = %t, want %t", tt.a, a.Canonical, tt.b, b.Canonical, same, tt.same)
		}
	}
}

func TestIsIdentifier(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"x", true},
		{"_", true},
		{"user_id2", true},
		{"ñame", true},
		{"数据", true},
		{"x\u0301", true},    // combining accent continues a name
		{"\u0301x", false},   // but cannot start one
		{"x\u0e33", true},    // THAI SARA AM: XID_Continue only
		{"\u0e33", false},    // not XID_Start
		{"x\u309b", false},   // KATAKANA VOICED SOUND MARK: ID but not XID
		{"x²", false},        // superscripts are not digits
		{"1x", false},        // digits continue only
		{"", false},          // empty
		{"a-b", false},       // punctuation
		{"a b", false},       // space
		{"a\u00a0b", false},  // no-break space
		{"\U0001d49c", true}, // MATHEMATICAL SCRIPT CAPITAL A
		{"x\xff", false},     // invalid UTF-8
		{"class", true},      // keywords are identifiers
		{"x\u2118", true},    // SCRIPT CAPITAL P: Other_ID_Start
		{"\u00b7", false},    // MIDDLE DOT: Other_ID_Continue only
		{"x\u00b7", true},    // so it may follow
	}
	for _, tt := range tests {
		if got := isIdentifier(tt.s); got != tt.want {
			t.Errorf("isIdentifier(%q) = %t, want %t", tt.s, got, tt.want)
		}
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		kind   Kind
		name   string
		regexp string
	}{
		{Str, "str", `[^/]+`},
		{Int, "int", `-?[0-9]+`},
		{Float, "float", `-?[0-9]+(?:\.[0-9]+)?`},
		{UUID, "uuid", uuidRegexp},
		{Path, "path", `(?s:.+)`},
		{Kind(9), "Kind(9)", `[^/]+`}, // out of range: a plain string
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.name {
			t.Errorf("Kind(%d).String() = %q, want %q", tt.kind, got, tt.name)
		}
		if got := tt.kind.Regexp(); got != tt.regexp {
			t.Errorf("Kind(%d).Regexp() = %q, want %q", tt.kind, got, tt.regexp)
		}
	}
	for name, k := range converters {
		if _, err := Parse("/<" + name + ":x>"); err != nil {
			t.Errorf("converter %q (%v): %v", name, k, err)
		}
	}
}

func TestPlain(t *testing.T) {
	for path, want := range map[string]string{
		"/":                                 "/",
		"/users/<int:user_id>":              "/users/{user_id}",
		"/v/{code:[A-Z]{3}}/<path:rest>":    "/v/{code}/{rest}",
		"/orgs/<org>/repos/{repo}/file.<e>": "/orgs/{org}/repos/{repo}/file.{e}",
	} {
		p, err := Parse(path)
		if err != nil {
			t.Fatal(err)
		}
		if p.Plain != want {
			t.Errorf("Parse(%q).Plain = %q, want %q", path, p.Plain, want)
		}
	}
}
