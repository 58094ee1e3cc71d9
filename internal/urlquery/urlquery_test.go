package urlquery

import (
	"net/url"
	"reflect"
	"testing"
)

// TestScanMatchesParseQuery checks Scan, values unescaped, against
// url.ParseQuery on the awkward cases.
func TestScanMatchesParseQuery(t *testing.T) {
	for _, q := range []string{
		"",
		"a=1&b=2&a=3",      // repeats keep their order
		"a=x+y&b=%41%42",   // '+' and escapes
		"a&b=&=c",          // no '=', empty value, empty key
		"a=1;b=2&c=3",      // ';' drops the pair
		"a=%zz&b=1&%zz=2",  // a bad escape drops the pair
		"&&a=1&&",          // empty pairs
		"k%20ey=v%20alue&", // escaped key
	} {
		got := url.Values{}
		Scan(q, func(key, raw string) bool {
			if v, err := url.QueryUnescape(raw); err == nil {
				got[key] = append(got[key], v)
			}
			return true
		})
		want, _ := url.ParseQuery(q)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Scan(%q) = %v, url.ParseQuery = %v", q, got, want)
		}
	}
}

func TestScanStops(t *testing.T) {
	n := 0
	Scan("a=1&b=2&c=3", func(string, string) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("f called %d times after returning false, want 2", n)
	}
}
