package validate

import (
	"net/url"
	"sync"

	"github.com/databridge/databridge/internal/urlquery"
)

// hit is a value of a declared query param: the index of the param and the
// unescaped value.
type hit struct {
	param int
	value string
}

// pair is one name=value of the query, unescaped.
type pair struct {
	name, value string
}

// scratch is the per-Check working memory, pooled so that a Check costs no
// allocation for it.
type scratch struct {
	hits  []hit  // values of declared params, in query order
	pairs []pair // every pair, only for a whole-object query schema
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// putScratch empties sc, dropping its references to the request, and
// returns it to the pool.
func putScratch(sc *scratch) {
	clear(sc.hits)
	clear(sc.pairs)
	sc.hits, sc.pairs = sc.hits[:0], sc.pairs[:0]
	scratchPool.Put(sc)
}

// scanQuery reads query once, with url.ParseQuery's semantics ('&'
// separates pairs, a pair with ';' or a bad %-escape is skipped, '+' is a
// space), and records the values of the declared names (in sc.hits) and,
// when all is set, every pair (in sc.pairs). Names are compared after
// unescaping, case-sensitively.
//
// Allocations: url.QueryUnescape's result for a name or value with
// escapes; plain text costs nothing. A value is unescaped only if it is
// kept.
func (sc *scratch) scanQuery(query string, names []string, params []int, all bool) {
	urlquery.Scan(query, func(k, val string) bool {
		first := true
		var err error
		for i, name := range names {
			if name != k {
				continue
			}
			if first {
				if val, err = url.QueryUnescape(val); err != nil {
					break
				}
				first = false
			}
			sc.hits = append(sc.hits, hit{params[i], val})
		}
		if all {
			if first {
				if val, err = url.QueryUnescape(val); err != nil {
					return true
				}
			}
			sc.pairs = append(sc.pairs, pair{k, val})
		}
		return true
	})
}

// first returns the first value of param i, if any.
func (sc *scratch) first(i int) (string, bool) {
	for _, h := range sc.hits {
		if h.param == i {
			return h.value, true
		}
	}
	return "", false
}

// count returns the number of values of param i.
func (sc *scratch) count(i int) int {
	n := 0
	for _, h := range sc.hits {
		if h.param == i {
			n++
		}
	}
	return n
}
