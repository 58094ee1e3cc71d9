package pyroute

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
)

// multipartBody is a form with repeated fields, an empty field, a file with
// a content type, one without (and with a path in its name) and a part
// without a form name, under the boundary "XyZ".
func multipartBody(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary("XyZ"); err != nil {
		t.Fatal(err)
	}
	part := func(disposition, contentType, content string) {
		h := textproto.MIMEHeader{"Content-Disposition": {disposition}}
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	part(`form-data; name="title"`, "", "hello")
	part(`form-data; name="upload"; filename="a.txt"`, "text/plain", "abc")
	part(`form-data; name="title"`, "", "second")
	part(`form-data; name="note"`, "", "")
	part(`form-data; name="blob"; filename="../x.bin"`, "", "\x00\x01")
	part(`attachment; filename="ignored.txt"`, "", "no form name")
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestRequestDict(t *testing.T) {
	form := multipartBody(t)
	tests := []struct {
		name   string
		method string
		target string
		header [][2]string // added in order
		body   string
		setup  func(*http.Request)
		want   map[string]string // request dict field -> repr
	}{
		// The whole dict of a plain GET: keys in order, no body, empty form.
		{
			name: "plain GET", method: "GET", target: "/items?a=1",
			want: map[string]string{"": `{"method": "GET", "path": "/items", "url": "http://example.com/items?a=1", ` +
				`"client": "192.0.2.1:1234", "headers": {"host": "example.com"}, "cookies": {}, "query_params": {"a": "1"}, ` +
				`"path_params": {}, "body": None, "form_data": {}, "raw_body": b""}`},
		},
		// A method without an interned key is sent as text.
		{
			name: "extension method", method: "PURGE", target: "/submit",
			want: map[string]string{"method": `"PURGE"`},
		},
		// path is decoded; url keeps the client's escaping.
		{
			name: "escaped path", method: "GET", target: "/files/a%20b%2Fc?x=%41",
			want: map[string]string{"path": `"/files/a b/c"`, "url": `"http://example.com/files/a%20b%2Fc?x=%41"`},
		},
		// TLS makes the scheme https.
		{
			name: "https", method: "GET", target: "https://secure.example/items",
			want: map[string]string{"url": `"https://secure.example/items"`},
		},
		// An empty query (a bare "?") adds nothing to url.
		{
			name: "bare question mark", method: "GET", target: "/items?",
			want: map[string]string{"url": `"http://example.com/items"`, "query_params": `{}`},
		},
		// The Host header (req.Host) is both the url's host and headers["host"].
		{
			name: "host with port", method: "GET", target: "/items",
			setup: func(r *http.Request) { r.Host = "api.local:8080" },
			want:  map[string]string{"url": `"http://api.local:8080/items"`, "headers": `{"host": "api.local:8080"}`},
		},
		// No Host at all (HTTP/1.0): url falls back to the local address.
		{
			name: "no host", method: "GET", target: "/items",
			setup: func(r *http.Request) {
				r.Host = ""
				*r = *r.WithContext(contextWithLocalAddr(r.Context(), "10.0.0.1:8000"))
			},
			want: map[string]string{"url": `"http://10.0.0.1:8000/items"`, "headers": `{}`},
		},
		// client is RemoteAddr as is, IPv6 included.
		{
			name: "client", method: "GET", target: "/items",
			setup: func(r *http.Request) { r.RemoteAddr = "[::1]:5555" },
			want:  map[string]string{"client": `"[::1]:5555"`},
		},
		// Names are lower-cased, host comes first, the rest sorted;
		// repeats are joined in arrival order.
		{
			name: "headers", method: "GET", target: "/items",
			header: [][2]string{{"X-B", "2"}, {"Accept", "a/b"}, {"X-B", "3"}, {"X-Empty", ""}},
			setup:  func(r *http.Request) { r.Header["x-raw-Name"] = []string{"v"} },
			want: map[string]string{"headers": `{"host": "example.com", "accept": "a/b", "x-b": "2, 3", ` +
				`"x-empty": "", "x-raw-name": "v"} + getlist {"x-b": ["2", "3"]}`},
		},
		// Cookies: every Cookie field, split on ";" then the first "=",
		// trimmed, quotes dropped, a later name winning.
		{
			name: "cookies", method: "GET", target: "/items",
			header: [][2]string{{"Cookie", "a=1; b=\"two words\"; flag; c=x=y"}, {"Cookie", "a=3"}},
			want:   map[string]string{"cookies": `{"a": "1", "b": "two words", "": "flag", "c": "x=y", "a": "3"}`},
		},
		// A chunked body's Transfer-Encoding, which net/http takes out of
		// the header map, is put back.
		{
			name: "transfer-encoding", method: "POST", target: "/submit",
			header: [][2]string{{"Content-Type", "text/plain"}},
			body:   "abc",
			setup: func(r *http.Request) {
				r.ContentLength = -1
				r.TransferEncoding = []string{"chunked"}
			},
			want: map[string]string{
				"headers":  `{"host": "example.com", "content-type": "text/plain", "transfer-encoding": "chunked"}`,
				"raw_body": `b"abc"`,
			},
		},
		// A stray Host entry in the header map is not sent twice.
		{
			name: "host in header map", method: "GET", target: "/items",
			setup: func(r *http.Request) { r.Header["Host"] = []string{"other"} },
			want:  map[string]string{"headers": `{"host": "example.com"}`},
		},
		// First value wins; escapes are decoded; malformed pairs are
		// skipped without failing the request.
		{
			name: "query", method: "GET", target: "/items?a=1&a=2&q=x+y%21&bad=%zz&bad=ok&s;c=1&=e&flag",
			want: map[string]string{"query_params": `{"a": "1", "q": "x y!", "bad": "ok", "": "e", "flag": ""} + getlist {"a": ["1", "2"]}`},
		},
		// Path parameters are converted per kind.
		{
			name: "int", method: "GET", target: "/users/42",
			want: map[string]string{"path_params": `{"id": 42}`},
		},
		{
			name: "negative int", method: "GET", target: "/users/-7",
			want: map[string]string{"path_params": `{"id": -7}`},
		},
		// The largest int64 is still an int; one more is a big integer.
		{
			name: "max int64", method: "GET", target: "/users/9223372036854775807",
			want: map[string]string{"path_params": `{"id": 9223372036854775807}`},
		},
		{
			name: "big int", method: "GET", target: "/users/9223372036854775808",
			want: map[string]string{"path_params": `{"id": big(9223372036854775808)}`},
		},
		{
			name: "float", method: "GET", target: "/price/3.50",
			want: map[string]string{"path_params": `{"p": 3.5}`},
		},
		// An integral float is still a float.
		{
			name: "integral float", method: "GET", target: "/price/-3",
			want: map[string]string{"path_params": `{"p": -3.0}`},
		},
		// UUIDs are passed in any case; Python normalises them.
		{
			name: "uuid", method: "GET", target: "/obj/0F8FAD5B-D9CB-469F-A165-70867728950E",
			want: map[string]string{"path_params": `{"id": UUID("0F8FAD5B-D9CB-469F-A165-70867728950E")}`},
		},
		{
			name: "path", method: "GET", target: "/files/a/b/c.txt",
			want: map[string]string{"path_params": `{"name": "a/b/c.txt"}`},
		},
		{
			name: "str decoded", method: "GET", target: "/s/caf%C3%A9",
			want: map[string]string{"path_params": `{"name": "café"}`},
		},
		{
			name: "several params", method: "GET", target: "/mix/x/1/2.5",
			want: map[string]string{"path_params": `{"name": "x", "n": 1, "f": 2.5}`},
		},
		// JSON bodies are parsed in order; form_data stays empty and
		// raw_body holds the bytes.
		{
			name: "json", method: "POST", target: "/submit",
			header: [][2]string{{"Content-Type", "application/json"}},
			body:   `{"b": [1, 2.5, "x", null, true], "a": {}}`,
			want: map[string]string{
				"body":      `{"b": [1, 2.5, "x", None, True], "a": {}}`,
				"form_data": `{}`,
				"raw_body":  `b"{\"b\": [1, 2.5, \"x\", null, true], \"a\": {}}"`,
			},
		},
		// A +json suffix and parameters count as JSON.
		{
			name: "+json", method: "PUT", target: "/submit",
			header: [][2]string{{"Content-Type", "application/problem+json; charset=utf-8"}},
			body:   `[1]`,
			want:   map[string]string{"body": `[1]`},
		},
		// Media types are case-insensitive.
		{
			name: "upper-case json", method: "POST", target: "/submit",
			header: [][2]string{{"Content-Type", "APPLICATION/JSON"}},
			body:   `"s"`,
			want:   map[string]string{"body": `"s"`},
		},
		// A broken parameter does not hide the media type.
		{
			name: "json with bad parameter", method: "POST", target: "/submit",
			header: [][2]string{{"Content-Type", "application/json; charset"}},
			body:   `null`,
			want:   map[string]string{"body": `None`},
		},
		// An empty JSON body is None, not an error.
		{
			name: "empty json", method: "POST", target: "/submit",
			header: [][2]string{{"Content-Type", "application/json"}},
			want:   map[string]string{"body": `None`, "raw_body": `b""`},
		},
		// Other content types leave body None and form_data empty.
		{
			name: "text", method: "POST", target: "/submit",
			header: [][2]string{{"Content-Type", "text/plain"}},
			body:   `{"a": 1}`,
			want:   map[string]string{"body": `None`, "form_data": `{}`, "raw_body": `b"{\"a\": 1}"`},
		},
		{
			name: "no content type", method: "POST", target: "/submit",
			body: `a=1`,
			want: map[string]string{"body": `None`, "form_data": `{}`, "raw_body": `b"a=1"`},
		},
		// An unparsable Content-Type is neither JSON nor a form.
		{
			name: "bad content type", method: "POST", target: "/submit",
			header: [][2]string{{"Content-Type", "/json"}},
			body:   `{`,
			want:   map[string]string{"body": `None`, "form_data": `{}`},
		},
		// urlencoded forms: first value of each field, no files.
		{
			name: "urlencoded", method: "POST", target: "/submit",
			header: [][2]string{{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}},
			body:   `a=1&a=2&b=x+y&c=%2F`,
			want: map[string]string{
				"form_data": `{"fields": {"a": "1", "b": "x y", "c": "/"} + getlist {"a": ["1", "2"]}, "files": []}`,
				"body":      `None`,
				"raw_body":  `b"a=1&a=2&b=x+y&c=%2F"`,
			},
		},
		// multipart: first value of each field (every value for getlist), every file in order,
		// base names only, a default content type, unnamed parts skipped.
		{
			name: "multipart", method: "POST", target: "/submit",
			header: [][2]string{{"Content-Type", "multipart/form-data; boundary=XyZ"}},
			body:   form,
			want: map[string]string{
				"form_data": `{"fields": {"title": "hello", "note": ""} + getlist {"title": ["hello", "second"]}, "files": [` +
					`{"name": "upload", "filename": "a.txt", "content_type": "text/plain", "size": 3, "content": b"abc"}, ` +
					`{"name": "blob", "filename": "x.bin", "content_type": "application/octet-stream", "size": 2, "content": b"\x00\x01"}]}`,
				"body": `None`,
			},
		},
		// An empty multipart body is an empty form.
		{
			name: "empty multipart", method: "POST", target: "/submit",
			header: [][2]string{{"Content-Type", "multipart/form-data; boundary=XyZ"}},
			want:   map[string]string{"form_data": `{"fields": {}, "files": []}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			for _, h := range tt.header {
				req.Header.Add(h[0], h[1])
			}
			if tt.setup != nil {
				tt.setup(req)
			}
			b := &fakeBackend{}
			rec := serve(t, b, Config{}, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			for field, want := range tt.want {
				got := rec.Body.String() // "" means the whole dict
				if field != "" {
					got = b.field(t, field)
				}
				if got != want {
					t.Errorf("%s:\n got %s\nwant %s", field, got, want)
				}
			}
		})
	}
}

// TestRequestInternedKeys checks that the fixed keys and standard methods
// travel as one-byte interned keys.
func TestRequestInternedKeys(t *testing.T) {
	tests := []struct {
		method     string
		wantMethod any
	}{
		{"GET", key("GET")},        // standard: interned
		{"PUT", key("PUT")},        // standard: interned
		{"PURGE", string("PURGE")}, // extension: plain str
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			target := "/submit"
			if tt.method == "GET" {
				target = "/items"
			}
			b := &fakeBackend{}
			serve(t, b, Config{}, httptest.NewRequest(tt.method, target, nil))
			want := []string{"method", "path", "url", "client", "headers", "cookies", "query_params",
				"path_params", "body", "form_data", "raw_body"}
			if len(b.last) != len(want) {
				t.Fatalf("got %d keys, want %d: %s", len(b.last), len(want), repr(b.last))
			}
			for i, e := range b.last {
				if e.k != key(want[i]) {
					t.Errorf("key %d is %#v, want interned %q", i, e.k, want[i])
				}
			}
			if b.last[0].v != tt.wantMethod {
				t.Errorf("method is %#v, want %#v", b.last[0].v, tt.wantMethod)
			}
		})
	}
}

// TestRequestRejected covers requests answered without calling the backend.
func TestRequestRejected(t *testing.T) {
	manyParts := func(n int, disposition string) string {
		part := "--XyZ\r\nContent-Disposition: " + disposition + "\r\n\r\nv\r\n"
		return strings.Repeat(part, n) + "--XyZ--\r\n"
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		length      int64 // overrides ContentLength when non-zero
		max         int64 // Config.MaxBodyBytes
		wantStatus  int
		wantBody    string // exact, or a prefix when it ends in "..."
	}{
		// Invalid JSON: the parser's message and offset.
		{
			name: "invalid json", contentType: "application/json", body: `{"a": }`,
			wantStatus: 400, wantBody: `{"error":"invalid JSON body: unexpected character '}' at offset 6"}`,
		},
		// Trailing data after the document.
		{
			name: "json trailing data", contentType: "application/json", body: `1 2`,
			wantStatus: 400, wantBody: `{"error":"invalid JSON body: unexpected character '2' after top-level value at offset 2"}`,
		},
		// The message is JSON-escaped.
		{
			name: "json message escaped", contentType: "application/json", body: `"\q"`,
			wantStatus: 400, wantBody: `{"error":"invalid JSON body: invalid escape '\\q' in string at offset 1"}`,
		},
		{
			name: "multipart without boundary", contentType: "multipart/form-data", body: "x",
			wantStatus: 400, wantBody: `{"error":"invalid multipart body: no boundary in Content-Type"}`,
		},
		// No boundary line at all.
		{
			name: "multipart garbage", contentType: "multipart/form-data; boundary=XyZ", body: "garbage",
			wantStatus: 400, wantBody: `{"error":"invalid multipart body: multipart: NextPart: EOF"}`,
		},
		// A part cut off before the closing boundary.
		{
			name: "multipart truncated", contentType: "multipart/form-data; boundary=XyZ",
			body:       "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue",
			wantStatus: 400, wantBody: `{"error":"invalid multipart body: field \"a\": unexpected EOF"}`,
		},
		// Part counts are bounded, repeated names included.
		{
			name: "too many fields", contentType: "multipart/form-data; boundary=XyZ",
			body:       manyParts(maxFormFields+1, `form-data; name="f"`),
			wantStatus: 400, wantBody: `{"error":"invalid multipart body: more than 1000 fields"}`,
		},
		{
			name: "too many files", contentType: "multipart/form-data; boundary=XyZ",
			body:       manyParts(maxFormFiles+1, `form-data; name="f"; filename="a"`),
			wantStatus: 400, wantBody: `{"error":"invalid multipart body: more than 1000 files"}`,
		},
		// At the limits the form is accepted.
		{
			name: "fields at the limit", contentType: "multipart/form-data; boundary=XyZ",
			body:       manyParts(maxFormFields, `form-data; name="f"`),
			wantStatus: 200,
		},
		// Over the limit with a known length: rejected before reading.
		{
			name: "too large", contentType: "text/plain", body: "12345678901", max: 10,
			wantStatus: 413, wantBody: `{"error":"request body too large"}`,
		},
		// Over the limit with an unknown length (chunked): found while reading.
		{
			name: "too large chunked", contentType: "text/plain", body: "12345678901", length: -1, max: 10,
			wantStatus: 413, wantBody: `{"error":"request body too large"}`,
		},
		// The default limit is 16 MiB; the declared length alone decides.
		{
			name: "default limit", contentType: "text/plain", body: "x", length: 16<<20 + 1,
			wantStatus: 413, wantBody: `{"error":"request body too large"}`,
		},
		// Exactly at the limit is fine (the echo backend answers 200).
		{
			name: "at the limit", contentType: "text/plain", body: "1234567890", max: 10,
			wantStatus: 200,
		},
		{
			name: "at the limit chunked", contentType: "text/plain", body: "1234567890", length: -1, max: 10,
			wantStatus: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/submit", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			if tt.length != 0 {
				req.ContentLength = tt.length
			}
			b := &fakeBackend{}
			rec := serve(t, b, Config{MaxBodyBytes: tt.max}, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			wantCalls := 0
			if tt.wantStatus == 200 {
				wantCalls = 1
			} else {
				if got := rec.Body.String(); got != tt.wantBody {
					t.Errorf("body\n got %s\nwant %s", got, tt.wantBody)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
			}
			if n := b.callCount(); n != wantCalls {
				t.Errorf("backend called %d times, want %d", n, wantCalls)
			}
		})
	}
}

// contextWithLocalAddr returns ctx carrying addr as the server's local
// address, as net/http sets it.
func contextWithLocalAddr(ctx context.Context, addr string) context.Context {
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		panic(err)
	}
	return context.WithValue(ctx, http.LocalAddrContextKey, a)
}
