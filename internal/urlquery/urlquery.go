// Package urlquery reads URL query strings (and urlencoded forms) as
// url.ParseQuery does, without building a url.Values: the server keeps the
// first value of every name, the validator the values of the names it
// declares, each without a map per request.
//
//	urlquery.Scan("a=1&b=x+y&a=2", func(key, raw string) bool {
//		fmt.Println(key, raw) // a 1, b x+y, a 2 (values still escaped)
//		return true
//	})
package urlquery

import (
	"net/url"
	"strings"
)

// MaxPairs bounds the pairs read from one query string, like net/url's
// default limit; later pairs are ignored.
const MaxPairs = 10000

// Scan calls f with each pair of query that url.ParseQuery keeps, in
// order: '&' separates pairs, a pair with ';' or a key with a bad
// %-escape is skipped. The key is unescaped; the value is passed raw, to be
// unescaped with url.QueryUnescape only if it is used (an error there means
// url.ParseQuery drops the pair). Scan stops after MaxPairs pairs, or when
// f returns false.
//
// Allocations: url.QueryUnescape's result for a key with escapes.
func Scan(query string, f func(key, raw string) bool) {
	for n := 0; query != "" && n < MaxPairs; n++ {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		if !f(k, v) {
			return
		}
	}
}
