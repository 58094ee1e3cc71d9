package router

import (
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/gorilla/mux"
)

// Match is the outcome of matching a request.
type Match struct {
	// Route is the matched route, nil unless Status is 200. For a HEAD
	// request served by a GET route it is that GET route.
	Route *Route
	// Values holds one raw value per Route.Pattern.Params, in order: the
	// matched substrings of the request's decoded path (URL.Path), not yet
	// converted to their Kind. Nil when the route has no parameters.
	Values []string
	// Status is 200 when a route was found, 405 when some path matched but
	// none had a route for the method, 404 otherwise.
	Status int
	// Allow is set for 405: the methods of every path that matched, sorted
	// and joined with ", ", HEAD included where GET is, e.g. "GET, HEAD, POST".
	Allow string
}

// routeMatches recycles the mux.RouteMatch, and the Vars map inside it, that
// every Match call needs.
var routeMatches = sync.Pool{
	New: func() any { return &mux.RouteMatch{Vars: make(map[string]string)} },
}

// Match finds the route for req; see the package documentation for the
// order. It runs on every request, so it is kept lean: the mux.RouteMatch
// and its Vars map come from a pool; a pattern whose literal prefix differs
// from the path costs a string comparison, one whose prefix fits a regexp
// test, and neither allocates; a found route costs the slice that
// gorilla/mux's FindStringSubmatchIndex returns plus, if the route has
// parameters, the Values slice. Values share memory with req.URL.Path.
// Only 404 and 405 pay more: a second pass over the matchers and, for 405,
// building Allow.
func (r *Router) Match(req *http.Request) Match {
	rm := routeMatches.Get().(*mux.RouteMatch)
	defer release(rm)
	for _, g := range r.groups {
		rt := g.lookup(req.Method)
		if rt == nil || !g.matches(req, rm) {
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
	return r.miss(req, rm)
}

// miss handles a request no route serves: 405 if a path matched, else 404.
func (r *Router) miss(req *http.Request, rm *mux.RouteMatch) Match {
	var allow []string
	for _, g := range r.groups {
		// A pattern with a route for the method failed the first pass on
		// its path; only the others can make this a 405.
		if g.lookup(req.Method) != nil || !g.matches(req, rm) {
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

// release resets rm and returns it to the pool.
func release(rm *mux.RouteMatch) {
	clear(rm.Vars)
	*rm = mux.RouteMatch{Vars: rm.Vars}
	routeMatches.Put(rm)
}
