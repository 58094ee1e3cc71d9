package validate

import (
	"net/http"
	"strings"
	"testing"

	"github.com/databridge/databridge/wire"
)

// benchCheck runs Check on r, which must be valid, reporting allocations.
func benchCheck(b *testing.B, spec string, r *Request) {
	v, err := Compile([]byte(spec))
	if err != nil {
		b.Fatal(err)
	}
	var e wire.Encoder
	if ds := v.Check(&e, r); ds != nil {
		b.Fatalf("invalid: %v", detailStrings(ds))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(r.Query) + len(r.Body)))
	for b.Loop() {
		e.Reset()
		if v.Check(&e, r) != nil {
			b.Fatal("invalid")
		}
	}
}

// searchRoute is a typical search route: q: str, page: int = 1,
// limit: int = Query(10, ge=1, le=100), tags: list[str] = Query([]).
const searchRoute = `{"params": [
	{"name": "q", "in": "query", "required": true, "schema": {"type": "string", "title": "Q"}},
	{"name": "page", "in": "query", "required": false, "schema": {"type": "integer", "default": 1, "title": "Page"}},
	{"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10, "title": "Limit"}},
	{"name": "tags", "in": "query", "required": false, "schema": {"type": "array", "items": {"type": "string"}, "default": [], "title": "Tags"}}]}`

func BenchmarkCheck(b *testing.B) {
	b.Run("search", func(b *testing.B) {
		benchCheck(b, searchRoute, &Request{Query: "q=databridge&page=2&limit=50&tags=go&tags=python"})
	})
	// Without the bounded limit, every param is trivial: no library call.
	b.Run("search-trivial", func(b *testing.B) {
		benchCheck(b, strings.Replace(searchRoute, `"minimum": 1, "maximum": 100, `, "", 1),
			&Request{Query: "q=databridge&page=2&limit=50&tags=go&tags=python"})
	})
	b.Run("body-1KB", func(b *testing.B) {
		benchCheck(b, bodyRoute, &Request{Body: []byte(body1KB), BodyIsJSON: true, Header: http.Header{}})
	})
	// As the server calls it: with the wire value it already parsed.
	b.Run("body-1KB-parsed", func(b *testing.B) {
		var e wire.Encoder
		if err := wire.AppendJSON(&e, []byte(body1KB)); err != nil {
			b.Fatal(err)
		}
		benchCheck(b, bodyRoute, &Request{Body: []byte(body1KB), BodyIsJSON: true, BodyValue: e.Buf, Header: http.Header{}})
	})
}

// BenchmarkCheckInvalid measures the 422 path: the search route with two
// problems, and ErrorBody.
func BenchmarkCheckInvalid(b *testing.B) {
	v, err := Compile([]byte(searchRoute))
	if err != nil {
		b.Fatal(err)
	}
	r := &Request{Query: "page=x&limit=500"}
	var e wire.Encoder
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		ds := v.Check(&e, r)
		if len(ds) != 3 {
			b.Fatal(len(ds))
		}
		_ = ErrorBody(ds)
	}
}

// bodyRoute validates a 5-field object, as pydantic gives for
// class Item(BaseModel): name: str (1-100), price: float > 0,
// quantity: int (0-10000), tags: list[str] (<= 50), description: str | None.
const bodyRoute = `{"params": [], "body": {"required": true, "schema": {
	"type": "object", "title": "Item",
	"properties": {
		"name": {"type": "string", "minLength": 1, "maxLength": 100, "title": "Name"},
		"price": {"type": "number", "exclusiveMinimum": 0, "title": "Price"},
		"quantity": {"type": "integer", "minimum": 0, "maximum": 10000, "title": "Quantity"},
		"tags": {"type": "array", "items": {"type": "string"}, "maxItems": 50, "title": "Tags"},
		"description": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Description"}
	},
	"required": ["name", "price", "quantity"]}}}`

// body1KB is a valid body of about 1 KB for bodyRoute.
var body1KB = func() string {
	tags := make([]string, 20)
	for i := range tags {
		tags[i] = `"tag-number-` + string(rune('a'+i)) + `"`
	}
	s := `{"name": "Mechanical keyboard", "price": 129.99, "quantity": 42, "tags": [` + strings.Join(tags, ", ") +
		`], "description": "` + strings.Repeat("A sturdy keyboard with tactile switches. ", 15) + `"}`
	return s
}()

func TestBenchBodies(t *testing.T) {
	if n := len(body1KB); n < 900 || n > 1200 {
		t.Errorf("body1KB is %d bytes", n)
	}
}
