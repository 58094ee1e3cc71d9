package router

import (
	"net/http"
	"net/url"
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

// matchState is what one Match call needs from gorilla/mux: a
// mux.RouteMatch with its Vars map, and the *http.Request its matchers
// read (only URL.Path), pooled so that matching allocates nothing of its own.
type matchState struct {
	rm  mux.RouteMatch
	req http.Request
	url url.URL
}

var matchStates = sync.Pool{
	New: func() any {
		st := &matchState{rm: mux.RouteMatch{Vars: make(map[string]string)}}
		st.req.URL = &st.url
		return st
	},
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
func (r *Router) Match(method, path string) Match {
	st := matchStates.Get().(*matchState)
	defer release(st)
	st.req.Method, st.url.Path = method, path
	req, rm := &st.req, &st.rm
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

// release resets st and returns it to the pool.
func release(st *matchState) {
	clear(st.rm.Vars)
	st.rm = mux.RouteMatch{Vars: st.rm.Vars}
	st.req.Method, st.url.Path = "", ""
	matchStates.Put(st)
}
