package server

import (
	"encoding/binary"
	"errors"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/wire"
)

// requestKeys is the number of entries of the request dict.
const requestKeys = 10

// encodeRequest appends the request dict of req (whose body is s.body) to
// s.enc. It returns "" on success and otherwise the message of a 400
// response; the backend must then not be called.
func encodeRequest(s *scratch, req *http.Request, m *router.Match) string {
	e := &s.enc
	e.Dict(requestKeys)

	e.Key(wire.KeyMethod)
	if k, ok := wire.MethodKey(req.Method); ok {
		e.Key(k)
	} else {
		e.Str(req.Method)
	}

	e.Key(wire.KeyPath)
	e.Str(req.URL.Path)

	e.Key(wire.KeyURL)
	encodeURL(e, req)

	e.Key(wire.KeyClient)
	e.Str(req.RemoteAddr)

	e.Key(wire.KeyHeaders)
	encodeHeaders(s, req)

	e.Key(wire.KeyQueryParams)
	s.seen.reset()
	encodeFirstValues(e, &s.seen, req.URL.RawQuery)

	e.Key(wire.KeyPathParams)
	encodePathParams(e, m)

	// Only requests with a Content-Type can have a JSON body or a form;
	// mime.ParseMediaType allocates, so GETs skip it.
	var mediaType string
	var params map[string]string
	if ct := req.Header.Get("Content-Type"); ct != "" {
		var err error
		mediaType, params, err = mime.ParseMediaType(ct)
		if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
			mediaType = "" // unparsable: neither JSON nor a form
		}
	}

	e.Key(wire.KeyBody)
	s.bodyJSON = isJSON(mediaType) && len(s.body) > 0
	if s.bodyJSON {
		at := len(e.Buf)
		if err := wire.AppendJSON(e, s.body); err != nil {
			return "invalid JSON body: " + jsonMessage(err)
		}
		s.bodyWire = [2]int{at, len(e.Buf)}
	} else {
		e.None()
	}

	e.Key(wire.KeyFormData)
	switch mediaType {
	case "application/x-www-form-urlencoded":
		encodeURLEncodedForm(s)
	case "multipart/form-data":
		if err := encodeMultipartForm(s, params["boundary"]); err != nil {
			return "invalid multipart body: " + clientMessage(err)
		}
	default:
		e.Dict(0)
	}

	e.Key(wire.KeyRawBody)
	e.Bytes(s.body)
	return ""
}

// isJSON reports whether a (lower-case) media type is JSON.
func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// jsonMessage describes an AppendJSON error for the client:
// "unexpected character '}' at offset 7".
func jsonMessage(err error) string {
	var se *wire.SyntaxError
	if errors.As(err, &se) {
		return se.Msg + " at offset " + strconv.FormatInt(se.Offset, 10)
	}
	return clientMessage(err)
}

// clientMessage is the text of err without the package prefix that Go
// errors carry, for the client's eyes.
func clientMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "databridge: ")
}

// encodeURL appends the full URL as a str, built in place:
// scheme://host/escaped-path[?query]. The host is req.Host, or the local
// address for a request without one. No allocations unless the path needs
// escaping that the client did not do.
func encodeURL(e *wire.Encoder, req *http.Request) {
	at := len(e.Buf)
	e.Str("")
	start := len(e.Buf)
	if req.TLS != nil {
		e.Buf = append(e.Buf, "https://"...)
	} else {
		e.Buf = append(e.Buf, "http://"...)
	}
	if req.Host != "" {
		e.Buf = append(e.Buf, req.Host...)
	} else if a, ok := req.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		e.Buf = append(e.Buf, a.String()...) // HTTP/1.0 without Host: the address it came to
	}
	e.Buf = append(e.Buf, req.URL.EscapedPath()...)
	if req.URL.RawQuery != "" {
		e.Buf = append(e.Buf, '?')
		e.Buf = append(e.Buf, req.URL.RawQuery...)
	}
	patchLen(e, at, len(e.Buf)-start)
}

// patchLen rewrites the length of the str whose tag is at e.Buf[at]; a str
// header has the same layout as a dict's, tag then uint32.
func patchLen(e *wire.Encoder, at, n int) {
	binary.LittleEndian.PutUint32(e.Buf[at+1:], uint32(n))
}

// encodeHeaders appends the headers dict: "host" (from req.Host, where Go
// moves the Host header) first, then the other names in sorted order, all
// lower-cased, "transfer-encoding" (from req.TransferEncoding) included. The values of a repeated header are joined with ", " in the
// order they arrived. Lower-casing is done in place in the buffer, so the
// only cost is sorting the pooled name slice.
func encodeHeaders(s *scratch, req *http.Request) {
	e := &s.enc
	names := s.names[:0]
	for name := range req.Header {
		if !strings.EqualFold(name, "Host") {
			names = append(names, name)
		}
	}
	// net/http moves Transfer-Encoding out of the header map too.
	if len(req.TransferEncoding) > 0 && req.Header["Transfer-Encoding"] == nil {
		names = append(names, "Transfer-Encoding")
	}
	slices.Sort(names)
	s.names = names

	n := len(names)
	if req.Host != "" {
		n++
	}
	e.Dict(n)
	if req.Host != "" {
		e.Str("host")
		e.Str(req.Host)
	}
	for _, name := range names {
		e.Str(name)
		lowerASCII(e.Buf[len(e.Buf)-len(name):])
		values := req.Header[name]
		if values == nil && name == "Transfer-Encoding" {
			values = req.TransferEncoding
		}
		if len(values) == 1 {
			e.Str(values[0])
			continue
		}
		at := len(e.Buf)
		e.Str("")
		start := len(e.Buf)
		for i, v := range values {
			if i > 0 {
				e.Buf = append(e.Buf, ", "...)
			}
			e.Buf = append(e.Buf, v...)
		}
		patchLen(e, at, len(e.Buf)-start)
	}
}

func lowerASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
}

// encodePathParams appends the path_params dict, converting each value by
// its parameter's kind. The router has already checked the text against
// the kind's regexp; a float that still does not parse is passed as str.
func encodePathParams(e *wire.Encoder, m *router.Match) {
	var params []router.Param
	if m.Route != nil && m.Route.Pattern != nil {
		params = m.Route.Pattern.Params
	}
	n := min(len(params), len(m.Values))
	e.Dict(n)
	for i := range n {
		p, v := params[i], m.Values[i]
		e.Str(p.Name)
		switch p.Kind {
		case router.Int:
			e.IntText(v)
		case router.Float:
			if f, err := strconv.ParseFloat(v, 64); err == nil || errors.Is(err, strconv.ErrRange) {
				e.Float(f) // out of range: ±Inf or 0, as Python's float() would give
			} else {
				e.Str(v)
			}
		case router.UUID:
			e.UUID(v)
		default: // Str, Path
			e.Str(v)
		}
	}
}
