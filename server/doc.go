// Package server is databridge's HTTP engine: it listens, routes each request
// with package router, packs it into one wire value, hands that to the
// Python backend and writes the response the backend returns.
//
//	rt := router.New()
//	rt.Add("GET", "/users/<int:id>", "user", pyHandler)
//	s, err := server.Listen(rt, server.Config{}, "127.0.0.1", 0)
//	if err != nil { ... }
//	s.Serve()                 // returns at once; requests are served in goroutines
//	...
//	s.Shutdown(5 * time.Second)
//	<-s.Done()                // in-flight requests have finished (or were cut off)
//
// HTTP/1.x is served by the package's own front (http1_*.go): a strict
// RFC 9112 parser into Request with no allocation per request, Content-Length
// and chunked body readers, a buffered response writer that sends a response
// in one write, keep-alive, pipelining, timeouts and graceful shutdown.
// HTTP/2 (h2 by ALPN, h2c by prior knowledge or Upgrade) is handed to the
// HTTP/2 front (http2.go). docs/http1.md lists the RFC requirements and the
// choices made where the RFCs allow several.
//
// The package is pure Go. Python runs behind the Backend interface, one
// handler at a time; every request goroutine blocks in Backend.Call until its
// response is ready.
//
// # The request value
//
// Backend.Call receives a wire-encoded dict with exactly these keys, in this
// order:
//
//	method        str              "GET"
//	path          str              decoded path, "/users/42"
//	url           str              "http://example.com/users/42?x=1"
//	client        str              remote "ip:port"
//	headers       dict[str, str]   lower-case names, "host" first, then sorted;
//	                               repeated headers joined with ", "
//	query_params  dict[str, str]   first value of each name, in order of appearance
//	path_params   dict[str, Any]   str, int, float or uuid.UUID per converter
//	body          Any              parsed JSON for application/json and +json, else None
//	form_data     dict             {"fields": {...}, "files": [...]} for forms, else {}
//	raw_body      bytes            the body as received
//
// Requests that cannot be represented never reach the backend: an unknown
// path is a 404, a wrong method a 405, a body over Config.MaxBodyBytes a 413,
// and invalid JSON or multipart bodies a 400. These error responses have a
// JSON body such as {"error": "Not Found"}.
package server
