package pybridge

import (
	"os"
	"runtime"
	"strings"
	"testing"

	python3 "github.com/go-python/cpy3"

	"github.com/databridge/databridge/wire"
)

// The tests embed CPython (scripts/test.sh links libpython into test
// binaries) and define the handlers below in __main__.
const prelude = `
import dataclasses

class Response:
    __slots__ = ("body", "status", "headers", "media_type")
    def __init__(self, body=None, status=200, headers=None, media_type=None):
        self.body, self.status, self.headers, self.media_type = body, status, headers, media_type

class HTTPError(Exception):
    def __init__(self, status, detail=None, headers=None):
        self.status, self.detail, self.headers = status, detail, headers

reports = []
def report(kind, route, exc):
    reports.append((kind, route, type(exc).__name__))

@dataclasses.dataclass
class Point:
    x: int
    y: int

def jsonable(obj):
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

def handler(request):
    return RESULT(request)
`

var mainDict Object

func TestMain(m *testing.M) {
	runtime.LockOSThread()
	python3.Py_Initialize()
	if python3.PyRun_SimpleString(prelude) != 0 {
		panic("prelude failed")
	}
	mainDict = python3.PyModule_GetDict(python3.PyImport_AddModule("__main__"))
	get := func(name string) Object { return python3.PyDict_GetItemString(mainDict, name) }
	if err := Configure(Held(), get("Response"), get("HTTPError"), get("report"), get("jsonable")); err != nil {
		python3.PyErr_Print()
		panic(err)
	}
	state := python3.PyEval_SaveThread()
	code := m.Run()
	python3.PyEval_RestoreThread(state)
	os.Exit(code)
}

// run sets RESULT to the Python expression result (a function of the
// request) and calls the handler once with req.
func run(t *testing.T, result string, req []byte) (status int, header map[string]string, body string, reports int) {
	t.Helper()
	WithGIL(func(gil GIL) {
		if python3.PyRun_SimpleString("reports.clear()\nRESULT = lambda request: "+result) != 0 {
			t.Fatalf("bad expression %q", result)
		}
		h := NewHandler(gil, python3.PyDict_GetItemString(mainDict, "handler"), "route")
		defer h.Close(gil)
		r := NewResult()
		defer r.Free()
		Invoke(gil, h, req, false, nil, r)
		resp := r.Reply()
		status, body = resp.Status, string(resp.Body)
		header = map[string]string{}
		for _, kv := range resp.Header {
			header[strings.ToLower(kv[0])] = kv[1]
		}
		reports = python3.PyList_Size(python3.PyDict_GetItemString(mainDict, "reports"))
	})
	return
}

func emptyRequest() []byte {
	var e wire.Encoder
	e.Dict(1)
	e.Key(wire.KeyMethod)
	e.Key(wire.KeyGET)
	return e.Buf
}

func TestResponses(t *testing.T) {
	cases := []struct {
		expr    string
		status  int
		ctype   string
		body    string
		reports int
	}{
		// A dict with an int status and only response keys is a response.
		{`{"status": 201, "body": {"a": 1}, "headers": {"x-a": "b"}}`, 201, "application/json", `{"a":1}`, 0},
		// A str status is plain data.
		{`{"status": "ok"}`, 200, "application/json", `{"status":"ok"}`, 0},
		// An extra key makes it plain data too.
		{`{"status": 201, "other": 1}`, 200, "application/json", `{"status":201,"other":1}`, 0},
		// No body key: no body, no content type.
		{`{"status": 202}`, 202, "", ``, 0},
		{`(201, [1, 2.5, None, True])`, 201, "application/json", `[1,2.5,null,true]`, 0},
		{`(200, "hi", [("content-type", "text/html")])`, 200, "text/html", `hi`, 0},
		{`"héllo"`, 200, "text/plain; charset=utf-8", `héllo`, 0},
		{`b"\x00\x01"`, 200, "application/octet-stream", "\x00\x01", 0},
		{`None`, 204, "", ``, 0},
		{`Response("<b>", 418, {"x": "1"}, "text/html")`, 418, "text/html; charset=utf-8", `<b>`, 0},
		{`Response({"a": 1}, headers={"Content-Type": "application/vnd+json"})`, 200, "application/vnd+json", `{"a":1}`, 0},
		// JSON details: escapes, non-ASCII kept as UTF-8, big ints, float repr, keys.
		{`{"s": "a\"b\\c\n\x01"}`, 200, "application/json", `{"s":"a\"b\\c\n\u0001"}`, 0},
		{`[2**70, -1, 0.1, 1e100, 3.0]`, 200, "application/json", `[1180591620717411303424,-1,0.1,1e+100,3.0]`, 0},
		{`{1: "a", None: "b", False: "c", 2.5: "d"}`, 200, "application/json", `{"1":"a","null":"b","false":"c","2.5":"d"}`, 0},
		{`Point(1, 2)`, 200, "application/json", `{"x":1,"y":2}`, 0},
		// Errors: the handler's exception and unencodable values are 500s that get reported.
		{`1 / 0`, 500, "application/json", `{"error":"Internal Server Error"}`, 1},
		{`{"x": object()}`, 500, "application/json", `{"error":"Internal Server Error"}`, 1},
		{`[float("nan")]`, 500, "application/json", `{"error":"Internal Server Error"}`, 1},
		{`(99, "x")`, 500, "application/json", `{"error":"Internal Server Error"}`, 1},
		{`(200, "x", {"bad\nname": "v"})`, 500, "application/json", `{"error":"Internal Server Error"}`, 1},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			status, header, body, reports := run(t, c.expr, emptyRequest())
			if status != c.status || header["content-type"] != c.ctype || body != c.body || reports != c.reports {
				t.Errorf("got %d %q %q reports=%d; want %d %q %q reports=%d",
					status, header["content-type"], body, reports, c.status, c.ctype, c.body, c.reports)
			}
		})
	}
}

