package server

import (
	"net/http"
	"net/textproto"
	"strconv"
)

// Response is what a handler produced, ready to write.
type Response struct {
	Status int
	Header [][2]string // in order; names as the handler gave them
	Body   []byte
	// Release, when set, is called once the response has been written or
	// dropped: Body may point into memory that it frees.
	Release func()
}

// writeResponse writes r to w. Header names are canonicalised and kept in
// order, repeats included (Set-Cookie). The engine owns framing:
// Content-Length is always len(r.Body), except that a HEAD response with an
// empty body keeps the handler's Content-Length, and statuses without a
// body (1xx, 204, 304) get neither a Content-Length nor a body. Handler
// Content-Length and Transfer-Encoding headers are otherwise dropped. A
// response without Content-Type gets none: net/http must not sniff one.
//
// Allocations: one backing array for all header values, the
// Content-Length text (for bodies of 100 bytes or more), a copy for each
// repeat of a name, a name string for uncommon non-canonical names, and
// net/http's own header map growth.
func writeResponse(w http.ResponseWriter, req *http.Request, r *Response) {
	h := w.Header()
	hasBody := bodyAllowed(r.Status)
	vals := make([]string, 0, len(r.Header)+1)
	hasType := false
	handlerLength := ""
	for _, kv := range r.Header {
		name := textproto.CanonicalMIMEHeaderKey(kv[0])
		switch name {
		case "Content-Length":
			handlerLength = kv[1]
			continue
		case "Transfer-Encoding":
			continue
		case "Content-Type":
			hasType = true
		}
		if old, ok := h[name]; ok {
			h[name] = append(old, kv[1])
			continue
		}
		vals = append(vals, kv[1])
		h[name] = vals[len(vals)-1 : len(vals) : len(vals)] // cap 1: a repeat copies
	}
	if !hasType {
		h["Content-Type"] = nil
	}
	isHead := req.Method == http.MethodHead
	if hasBody {
		length := strconv.Itoa(len(r.Body))
		if isHead && len(r.Body) == 0 && isDigits(handlerLength) {
			length = handlerLength
		}
		vals = append(vals, length)
		h["Content-Length"] = vals[len(vals)-1:]
	}
	w.WriteHeader(r.Status)
	if hasBody && !isHead && len(r.Body) > 0 {
		w.Write(r.Body) // an error means the client went away
	}
}

// bodyAllowed reports whether a response with this status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
