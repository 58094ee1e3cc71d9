package router

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/databridge/databridge/server"
)

// testRoutes is registered, in this order, by newTestRouter. Each route's
// name is its handler too, so tests can check both.
var testRoutes = []struct{ method, path, name string }{
	{"GET", "/", "index"},
	{"GET", "/items/<int:item_id>", "item"},
	{"GET", "/prices/<float:price>", "price"},
	{"GET", "/objects/<uuid:object_id>", "object"},
	{"GET", "/files/<path:file_path>", "file"},
	{"GET", "/files/<path:file_path>/edit", "file_edit"}, // shadowed by "file"
	{"GET", "/users/{user_id}", "user"},
	{"PUT", "/users/<user_id>", "user_put"},    // same pattern as "user"
	{"DELETE", "/users/<str:uid>", "user_del"}, // same again, other name
	{"GET", "/users/me", "me"},                 // GET is shadowed by "user"
	{"POST", "/users/me", "me_post"},
	{"GET", "/codes/{code:[A-Z]{3}}", "code"},
	{"GET", "/a", "a"},
	{"GET", "/a/", "a_slash"},
	{"GET", "/head", "head_get"},
	{"HEAD", "/head", "head_head"},
	{"HEAD", "/only-head", "only_head"},
	{"POST", "/form", "form"},
	{"get", "/lower", "lower"}, // registered as GET
	{"GET", "/orgs/<org>/repos/{repo_id:[0-9]+}/<path:rest>", "tree"},
	{"GET", "/report.<ext>", "report"},
}

