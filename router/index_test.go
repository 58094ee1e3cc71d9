package router

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// matchLinear is Match as it was before the index: every group is tried in
// registration order. TestMatchIndexed checks Match against it.
func (r *Router) matchLinear(method, path string) Match {
	st := newMatchState()
	st.req.Method, st.url.Path = method, path
	req, rm := &st.req, &st.rm
	matches := func(g *group) bool {
		return strings.HasPrefix(path, g.prefix) && g.matcher.Match(req, rm)
	}
	for _, g := range r.groups {
		rt := g.lookup(method)
		if rt == nil || !matches(g) {
			continue
		}
		m := Match{Route: rt, Status: http.StatusOK}
		if len(g.keys) > 0 {
			m.Values = make([]string, len(g.keys))
			for i, k := range g.keys {
				m.Values[i] = rm.Vars[k]
			}
		}
		return m
	}
	var allow []string
	for _, g := range r.groups {
		if g.lookup(method) != nil || !matches(g) {
			continue
		}
		for _, rt := range g.routes {
			allow = append(allow, rt.Method)
			if rt.Method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if allow == nil {
		return Match{Status: http.StatusNotFound}
	}
	slices.Sort(allow)
	allow = slices.Compact(allow)
	return Match{Status: http.StatusMethodNotAllowed, Allow: strings.Join(allow, ", ")}
}

// Pieces of random route paths. "%s" is a parameter's name.
var (
	routeLiterals = []string{"a", "b", "ab", "", "a.b", "é", "\uFFFD", "1"}
	routeParams   = []string{
		"{%s}", "<%s>", "<int:%s>", "<float:%s>", "<uuid:%s>", "<path:%s>",
		"{%s:[a-b]+}", "{%s:a?}", "{%s:(?i)A}", "{%s:[^a]+}", "{%s:.+}", "{%s:a|b/a}",
		"{%s:(?s:.)*b}", "{%s:[0-9]{1,2}}", `{%s:\PL+}`,
	}
	routeMixed = []string{"report.<%s>", "a{%s}b", "{%s}.b", "<int:%s>-x"}
	// Segments of random request paths: "a/b" is a decoded "%2F", "\xff"
	// invalid UTF-8.
	pathSegments = []string{
		"a", "b", "ab", "", "a.b", "é", "\uFFFD", "\xff", "1", "-7", "3.5", "A", "B",
		"0f8fad5b-d9cb-469f-a165-70867728950e", "report.pdf", "aab", "1-x", "a/b", "c",
	}
	randomMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}
)

// randomRoutePath returns a route path of up to 5 segments: literals,
// parameters alone, or parameters with literal text.
func randomRoutePath(rng *rand.Rand) string {
	n := rng.IntN(6)
	segs := make([]string, n)
	params := 0
	name := func() string { params++; return fmt.Sprint("p", params) }
	for i := range segs {
		switch k := rng.IntN(10); {
		case k < 5:
			segs[i] = routeLiterals[rng.IntN(len(routeLiterals))]
		case k < 9:
			segs[i] = fmt.Sprintf(routeParams[rng.IntN(len(routeParams))], name())
		default:
			segs[i] = fmt.Sprintf(routeMixed[rng.IntN(len(routeMixed))], name())
		}
	}
	return "/" + strings.Join(segs, "/")
}

func randomRequestPath(rng *rand.Rand) string {
	switch rng.IntN(40) {
	case 0:
		return ""
	case 1:
		return "a/b"
	case 2:
		return "*"
	}
	n := rng.IntN(7)
	segs := make([]string, n)
	for i := range segs {
		segs[i] = pathSegments[rng.IntN(len(pathSegments))]
	}
	return "/" + strings.Join(segs, "/")
}

// TestMatchIndexed checks Match against matchLinear on random route tables
// and request paths: the index may only narrow the groups tried, never
// change the outcome. Some tables have more candidates than the index
// collects, and so take the path that tries every group.
func TestMatchIndexed(t *testing.T) {
	tables, paths := 200, 200
	if testing.Short() {
		tables = 50
	}
	overflowed, status := 0, map[int]int{}
	for seed := range uint64(tables) {
		rng := rand.New(rand.NewPCG(seed, 1))
		r := New()
		size := 1 + rng.IntN(40)
		if seed%20 == 0 {
			size = 101 + rng.IntN(50) // to overflow the candidates
		}
		var table []string
		for range size {
			method := []string{"GET", "HEAD", "POST", "DELETE"}[rng.IntN(4)]
			path := randomRoutePath(rng)
			if size > 100 { // many patterns that start with a parameter
				path = "/" + fmt.Sprintf(routeParams[rng.IntN(len(routeParams))], "q") + path
			}
			if _, err := r.Add(method, path, path, nil); err == nil {
				table = append(table, method+" "+path)
			}
		}
		for range paths {
			method := randomMethods[rng.IntN(len(randomMethods))]
			path := randomRequestPath(rng)
			st := newMatchState()
			got := r.match(st, method, path, nil)
			want := r.matchLinear(method, path)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d: %s %q = %+v, want %+v; routes:\n%s",
					seed, method, path, got, want, strings.Join(table, "\n"))
			}
			status[got.Status]++
			if len(path) > 0 && path[0] == '/' {
				st.cands.n = 0
				if !r.index.collect(path[1:], false, &st.cands) {
					overflowed++
				}
			}
		}
	}
	t.Logf("statuses %v; %d paths overflowed the candidates", status, overflowed)
	if overflowed == 0 || status[200] == 0 || status[405] == 0 {
		t.Error("the tables are too tame")
	}
}

