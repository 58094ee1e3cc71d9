package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// nopConn is a net.Conn with no peer: reads end, writes vanish.
type nopConn struct{}

func (nopConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (nopConn) Write(p []byte) (int, error)      { return len(p), nil }
func (nopConn) Close() error                     { return nil }
func (nopConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (nopConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (nopConn) SetDeadline(time.Time) error      { return nil }
func (nopConn) SetReadDeadline(time.Time) error  { return nil }
func (nopConn) SetWriteDeadline(time.Time) error { return nil }

// frontRead parses one request from data as the front does and reads its
// body; ok is false when the front rejects the head or the body.
func frontRead(data []byte) (c *conn, body []byte, ok bool) {
	cfg := Config{MaxBodyBytes: 1 << 20}.withDefaults()
	c = &conn{s: &Server{cfg: cfg}, nc: nopConn{}, br: bufio.NewReaderSize(bytes.NewReader(data), readBufferSize)}
	c.req.Body = NoBody
	perr, err := c.readHead()
	if err != nil || perr != nil {
		return c, nil, false
	}
	if parseHead(&c.req, &c.info, c.head, &c.s.cfg, &c.pathBuf) != nil || c.info.preface {
		return c, nil, false
	}
	if c.info.chunked || c.req.ContentLength > 0 {
		c.body.reset(c, c.info.chunked, c.req.ContentLength, cfg.MaxBodyBytes, false)
		body, err = io.ReadAll(&c.body)
		if err != nil {
			return c, nil, false
		}
	}
	return c, body, true
}

// FuzzParseRequest checks the parser against net/http: whatever the front
// accepts, http.ReadRequest reads with the same method, target, Host,
// header fields and body.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a%20b?c=d HTTP/1.1\r\nHost: example.com:80\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
		"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
		"GET http://h:8/x?y HTTP/1.1\r\nHost: a\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"\r\nGET / HTTP/1.1\r\nHost: [::1]:80\r\nExpect: 100-continue\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, body, ok := frontRead(data)
		if !ok {
			return
		}
		r := &c.req
		for len(data) >= 2 && data[0] == '\r' && data[1] == '\n' {
			data = data[2:]
		}
		hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			if netHTTPLenient(r, err) {
				return
			}
			t.Fatalf("front accepted, net/http: %v\n%q", err, data)
		}
		if hr.Method != r.Method || hr.RequestURI != r.Target {
			t.Fatalf("request line: net/http %q %q, front %q %q", hr.Method, hr.RequestURI, r.Method, r.Target)
		}
		if hr.Host != r.Host {
			t.Fatalf("host: net/http %q, front %q", hr.Host, r.Host)
		}
		if strings.HasPrefix(r.Target, "/") && hr.URL.Path != r.Path {
			t.Fatalf("path: net/http %q, front %q", hr.URL.Path, r.Path)
		}
		if got, want := frontFields(r), netFields(hr); got != want {
			t.Fatalf("header fields:\nfront    %s\nnet/http %s", got, want)
		}
		nb, err := io.ReadAll(hr.Body)
		if err != nil && chunkBWS(data, err) {
			return
		}
		if err != nil {
			t.Fatalf("front read the body %q, net/http: %v", body, err)
		}
		if !bytes.Equal(nb, body) {
			t.Fatalf("body: front %q, net/http %q", body, nb)
		}
	})
}

// netHTTPLenient lists what the front accepts and net/http refuses,
// each a documented strictness of net/http beyond the RFCs.
func netHTTPLenient(r *Request, err error) bool {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "transfer encoding"):
		// net/http takes only a Transfer-Encoding of exactly "chunked";
		// RFC 9110 §5.6.1 has empty list elements (", chunked") ignored,
		// and the front does.
		tes := r.Header.Values("transfer-encoding")
		return len(tes) != 1 || !strings.EqualFold(strings.Trim(tes[0], " \t"), "chunked")
	}
	return false
}

// chunkBWS reports net/http's refusal of whitespace before a chunk
// extension's ";", which RFC 9112 §7.1.1 allows (chunk-ext = *( BWS ";"
// BWS ext-name ... )) and the front accepts.
func chunkBWS(data []byte, err error) bool {
	return strings.Contains(err.Error(), "chunk length") &&
		(bytes.Contains(data, []byte(" ;")) || bytes.Contains(data, []byte("\t;")))
}

// frontFields and netFields render the header fields as sorted
// name=value lines (names lower-case; Host and Transfer-Encoding, which
// net/http keeps out of its map, left out).
func frontFields(r *Request) string {
	var out []string
	for _, f := range r.Header.Fields() {
		if f.Name == "host" || f.Name == "transfer-encoding" {
			continue
		}
		out = append(out, f.Name+"="+f.Value)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func netFields(hr *http.Request) string {
	var out []string
	for name, vs := range hr.Header {
		lower := strings.ToLower(name)
		if lower == "host" || lower == "transfer-encoding" {
			continue
		}
		for _, v := range vs {
			out = append(out, lower+"="+v)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// FuzzChunkedBody checks the chunked decoder against net/http's: a body
// the front decodes, net/http decodes to the same bytes.
func FuzzChunkedBody(f *testing.F) {
	for _, s := range []string{
		"0\r\n\r\n",
		"5\r\nhello\r\n0\r\n\r\n",
		"3;a=b\r\nabc\r\n1 ;c\r\nd\r\n0\r\nX: y\r\n\r\n",
		"A\r\n0123456789\r\n00\r\n\r\n",
		"3;q=\"a\\\"b\"\r\nabc\r\n0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	const head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	f.Fuzz(func(t *testing.T, body []byte) {
		data := append([]byte(head), body...)
		_, got, ok := frontRead(data)
		if !ok {
			return
		}
		hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatalf("net/http: %v", err)
		}
		want, err := io.ReadAll(hr.Body)
		if err != nil {
			if chunkBWS(body, err) {
				return
			}
			t.Fatalf("front read %q, net/http: %v\n%q", got, err, body)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("front %q, net/http %q", got, want)
		}
	})
}
