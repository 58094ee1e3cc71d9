package server

// Fixed returns a handler that answers every request with the same
// response, in Go: for health checks, robots.txt and the like, and the
// benchmark's Go-only route. header and body are kept (not copied).
// Cost: no allocation.
func Fixed(status int, header [][2]string, body []byte) Handler {
	return HandlerFunc(func(w ResponseWriter, _ *Request) {
		h := w.Header()
		for _, kv := range header {
			h.Add(kv[0], kv[1])
		}
		w.Send(status, body)
	})
}