// TestMatchIndexedTestRoutes checks Match against matchLinear on the
// routes of TestMatch, for random paths made of their segments.
func TestMatchIndexedTestRoutes(t *testing.T) {
	r := newTestRouter(t)
	segs := []string{
		"", "items", "prices", "objects", "files", "edit", "users", "me", "codes", "a", "head",
		"only-head", "form", "lower", "orgs", "repos", "report.pdf", "report.", "EUR", "42", "-0.5",
		"0f8fad5b-d9cb-469f-a165-70867728950e", "x/y", "\xff",
	}
	rng := rand.New(rand.NewPCG(7, 7))
	status := map[int]int{}
	for range 5000 {
		parts := make([]string, rng.IntN(6))
		for i := range parts {
			parts[i] = segs[rng.IntN(len(segs))]
		}
		method, path := randomMethods[rng.IntN(len(randomMethods))], "/"+strings.Join(parts, "/")
		if got, want := r.Match(method, path), r.matchLinear(method, path); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %q = %+v, want %+v", method, path, got, want)
		} else {
			status[got.Status]++
		}
	}
	t.Logf("statuses %v", status)
	if status[200] == 0 || status[405] == 0 {
		t.Error("the paths are too tame")
	}
}

// TestMatchGitHubMuxCalls checks, without timing, that the index keeps
// lookups in a 203-route table short: each GitHub route's path reaches its
// route after one mux matcher run, a path outside the API after none.
func TestMatchGitHubMuxCalls(t *testing.T) {
	routes := githubRoutes(t)
	if len(routes) != 203 {
		t.Fatalf("%d GitHub routes, want 203", len(routes))
	}
	r := newGitHubRouter(t, routes)
	for i, gr := range routes {
		path := githubTarget(gr.path)
		st := newMatchState()
		m := r.match(st, gr.method, path, nil)
		if m.Status != 200 || m.Route.Name != gr.method+" "+gr.path {
			t.Errorf("%s %s matched %d %+v", gr.method, path, m.Status, m.Route)
		}
		if st.muxCalls != 1 {
			t.Errorf("%s %s (route %d): %d mux matcher runs, want 1", gr.method, path, i, st.muxCalls)
		}
		if want := r.matchLinear(gr.method, path); !reflect.DeepEqual(m, want) {
			t.Errorf("%s %s = %+v, linear scan %+v", gr.method, path, m, want)
		}
	}
	for _, tt := range []struct {
		method, path string
		status, max  int
	}{
		{"GET", "/repos/julienschmidt/httprouter/nothing", 404, 0},
		{"GET", "/nothing", 404, 0},
		{"PATCH", "/user/keys/1", 405, 1},
	} {
		st := newMatchState()
		if m := r.match(st, tt.method, tt.path, nil); m.Status != tt.status || st.muxCalls > tt.max {
			t.Errorf("%s %s: %d after %d mux matcher runs, want %d after at most %d",
				tt.method, tt.path, m.Status, st.muxCalls, tt.status, tt.max)
		}
	}
}

func TestMayMatchSlash(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want bool
	}{
		{strRegexp, false},
		{intRegexp, false},
		{floatRegexp, false},
		{uuidRegexp, false},
		{pathRegexp, true},
		{"[a-z]+", false},
		{"a|b", false},
		{"(?:ab)*c?", false},
		{`\d{2}:\d{2}`, false},
		{"[^a]", true},
		{`\PL+`, true},
		{`\S+`, true},
		{".", true},
		{"(?s).", true},
		{"a|/", true},
		{"[.-0]", true}, // "-" to "0" holds "/"
		{`\/`, true},
		{`(?i)\/`, true},
		{"^$", false},
		{`\bx\B`, false},
		{"(", true}, // invalid: err towards true
	} {
		if got := mayMatchSlash(tt.expr); got != tt.want {
			t.Errorf("mayMatchSlash(%q) = %t, want %t", tt.expr, got, tt.want)
		}
	}
}

func TestNextSegment(t *testing.T) {
	for _, tt := range []struct {
		rest, seg string
		kind      int
		after     string
		more      bool
	}{
		{"", "", segLiteral, "", false},
		{"a/b", "a", segLiteral, "b", true},
		{"/", "", segLiteral, "", true},
		{"{0:[^/]+}/x", "{0:[^/]+}", segWild, "x", true},
		{"report.{0:[^/]+}", "report.{0:[^/]+}", segWild, "", false},
		{"{0:[0-9]{2}}", "{0:[0-9]{2}}", segWild, "", false},
		{"{0:(?s:.+)}/edit", "", segUnindexed, "", false},
		{"x{0:a|b/a}", "", segUnindexed, "", false},
		{"\uFFFD/a", "\uFFFD", segWild, "a", true},
	} {
		seg, kind, after, more := nextSegment(tt.rest)
		if seg != tt.seg || kind != tt.kind || after != tt.after || more != tt.more {
			t.Errorf("nextSegment(%q) = %q, %d, %q, %t; want %q, %d, %q, %t",
				tt.rest, seg, kind, after, more, tt.seg, tt.kind, tt.after, tt.more)
		}
	}
}
