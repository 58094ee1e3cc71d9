package files

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/databridge/databridge/server"
)

var content26 = []byte("abcdefghijklmnopqrstuvwxyz")

// mtime is the files' modification time (whole seconds, as HTTP dates).
var mtime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func request(method, target string, header ...string) *server.Request {
	raw, query, _ := strings.Cut(target, "?")
	path, err := url.PathUnescape(raw)
	if err != nil {
		path = raw
	}
	r := &server.Request{Method: method, Target: target, Path: path, RawPath: raw, RawQuery: query, ProtoMajor: 1, ProtoMinor: 1}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(strings.ToLower(header[i]), header[i+1])
	}
	return r
}

func record(h func(w server.ResponseWriter, r *server.Request), r *server.Request) *server.Recorder {
	rec := &server.Recorder{Head: r.Method == http.MethodHead}
	h(rec, r)
	rec.Finish()
	return rec
}

func serveFile(t *testing.T, path string, opts *Options) func(w server.ResponseWriter, r *server.Request) {
	return func(w server.ResponseWriter, r *server.Request) {
		if err := Serve(w, r, path, opts); err != nil {
			t.Fatalf("Serve: %v", err)
		}
	}
}

func TestServeConditionsAndRanges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "letters.txt")
	writeFile(t, path, content26)
	etag := ETag(26, mtime, "")
	lm := mtime.Format(http.TimeFormat)
	older := mtime.Add(-time.Hour).Format(http.TimeFormat)
	newer := mtime.Add(time.Hour).Format(http.TimeFormat)

	tests := []struct {
		name   string
		method string
		header []string
		status int
		body   string
		fields map[string]string // "" value: must be absent
	}{
		{name: "whole", status: 200, body: string(content26), fields: map[string]string{
			"content-type": "text/plain; charset=utf-8", "content-length": "26", "etag": etag,
			"last-modified": lm, "accept-ranges": "bytes"}},
		{name: "head", method: "HEAD", status: 200, body: "", fields: map[string]string{"content-length": "26", "etag": etag}},
		{name: "range", header: []string{"Range", "bytes=0-4"}, status: 206, body: "abcde",
			fields: map[string]string{"content-range": "bytes 0-4/26", "content-length": "5"}},
		{name: "range open end", header: []string{"Range", "bytes=20-"}, status: 206, body: "uvwxyz",
			fields: map[string]string{"content-range": "bytes 20-25/26"}},
		{name: "range past the end is clamped", header: []string{"Range", "bytes=24-99"}, status: 206, body: "yz",
			fields: map[string]string{"content-range": "bytes 24-25/26"}},
		{name: "suffix range", header: []string{"Range", "bytes=-3"}, status: 206, body: "xyz",
			fields: map[string]string{"content-range": "bytes 23-25/26"}},
		{name: "suffix longer than the file", header: []string{"Range", "bytes=-100"}, status: 206, body: string(content26),
			fields: map[string]string{"content-range": "bytes 0-25/26"}},
		{name: "unit is case-insensitive", header: []string{"Range", "Bytes=1-1"}, status: 206, body: "b"},
		{name: "unsatisfiable", header: []string{"Range", "bytes=26-"}, status: 416,
			fields: map[string]string{"content-range": "bytes */26", "content-type": "application/json"}},
		{name: "zero suffix unsatisfiable", header: []string{"Range", "bytes=-0"}, status: 416,
			fields: map[string]string{"content-range": "bytes */26"}},
		{name: "unsatisfiable spec dropped", header: []string{"Range", "bytes=50-60, 1-2"}, status: 206, body: "bc"},
		{name: "invalid range ignored", header: []string{"Range", "bytes=5-1"}, status: 200, body: string(content26)},
		{name: "other unit ignored", header: []string{"Range", "items=0-1"}, status: 200, body: string(content26)},
		{name: "garbage ignored", header: []string{"Range", "bytes=a-b"}, status: 200, body: string(content26)},
		{name: "range on HEAD ignored", method: "HEAD", header: []string{"Range", "bytes=0-4"}, status: 200,
			fields: map[string]string{"content-length": "26", "content-range": ""}},
		{name: "range on POST ignored", method: "POST", header: []string{"Range", "bytes=0-4"}, status: 200, body: string(content26)},
		{name: "if-range etag match", header: []string{"Range", "bytes=0-1", "If-Range", etag}, status: 206, body: "ab"},
		{name: "if-range etag mismatch", header: []string{"Range", "bytes=0-1", "If-Range", `"other"`}, status: 200, body: string(content26)},
		{name: "if-range weak never matches", header: []string{"Range", "bytes=0-1", "If-Range", "W/" + etag}, status: 200, body: string(content26)},
		{name: "if-range date match", header: []string{"Range", "bytes=0-1", "If-Range", lm}, status: 206, body: "ab"},
		{name: "if-range date mismatch", header: []string{"Range", "bytes=0-1", "If-Range", older}, status: 200, body: string(content26)},
		{name: "if-none-match", header: []string{"If-None-Match", etag}, status: 304,
			fields: map[string]string{"etag": etag, "last-modified": lm, "content-length": "", "content-type": ""}},
		{name: "if-none-match list", header: []string{"If-None-Match", `"a", ` + etag + `, "b"`}, status: 304},
		{name: "if-none-match across fields", header: []string{"If-None-Match", `"a"`, "If-None-Match", etag}, status: 304},
		{name: "if-none-match comma in a tag", header: []string{"If-None-Match", `"a,b", ` + etag}, status: 304},
		{name: "if-none-match star", header: []string{"If-None-Match", "*"}, status: 304},
		{name: "if-none-match weak compares weakly", header: []string{"If-None-Match", "W/" + etag}, status: 304},
		{name: "if-none-match mismatch", header: []string{"If-None-Match", `"nope", W/"no"`}, status: 200, body: string(content26)},
		{name: "if-none-match on POST", method: "POST", header: []string{"If-None-Match", etag}, status: 412},
		{name: "if-none-match wins over if-modified-since", header: []string{"If-None-Match", `"x"`, "If-Modified-Since", newer}, status: 200},
		{name: "if-modified-since equal", header: []string{"If-Modified-Since", lm}, status: 304},
		{name: "if-modified-since later", header: []string{"If-Modified-Since", newer}, status: 304},
		{name: "if-modified-since older", header: []string{"If-Modified-Since", older}, status: 200, body: string(content26)},
		{name: "if-modified-since invalid", header: []string{"If-Modified-Since", "yesterday"}, status: 200},
		{name: "if-modified-since on HEAD", method: "HEAD", header: []string{"If-Modified-Since", lm}, status: 304},
		{name: "if-modified-since on POST ignored", method: "POST", header: []string{"If-Modified-Since", lm}, status: 200},
		{name: "if-match", header: []string{"If-Match", etag}, status: 200},
		{name: "if-match star", header: []string{"If-Match", "*"}, status: 200},
		{name: "if-match mismatch", header: []string{"If-Match", `"other"`}, status: 412},
		{name: "if-match weak fails", header: []string{"If-Match", "W/" + etag}, status: 412},
		{name: "if-unmodified-since older", header: []string{"If-Unmodified-Since", older}, status: 412},
		{name: "if-unmodified-since equal", header: []string{"If-Unmodified-Since", lm}, status: 200},
		{name: "if-match wins over if-unmodified-since", header: []string{"If-Match", etag, "If-Unmodified-Since", older}, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			rec := record(serveFile(t, path, nil), request(method, "/f", tt.header...))
			if rec.Status != tt.status {
				t.Fatalf("status %d, want %d (%v)", rec.Status, tt.status, rec.Fields.Fields())
			}
			if tt.body != "" || tt.status == 304 || method == "HEAD" {
				if string(rec.Body) != tt.body {
					t.Errorf("body %q, want %q", rec.Body, tt.body)
				}
			}
			for name, want := range tt.fields {
				got, ok := rec.Fields.Lookup(name)
				if want == "" && ok {
					t.Errorf("%s: %q, want none", name, got)
				} else if want != "" && got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestServeMultipleRanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "letters.txt")
	writeFile(t, path, content26)
	rec := record(serveFile(t, path, nil), request("GET", "/f", "Range", "bytes=0-2, -2"))
	if rec.Status != 206 {
		t.Fatalf("status %d", rec.Status)
	}
	mt, params, err := mime.ParseMediaType(rec.Fields.Get("content-type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("content-type %q", rec.Fields.Get("content-type"))
	}
	if rec.Fields.Get("content-length") != "" && rec.Fields.Get("content-length") != strconv.Itoa(len(rec.Body)) {
		t.Errorf("content-length %s for %d bytes", rec.Fields.Get("content-length"), len(rec.Body))
	}
	mr := multipart.NewReader(bytes.NewReader(rec.Body), params["boundary"])
	want := []struct{ cr, body string }{{"bytes 0-2/26", "abc"}, {"bytes 24-25/26", "yz"}}
	for i, w := range want {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		b, _ := io.ReadAll(p)
		if p.Header.Get("Content-Range") != w.cr || string(b) != w.body || p.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("part %d: %v %q", i, p.Header, b)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("more parts: %v", err)
	}
	// Overlapping ranges adding up to more than the file, or too many: the whole file.
	for _, spec := range []string{"bytes=0-20,5-25", "bytes=" + strings.Repeat("0-0,", 40) + "1-1"} {
		rec := record(serveFile(t, path, nil), request("GET", "/f", "Range", spec))
		if rec.Status != 200 || string(rec.Body) != string(content26) {
			t.Errorf("%s: status %d", spec, rec.Status)
		}
	}
}

func TestServeLargeFiles(t *testing.T) {
	for _, size := range []int{smallFile + 1000, maxBuffered + 1000} {
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
		path := filepath.Join(t.TempDir(), "big.bin")
		writeFile(t, path, data)
		rec := record(serveFile(t, path, nil), request("GET", "/f"))
		if rec.Status != 200 || !bytes.Equal(rec.Body, data) || rec.Fields.Get("content-type") != "application/octet-stream" {
			t.Fatalf("status %d, %d bytes, %v", rec.Status, len(rec.Body), rec.Fields.Get("content-type"))
		}
		rec = record(serveFile(t, path, nil), request("GET", "/f", "Range", "bytes=100-"))
		if rec.Status != 206 || !bytes.Equal(rec.Body, data[100:]) {
			t.Fatalf("range: status %d, %d bytes", rec.Status, len(rec.Body))
		}
	}
}

// readFromRecorder is a writer with ReadFrom, as the HTTP/1.1 writer will
// have for sendfile.
type readFromRecorder struct {
	server.Recorder
	sources []io.Reader
}

func (w *readFromRecorder) ReadFrom(r io.Reader) (int64, error) {
	w.sources = append(w.sources, r)
	b, err := io.ReadAll(r)
	w.Recorder.Write(b)
	return int64(len(b)), err
}

func TestServeUsesReadFrom(t *testing.T) {
	data := bytes.Repeat([]byte("x"), tinyFile+2)
	path := filepath.Join(t.TempDir(), "f.bin")
	writeFile(t, path, data)
	w := &readFromRecorder{}
	must(t, Serve(w, request("GET", "/f", "Range", "bytes=1-"), path, nil))
	w.Finish()
	if len(w.sources) != 1 || w.Status != 206 || !bytes.Equal(w.Body, data[1:]) || w.Header().Get("content-length") != strconv.Itoa(tinyFile+1) {
		t.Fatalf("sources %v status %d len %d cl %q", w.sources, w.Status, len(w.Body), w.Header().Get("content-length"))
	}
	lr, ok := w.sources[0].(*io.LimitedReader)
	if !ok {
		t.Fatalf("source %T, want *io.LimitedReader", w.sources[0])
	}
	if _, ok := lr.R.(syscall.Conn); !ok {
		t.Fatalf("limited reader over %T, want a syscall.Conn (sendfile)", lr.R)
	}
}

// TestDirSectionsRead: a Dir's bodies are sections of the descriptor
// (server.FileRange), read with pread by a writer that does not send
// them by sendfile: a range, and several ranges after one another, byte
// exact.
func TestDirSectionsRead(t *testing.T) {
	data := make([]byte, tinyFile+5000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f.bin"), data)
	d, err := NewDir(dir, "/s", DirOptions{})
	must(t, err)
	defer d.Close()
	w := &readFromRecorder{}
	d.Serve(w, request("GET", "/s/f.bin", "Range", "bytes=3-"))
	w.Finish()
	if len(w.sources) != 1 || w.Status != 206 || !bytes.Equal(w.Body, data[3:]) {
		t.Fatalf("range: sources %d status %d, %d bytes", len(w.sources), w.Status, len(w.Body))
	}
	if _, ok := w.sources[0].(server.FileRange); !ok {
		t.Fatalf("source %T, want a server.FileRange", w.sources[0])
	}
	w = &readFromRecorder{}
	d.Serve(w, request("GET", "/s/f.bin", "Range", "bytes=0-9,20000-"))
	w.Finish()
	if len(w.sources) != 2 || w.Status != 206 || !bytes.Contains(w.Body, data[:10]) || !bytes.Contains(w.Body, data[20000:]) {
		t.Fatalf("ranges: sources %d status %d, %d bytes", len(w.sources), w.Status, len(w.Body))
	}
}

func TestServeOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blob")
	writeFile(t, path, content26)
	// TypeName picks the type; a status other than 200 sends the file whole, unconditionally.
	rec := record(serveFile(t, path, &Options{Status: 404, TypeName: "page.html", CacheControl: "no-cache"}),
		request("GET", "/f", "If-None-Match", "*", "Range", "bytes=0-1"))
	if rec.Status != 404 || string(rec.Body) != string(content26) || rec.Fields.Get("content-type") != "text/html; charset=utf-8" ||
		rec.Fields.Get("cache-control") != "no-cache" {
		t.Fatalf("got %d %q %v", rec.Status, rec.Body, rec.Fields.Fields())
	}
	// The handler's own validators and content type are kept and compared with.
	h := func(w server.ResponseWriter, r *server.Request) {
		w.Header().Add("etag", `"mine"`)
		w.Header().Add("content-type", "text/x-mine")
		if err := Serve(w, r, path, nil); err != nil {
			t.Fatal(err)
		}
	}
	rec = record(h, request("GET", "/f"))
	if rec.Fields.Get("etag") != `"mine"` || len(rec.Fields.Values("etag")) != 1 || rec.Fields.Get("content-type") != "text/x-mine" {
		t.Fatalf("fields %v", rec.Fields.Fields())
	}
	if rec = record(h, request("GET", "/f", "If-None-Match", `"mine"`)); rec.Status != 304 {
		t.Fatalf("status %d", rec.Status)
	}
	// Errors leave the response to the caller.
	w := &server.Recorder{}
	if err := Serve(w, request("GET", "/"), filepath.Join(t.TempDir(), "missing"), nil); !IsNotFound(err) {
		t.Errorf("missing file: %v", err)
	}
	if err := Serve(w, request("GET", "/"), t.TempDir(), nil); !IsNotFound(err) {
		t.Errorf("directory: %v", err)
	}
	if w.Status != 0 || w.Header().Len() != 0 {
		t.Errorf("wrote %d %v", w.Status, w.Header().Fields())
	}
}

func TestTypeByName(t *testing.T) {
	for name, want := range map[string]string{
		"a.html": "text/html; charset=utf-8", "A.HTML": "text/html; charset=utf-8", "x.css": "text/css; charset=utf-8",
		"x.js": "text/javascript; charset=utf-8", "x.mjs": "text/javascript; charset=utf-8", "x.json": "application/json",
		"x.png": "image/png", "x.jpg": "image/jpeg", "x.svg": "image/svg+xml", "x.woff2": "font/woff2",
		"x.wasm": "application/wasm", "x.pdf": "application/pdf", "x.txt": "text/plain; charset=utf-8",
		"noext": "application/octet-stream", "x.unknown-ext": "application/octet-stream", "d.v1/noext": "application/octet-stream",
		"x.webp": "image/webp", "x.ico": "image/x-icon", "x.gz": "application/gzip",
	} {
		if got := TypeByName(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		spec string
		size int64
		want []span
		err  error
	}{
		{"bytes=0-0", 10, []span{{0, 1}}, nil},
		{"bytes= 0-1 , 3-4 ", 10, []span{{0, 2}, {3, 2}}, nil},
		{"bytes=,0-1,,", 10, []span{{0, 2}}, nil},
		{"bytes=9-", 10, []span{{9, 1}}, nil},
		{"bytes=10-", 10, nil, errUnsatisfiable},
		{"bytes=0-", 0, nil, errUnsatisfiable},
		{"bytes=-1", 0, nil, errUnsatisfiable},
		{"bytes=", 10, nil, errIgnoreRange},
		{"bytes=1", 10, nil, errIgnoreRange},
		{"bytes=-", 10, nil, errIgnoreRange},
		{"bytes=+1-2", 10, nil, errIgnoreRange},
		{"bytes=1-2-3", 10, nil, errIgnoreRange},
		{"bytes=99999999999999999999-", 10, nil, errIgnoreRange},
		{"bytes 0-1", 10, nil, errIgnoreRange},
	}
	for _, tt := range tests {
		got, err := parseRange(tt.spec, tt.size)
		if err != tt.err || len(got) != len(tt.want) {
			t.Errorf("%q: %v %v, want %v %v", tt.spec, got, err, tt.want, tt.err)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q: %v, want %v", tt.spec, got, tt.want)
			}
		}
	}
}

func TestAcceptQ(t *testing.T) {
	for _, tt := range []struct {
		ae, coding string
		q          float64
	}{
		{"gzip, br", "br", 1}, {"gzip;q=0.5", "gzip", 0.5}, {"gzip;q=0", "gzip", 0}, {"*", "br", 1},
		{"*;q=0, gzip", "br", 0}, {"identity", "gzip", 0}, {"GZIP", "gzip", 1}, {"gzip; q=0.25", "gzip", 0.25},
		{"gzip;q=2", "gzip", 0}, {"gzip;q=abc", "gzip", 0},
	} {
		if got := acceptQ(tt.ae, tt.coding); got != tt.q {
			t.Errorf("acceptQ(%q, %q) = %v, want %v", tt.ae, tt.coding, got, tt.q)
		}
	}
}

// staticTree makes a served directory, and a secret file beside it.
func staticTree(t *testing.T) (root, dir string) {
	root = t.TempDir()
	dir = filepath.Join(root, "static")
	writeFile(t, filepath.Join(root, "secret.txt"), []byte("secret"))
	writeFile(t, filepath.Join(dir, "app.js"), []byte("console.log(1)"))
	writeFile(t, filepath.Join(dir, "app.js.gz"), []byte("GZ"))
	writeFile(t, filepath.Join(dir, "app.js.br"), []byte("BR"))
	writeFile(t, filepath.Join(dir, "style.css"), []byte("body{}"))
	writeFile(t, filepath.Join(dir, "style.css.gz"), []byte("GZ"))
	writeFile(t, filepath.Join(dir, "a b.txt"), []byte("space"))
	writeFile(t, filepath.Join(dir, "index.html"), []byte("<h1>index</h1>"))
	writeFile(t, filepath.Join(dir, "404.html"), []byte("<h1>missing</h1>"))
	writeFile(t, filepath.Join(dir, "sub", "index.html"), []byte("<h1>sub</h1>"))
	writeFile(t, filepath.Join(dir, "sub", "page.txt"), []byte("page"))
	writeFile(t, filepath.Join(dir, "noindex", "x.txt"), []byte("x"))
	must(t, os.Symlink("../secret.txt", filepath.Join(dir, "escape.txt")))
	must(t, os.Symlink(root, filepath.Join(dir, "escapedir")))
	must(t, os.Symlink("sub/page.txt", filepath.Join(dir, "inside.txt")))
	must(t, os.Symlink(filepath.Join(dir, "sub", "page.txt"), filepath.Join(dir, "absinside.txt")))
	must(t, os.Symlink(filepath.Join(root, "secret.txt"), filepath.Join(dir, "absescape.txt")))
	return root, dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDir(t *testing.T) {
	_, dir := staticTree(t)
	plain, err := NewDir(dir, "/static", DirOptions{})
	must(t, err)
	defer plain.Close()
	html, err := NewDir(dir, "/static", DirOptions{HTML: true, CacheControl: "max-age=60"})
	must(t, err)
	defer html.Close()

	tests := []dirTest{
		{name: "file", d: plain, target: "/static/app.js", status: 200, body: "console.log(1)",
			fields: map[string]string{"content-type": "text/javascript; charset=utf-8", "vary": "", "content-encoding": ""}},
		{name: "escaped name", d: plain, target: "/static/a%20b.txt", status: 200, body: "space"},
		{name: "nested", d: plain, target: "/static/sub/page.txt", status: 200, body: "page"},
		{name: "escaped prefix", d: plain, target: "/st%61tic/app.js", status: 200, body: "console.log(1)"},
		{name: "query", d: plain, target: "/static/app.js?v=1", status: 200},
		{name: "missing", d: plain, target: "/static/nope.js", status: 404, fields: map[string]string{"content-type": "application/json"}},
		{name: "file with slash", d: plain, target: "/static/app.js/", status: 404},
		{name: "dir without html", d: plain, target: "/static/sub/", status: 404},
		{name: "dir without slash nor html", d: plain, target: "/static/sub", status: 404},
		{name: "root without html", d: plain, target: "/static/", status: 404},
		{name: "prefix without html", d: plain, target: "/static", status: 404},
		// Traversal: every way out is a 404.
		{name: "dotdot", d: plain, target: "/static/../secret.txt", status: 404},
		{name: "dotdot nested", d: plain, target: "/static/sub/../../secret.txt", status: 404},
		{name: "dotdot inside", d: plain, target: "/static/sub/../app.js", status: 404},
		{name: "dot", d: plain, target: "/static/./app.js", status: 404},
		{name: "encoded dotdot", d: plain, target: "/static/%2e%2e/secret.txt", status: 404},
		{name: "encoded dotdot upper", d: plain, target: "/static/%2E%2E/secret.txt", status: 404},
		{name: "encoded slash", d: plain, target: "/static/..%2fsecret.txt", status: 404},
		{name: "encoded slash in name", d: plain, target: "/static/sub%2fpage.txt", status: 404},
		{name: "prefix with encoded slash", d: plain, target: "/static%2fapp.js", status: 404},
		{name: "backslash", d: plain, target: "/static/..\\secret.txt", status: 404},
		{name: "encoded backslash", d: plain, target: "/static/..%5csecret.txt", status: 404},
		{name: "nul", d: plain, target: "/static/app.js%00.png", status: 404},
		{name: "empty segment", d: plain, target: "/static//app.js", status: 404},
		{name: "bad escape", d: plain, target: "/static/%zz", status: 404},
		{name: "symlink out", d: plain, target: "/static/escape.txt", status: 404},
		{name: "symlinked dir out", d: plain, target: "/static/escapedir/secret.txt", status: 404},
		{name: "absolute symlink out", d: plain, target: "/static/absescape.txt", status: 404},
		{name: "symlink inside", d: plain, target: "/static/inside.txt", status: 200, body: "page"},
		{name: "absolute symlink inside", d: plain, target: "/static/absinside.txt", status: 200, body: "page"},
		// Precompressed siblings.
		{name: "br", d: plain, target: "/static/app.js", header: []string{"Accept-Encoding", "gzip, deflate, br"}, status: 200, body: "BR",
			fields: map[string]string{"content-encoding": "br", "vary": "Accept-Encoding", "content-type": "text/javascript; charset=utf-8",
				"etag": ETag(2, mtime, "br"), "content-length": "2"}},
		{name: "gzip", d: plain, target: "/static/app.js", header: []string{"Accept-Encoding", "gzip"}, status: 200, body: "GZ",
			fields: map[string]string{"content-encoding": "gzip", "vary": "Accept-Encoding", "etag": ETag(2, mtime, "gzip")}},
		{name: "gzip preferred by q", d: plain, target: "/static/app.js", header: []string{"Accept-Encoding", "br;q=0.5, gzip"}, status: 200, body: "GZ"},
		{name: "br refused", d: plain, target: "/static/app.js", header: []string{"Accept-Encoding", "br;q=0, gzip;q=0"}, status: 200,
			body: "console.log(1)", fields: map[string]string{"content-encoding": "", "vary": "Accept-Encoding", "etag": ETag(14, mtime, "")}},
		{name: "only gz sibling", d: plain, target: "/static/style.css", header: []string{"Accept-Encoding", "br, gzip"}, status: 200, body: "GZ",
			fields: map[string]string{"content-encoding": "gzip"}},
		{name: "no sibling", d: plain, target: "/static/sub/page.txt", header: []string{"Accept-Encoding", "br, gzip"}, status: 200, body: "page",
			fields: map[string]string{"content-encoding": "", "vary": ""}},
		{name: "encoded 304", d: plain, target: "/static/app.js", header: []string{"Accept-Encoding", "br", "If-None-Match", ETag(2, mtime, "br")},
			status: 304, fields: map[string]string{"vary": "Accept-Encoding", "content-encoding": ""}},
		{name: "identity etag does not match encoded", d: plain, target: "/static/app.js", header: []string{"Accept-Encoding", "br", "If-None-Match", ETag(14, mtime, "")},
			status: 200, body: "BR"},
		{name: "encoded range", d: plain, target: "/static/app.js", header: []string{"Accept-Encoding", "br", "Range", "bytes=1-"}, status: 206, body: "R",
			fields: map[string]string{"content-range": "bytes 1-1/2"}},
		// html=True.
		{name: "html root", d: html, target: "/static/", status: 200, body: "<h1>index</h1>",
			fields: map[string]string{"content-type": "text/html; charset=utf-8", "cache-control": "max-age=60"}},
		{name: "html prefix redirects", d: html, target: "/static?x=1", status: 307, fields: map[string]string{"location": "/static/?x=1"}},
		{name: "html dir", d: html, target: "/static/sub/", status: 200, body: "<h1>sub</h1>"},
		{name: "html dir redirects", d: html, target: "/static/sub", status: 307, fields: map[string]string{"location": "/static/sub/"}},
		{name: "html dir without index", d: html, target: "/static/noindex/", status: 404, body: "<h1>missing</h1>"},
		{name: "html miss", d: html, target: "/static/nope", status: 404, body: "<h1>missing</h1>",
			fields: map[string]string{"content-type": "text/html; charset=utf-8"}},
		{name: "html traversal", d: html, target: "/static/../secret.txt", status: 404, body: "<h1>missing</h1>"},
		{name: "html file", d: html, target: "/static/sub/page.txt", status: 200, body: "page"},
		{name: "html head", d: html, target: "/static/", status: 200, fields: map[string]string{"content-length": "14"}},
	}
	// Once with openat2, once through os.Root (kernels without openat2).
	for _, fallback := range []bool{false, true} {
		plain.noAt2.Store(fallback)
		html.noAt2.Store(fallback)
		name := "openat2"
		if fallback {
			name = "os.Root"
		}
		t.Run(name, func(t *testing.T) { runDirTests(t, plain, tests) })
	}
}

type dirTest struct {
	name   string
	d      *Dir
	target string
	header []string
	status int
	body   string
	fields map[string]string
}

func runDirTests(t *testing.T, plain *Dir, tests []dirTest) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "GET"
			if strings.HasSuffix(tt.name, "head") {
				method = "HEAD"
			}
			rec := record(tt.d.Serve, request(method, tt.target, tt.header...))
			if rec.Status != tt.status {
				t.Fatalf("status %d, want %d: %q %v", rec.Status, tt.status, rec.Body, rec.Fields.Fields())
			}
			if tt.body != "" && string(rec.Body) != tt.body {
				t.Errorf("body %q, want %q", rec.Body, tt.body)
			}
			if tt.status == 404 && tt.d == plain && !strings.Contains(string(rec.Body), "Not Found") {
				t.Errorf("body %q", rec.Body)
			}
			for name, want := range tt.fields {
				got, ok := rec.Fields.Lookup(name)
				if want == "" && ok {
					t.Errorf("%s: %q, want none", name, got)
				} else if want != "" && got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestDirAtRootAndFollowSymlinks(t *testing.T) {
	_, dir := staticTree(t)
	d, err := NewDir(dir, "/", DirOptions{HTML: true, FollowSymlinks: true})
	must(t, err)
	defer d.Close()
	for target, want := range map[string]string{"/": "<h1>index</h1>", "/app.js": "console.log(1)", "/escape.txt": "secret"} {
		rec := record(d.Serve, request("GET", target))
		if rec.Status != 200 || string(rec.Body) != want {
			t.Errorf("%s: %d %q", target, rec.Status, rec.Body)
		}
	}
	if rec := record(d.Serve, request("GET", "/../secret.txt")); rec.Status != 404 {
		t.Errorf("traversal with FollowSymlinks: %d", rec.Status)
	}
	if _, err := NewDir(filepath.Join(dir, "app.js"), "/x", DirOptions{}); err == nil {
		t.Error("NewDir of a file")
	}
	if _, err := NewDir(filepath.Join(dir, "missing"), "/x", DirOptions{}); err == nil {
		t.Error("NewDir of a missing directory")
	}
}
