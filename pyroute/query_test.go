package pyroute

import (
	"github.com/databridge/databridge/internal/urlquery"

	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/databridge/databridge/wire"
)

// TestFirstValues checks encodeFirstValues against url.ParseQuery: the same
// names with ParseQuery's first value, in order of first appearance.
func TestFirstValues(t *testing.T) {
	many := make([]string, 40) // past keySetLinear, with repeats
	for i := range many {
		many[i] = fmt.Sprintf("k%d=%d", i%25, i)
	}
	tests := []struct {
		name  string
		query string
		order string // names in the wanted order, joined with ","
	}{
		{"empty", "", ""},
		{"one", "a=1", "a"},
		// Repeats keep the first value and their first position.
		{"repeats", "b=1&a=2&b=3", "b,a"},
		// A name without "=" has an empty value.
		{"no equals", "flag&x=", "flag,x"},
		// Empty pairs are ignored; an empty name is kept.
		{"empty pairs", "&&=v&z", ",z"},
		// '+' and %XX decode in names and values.
		{"escapes", "q=a+b&%7E=%20", "q,~"},
		// Pairs with ';' are dropped, the rest kept.
		{"semicolon", "a=1;b=2&c=3", "c"},
		// A bad escape in a value drops the pair, so a later one gives the
		// first value.
		{"bad value escape", "a=%zz&a=ok", "a"},
		// A bad escape in a name drops the pair.
		{"bad name escape", "%g=1&b=2", "b"},
		// Many names switch keySet to a map.
		{"many", strings.Join(many, "&"), "k0,k1,k2,k3,k4,k5,k6,k7,k8,k9,k10,k11,k12,k13,k14,k15,k16,k17,k18,k19,k20,k21,k22,k23,k24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e wire.Encoder
			var seen keySet
			encodeFirstValues(&e, &seen, tt.query)
			v, err := decodeWire(e.Buf)
			if err != nil {
				t.Fatal(err)
			}
			got, all := firstAndAll(v)
			want, _ := url.ParseQuery(tt.query) // an error still leaves the good pairs
			for k, w := range want {
				if len(w) > 1 && fmt.Sprint(all[k]) != fmt.Sprint(w) {
					t.Errorf("getlist(%q) = %v, ParseQuery has %v", k, all[k], w)
				}
				if len(w) == 1 && all[k] != nil {
					t.Errorf("%q has one value but is listed: %v", k, all[k])
				}
			}
			if len(got) != len(want) {
				t.Fatalf("got %s, ParseQuery %v", repr(got), want)
			}
			var names []string
			for _, e := range got {
				k := e.k.(string)
				names = append(names, k)
				if w, ok := want[k]; !ok || e.v != w[0] {
					t.Errorf("%q = %q, ParseQuery has %q", k, e.v, w)
				}
			}
			if order := strings.Join(names, ","); order != tt.order {
				t.Errorf("order %q, want %q", order, tt.order)
			}
		})
	}
}

// TestFirstValuesLimit checks that pairs past urlquery.MaxPairs are ignored.
func TestFirstValuesLimit(t *testing.T) {
	pairs := make([]string, urlquery.MaxPairs+5)
	for i := range pairs {
		pairs[i] = fmt.Sprintf("k%d=", i)
	}
	var e wire.Encoder
	var seen keySet
	encodeFirstValues(&e, &seen, strings.Join(pairs, "&"))
	v, err := decodeWire(e.Buf)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(v.(dict)); n != urlquery.MaxPairs { // no repeats: a plain dict of first values
		t.Errorf("got %d names, want %d", n, urlquery.MaxPairs)
	}
}

// firstAndAll splits a decoded multi-value dict into its first values and
// name -> all values of the repeated names.
func firstAndAll(v any) (dict, map[string][]string) {
	all := map[string][]string{}
	m, ok := v.(multi)
	if !ok {
		return v.(dict), all
	}
	for _, e := range m.lists.(dict) {
		for _, x := range e.v.(list) {
			all[e.k.(string)] = append(all[e.k.(string)], x.(string))
		}
	}
	return m.first, all
}
