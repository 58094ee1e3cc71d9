// Package proxy trusts the headers a reverse proxy sets, as uvicorn's
// --proxy-headers does: when the peer is one of the trusted addresses
// (--forwarded-allow-ips, default 127.0.0.1; "*" trusts every peer),
// X-Forwarded-For (or RFC 7239 Forwarded for=) sets the client address,
// X-Forwarded-Proto (proto=) the scheme and X-Forwarded-Host (host=) the
// host. A Forwarded header wins over the X-Forwarded-* ones. In a chain of
// proxies the client is the rightmost address that is not trusted.
package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/databridge/databridge/server"
)

// Trust is the set of trusted proxy addresses.
type Trust struct {
	all      bool
	prefixes []netip.Prefix
	literals map[string]bool // non-IP entries (a Unix socket peer: "unix")
}

// ParseTrust reads a comma-separated list of IPs, CIDRs, or "*".
func ParseTrust(s string) (*Trust, error) {
	t := &Trust{literals: map[string]bool{}}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case item == "*":
			t.all = true
		case strings.Contains(item, "/"):
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("databridge: forwarded_allow_ips: %v", err)
			}
			t.prefixes = append(t.prefixes, p.Masked())
		default:
			if a, err := netip.ParseAddr(item); err == nil {
				t.prefixes = append(t.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			} else {
				t.literals[item] = true
			}
		}
	}
	return t, nil
}

// Trusted reports whether host (an IP without port) is trusted.
func (t *Trust) Trusted(host string) bool {
	if t.all {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return t.literals[host]
	}
	a = a.Unmap()
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerHost(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	if remote == "" || remote == "@" || strings.HasPrefix(remote, "/") {
		return "unix"
	}
	return remote
}

// Headers returns the middleware.
func Headers(t *Trust) server.Middleware {
	return func(h server.Handler) server.Handler {
		return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
			if t.Trusted(peerHost(r.RemoteAddr)) {
				apply(t, r)
			}
			h.Serve(w, r)
		})
	}
}

func apply(t *Trust, r *server.Request) {
	var fors []string
	var proto, host string
	if fwd := r.Header.Values("forwarded"); len(fwd) > 0 {
		for _, v := range fwd {
			for _, elem := range splitQuoted(v, ',') {
				for _, pair := range splitQuoted(elem, ';') {
					k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if !ok {
						continue
					}
					val = unquote(strings.TrimSpace(val))
					switch strings.ToLower(strings.TrimSpace(k)) {
					case "for":
						fors = append(fors, val)
					case "proto":
						proto = val
					case "host":
						host = val
					}
				}
			}
		}
	} else {
		for _, v := range r.Header.Values("x-forwarded-for") {
			for _, a := range strings.Split(v, ",") {
				if a = strings.TrimSpace(a); a != "" {
					fors = append(fors, a)
				}
			}
		}
		proto = lastItem(r.Header.Values("x-forwarded-proto"))
		host = lastItem(r.Header.Values("x-forwarded-host"))
	}
	if client := pickClient(t, fors); client != "" {
		r.RemoteAddr = client
	}
	switch p := strings.ToLower(proto); p {
	case "http", "https", "ws", "wss":
		r.ForwardedScheme = p
	}
	if host != "" && validHost(host) {
		r.Host = host
	}
}

// pickClient is the rightmost untrusted address (the leftmost when all are
// trusted), as "ip:port" with the port the proxy gave or 0.
func pickClient(t *Trust, fors []string) string {
	if len(fors) == 0 {
		return ""
	}
	chosen := fors[0]
	for i := len(fors) - 1; i >= 0; i-- {
		if !t.Trusted(hostOnly(fors[i])) {
			chosen = fors[i]
			break
		}
	}
	return withPort(chosen)
}

func hostOnly(s string) string {
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return strings.Trim(s, "[]")
}

func withPort(s string) string {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	s = strings.Trim(s, "[]")
	return net.JoinHostPort(s, "0")
}

func lastItem(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c == '/' || c == '?' || c == '#' || c == '@' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	return true
}

func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\\':
			if quoted {
				i++
			}
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
		s = strings.ReplaceAll(s, `\"`, `"`)
	}
	return s
}

// RootPath strips root from the start of the path before routing (an app
// mounted under a prefix by the proxy); a path outside it is served as is.
func RootPath(root string) server.Middleware {
	root = "/" + strings.Trim(root, "/")
	return func(h server.Handler) server.Handler {
		return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
			if root != "/" && (r.Path == root || strings.HasPrefix(r.Path, root+"/")) {
				r.Path = r.Path[len(root):]
				if r.Path == "" {
					r.Path = "/"
				}
				if strings.HasPrefix(r.RawPath, root) {
					r.RawPath = r.RawPath[len(root):]
					if r.RawPath == "" {
						r.RawPath = "/"
					}
				}
			}
			h.Serve(w, r)
		})
	}
}
