package pyroute

import (
	"net/url"
	"slices"

	"github.com/databridge/databridge/internal/urlquery"
	"github.com/databridge/databridge/wire"
)

// encodeFirstValues appends a dict of the first value of every name in a
// query string (or an application/x-www-form-urlencoded body), in order of
// first appearance, with url.ParseQuery's rules (see urlquery.Scan): a pair
// with a ";" or a bad %-escape is skipped and the rest of the query still
// counts. The keys written are recorded in seen, which must be empty.
//
// Allocations: url.QueryUnescape's result for text with escapes, and a map
// in seen past keySetLinear names; plain text costs nothing.
func encodeFirstValues(e *wire.Encoder, seen *keySet, query string) {
	at := len(e.Buf)
	e.MultiDict(0)
	n := 0
	repeated := false
	urlquery.Scan(query, func(k, raw string) bool {
		if seen.has(k) {
			repeated = true
			return true
		}
		v, err := url.QueryUnescape(raw)
		if err != nil {
			return true // a later pair with this name may still give its first value
		}
		seen.add(k)
		e.Str(k)
		e.Str(v)
		n++
		return true
	})
	e.PatchCount(at, n)
	if !repeated {
		e.None()
		return
	}
	encodeAllValues(e, query)
}

// encodeAllValues appends the dict of name -> every value, for the names
// of query that have more than one (valid) value, in order of first
// appearance. Only queries with a repeated name pay for it (a map).
func encodeAllValues(e *wire.Encoder, query string) {
	values := map[string][]string{}
	var order []string
	urlquery.Scan(query, func(k, raw string) bool {
		v, err := url.QueryUnescape(raw)
		if err != nil {
			return true
		}
		if _, ok := values[k]; !ok {
			order = append(order, k)
		}
		values[k] = append(values[k], v)
		return true
	})
	at := len(e.Buf)
	e.Dict(0)
	n := 0
	for _, k := range order {
		if vs := values[k]; len(vs) > 1 {
			e.Str(k)
			e.List(len(vs))
			for _, v := range vs {
				e.Str(v)
			}
			n++
		}
	}
	e.PatchCount(at, n)
}

// keySetLinear is the size up to which a keySet searches a slice; past it,
// it builds a map, so that a request with thousands of names stays linear.
const keySetLinear = 16

// keySet is a set of strings that costs no allocation while small.
type keySet struct {
	list []string
	m    map[string]struct{}
}

func (s *keySet) has(k string) bool {
	if s.m != nil {
		_, ok := s.m[k]
		return ok
	}
	return slices.Contains(s.list, k)
}

func (s *keySet) add(k string) {
	if s.m != nil {
		s.m[k] = struct{}{}
		return
	}
	s.list = append(s.list, k)
	if len(s.list) > keySetLinear {
		s.m = make(map[string]struct{}, 2*len(s.list))
		for _, k := range s.list {
			s.m[k] = struct{}{}
		}
	}
}

// reset empties s, keeping the slice's capacity.
func (s *keySet) reset() {
	clear(s.list)
	s.list = s.list[:0]
	s.m = nil
}
