package files

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/databridge/databridge/server"
)

// preconditions evaluates the conditional header fields of r against the
// selected representation's validators, in the order of RFC 9110 §13.2.2,
// and returns 304, 412, or 0 to go on.
func preconditions(r *server.Request, etag string, modtime time.Time) int {
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	// Step 1: If-Match (strong comparison); step 2 without it:
	// If-Unmodified-Since.
	if r.Header.Has("if-match") {
		if !matchList(r.Header.Values("if-match"), etag, true) {
			return http.StatusPreconditionFailed
		}
	} else if v, ok := single(r, "if-unmodified-since"); ok {
		if t, err := http.ParseTime(v); err == nil && modtime.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	// Step 3: If-None-Match (weak comparison); step 4 without it:
	// If-Modified-Since, for GET and HEAD only.
	if r.Header.Has("if-none-match") {
		if matchList(r.Header.Values("if-none-match"), etag, false) {
			if safe {
				return http.StatusNotModified
			}
			return http.StatusPreconditionFailed
		}
	} else if v, ok := single(r, "if-modified-since"); ok && safe {
		if t, err := http.ParseTime(v); err == nil && !modtime.After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

// single returns the value of a field that must appear once (a date): a
// repeated field is ignored, as RFC 9110 says for If-Modified-Since.
func single(r *server.Request, name string) (string, bool) {
	v, ok := r.Header.Lookup(name)
	if !ok || len(r.Header.Values(name)) != 1 {
		return "", false
	}
	return v, true
}

// ifRange reports whether a Range may be honoured under r's If-Range
// (RFC 9110 §13.1.5): no If-Range, an entity tag that strongly matches, or
// an HTTP-date equal to the Last-Modified.
func ifRange(r *server.Request, etag string, modtime time.Time) bool {
	v, ok := r.Header.Lookup("if-range")
	if !ok {
		return true
	}
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "W/") {
		tag, rest, ok := scanETag(v)
		return ok && strings.TrimSpace(rest) == "" && strongMatch(tag, etag)
	}
	t, err := http.ParseTime(v)
	return err == nil && t.Equal(modtime)
}

// matchList reports whether the entity-tag lists of fields (each "*" or
// 1#entity-tag) match etag, strongly or weakly. A malformed list matches
// only through the tags read before the fault.
func matchList(fields []string, etag string, strong bool) bool {
	for _, field := range fields {
		s := field
		for {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			if s[0] == '*' {
				return true
			}
			tag, rest, ok := scanETag(s)
			if !ok {
				break
			}
			if strong && strongMatch(tag, etag) || !strong && weakMatch(tag, etag) {
				return true
			}
			s = rest
		}
	}
	return false
}

// scanETag reads one entity-tag ([W/]"opaque") from the start of s.
func scanETag(s string) (tag, rest string, ok bool) {
	start := 0
	if strings.HasPrefix(s, "W/") {
		start = 2
	}
	if len(s) <= start || s[start] != '"' {
		return "", s, false
	}
	end := strings.IndexByte(s[start+1:], '"')
	if end < 0 {
		return "", s, false
	}
	end += start + 2
	return s[:end], s[end:], true
}

func strongMatch(a, b string) bool {
	return a == b && !strings.HasPrefix(a, "W/")
}

func weakMatch(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

// span is one satisfiable byte range.
type span struct{ start, length int64 }

// maxRanges bounds the ranges of one request: more are ignored (a 200),
// as are ranges whose total exceeds the size (overlaps), so that a Range
// cannot make the response much larger than the file.
const maxRanges = 32

var (
	errUnsatisfiable = errors.New("databridge: no satisfiable range")
	errIgnoreRange   = errors.New("databridge: Range ignored")
)

// parseRange parses a Range field (RFC 9110 §14.1.2) for a representation
// of size bytes. Unsatisfiable range-specs are dropped; none left is
// errUnsatisfiable (416). An invalid field, a unit other than bytes, too
// many ranges or overlapping ones are errIgnoreRange: the whole file is
// sent, as §14.2 allows.
func parseRange(s string, size int64) ([]span, error) {
	const unit = "bytes="
	if len(s) < len(unit) || !strings.EqualFold(s[:len(unit)], unit) {
		return nil, errIgnoreRange
	}
	var out []span
	count := 0
	total := int64(0)
	for _, spec := range strings.Split(s[len(unit):], ",") {
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue
		}
		count++
		if count > maxRanges {
			return nil, errIgnoreRange
		}
		first, last, ok := strings.Cut(spec, "-")
		if !ok {
			return nil, errIgnoreRange
		}
		var sp span
		if first == "" { // suffix-range: the last n bytes
			n, ok := digits(last)
			if !ok {
				return nil, errIgnoreRange
			}
			if n == 0 || size == 0 {
				continue
			}
			if n > size {
				n = size
			}
			sp = span{size - n, n}
		} else {
			a, ok := digits(first)
			if !ok {
				return nil, errIgnoreRange
			}
			b := size - 1
			if last != "" {
				if b, ok = digits(last); !ok || b < a {
					return nil, errIgnoreRange
				}
				if b > size-1 {
					b = size - 1
				}
			}
			if a >= size {
				continue
			}
			sp = span{a, b - a + 1}
		}
		total += sp.length
		out = append(out, sp)
	}
	if count == 0 {
		return nil, errIgnoreRange
	}
	if len(out) == 0 {
		return nil, errUnsatisfiable
	}
	if total > size && len(out) > 1 {
		return nil, errIgnoreRange
	}
	return out, nil
}

// digits parses 1*DIGIT into a non-negative int64.
func digits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	n := int64(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
