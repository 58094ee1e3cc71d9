// Package router turns databridge route paths into gorilla/mux matchers and
// picks the route for each request.
//
//	r := router.New()
//	r.Add("GET", "/", "index", h)                        // "/" only, not "/x"
//	r.Add("GET", "/users/<int:user_id>", "user", h)      // "/users/42", "/users/-7"; not "/users/abc" (404)
//	r.Add("GET", "/users/{name}/posts", "posts", h)      // "/users/ann/posts"; not "/users/a/b/posts"
//	r.Add("GET", "/price/<float:p>", "price", h)         // "/price/3", "/price/3.50"; not "/price/3."
//	r.Add("GET", "/obj/<uuid:id>", "obj", h)             // "/obj/0f8fad5b-d9cb-469f-a165-70867728950e", any case
//	r.Add("GET", "/files/<path:name>", "file", h)        // "/files/a/b/c.txt"
//	r.Add("GET", "/v/{code:[A-Z]{3}}", "code", h)        // "/v/EUR"; not "/v/eur"
//	r.Add("GET", "/a/", "slash", h)                      // "/a/" only; "/a" is a different route
//
//	m := r.Match(req)                                    // m.Status is 200, 404 or 405
//
// # Path syntax
//
// A path starts with "/" and mixes literal text with parameters, each of
// which captures one value:
//
//	{name}  <name>  <str:name>  <string:name>   one segment: [^/]+
//	{name:regexp}                                a string matching regexp
//	<int:name>                                   -?[0-9]+
//	<float:name>                                 -?[0-9]+(?:\.[0-9]+)?
//	<uuid:name>                                  8-4-4-4-12 hex digits, any case
//	<path:name>                                  the rest, slashes included: .+
//
// Names must be Python identifiers and unique within a path. A regexp may not
// have capturing groups (use (?:...)) and its braces must balance, as
// gorilla/mux requires. A value that does not fit its
// converter means the route does not match, so the request is a 404, as in
// Flask. Values are matched against the decoded request path
// (http.Request.URL.Path), so "%2F" in a segment is a "/" and ends a {name}
// parameter. Paths are not cleaned and "/a" and "/a/" are different routes:
// there is no redirect between them.
//
// # Matching order
//
// Routes are tried in registration order, as in Starlette. Routes whose paths
// match the same URLs (equal Pattern.Canonical) share one matcher that holds a
// route per method, and that matcher sits where its first route was
// registered. The first matcher that matches the path and has a route for the
// request method wins. A HEAD request uses the matcher's GET route when it has
// no HEAD route of its own. When paths matched but no method did, the result
// is 405 with an Allow list of every method of every matching path; otherwise
// it is 404.
//
// The order is kept without trying every route: Add indexes each pattern by
// its "/"-separated segments, so Match tries only the patterns whose literal
// segments are the path's, plus those with a parameter that may match a "/"
// (path, or a regexp such as ".+"), which are tried for every path that has
// the literal segments before it. With the GitHub API's 203 routes a
// request is matched by one regexp run, whichever route it is for.
//
// A Router is built once, then read by many goroutines: Add must not run
// concurrently with Match.
package router
