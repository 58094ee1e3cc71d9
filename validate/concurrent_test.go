package validate

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/databridge/databridge/router"
)

// TestConcurrentCheck runs one Validator on many goroutines (run with
// -race) and expects the answers of a sequential run.
func TestConcurrentCheck(t *testing.T) {
	v, err := Compile([]byte(searchSpec))
	if err != nil {
		t.Fatal(err)
	}
	reqs := []Request{
		{Query: "q=go&limit=5&tags=a&tags=b&full=1", Header: http.Header{"X-Token": {"t"}}, Body: []byte(`{"name": "n"}`), BodyIsJSON: true},
		{Query: "limit=0&full=x", Body: []byte(`{"name": [1]}`), BodyIsJSON: true},
		{Query: "q=%20&tags=%zz", Header: http.Header{"X-Token": {"t"}}, Body: []byte(`{}`), BodyIsJSON: true},
	}
	for i := range reqs {
		reqs[i].PathNames, reqs[i].PathKinds, reqs[i].PathValues = []string{"item_id"}, []router.Kind{router.Int}, []string{"7"}
	}
	want := make([]string, len(reqs))
	for i := range reqs {
		kwargs, details := runV(t, v, &reqs[i])
		want[i] = kwargs + strings.Join(details, ";")
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 200 {
				i := (g + n) % len(reqs)
				kwargs, details, err := checkOnce(v, &reqs[i])
				if err != nil {
					t.Error(err)
					return
				}
				if got := kwargs + strings.Join(details, ";"); got != want[i] {
					t.Errorf("request %d: got %s, want %s", i, got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}
