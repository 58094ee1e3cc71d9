package validate_test

import (
	"fmt"
	"net/http"

	"github.com/databridge/databridge/validate"
	"github.com/databridge/databridge/wire"
)

func Example() {
	v, err := validate.Compile([]byte(`{"params": [
		{"name": "q", "in": "query", "required": true, "schema": {"type": "string"}},
		{"name": "limit", "in": "query", "required": false,
		 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}},
		{"name": "x_token", "in": "header", "alias": "x-token", "required": true, "schema": {"type": "string"}}]}`))
	if err != nil {
		panic(err)
	}
	var e wire.Encoder

	// Valid: one wire dict {"q": "go", "limit": 10, "x_token": "t"} is appended.
	ds := v.Check(&e, &validate.Request{Query: "q=go", Header: http.Header{"X-Token": {"t"}}})
	fmt.Println(ds == nil, len(e.Buf) > 0)

	// Invalid: nothing is appended; every problem is returned.
	e.Reset()
	ds = v.Check(&e, &validate.Request{Query: "limit=500"})
	fmt.Println(len(e.Buf))
	fmt.Println(string(validate.ErrorBody(ds)))
	// Output:
	// true true
	// 0
	// {"error":"validation failed","details":[{"loc":["query","q"],"msg":"Field required","type":"missing"},{"loc":["query","limit"],"msg":"Input should be less than or equal to 100","type":"less_than_equal"},{"loc":["header","x-token"],"msg":"Field required","type":"missing"}]}
}