func newTestRouter(t testing.TB) *Router {
	r := New()
	for _, tr := range testRoutes {
		if _, err := r.Add(tr.method, tr.path, tr.name, named(tr.name)); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestMatch(t *testing.T) {
	r := newTestRouter(t)
	tests := []struct {
		method, target string
		status         int
		name           string   // route name for 200
		values         []string // for 200
		allow          string   // for 405
	}{
		// Static routes; anything else is a 404.
		{"GET", "/", 200, "index", nil, ""},
		{"GET", "/nope", 404, "", nil, ""},
		{"GET", "/index", 404, "", nil, ""},

		// int: optional minus, digits only, one segment.
		{"GET", "/items/42", 200, "item", []string{"42"}, ""},
		{"GET", "/items/-7", 200, "item", []string{"-7"}, ""},
		{"GET", "/items/007", 200, "item", []string{"007"}, ""},
		{"GET", "/items/%34%32", 200, "item", []string{"42"}, ""}, // decoded first
		{"GET", "/items/abc", 404, "", nil, ""},
		{"GET", "/items/4.2", 404, "", nil, ""},
		{"GET", "/items/+4", 404, "", nil, ""},
		{"GET", "/items/--4", 404, "", nil, ""},
		{"GET", "/items/-", 404, "", nil, ""},
		{"GET", "/items/", 404, "", nil, ""},
		{"GET", "/items/42/", 404, "", nil, ""},
		{"GET", "/items/42x", 404, "", nil, ""},

		// float: an int, optionally with a fraction.
		{"GET", "/prices/3", 200, "price", []string{"3"}, ""},
		{"GET", "/prices/3.50", 200, "price", []string{"3.50"}, ""},
		{"GET", "/prices/-0.5", 200, "price", []string{"-0.5"}, ""},
		{"GET", "/prices/3.", 404, "", nil, ""},
		{"GET", "/prices/.5", 404, "", nil, ""},
		{"GET", "/prices/1e5", 404, "", nil, ""},
		{"GET", "/prices/1.2.3", 404, "", nil, ""},
		{"GET", "/prices/NaN", 404, "", nil, ""},

		// uuid: 8-4-4-4-12 hex digits in any case, nothing else.
		{"GET", "/objects/0f8fad5b-d9cb-469f-a165-70867728950e", 200, "object", []string{"0f8fad5b-d9cb-469f-a165-70867728950e"}, ""},
		{"GET", "/objects/0F8FAD5B-D9CB-469F-A165-70867728950E", 200, "object", []string{"0F8FAD5B-D9CB-469F-A165-70867728950E"}, ""},
		{"GET", "/objects/0f8FAD5b-d9cb-469f-A165-70867728950e", 200, "object", []string{"0f8FAD5b-d9cb-469f-A165-70867728950e"}, ""},
		{"GET", "/objects/0f8fad5bd9cb469fa16570867728950e", 404, "", nil, ""},      // no hyphens
		{"GET", "/objects/0f8fad5b-d9cb-469f-a165-70867728950", 404, "", nil, ""},   // one digit short
		{"GET", "/objects/0f8fad5b-d9cb-469f-a165-70867728950eA", 404, "", nil, ""}, // one too many
		{"GET", "/objects/0g8fad5b-d9cb-469f-a165-70867728950e", 404, "", nil, ""},  // not hex
		{"GET", "/objects/%7B0f8fad5b-d9cb-469f-a165-70867728950e%7D", 404, "", nil, ""},

		// path: one or more characters, slashes included; first route wins.
		{"GET", "/files/a.txt", 200, "file", []string{"a.txt"}, ""},
		{"GET", "/files/a/b/c.txt", 200, "file", []string{"a/b/c.txt"}, ""},
		{"GET", "/files/a/", 200, "file", []string{"a/"}, ""},
		{"GET", "/files/x/edit", 200, "file", []string{"x/edit"}, ""},
		{"GET", "/files/a%0Ab", 200, "file", []string{"a\nb"}, ""}, // (?s): newlines too
		{"GET", "/files/", 404, "", nil, ""},
		{"GET", "/files", 404, "", nil, ""},

		// Strings in both syntaxes: one segment, decoded, any characters.
		{"GET", "/users/ann", 200, "user", []string{"ann"}, ""},
		{"GET", "/users/a%20b", 200, "user", []string{"a b"}, ""},
		{"GET", "/users/%C3%A9", 200, "user", []string{"é"}, ""},
		{"GET", "/users/a%0Ab", 200, "user", []string{"a\nb"}, ""},
		{"GET", "/users/a%2Fb", 404, "", nil, ""}, // %2F decodes to "/"
		{"GET", "/users/a/b", 404, "", nil, ""},
		{"GET", "/users/", 404, "", nil, ""},
		{"PUT", "/users/ann", 200, "user_put", []string{"ann"}, ""},
		{"DELETE", "/users/ann", 200, "user_del", []string{"ann"}, ""},

		// Registration order: "/users/{user_id}" comes first and takes GET
		// "/users/me"; "/users/me" still gets the POST the other lacks.
		{"GET", "/users/me", 200, "user", []string{"me"}, ""},
		{"POST", "/users/me", 200, "me_post", nil, ""},
		{"DELETE", "/users/me", 200, "user_del", []string{"me"}, ""},

		// A mux regexp.
		{"GET", "/codes/EUR", 200, "code", []string{"EUR"}, ""},
		{"GET", "/codes/eur", 404, "", nil, ""},
		{"GET", "/codes/EURO", 404, "", nil, ""},

		// "/a" and "/a/" are two routes, with no redirect between them.
		{"GET", "/a", 200, "a", nil, ""},
		{"GET", "/a/", 200, "a_slash", nil, ""},
		{"GET", "/a//", 404, "", nil, ""},
		{"GET", "//a", 404, "", nil, ""}, // not cleaned either

		// 405: Allow lists every matching path's methods, HEAD with GET.
		{"POST", "/items/42", 405, "", nil, "GET, HEAD"},
		{"POST", "/items/abc", 404, "", nil, ""}, // the path does not match
		{"GET", "/form", 405, "", nil, "POST"},
		{"HEAD", "/form", 405, "", nil, "POST"},
		{"OPTIONS", "/", 405, "", nil, "GET, HEAD"},
		{"PATCH", "/users/ann", 405, "", nil, "DELETE, GET, HEAD, PUT"},
		{"PATCH", "/users/me", 405, "", nil, "DELETE, GET, HEAD, POST, PUT"}, // union of two patterns
		{"GET", "/only-head", 405, "", nil, "HEAD"},
		{"get", "/items/42", 405, "", nil, "GET, HEAD"}, // request methods are case-sensitive
		{"GET", "/lower", 200, "lower", nil, ""},        // registered methods are upper-cased

		// HEAD uses GET unless the pattern has a HEAD route of its own.
		{"HEAD", "/", 200, "index", nil, ""},
		{"HEAD", "/items/42", 200, "item", []string{"42"}, ""},
		{"HEAD", "/users/me", 200, "user", []string{"me"}, ""},
		{"HEAD", "/head", 200, "head_head", nil, ""},
		{"GET", "/head", 200, "head_get", nil, ""},
		{"HEAD", "/only-head", 200, "only_head", nil, ""},
		{"HEAD", "/items/abc", 404, "", nil, ""},

		// Values follow Params order, whatever the syntax.
		{"GET", "/orgs/acme/repos/7/src/main.go", 200, "tree", []string{"acme", "7", "src/main.go"}, ""},
		{"GET", "/orgs/acme/repos/x/src", 404, "", nil, ""},
		{"GET", "/report.pdf", 200, "report", []string{"pdf"}, ""},
		{"GET", "/report.", 404, "", nil, ""},

		// Query strings and fragments play no part.
		{"GET", "/items/42?x=1", 200, "item", []string{"42"}, ""},
		{"GET", "/?/items/42", 200, "index", nil, ""},
	}
	for _, tt := range tests {
		m := match(r, tt.method, tt.target)
		var name string
		if m.Route != nil {
			name = m.Route.Name
			if m.Route.Handler != named(name) {
				t.Errorf("%s %s: Handler = %v, want %q", tt.method, tt.target, m.Route.Handler, name)
			}
			if len(m.Values) != len(m.Route.Pattern.Params) {
				t.Errorf("%s %s: %d values for %d params", tt.method, tt.target, len(m.Values), len(m.Route.Pattern.Params))
			}
		}
		if m.Status != tt.status || name != tt.name || !reflect.DeepEqual(m.Values, tt.values) || m.Allow != tt.allow {
			t.Errorf("%s %s = {%d %q %q %q}, want {%d %q %q %q}", tt.method, tt.target,
				m.Status, name, m.Values, m.Allow, tt.status, tt.name, tt.values, tt.allow)
		}
	}
}

// TestMatchPatternPosition shows that a pattern is tried where its first
// route was registered, whatever the order of its later routes.
func TestMatchPatternPosition(t *testing.T) {
	r := New()
	for _, tr := range []struct{ method, path, name string }{
		{"GET", "/x/<name>", "get_str"},    // pattern P at position 0
		{"POST", "/x/<int:n>", "post_int"}, // pattern Q at position 1
		{"POST", "/x/{name}", "post_str"},  // joins P at position 0
	} {
		if _, err := r.Add(tr.method, tr.path, tr.name, nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ method, target, name string }{
		{"POST", "/x/5", "post_str"}, // P comes before Q
		{"POST", "/x/abc", "post_str"},
		{"GET", "/x/5", "get_str"},
	}
	for _, tt := range tests {
		m := match(r, tt.method, tt.target)
		if m.Route == nil || m.Route.Name != tt.name {
			t.Errorf("%s %s matched %+v, want %q", tt.method, tt.target, m.Route, tt.name)
		}
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		first  [2]string // method and path registered first
		second [2]string // then these
		err    string    // error of the second Add, "" for none
	}{
		// The same pattern and method, however spelled, is a duplicate.
		{[2]string{"GET", "/users/<id>"}, [2]string{"GET", "/users/<id>"}, `databridge: route "/users/<id>" is already registered for GET`},
		{[2]string{"GET", "/users/<id>"}, [2]string{"GET", "/users/{id}"}, `databridge: route "/users/{id}" is already registered for GET`},
		{[2]string{"GET", "/users/{id}"}, [2]string{"GET", "/users/<str:user>"}, `databridge: route "/users/<str:user>" is already registered for GET`},
		{[2]string{"GET", "/users/<int:id>"}, [2]string{"GET", "/users/{id:-?[0-9]+}"}, `databridge: route "/users/{id:-?[0-9]+}" is already registered for GET`},
		{[2]string{"get", "/a"}, [2]string{"GET", "/a"}, `databridge: route "/a" is already registered for GET`},
		{[2]string{"POST", "/a"}, [2]string{"post", "/a"}, `databridge: route "/a" is already registered for POST`},
		// Another method, converter or slash is another route.
		{[2]string{"GET", "/users/<id>"}, [2]string{"POST", "/users/<id>"}, ""},
		{[2]string{"GET", "/users/<id>"}, [2]string{"HEAD", "/users/<id>"}, ""},
		{[2]string{"GET", "/users/<id>"}, [2]string{"GET", "/users/<int:id>"}, ""},
		{[2]string{"GET", "/a"}, [2]string{"GET", "/a/"}, ""},
		{[2]string{"GET", "/users/{id:[0-9]+}"}, [2]string{"GET", `/users/{id:\d+}`}, ""},
		// Bad methods and paths.
		{[2]string{"GET", "/a"}, [2]string{"", "/b"}, `databridge: invalid HTTP method "" for route "/b"`},
		{[2]string{"GET", "/a"}, [2]string{"GE T", "/b"}, `databridge: invalid HTTP method "GE T" for route "/b"`},
		{[2]string{"GET", "/a"}, [2]string{"GET\n", "/b"}, `databridge: invalid HTTP method "GET\n" for route "/b"`},
		{[2]string{"GET", "/a"}, [2]string{"GET", "b"}, `databridge: route path "b" must start with "/"`},
		{[2]string{"GET", "/a"}, [2]string{"GET", "/<x:y>"}, `databridge: unknown converter "x" in route path "/<x:y>" (want int, float, uuid, path, str or string)`},
	}
	for _, tt := range tests {
		r := New()
		if _, err := r.Add(tt.first[0], tt.first[1], "first", nil); err != nil {
			t.Fatal(err)
		}
		rt, err := r.Add(tt.second[0], tt.second[1], "second", nil)
		var got string
		if err != nil {
			got = err.Error()
		}
		if got != tt.err {
			t.Errorf("Add %v after %v: error %q, want %q", tt.second, tt.first, got, tt.err)
		}
		if n := len(r.Routes()); err != nil && (rt != nil || n != 1) || err == nil && n != 2 {
			t.Errorf("Add %v after %v: returned %v, %d routes", tt.second, tt.first, rt, n)
		}
	}
}

func TestRoutes(t *testing.T) {
	r := newTestRouter(t)
	routes := r.Routes()
	if len(routes) != len(testRoutes) {
		t.Fatalf("%d routes, want %d", len(routes), len(testRoutes))
	}
	for i, rt := range routes {
		tr := testRoutes[i]
		if rt.Method != strings.ToUpper(tr.method) || rt.Pattern.Source != tr.path || rt.Name != tr.name || rt.Handler != named(tr.name) {
			t.Errorf("Routes()[%d] = %+v, want %v", i, rt, tr)
		}
	}
	routes[0] = nil // a copy: the router is unchanged
	if r.Routes()[0] == nil {
		t.Error("Routes returned the router's own slice")
	}
}

// TestMatchConcurrent matches from many goroutines at once; run it with
// -race. The pooled mux.RouteMatch must never leak values between requests.
func TestMatchConcurrent(t *testing.T) {
	r := newTestRouter(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				org, n := fmt.Sprint("o", g), fmt.Sprint(i)
				m := match(r, "GET", "/orgs/"+org+"/repos/"+n+"/x")
				if m.Status != 200 || !reflect.DeepEqual(m.Values, []string{org, n, "x"}) {
					t.Errorf("got %d %q", m.Status, m.Values)
					return
				}
				if m := match(r, "GET", "/"); m.Values != nil {
					t.Errorf("GET / values %q", m.Values)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestMatchAllocs pins the cost documented on Match.
func TestMatchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	r := newTestRouter(t)
	tests := []struct {
		target string
		max    float64
	}{
		{"/", 1},                 // mux's submatch slice
		{"/items/42", 2},         // and Values
		{"/orgs/a/repos/1/b", 2}, // however many values
		{"/report.pdf", 2},       // the last pattern: misses are free
	}
	for _, tt := range tests {
		path := targetPath(tt.target)
		if n := testing.AllocsPerRun(100, func() { r.Match("GET", path) }); n > tt.max {
			t.Errorf("GET %s: %v allocations, want <= %v", tt.target, n, tt.max)
		}
	}
}

// TestMatchIntoReusesValues: the router puts a route's values in the
// request's PathValues when it has room (the fronts keep it from one
// request to the next), allocating no Values.
func TestMatchIntoReusesValues(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	r := newTestRouter(t)
	path := targetPath("/orgs/a/repos/1/b")
	buf := make([]string, 0, 8)
	m := r.matchInto("GET", path, buf)
	if m.Status != 200 || len(m.Values) == 0 || &m.Values[0] != &buf[:1][0] {
		t.Fatalf("values %q not in the given slice", m.Values)
	}
	if want := r.Match("GET", path).Values; !slices.Equal(m.Values, want) {
		t.Errorf("values %q, want %q", m.Values, want)
	}
	withValues := testing.AllocsPerRun(100, func() { r.matchInto("GET", path, buf) })
	without := testing.AllocsPerRun(100, func() { r.Match("GET", path) })
	if withValues >= without {
		t.Errorf("%v allocations with room for the values, %v without", withValues, without)
	}
}

func BenchmarkMatch(b *testing.B) {
	r := newTestRouter(b)
	for _, bb := range []struct{ name, method, target string }{
		{"static", "GET", "/"},
		{"int", "GET", "/items/42"},
		{"last", "GET", "/report.pdf"},
		{"three-values", "GET", "/orgs/acme/repos/7/src/main.go"},
		{"404", "GET", "/nope"},
		{"405", "PATCH", "/users/me"},
	} {
		path := targetPath(bb.target)
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Match(bb.method, path)
			}
		})
	}
}

// named is a test handler that is known by its name.
type named string

func (named) Serve(server.ResponseWriter, *server.Request) {}

// targetPath is the decoded path of a request-target, as the fronts give it.
func targetPath(target string) string {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		panic(err)
	}
	return u.Path
}

// match matches a request-target the way the router sees requests.
func match(r *Router, method, target string) Match { return r.Match(method, targetPath(target)) }

// A prefix then one <path:...> is matched without mux, with mux's answers.
func TestTailPatternMatchesLikeMux(t *testing.T) {
	fast := New()
	if _, err := fast.Add("GET", "/static/<path:path>", "static", nil); err != nil {
		t.Fatal(err)
	}
	// The same regexp spelled so that the fast path does not apply.
	slow := New()
	if _, err := slow.Add("GET", "/static/{path:(?s:.+)}x{rest:.*}", "static", nil); err != nil {
		t.Fatal(err)
	}
	if !fast.groups[0].tail || slow.groups[0].tail {
		t.Fatal("tail flag wrong")
	}
	for _, path := range []string{"/static/", "/static/a", "/static/a/b.css", "/static/\n", "/static/\xff", "/static", "/stat", "/other/a"} {
		st := newMatchState()
		got := fast.match(st, "GET", path, nil)
		if st.muxCalls != 0 {
			t.Errorf("%q: %d mux calls", path, st.muxCalls)
		}
		want := len(path) > len("/static/") && path[:len("/static/")] == "/static/"
		if (got.Status == 200) != want {
			t.Errorf("%q: status %d, want match %v", path, got.Status, want)
		}
		if want && (len(got.Values) != 1 || got.Values[0] != path[len("/static/"):]) {
			t.Errorf("%q: values %q", path, got.Values)
		}
		// mux agrees on the match (the same regexp, run by mux).
		mst := newMatchState()
		mux := slow.match(mst, "GET", path+"x", nil)
		if (mux.Status == 200) != want {
			t.Errorf("%q: mux status %d, want match %v", path, mux.Status, want)
		}
	}
}