func TestHTTPError(t *testing.T) {
	// Raising needs a statement: use a generator's throw.
	status, header, body, reports := run(t,
		`(_ for _ in ()).throw(HTTPError(404, "no such user", {"x-why": "gone"}))`, emptyRequest())
	if status != 404 || body != `{"error":"no such user"}` || header["x-why"] != "gone" || reports != 0 {
		t.Errorf("got %d %q %v reports=%d", status, body, header, reports)
	}
}

func TestDecode(t *testing.T) {
	// Every wire value, echoed back through the JSON encoder.
	var e wire.Encoder
	e.Dict(9)
	e.Key(wire.KeyMethod)
	e.Key(wire.KeyPOST)
	e.Str("int")
	e.Int(-42)
	e.Str("big")
	e.BigInt("123456789012345678901234567890")
	e.Str("float")
	e.Float(1.5)
	e.Str("bools")
	e.List(3)
	e.Bool(true)
	e.Bool(false)
	e.None()
	e.Str("uuid")
	e.UUID("12345678-1234-5678-1234-567812345678")
	e.Str("bytes")
	e.Bytes([]byte("raw"))
	e.Str("bad utf-8")
	e.StrBytes([]byte{'a', 0xff})
	e.Str("nested")
	e.Dict(1)
	e.Key(wire.KeyPath)
	e.List(0)
	expr := `{k: (str(v) if k in ("uuid", "bytes") else v) for k, v in request.items()}`
	status, _, body, _ := run(t, expr, e.Buf)
	want := `{"method":"POST","int":-42,"big":123456789012345678901234567890,"float":1.5,` +
		`"bools":[true,false,null],"uuid":"12345678-1234-5678-1234-567812345678","bytes":"b'raw'",` +
		`"bad utf-8":"a` + "\ufffd" + `","nested":{"path":[]}}`
	if status != 200 || body != want {
		t.Errorf("got %d\n%s\nwant\n%s", status, body, want)
	}
}

func TestCorruptRequestIsA500(t *testing.T) {
	status, _, _, reports := run(t, `request`, []byte{'d', 5, 0, 0, 0})
	if status != 500 || reports != 1 {
		t.Errorf("got %d reports=%d", status, reports)
	}
}

// sampleRequest is what the server encodes for GET /hello with a few headers.
func sampleRequest() []byte {
	var e wire.Encoder
	e.Dict(10)
	e.Key(wire.KeyMethod)
	e.Key(wire.KeyGET)
	e.Key(wire.KeyPath)
	e.Str("/hello")
	e.Key(wire.KeyURL)
	e.Str("http://127.0.0.1:8000/hello")
	e.Key(wire.KeyClient)
	e.Str("127.0.0.1:50000")
	e.Key(wire.KeyHeaders)
	e.Dict(3)
	e.Str("host")
	e.Str("127.0.0.1:8000")
	e.Str("user-agent")
	e.Str("wrk")
	e.Str("accept")
	e.Str("*/*")
	e.Key(wire.KeyQueryParams)
	e.Dict(0)
	e.Key(wire.KeyPathParams)
	e.Dict(0)
	e.Key(wire.KeyBody)
	e.None()
	e.Key(wire.KeyFormData)
	e.Dict(0)
	e.Key(wire.KeyRawBody)
	e.Bytes(nil)
	return e.Buf
}

// BenchmarkInvoke reports the cost of one Python crossing: request dict
// build, handler call and response conversion (ns/op).
func BenchmarkInvoke(b *testing.B) {
	for _, bc := range []struct{ name, expr string }{
		{"noop", `None`},                  // dict build + call + 204
		{"hello", `{"message": "hello"}`}, // + a small JSON body
		{"echo-request", `{k: v for k, v in request.items() if k != "raw_body"}`}, // + a 10-key JSON body
	} {
		b.Run(bc.name, func(b *testing.B) {
			WithGIL(func(gil GIL) {
				python3.PyRun_SimpleString("RESULT = lambda request: " + bc.expr)
				h := NewHandler(gil, python3.PyDict_GetItemString(mainDict, "handler"), "bench")
				defer h.Close(gil)
				r := NewResult()
				defer r.Free()
				req := sampleRequest()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					Invoke(gil, h, req, false, nil, r)
					_ = r.Reply()
				}
			})
		})
	}
}
