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

// matchState is what one Match call needs: a mux.RouteMatch with its Vars
// map, the *http.Request gorilla/mux's matchers read (only URL.Path) and
// the candidates from the index, pooled so that matching allocates nothing
// of its own.
type matchState struct {
	rm       mux.RouteMatch
	req      http.Request
	url      url.URL
	cands    candidates
	muxCalls int // mux matcher runs, for tests
}

var matchStates = sync.Pool{New: func() any { return newMatchState() }}

func newMatchState() *matchState {
	st := &matchState{rm: mux.RouteMatch{Vars: make(map[string]string)}}
	st.req.URL = &st.url
	return st
}

// Match finds the route for req; see the package documentation for the
// order. It runs on every request, so it is kept lean. The segments of the
// path pick, through an index built by Add, the few patterns that could
// match it; those are tried in registration order, each costing a string
// comparison of its literal prefix and, if that fits, a mux regexp test.
// The mux.RouteMatch and its Vars map come from a pool and the index walk
// allocates nothing, so a found route costs the slice that gorilla/mux's
// FindStringSubmatchIndex returns plus, if the route has parameters, the
// Values slice (which the router's own dispatch does not allocate: it
// reuses the request's PathValues). Values share memory with req.URL.Path. Only 404 and 405 pay
// more: a second pass over the candidates and, for 405, building Allow.
func (r *Router) Match(method, path string) Match {
	return r.matchInto(method, path, nil)
}

// matchInto is Match with Values appended to values[:0] (the request's own
// slice, reused from one request to the next on a connection).
func (r *Router) matchInto(method, path string, values []string) Match {
	st := matchStates.Get().(*matchState)
	defer release(st)
	return r.match(st, method, path, values)
}

// match is matchInto with the state st.
func (r *Router) match(st *matchState, method, path string, values []string) Match {
	st.req.Method, st.url.Path = method, path
	cands := r.candidates(st)
	for _, gi := range cands {
		g := r.groups[gi]
		rt := g.lookup(method)
		if rt == nil || !g.matches(st) {
			continue
		}
		m := Match{Route: rt, Status: http.StatusOK}
		if len(g.keys) > 0 {
			if cap(values) < len(g.keys) {
				values = make([]string, 0, len(g.keys))
			}
			m.Values = values[:0]
			for _, k := range g.keys {
				m.Values = append(m.Values, st.rm.Vars[k])
			}
		}
		return m
	}
	return r.miss(st, cands)
}

// candidates returns, sorted, the indices of the groups that may match
// st's path: those the index yields or, if they are too many, all groups.
// A path that does not start with "/" matches no pattern.
func (r *Router) candidates(st *matchState) []int32 {
	path := st.url.Path
	if path == "" || path[0] != '/' {
		return nil
	}
	c := &st.cands
	c.n = 0
	if !r.index.collect(path[1:], false, c) {
		return r.all
	}
	return c.idx[:c.n]
}

// miss handles a request no route serves: 405 if a path matched, else 404.
// cands are the groups the first pass tried.
func (r *Router) miss(st *matchState, cands []int32) Match {
	var allow []string
	for _, gi := range cands {
		g := r.groups[gi]
		// A pattern with a route for the method failed the first pass on
		// its path; only the others can make this a 405.
		if g.lookup(st.req.Method) != nil || !g.matches(st) {
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
	st.cands.n, st.muxCalls = 0, 0
	matchStates.Put(st)
}
