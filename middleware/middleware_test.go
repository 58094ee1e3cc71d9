package middleware

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/databridge/databridge/server"
)

func request(method, target string, header ...string) *server.Request {
	path, query, _ := strings.Cut(target, "?")
	r := &server.Request{Method: method, Target: target, Path: path, RawPath: path, RawQuery: query,
		ProtoMajor: 1, ProtoMinor: 1, Body: server.NoBody}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
		if header[i] == "host" {
			r.Host = header[i+1]
		}
	}
	return r
}

func serve(mw server.Middleware, h server.HandlerFunc, r *server.Request) *server.Recorder {
	rec := &server.Recorder{Head: r.Method == "HEAD"}
	mw(h).Serve(rec, r)
	rec.Finish()
	return rec
}

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]int{
		"":                           encIdentity,
		"identity":                   encIdentity,
		"gzip":                       encGzip,
		"GZIP":                       encGzip,
		"gzip, br":                   encBr,
		"gzip, zstd":                 encZstd,
		"br;q=0.5, gzip":             encGzip,
		"br;q=0.5, zstd;q=0.6":       encZstd,
		"br;q=0":                     encIdentity,
		"*":                          encBr,
		"*;q=0":                      encIdentity,
		"br;q=0, *":                  encZstd,
		"gzip;q=0.9, *;q=0.1":        encGzip,
		"gzip;q=bogus":               encIdentity,
		"gzip ; q=1.0 , br ; q=0.99": encGzip,
		"deflate, x-gzip":            encGzip,
	} {
		if got := negotiate(accept); got != want {
			t.Errorf("negotiate(%q) = %s, want %s", accept, encNames[got], encNames[want])
		}
	}
}

var big = strings.Repeat("compress me please ", 100)

func decodeBody(t *testing.T, enc string, b []byte) string {
	t.Helper()
	var r io.Reader
	switch enc {
	case "gzip":
		g, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r = g
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "zstd":
		z, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		r = z
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", enc, err)
	}
	return string(out)
}

