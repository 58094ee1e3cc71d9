package router

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/databridge/databridge/server"
	"github.com/gorilla/mux"
)

// Route is one registered route.
type Route struct {
	Method  string // upper-case, e.g. "GET"
	Pattern *Pattern
	Name    string
	Handler server.Handler // a Python route, or any native handler
}

// Router holds the routes of an application and matches requests against
// them. Build it with New and Add before serving; Match may then be called
// from any number of goroutines.
type Router struct {
	mux         *mux.Router // owns the matchers; never used to dispatch
	groups      []*group    // in order of their first registration
	byCanonical map[string]*group
	index       node     // the groups by the segments of their patterns
	all         []int32  // 0, 1, ... len(groups)-1: every group, for Match
	routes      []*Route // in registration order
	chain       server.Chain
	root        server.Handler // chain around dispatch
}

// group is the routes of one Canonical pattern: one mux matcher, one route
// per method.
type group struct {
	matcher *mux.Route
	prefix  string   // the literal text before the first parameter
	tail    bool     // the pattern is prefix then one <path:...>: matched without mux
	keys    []string // mux variable names of the parameters: "0", "1", ...
	routes  []*Route // at most one per method; few, so a slice beats a map
}

// New returns an empty Router.
func New() *Router {
	return &Router{mux: mux.NewRouter(), byCanonical: make(map[string]*group)}
}

// Add registers a route for method (upper-cased) and path (see Parse). name
// and handler are stored as given. Registering a second route for the same
// method and Canonical pattern is an error, even if the two paths are
// spelled differently, as "/u/{id}" and "/u/<id>" are.
func (r *Router) Add(method, path, name string, handler server.Handler) (*Route, error) {
	method = strings.ToUpper(method)
	if !isToken(method) {
		return nil, errorf("invalid HTTP method %q for route %q", method, path)
	}
	p, err := Parse(path)
	if err != nil {
		return nil, err
	}
	g := r.byCanonical[p.Canonical]
	if g == nil {
		m := r.mux.NewRoute().Path(p.Canonical)
		if err := m.GetError(); err != nil { // Parse should have caught it
			return nil, errorf("route %q: %v", path, err)
		}
		g = &group{matcher: m, keys: make([]string, len(p.Params))}
		g.prefix, _, _ = strings.Cut(p.Canonical, "{") // literals have no "{"
		g.tail = p.Canonical == g.prefix+"{0:"+pathRegexp+"}"
		for i := range g.keys {
			g.keys[i] = strconv.Itoa(i)
		}
		gi := int32(len(r.groups))
		r.groups = append(r.groups, g)
		r.all = append(r.all, gi)
		r.byCanonical[p.Canonical] = g
		r.index.insert(p.Canonical, gi)
	} else if g.route(method) != nil {
		return nil, errorf("route %q is already registered for %s", path, method)
	}
	rt := &Route{Method: method, Pattern: p, Name: name, Handler: handler}
	g.routes = append(g.routes, rt)
	r.routes = append(r.routes, rt)
	return rt, nil
}

// Routes returns the routes in registration order. The slice is a copy; the
// routes are shared.
func (r *Router) Routes() []*Route {
	return slices.Clone(r.routes)
}

// matches reports whether st's path matches g's pattern, counting the mux
// matcher runs in st. The prefix test is exact, since mux matches "^" +
// regexp.QuoteMeta(prefix) + ... against the same URL.Path, and it spares
// some patterns a regexp run.
func (g *group) matches(st *matchState) bool {
	if !strings.HasPrefix(st.url.Path, g.prefix) {
		return false
	}
	if g.tail {
		// ^prefix(?s:.+)$ matches any path past the prefix, as mux would.
		if len(st.url.Path) == len(g.prefix) {
			return false
		}
		st.rm.Vars["0"] = st.url.Path[len(g.prefix):]
		return true
	}
	st.muxCalls++
	return g.matcher.Match(&st.req, &st.rm)
}

// Use appends middleware that wrap every request the router serves,
// matched or not (404 and 405 included), outermost first, as chi's Use.
// Like Add, it must not be called once the router serves.
func (r *Router) Use(mw ...server.Middleware) {
	r.chain = append(r.chain, mw...)
	r.root = r.chain.Then(server.HandlerFunc(r.dispatch))
}

// Serve routes one request: the matched route's handler runs with
// req.PathValues set; a miss is answered 404, or 405 with Allow.
func (r *Router) Serve(w server.ResponseWriter, req *server.Request) {
	if r.root != nil {
		r.root.Serve(w, req)
		return
	}
	r.dispatch(w, req)
}

func (r *Router) dispatch(w server.ResponseWriter, req *server.Request) {
	m := r.matchInto(req.Method, req.Path, req.PathValues)
	switch m.Status {
	case http.StatusOK:
		req.PathValues = m.Values
		m.Route.Handler.Serve(w, req)
	case http.StatusMethodNotAllowed:
		w.Header().Set("allow", m.Allow)
		server.WriteError(w, http.StatusMethodNotAllowed, server.MsgMethodNotAllowed)
	default:
		server.WriteError(w, http.StatusNotFound, server.MsgNotFound)
	}
}

// route returns g's route for exactly method, or nil.
func (g *group) route(method string) *Route {
	for _, rt := range g.routes {
		if rt.Method == method {
			return rt
		}
	}
	return nil
}

// lookup returns the route that serves method: the route for method, or for
// HEAD without a HEAD route, the GET route. It returns nil if there is none.
func (g *group) lookup(method string) *Route {
	if rt := g.route(method); rt != nil || method != "HEAD" {
		return rt
	}
	return g.route("GET")
}

// isToken reports whether s is a non-empty RFC 9110 token, the syntax of an
// HTTP method.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
