package pyroute

import (
	"testing"

	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/wire"
)

// hookRequest is a request as a front would build it, for a route that
// does not exist.
func hookRequest(contentType string) *server.Request {
	req := &server.Request{
		Method: "POST", Target: "/missing?a=1", Path: "/missing", RawPath: "/missing", RawQuery: "a=1",
		Host: "example.com", RemoteAddr: "192.0.2.1:1234", ProtoMajor: 1, ProtoMinor: 1, Body: server.NoBody,
	}
	req.Header.Add("host", "example.com")
	req.Header.Add("cookie", "s=1")
	if contentType != "" {
		req.Header.Add("content-type", contentType)
	}
	return req
}

func decodeTwo(t *testing.T, b []byte) (any, any) {
	t.Helper()
	d := wireDecoder{b: b}
	first, err := d.value()
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.value()
	if err != nil {
		t.Fatal(err)
	}
	if d.i != len(b) {
		t.Fatalf("%d trailing bytes", len(b)-d.i)
	}
	return first, second
}

// TestEncodeGoResponse checks the call of the response hook: the request
// dict without a body, then the response as keyword arguments.
func TestEncodeGoResponse(t *testing.T) {
	for _, ct := range []string{"", "application/json", "multipart/form-data; boundary=x"} {
		t.Run(ct, func(t *testing.T) {
			var h server.Header
			h.Add("allow", "GET, HEAD")
			h.Add("content-type", "application/json")
			b, msg := EncodeGoResponse(hookRequest(ct), 405, h.Fields(), []byte(`{"error":"Method Not Allowed"}`))
			if msg != "" {
				t.Fatal(msg)
			}
			request, kwargs := decodeTwo(t, b)
			r := request.(dict)
			for key, want := range map[string]string{
				"path": `"/missing"`, "query_params": `{"a": "1"}`, "cookies": `{"s": "1"}`,
				"body": `None`, "raw_body": `b""`,
			} {
				if v, _ := r.get(key); repr(v) != want {
					t.Errorf("%s = %s, want %s", key, repr(v), want)
				}
			}
			want := `{"status": 405, "headers": [["allow", "GET, HEAD"], ["content-type", "application/json"]], ` +
				`"body": b"{\"error\":\"Method Not Allowed\"}"}`
			if got := repr(kwargs); got != want {
				t.Errorf("kwargs\n got %s\nwant %s", got, want)
			}
		})
	}
}

// answeredWriter records whether Route.Serve said the reply is Python's.
type answeredWriter struct {
	server.Recorder
	answered bool
}

func (w *answeredWriter) PythonAnswered() { w.answered = true }

// TestPythonAnswered checks that a Python reply is announced to a writer
// that asks, and a Go-made 422 is not.
func TestPythonAnswered(t *testing.T) {
	call := func([]byte, bool) *wire.Reply { return &wire.Reply{Status: 200, Body: []byte("ok")} }
	rt := New(call, "GET /x (x)", nil, nil, Options{})
	w := &answeredWriter{}
	req := hookRequest("")
	req.Method = "GET"
	rt.Serve(w, req)
	if !w.answered || w.Status != 200 {
		t.Errorf("answered=%v status=%d, want a Python 200", w.answered, w.Status)
	}
}
