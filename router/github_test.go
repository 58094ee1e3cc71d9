package router

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// githubRoute is one line of testdata/github_routes.txt.
type githubRoute struct{ method, path string }

// githubRoutes reads testdata/github_routes.txt: the 203 routes of the
// GitHub API set of julienschmidt/go-http-routing-benchmark, in order.
func githubRoutes(tb testing.TB) []githubRoute {
	tb.Helper()
	f, err := os.Open("testdata/github_routes.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var routes []githubRoute
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		method, path, ok := strings.Cut(line, " ")
		if !ok {
			tb.Fatalf("github_routes.txt: bad line %q", line)
		}
		routes = append(routes, githubRoute{method, path})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return routes
}

// newGitHubRouter registers routes, each named by its method and path.
func newGitHubRouter(tb testing.TB, routes []githubRoute) *Router {
	tb.Helper()
	r := New()
	for _, gr := range routes {
		if _, err := r.Add(gr.method, gr.path, gr.method+" "+gr.path, nil); err != nil {
			tb.Fatal(err)
		}
	}
	return r
}

// githubTarget is a request path for a GitHub route: each {param} filled
// with a value of its own.
func githubTarget(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); {
		if path[i] != '{' {
			b.WriteByte(path[i])
			i++
			continue
		}
		end := strings.IndexByte(path[i:], '}')
		b.WriteString("v_" + path[i+1:i+end])
		i += end + 1
	}
	return b.String()
}

// BenchmarkMatchGitHub matches against the GitHub API table: its last
// route in a table of its own and in the whole table (the goal: no more
// than 1.11 times the first's ns/op), a route from the middle, and a 404.
func BenchmarkMatchGitHub(b *testing.B) {
	routes := githubRoutes(b)
	last, middle := routes[len(routes)-1], routes[len(routes)/2]
	one := newGitHubRouter(b, routes[len(routes)-1:])
	all := newGitHubRouter(b, routes)
	for _, bb := range []struct {
		name   string
		r      *Router
		method string
		path   string
	}{
		{"1-route/last", one, last.method, githubTarget(last.path)},
		{"203-routes/last", all, last.method, githubTarget(last.path)},
		{"203-routes/middle", all, middle.method, githubTarget(middle.path)},
		{"203-routes/404", all, "GET", "/repos/julienschmidt/httprouter/nothing"},
	} {
		if m := bb.r.Match(bb.method, bb.path); bb.name != "203-routes/404" &&
			(m.Status != 200 || m.Route.Method != bb.method) {
			b.Fatalf("%s %s: %d %v", bb.method, bb.path, m.Status, m.Route)
		}
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bb.r.Match(bb.method, bb.path)
			}
		})
	}
}
