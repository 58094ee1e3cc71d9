package router_test

import (
	"fmt"
	"net/url"

	"github.com/databridge/databridge/router"
)

func Example() {
	r := router.New()
	for _, rt := range []struct{ method, path, name string }{
		{"GET", "/users/<int:user_id>", "get_user"},
		{"DELETE", "/users/{user_id:-?[0-9]+}", "delete_user"}, // same pattern
		{"GET", "/files/<path:name>", "get_file"},
		{"POST", "/files/<path:name>", "put_file"},
	} {
		if _, err := r.Add(rt.method, rt.path, rt.name, nil); err != nil {
			fmt.Println(err)
		}
	}
	_, err := r.Add("GET", "/users/{id:-?[0-9]+}", "again", nil)
	fmt.Println(err)

	for _, req := range []struct{ method, target string }{
		{"GET", "/users/42"},
		{"HEAD", "/users/-1"},
		{"GET", "/users/abc"},
		{"PUT", "/users/42"},
		{"GET", "/files/docs/a%20b.txt"},
	} {
		u, _ := url.ParseRequestURI(req.target)
		m := r.Match(req.method, u.Path) // the decoded path
		switch m.Status {
		case 200:
			fmt.Println(req.method, req.target, "->", m.Route.Name, m.Route.Pattern.Plain, m.Values)
		case 405:
			fmt.Println(req.method, req.target, "->", m.Status, "Allow:", m.Allow)
		default:
			fmt.Println(req.method, req.target, "->", m.Status)
		}
	}
	// Output:
	// databridge: route "/users/{id:-?[0-9]+}" is already registered for GET
	// GET /users/42 -> get_user /users/{user_id} [42]
	// HEAD /users/-1 -> get_user /users/{user_id} [-1]
	// GET /users/abc -> 404
	// PUT /users/42 -> 405 Allow: DELETE, GET, HEAD
	// GET /files/docs/a%20b.txt -> get_file /files/{name} [docs/a b.txt]
}
