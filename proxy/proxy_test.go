package proxy

import (
	"testing"

	"github.com/databridge/databridge/server"
)

func run(t *testing.T, trust, remote string, hdr ...string) *server.Request {
	t.Helper()
	tr, err := ParseTrust(trust)
	if err != nil {
		t.Fatal(err)
	}
	r := &server.Request{RemoteAddr: remote, Host: "backend:8000", Body: server.NoBody}
	for i := 0; i < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	Headers(tr)(server.HandlerFunc(func(server.ResponseWriter, *server.Request) {})).Serve(nil, r)
	return r
}

func TestXForwarded(t *testing.T) {
	r := run(t, "127.0.0.1", "127.0.0.1:4000", "x-forwarded-for", "203.0.113.7, 127.0.0.1",
		"x-forwarded-proto", "https", "x-forwarded-host", "example.com")
	if r.RemoteAddr != "203.0.113.7:0" || r.Scheme() != "https" || r.Host != "example.com" {
		t.Fatalf("%q %q %q", r.RemoteAddr, r.Scheme(), r.Host)
	}
}

func TestUntrustedPeerIgnored(t *testing.T) {
	r := run(t, "127.0.0.1", "10.1.1.1:4000", "x-forwarded-for", "203.0.113.7", "x-forwarded-proto", "https")
	if r.RemoteAddr != "10.1.1.1:4000" || r.Scheme() != "http" {
		t.Fatalf("%q %q", r.RemoteAddr, r.Scheme())
	}
}

func TestForwarded(t *testing.T) {
	r := run(t, "10.0.0.0/8", "10.2.3.4:1", "forwarded", `for="[2001:db8::1]:4711";proto=https;host=a.example, for=10.9.9.9`)
	if r.RemoteAddr != "[2001:db8::1]:4711" || r.Scheme() != "https" || r.Host != "a.example" {
		t.Fatalf("%q %q %q", r.RemoteAddr, r.Scheme(), r.Host)
	}
}

func TestStar(t *testing.T) {
	r := run(t, "*", "192.0.2.1:1", "x-forwarded-for", "198.51.100.2")
	if r.RemoteAddr != "198.51.100.2:0" {
		t.Fatal(r.RemoteAddr)
	}
}