func TestCompressWrites(t *testing.T) {
	mw, err := Compress(DefaultCompressOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{"gzip", "br", "zstd"} {
		// Written in small pieces, with a Content-Length the engine replaces.
		rec := serve(mw, func(w server.ResponseWriter, r *server.Request) {
			w.Header().Set("content-type", "text/plain")
			w.Header().Set("content-length", "1900")
			for i := 0; i < 100; i++ {
				io.WriteString(w, "compress me please ")
			}
		}, request("GET", "/", "accept-encoding", enc))
		if got := rec.Fields.Get("content-encoding"); got != enc {
			t.Fatalf("%s: content-encoding %q", enc, got)
		}
		if rec.Fields.Get("content-length") != itoa(len(rec.Body)) || len(rec.Body) >= len(big) {
			t.Errorf("%s: content-length %s for %d bytes", enc, rec.Fields.Get("content-length"), len(rec.Body))
		}
		if got := decodeBody(t, enc, rec.Body); got != big {
			t.Errorf("%s: decoded %d bytes", enc, len(got))
		}
		if rec.Fields.Get("vary") != "Accept-Encoding" {
			t.Errorf("vary %q", rec.Fields.Get("vary"))
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// flushRecorder records what was sent at each Flush.
type flushRecorder struct {
	server.Recorder
	flushed []int
}

func (f *flushRecorder) Flush() error {
	f.flushed = append(f.flushed, len(f.Body))
	return nil
}

func TestCompressFlushStreams(t *testing.T) {
	mw, _ := Compress(DefaultCompressOptions())
	for _, enc := range []string{"gzip", "br", "zstd"} {
		rec := &flushRecorder{}
		var atFirstFlush []byte
		mw(server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
			io.WriteString(w, "event one\n") // below minimum_size, but streamed: compressed anyway
			w.Flush()
			atFirstFlush = append([]byte(nil), rec.Body...)
			io.WriteString(w, "event two\n")
			w.Flush()
		})).Serve(rec, request("GET", "/", "accept-encoding", enc))
		rec.Finish()
		if rec.Fields.Get("content-encoding") != enc || len(rec.flushed) != 2 {
			t.Fatalf("%s: encoding %q, %d flushes", enc, rec.Fields.Get("content-encoding"), len(rec.flushed))
		}
		if len(atFirstFlush) == 0 {
			t.Fatalf("%s: nothing sent at the first flush", enc)
		}
		if got := decodeBody(t, enc, rec.Body); got != "event one\nevent two\n" {
			t.Errorf("%s: decoded %q", enc, got)
		}
	}
}

func TestCompressLeavesAlone(t *testing.T) {
	mw, _ := Compress(DefaultCompressOptions())
	cases := []struct {
		name   string
		req    *server.Request
		status int
		header []string
		body   string
	}{
		{"small", request("GET", "/", "accept-encoding", "gzip"), 200, nil, "tiny"},
		{"not accepted", request("GET", "/", "accept-encoding", "identity"), 200, nil, big},
		{"encoded", request("GET", "/", "accept-encoding", "gzip"), 200, []string{"content-encoding", "br"}, big},
		{"image", request("GET", "/", "accept-encoding", "gzip"), 200, []string{"content-type", "image/png"}, big},
		{"206", request("GET", "/", "accept-encoding", "gzip"), 206, nil, big},
		{"204", request("GET", "/", "accept-encoding", "gzip"), 204, nil, ""},
		{"HEAD", request("HEAD", "/", "accept-encoding", "gzip"), 200, nil, big},
	}
	for _, c := range cases {
		for _, send := range []bool{false, true} {
			rec := serve(mw, func(w server.ResponseWriter, r *server.Request) {
				for i := 0; i+1 < len(c.header); i += 2 {
					w.Header().Set(c.header[i], c.header[i+1])
				}
				if send {
					w.Send(c.status, []byte(c.body))
				} else {
					w.WriteHeader(c.status)
					io.WriteString(w, c.body)
				}
			}, c.req)
			if enc := rec.Fields.Get("content-encoding"); enc != "" && enc != "br" {
				t.Errorf("%s (send %v): compressed with %s", c.name, send, enc)
			}
			if c.req.Method != "HEAD" && c.status != 204 && string(rec.Body) != c.body {
				t.Errorf("%s (send %v): body changed", c.name, send)
			}
			if rec.Status != c.status {
				t.Errorf("%s: status %d", c.name, rec.Status)
			}
		}
	}
}

func TestCORSPreflightAndSimple(t *testing.T) {
	mw, err := CORS(CORSOptions{AllowOrigins: []string{"https://a.com"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"X-Token"}, MaxAge: 60})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	h := func(w server.ResponseWriter, r *server.Request) { called = true; w.Send(200, []byte("hi")) }
	rec := serve(mw, h, request("OPTIONS", "/", "origin", "https://a.com", "access-control-request-method", "PUT",
		"access-control-request-headers", "x-token"))
	if called || rec.Status != 200 || string(rec.Body) != "OK" {
		t.Fatalf("preflight: called %v, %d %q", called, rec.Status, rec.Body)
	}
	for name, want := range map[string]string{
		"access-control-allow-origin":  "https://a.com",
		"access-control-allow-methods": "GET, PUT",
		"access-control-allow-headers": "Accept, Accept-Language, Content-Language, Content-Type, X-Token",
		"access-control-max-age":       "60",
	} {
		if got := rec.Fields.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	rec = serve(mw, h, request("OPTIONS", "/", "origin", "https://b.com", "access-control-request-method", "DELETE"))
	if rec.Status != 400 || string(rec.Body) != "Disallowed CORS origin, method" {
		t.Errorf("bad preflight: %d %q", rec.Status, rec.Body)
	}
	rec = serve(mw, h, request("GET", "/", "origin", "https://a.com"))
	if !called || rec.Fields.Get("access-control-allow-origin") != "https://a.com" || rec.Fields.Get("vary") != "Origin" {
		t.Errorf("simple: %v", rec.Fields.Fields())
	}
}

func TestTrustedHostAndRedirect(t *testing.T) {
	mw, err := TrustedHost(TrustedHostOptions{AllowedHosts: []string{"example.com", "*.example.org", "www.x.com"}, WWWRedirect: true})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(w server.ResponseWriter, r *server.Request) { w.Send(200, []byte("ok")) }
	for host, want := range map[string]int{"example.com": 200, "EXAMPLE.COM:80": 200, "a.example.org": 200,
		"example.org": 400, "evil.com": 400, "x.com": 307, "": 400, "a b": 400} {
		var r *server.Request
		if host == "" {
			r = request("GET", "/p?q=1")
		} else {
			r = request("GET", "/p?q=1", "host", host)
		}
		rec := serve(mw, ok, r)
		if rec.Status != want {
			t.Errorf("host %q: %d, want %d", host, rec.Status, want)
		}
		if want == 400 && string(rec.Body) != "Invalid host header" {
			t.Errorf("host %q: body %q", host, rec.Body)
		}
		if want == 307 && rec.Fields.Get("location") != "http://www.x.com/p?q=1" {
			t.Errorf("location %q", rec.Fields.Get("location"))
		}
	}
	if _, err := TrustedHost(TrustedHostOptions{AllowedHosts: []string{"*example.com"}}); err == nil {
		t.Error("a bad wildcard was accepted")
	}
	rec := serve(HTTPSRedirect(), ok, request("GET", "/p?q=1", "host", "example.com:80"))
	if rec.Status != 307 || rec.Fields.Get("location") != "https://example.com/p?q=1" {
		t.Errorf("https redirect: %d %q", rec.Status, rec.Fields.Get("location"))
	}
}

// readFromRecorder is a Recorder with a ReadFrom, as the HTTP/1.1 writer
// has one (sendfile).
type readFromRecorder struct {
	server.Recorder
	calls int
}

func (w *readFromRecorder) ReadFrom(r io.Reader) (int64, error) {
	w.calls++
	b, err := io.ReadAll(r)
	w.Recorder.Write(b)
	return int64(len(b)), err
}

// TestReadFromThroughMiddleware: CORS passes ReadFrom on (sendfile stays
// possible behind it); compression hides it, so that a body it may
// compress goes through its encoder.
func TestReadFromThroughMiddleware(t *testing.T) {
	cors, err := CORS(CORSOptions{AllowOrigins: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	gz, err := Compress(DefaultCompressOptions())
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("x", 1000)
	var found bool
	h := server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
		_, found = server.ReaderFromOf(w)
		w.Header().Set("content-type", "text/plain")
		if rf, ok := w.(io.ReaderFrom); ok {
			rf.ReadFrom(strings.NewReader(body))
		} else {
			io.WriteString(w, body)
		}
	})
	serveOn := func(h server.Handler, header ...string) *readFromRecorder {
		w := &readFromRecorder{}
		h.Serve(w, request("GET", "/", header...))
		w.Finish()
		return w
	}

	w := serveOn(cors(h), "origin", "https://a.com")
	if !found || w.calls != 1 || string(w.Body) != body || w.Fields.Get("access-control-allow-origin") != "*" {
		t.Errorf("CORS: ReaderFromOf %v, %d ReadFrom calls, %d bytes, fields %v", found, w.calls, len(w.Body), w.Fields.Fields())
	}
	for name, mw := range map[string]server.Handler{"gzip": gz(h), "CORS inside gzip": gz(cors(h))} {
		w = serveOn(mw, "origin", "https://a.com", "accept-encoding", "gzip")
		if found || w.calls != 0 || w.Fields.Get("content-encoding") != "gzip" || decodeBody(t, "gzip", w.Body) != body {
			t.Errorf("%s: ReaderFromOf %v, %d ReadFrom calls, encoding %q", name, found, w.calls, w.Fields.Get("content-encoding"))
		}
	}
}
