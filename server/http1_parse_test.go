package server

import (
	"bufio"
	"strings"
	"testing"
)

// parseBytes runs the front's head reader and parser over in, as the
// connection does, and returns the request and the rejection status (0:
// accepted, -1: the connection ends without an answer).
func parseBytes(in string, cfg Config) (*conn, int) {
	cfg = cfg.withDefaults()
	c := &conn{s: &Server{cfg: cfg}, br: bufio.NewReaderSize(strings.NewReader(in), readBufferSize)}
	c.req.Body = NoBody
	perr, err := c.readHead()
	if err != nil {
		return c, -1
	}
	if perr == nil {
		perr = parseHead(&c.req, &c.info, c.head, &c.s.cfg, &c.pathBuf)
	}
	if perr != nil {
		return c, perr.status
	}
	return c, 0
}

func TestParseStatus(t *testing.T) {
	const h = "Host: example.com\r\n"
	long := strings.Repeat("a", DefaultMaxTargetBytes)
	manyFields := strings.Repeat("X-A: 1\r\n", DefaultMaxHeaderFields)
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"simple", "GET / HTTP/1.1\r\n" + h + "\r\n", 0},
		{"http/1.0 without host", "GET / HTTP/1.0\r\n\r\n", 0},
		{"leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\n" + h + "\r\n", 0},
		{"leading bare LF", "\nGET / HTTP/1.1\r\n" + h + "\r\n", 400},
		{"leading space", " GET / HTTP/1.1\r\n" + h + "\r\n", 400},

		// Request line (RFC 9112 §3).
		{"method not a token", "G(T / HTTP/1.1\r\n" + h + "\r\n", 400},
		{"method with NUL", "G\x00T / HTTP/1.1\r\n" + h + "\r\n", 400},
		{"extension method", "PURGE / HTTP/1.1\r\n" + h + "\r\n", 0},
		{"two spaces after method", "GET  / HTTP/1.1\r\n" + h + "\r\n", 400},
		{"two spaces before version", "GET /  HTTP/1.1\r\n" + h + "\r\n", 400},
		{"tab separator", "GET\t/ HTTP/1.1\r\n" + h + "\r\n", 400},
		{"trailing space", "GET / HTTP/1.1 \r\n" + h + "\r\n", 400},
		// Neither a path nor a protocol version: not HTTP/1 (an HTTP/2
		// client's bad preface, h2spec 3.5/2): closed without an answer.
		{"not HTTP at all", "INVALID CONNECTION PREFACE\r\n\r\n", 0},
		{"unknown protocol name", "GET / FTP/1.1\r\n" + h + "\r\n", 400},
		{"no version", "GET /\r\n" + h + "\r\n", 400},
		{"lower-case version", "GET / http/1.1\r\n" + h + "\r\n", 400},
		{"version two digits", "GET / HTTP/1.10\r\n" + h + "\r\n", 400},
		{"version no minor", "GET / HTTP/1\r\n" + h + "\r\n", 400},
		{"HTTP/2.0", "GET / HTTP/2.0\r\n" + h + "\r\n", 505},
		{"HTTP/3.0", "GET / HTTP/3.0\r\n" + h + "\r\n", 505},
		{"HTTP/0.9", "GET / HTTP/0.9\r\n" + h + "\r\n", 505},
		{"HTTP/1.2 served as 1.1", "GET / HTTP/1.2\r\n" + h + "\r\n", 0},
		{"h2 preface (the connection answers)", h2ClientPreface, 0},
		{"bare LF request line", "GET / HTTP/1.1\n" + h + "\r\n", 400},
		{"bare CR request line", "GET / HTTP/1.1\r" + h + "\r\n", 400},
		{"CR inside request line", "GET /\r HTTP/1.1\r\n" + h + "\r\n", 400},

		// request-target (RFC 9112 §3.2, RFC 3986).
		{"query", "GET /a?b=c&d=%zz HTTP/1.1\r\n" + h + "\r\n", 0},
		{"query with ? and /", "GET /a?b=/?c HTTP/1.1\r\n" + h + "\r\n", 0},
		{"escapes", "GET /a%20b%2F HTTP/1.1\r\n" + h + "\r\n", 0},
		{"bad escape", "GET /a%2 HTTP/1.1\r\n" + h + "\r\n", 400},
		{"bad escape hex", "GET /a%g0 HTTP/1.1\r\n" + h + "\r\n", 400},
		{"fragment", "GET /a#b HTTP/1.1\r\n" + h + "\r\n", 400},
		{"raw utf-8", "GET /\xc3\xa9 HTTP/1.1\r\n" + h + "\r\n", 400},
		{"quote", "GET /\" HTTP/1.1\r\n" + h + "\r\n", 400},
		{"lt", "GET /< HTTP/1.1\r\n" + h + "\r\n", 400},
		{"backslash", "GET /\\ HTTP/1.1\r\n" + h + "\r\n", 400},
		{"caret", "GET /^ HTTP/1.1\r\n" + h + "\r\n", 400},
		{"backtick", "GET /` HTTP/1.1\r\n" + h + "\r\n", 400},
		{"brace", "GET /{ HTTP/1.1\r\n" + h + "\r\n", 400},
		{"pipe", "GET /| HTTP/1.1\r\n" + h + "\r\n", 400},
		{"DEL", "GET /\x7f HTTP/1.1\r\n" + h + "\r\n", 400},
		{"query with space char", "GET /a?b\x01 HTTP/1.1\r\n" + h + "\r\n", 400},
		{"sub-delims and pchar", "GET /!$&'()*+,;=:@-._~ HTTP/1.1\r\n" + h + "\r\n", 0},
		{"relative", "GET a HTTP/1.1\r\n" + h + "\r\n", 400},
		{"asterisk OPTIONS", "OPTIONS * HTTP/1.1\r\n" + h + "\r\n", 0},
		{"asterisk GET", "GET * HTTP/1.1\r\n" + h + "\r\n", 400},
		{"absolute-form", "GET http://example.org/a?b HTTP/1.1\r\n" + h + "\r\n", 0},
		{"absolute-form https no path", "GET HTTPS://example.org:8443 HTTP/1.1\r\n" + h + "\r\n", 0},
		{"absolute-form userinfo", "GET http://u@example.org/ HTTP/1.1\r\n" + h + "\r\n", 400},
		{"absolute-form empty host", "GET http:///a HTTP/1.1\r\n" + h + "\r\n", 400},
		{"absolute-form other scheme", "GET ftp://example.org/ HTTP/1.1\r\n" + h + "\r\n", 400},
		{"authority-form GET", "GET example.org:443 HTTP/1.1\r\n" + h + "\r\n", 400},
		{"CONNECT", "CONNECT example.org:443 HTTP/1.1\r\n" + h + "\r\n", 501},
		{"CONNECT origin-form", "CONNECT / HTTP/1.1\r\n" + h + "\r\n", 400},
		{"target too long", "GET /" + long + " HTTP/1.1\r\n" + h + "\r\n", 414},
		{"target at the limit", "GET /" + long[1:] + " HTTP/1.1\r\n" + h + "\r\n", 0},

		// Header fields (RFC 9112 §5, RFC 9110 §5).
		{"space before first field", "GET / HTTP/1.1\r\n " + h + "\r\n", 400},
		{"obs-fold", "GET / HTTP/1.1\r\n" + h + "X-A: 1\r\n 2\r\n\r\n", 400},
		{"obs-fold tab", "GET / HTTP/1.1\r\n" + h + "X-A: 1\r\n\t2\r\n\r\n", 400},
		{"space before colon", "GET / HTTP/1.1\r\n" + h + "X-A : 1\r\n\r\n", 400},
		{"tab before colon", "GET / HTTP/1.1\r\n" + h + "X-A\t: 1\r\n\r\n", 400},
		{"empty name", "GET / HTTP/1.1\r\n" + h + ": 1\r\n\r\n", 400},
		{"no colon", "GET / HTTP/1.1\r\n" + h + "X-A\r\n\r\n", 400},
		{"name not a token", "GET / HTTP/1.1\r\n" + h + "X(A): 1\r\n\r\n", 400},
		{"name with utf-8", "GET / HTTP/1.1\r\n" + h + "X-\xc3\xa9: 1\r\n\r\n", 400},
		{"value NUL", "GET / HTTP/1.1\r\n" + h + "X-A: a\x00b\r\n\r\n", 400},
		{"value CR", "GET / HTTP/1.1\r\n" + h + "X-A: a\rb\r\n\r\n", 400},
		{"value bare LF", "GET / HTTP/1.1\r\n" + h + "X-A: a\nb: c\r\n\r\n", 400},
		{"value ctl", "GET / HTTP/1.1\r\n" + h + "X-A: a\x01b\r\n\r\n", 400},
		{"value DEL", "GET / HTTP/1.1\r\n" + h + "X-A: a\x7fb\r\n\r\n", 400},
		{"value obs-text and tab", "GET / HTTP/1.1\r\n" + h + "X-A: \ta\xff b\t\r\n\r\n", 0},
		{"empty value", "GET / HTTP/1.1\r\n" + h + "X-A:\r\n\r\n", 0},
		{"bare LF end of head", "GET / HTTP/1.1\r\n" + h + "\n", 400},
		{"bare CR end of head", "GET / HTTP/1.1\r\n" + h + "\r\r\n\r\n", 400},
		{"max fields", "GET / HTTP/1.1\r\n" + h + manyFields[8:] + "\r\n", 0},
		{"too many fields", "GET / HTTP/1.1\r\n" + h + manyFields + "\r\n", 431},
		{"header section too large", "GET / HTTP/1.1\r\n" + h + "X-A: " + strings.Repeat("b", DefaultMaxHeaderBytes) + "\r\n\r\n", 431},
		{"truncated head", "GET / HTTP/1.1\r\n" + h, -1},
		{"empty input", "", -1},

		// Host (RFC 9112 §3.2).
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"two hosts", "GET / HTTP/1.1\r\n" + h + h + "\r\n", 400},
		{"empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400},
		{"host with port", "GET / HTTP/1.1\r\nHost: a.b:8080\r\n\r\n", 0},
		{"host ipv6", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 0},
		{"host bad ipv6", "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", 400},
		{"host ipv4 in brackets", "GET / HTTP/1.1\r\nHost: [1.2.3.4]\r\n\r\n", 400},
		{"host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
		{"host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
		{"host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
		{"host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400},
		{"host two colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400},
		{"host only port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400},
		{"absolute-form still needs host", "GET http://a/ HTTP/1.1\r\n\r\n", 400},

		// Content-Length (RFC 9112 §6.2, §6.3).
		{"content-length", "POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\n\r\n", 0},
		{"content-length sign", "POST / HTTP/1.1\r\n" + h + "Content-Length: +3\r\n\r\n", 400},
		{"content-length negative", "POST / HTTP/1.1\r\n" + h + "Content-Length: -3\r\n\r\n", 400},
		{"content-length inner space", "POST / HTTP/1.1\r\n" + h + "Content-Length: 1 2\r\n\r\n", 400},
		{"content-length list", "POST / HTTP/1.1\r\n" + h + "Content-Length: 3, 3\r\n\r\n", 400},
		{"content-length twice", "POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 3\r\n\r\n", 400},
		{"content-length empty", "POST / HTTP/1.1\r\n" + h + "Content-Length:\r\n\r\n", 400},
		{"content-length hex", "POST / HTTP/1.1\r\n" + h + "Content-Length: 0x3\r\n\r\n", 400},
		{"content-length overflow", "POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999\r\n\r\n", 400},
		{"content-length max int64", "POST / HTTP/1.1\r\n" + h + "Content-Length: 9223372036854775807\r\n\r\n", 0},

		// Transfer-Encoding (RFC 9112 §6.1).
		{"chunked", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n", 0},
		{"chunked upper", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: CHUNKED\r\n\r\n", 0},
		{"TE and CL", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400},
		{"CL and TE", "POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"TE final not chunked", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\n", 400},
		{"TE chunked then gzip", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400},
		{"TE chunked twice", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400},
		{"TE chunked twice in two fields", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"TE gzip then chunked", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
		{"TE gzip then chunked two fields", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
		{"TE empty", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding:\r\n\r\n", 400},
		{"TE only commas", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: ,\r\n\r\n", 400},
		{"TE not a token", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: \"chunked\"\r\n\r\n", 400},
		{"TE identity", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: identity\r\n\r\n", 400},

		// Expect (RFC 9110 §10.1.1).
		{"expect 100-continue", "POST / HTTP/1.1\r\n" + h + "Expect: 100-Continue\r\nContent-Length: 1\r\n\r\n", 0},
		{"expect other", "POST / HTTP/1.1\r\n" + h + "Expect: 200-ok\r\n\r\n", 417},
		{"expect empty", "POST / HTTP/1.1\r\n" + h + "Expect:\r\n\r\n", 417},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := parseBytes(tt.in, Config{})
			if got != tt.want {
				t.Errorf("status %d, want %d for %q", got, tt.want, tt.in)
			}
		})
	}
}

func TestParseRequest(t *testing.T) {
	in := "\r\nPOST /a%20b/c?x=1&y=%zz HTTP/1.1\r\nHost: Example.com:80\r\nX-Multi: 1\r\nContent-Length: 3\r\nx-multi:  2 \r\nCONNECTION: keep-alive, Close\r\n\r\n"
	c, status := parseBytes(in, Config{})
	if status != 0 {
		t.Fatalf("status %d", status)
	}
	r := &c.req
	check := func(what, got, want string) {
		if got != want {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}
	check("Method", r.Method, "POST")
	check("Target", r.Target, "/a%20b/c?x=1&y=%zz")
	check("Path", r.Path, "/a b/c")
	check("RawPath", r.RawPath, "/a%20b/c")
	check("RawQuery", r.RawQuery, "x=1&y=%zz")
	check("Host", r.Host, "Example.com:80")
	check("Proto", r.Proto(), "HTTP/1.1")
	if r.ContentLength != 3 || !c.info.close || c.info.chunked {
		t.Errorf("ContentLength %d, info %+v", r.ContentLength, c.info)
	}
	var got []string
	for _, f := range r.Header.Fields() {
		got = append(got, f.Name+"="+f.Value)
	}
	want := "host=Example.com:80 x-multi=1 content-length=3 x-multi=2 connection=keep-alive, Close"
	if strings.Join(got, " ") != want {
		t.Errorf("header %q, want %q", strings.Join(got, " "), want)
	}

	c, _ = parseBytes("GET http://other.org:8080?q HTTP/1.1\r\nHost: example.com\r\n\r\n", Config{})
	r = &c.req
	check("absolute Host", r.Host, "other.org:8080")
	check("absolute Path", r.Path, "/")
	check("absolute RawQuery", r.RawQuery, "q")
	check("absolute host field", r.Header.Get("host"), "other.org:8080")

	c, _ = parseBytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", Config{})
	if c.req.ContentLength != -1 || !c.info.chunked {
		t.Errorf("chunked: ContentLength %d, info %+v", c.req.ContentLength, c.info)
	}
}

func TestParseLimits(t *testing.T) {
	cfg := Config{MaxTargetBytes: 10, MaxHeaderBytes: 100, MaxHeaderFields: 2}
	tests := []struct {
		in   string
		want int
	}{
		{"GET /123456789 HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"GET /1234567890 HTTP/1.1\r\nHost: a\r\n\r\n", 414},
		{"GET /" + strings.Repeat("x", 1000) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
		{"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\n\r\n", 0},
		{"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", 431},
		{"GET / HTTP/1.1\r\nHost: a\r\nA: " + strings.Repeat("x", 80) + "\r\n\r\n", 431},
		{strings.Repeat("\r\n", 60) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 431},
	}
	for _, tt := range tests {
		if _, got := parseBytes(tt.in, cfg); got != tt.want {
			t.Errorf("status %d, want %d for %q", got, tt.want, tt.in)
		}
	}
}

func TestParseAllocs(t *testing.T) {
	in := "GET /users/42?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n\r\n"
	c, _ := parseBytes(in, Config{})
	head := append([]byte(nil), c.head...)
	allocs := testing.AllocsPerRun(100, func() {
		c.req.Header.Reset()
		c.head = append(c.head[:0], head...)
		if err := parseHead(&c.req, &c.info, c.head, &c.s.cfg, &c.pathBuf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per parse", allocs)
	}
}
