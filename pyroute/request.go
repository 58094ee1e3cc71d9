package pyroute

import (
	"errors"
	"fmt"
	"mime"
	"slices"
	"strconv"
	"strings"

	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/wire"
)

// requestKeys is the number of entries of the request dict.
const requestKeys = 11

// encodeRequest appends the request dict of req (whose body is s.body) to
// s.enc. It returns "" on success and otherwise the message of a 400
// response; the backend must then not be called.
func encodeRequest(s *scratch, req *server.Request, params []router.Param) string {
	e := &s.enc
	if s.stream != 0 {
		e.Dict(requestKeys + 1)
		e.Key(wire.KeyStream)
		e.Int(int64(s.stream))
	} else {
		e.Dict(requestKeys)
	}

	e.Key(wire.KeyMethod)
	if k, ok := wire.MethodKey(req.Method); ok {
		e.Key(k)
	} else {
		e.Str(req.Method)
	}

	e.Key(wire.KeyPath)
	e.Str(req.Path)

	e.Key(wire.KeyURL)
	encodeURL(e, req)

	e.Key(wire.KeyClient)
	e.Str(req.RemoteAddr)

	e.Key(wire.KeyHeaders)
	encodeHeaders(s, req)

	e.Key(wire.KeyCookies)
	encodeCookies(e, req)

	e.Key(wire.KeyQueryParams)
	s.seen.reset()
	encodeFirstValues(e, &s.seen, req.RawQuery)

	e.Key(wire.KeyPathParams)
	encodePathParams(e, params, req.PathValues)

	// Only requests with a Content-Type can have a JSON body or a form;
	// mime.ParseMediaType allocates, so GETs skip it.
	var mediaType string
	var ctParams map[string]string
	if ct := req.Header.Get("content-type"); ct != "" {
		var err error
		mediaType, ctParams, err = mime.ParseMediaType(ct)
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
	switch {
	case s.mode == BodyStream:
		e.Dict(0) // the handler reads the body itself
	case mediaType == "application/x-www-form-urlencoded":
		if s.mode == BodySpool {
			var err error
			if s.body, err = server.ReadBody(req, maxSpoolField, s.body[:0]); err != nil {
				s.bodyErr = err
				if errors.Is(err, server.ErrBodyTooLarge) {
					s.bodyErr = fmt.Errorf("%w: the urlencoded form is over %d bytes", errFieldTooLarge, maxSpoolField)
				}
				return "invalid form body"
			}
			encodeURLEncodedForm(s)
			s.body = s.body[:0]
			break
		}
		encodeURLEncodedForm(s)
	case mediaType == "multipart/form-data":
		var sp *spool // BodySpool: parse req.Body as it comes, into these files
		if s.mode == BodySpool {
			sp = &s.spool
		}
		if err := encodeMultipartForm(s, req.Body, ctParams["boundary"], sp); err != nil {
			var be *bodyReadError
			var se *spoolError
			if errors.As(err, &be) || errors.As(err, &se) || errors.Is(err, errFieldTooLarge) {
				s.bodyErr = err
			}
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
// scheme://host/escaped-path[?query]. The host is the request's, or the
// local address for an HTTP/1.0 request without one. No allocations.
func encodeURL(e *wire.Encoder, req *server.Request) {
	at := len(e.Buf)
	e.Str("")
	start := len(e.Buf)
	if req.ForwardedScheme != "" { // set by --proxy-headers
		e.Buf = append(append(e.Buf, req.ForwardedScheme...), "://"...)
	} else if req.TLS != nil {
		e.Buf = append(e.Buf, "https://"...)
	} else {
		e.Buf = append(e.Buf, "http://"...)
	}
	if req.Host != "" {
		e.Buf = append(e.Buf, req.Host...)
	} else {
		e.Buf = append(e.Buf, req.LocalAddr...)
	}
	e.Buf = append(e.Buf, req.RawPath...)
	if req.RawQuery != "" {
		e.Buf = append(e.Buf, '?')
		e.Buf = append(e.Buf, req.RawQuery...)
	}
	e.PatchCount(at, len(e.Buf)-start)
}

// encodeHeaders appends the headers multi-value dict: "host" first, then
// the other names in sorted order (names are already lower-case), the
// values of a repeated header joined with ", " in the order they arrived
// (and listed one by one after the dict, for getlist). Sorting
// works on a pooled index slice: no allocation.
func encodeHeaders(s *scratch, req *server.Request) {
	e := &s.enc
	fields := req.Header.Fields()
	idx := s.names[:0]
	hasHost := req.Host != ""
	for i := range fields {
		if fields[i].Name == "host" {
			continue
		}
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(fields[a].Name, fields[b].Name) })
	s.names = idx

	at := len(e.Buf)
	e.MultiDict(0)
	n, repeats := 0, 0
	if hasHost {
		e.Str("host")
		e.Str(req.Host)
		n++
	}
	for k := 0; k < len(idx); {
		name := fields[idx[k]].Name
		j := k + 1
		for j < len(idx) && fields[idx[j]].Name == name {
			j++
		}
		e.Str(name)
		if j == k+1 {
			e.Str(fields[idx[k]].Value)
		} else {
			repeats++
			vat := len(e.Buf)
			e.Str("")
			start := len(e.Buf)
			for x := k; x < j; x++ {
				if x > k {
					e.Buf = append(e.Buf, ", "...)
				}
				e.Buf = append(e.Buf, fields[idx[x]].Value...)
			}
			e.PatchCount(vat, len(e.Buf)-start)
		}
		n++
		k = j
	}
	e.PatchCount(at, n)
	if repeats == 0 {
		e.None()
		return
	}
	// The repeated names again, each with its values as they arrived.
	e.Dict(repeats)
	for k := 0; k < len(idx); {
		j := k + 1
		for j < len(idx) && fields[idx[j]].Name == fields[idx[k]].Name {
			j++
		}
		if j > k+1 {
			e.Str(fields[idx[k]].Name)
			e.List(j - k)
			for x := k; x < j; x++ {
				e.Str(fields[idx[x]].Value)
			}
		}
		k = j
	}
}

// encodePathParams appends the path_params dict, converting each value by
// its parameter's kind. The router has already checked the text against
// the kind's regexp; a float that still does not parse is passed as str.
func encodePathParams(e *wire.Encoder, params []router.Param, values []string) {
	n := min(len(params), len(values))
	e.Dict(n)
	for i := range n {
		p, v := params[i], values[i]
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

// encodeCookies appends the cookies dict: name -> value of every Cookie
// header field (HTTP/2 may split one into several), leniently, as
// Starlette's cookie_parser: pairs split on ";", then on the first "=",
// both sides trimmed; a value in double quotes loses them; a chunk without
// "=" is a value with an empty name; a later name wins (the dict keeps the
// last). No allocations but the strings Python makes.
func encodeCookies(e *wire.Encoder, req *server.Request) {
	at := len(e.Buf)
	e.Dict(0)
	n := 0
	for _, f := range req.Header.Fields() {
		if f.Name != "cookie" {
			continue
		}
		for rest := f.Value; rest != ""; {
			var chunk string
			chunk, rest, _ = strings.Cut(rest, ";")
			k, v, ok := strings.Cut(chunk, "=")
			if !ok {
				k, v = "", chunk
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if k == "" && v == "" {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			e.Str(k)
			e.Str(v)
			n++
		}
	}
	e.PatchCount(at, n)
}
