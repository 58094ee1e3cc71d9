package middleware

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/databridge/databridge/server"
)

// TrustedHostOptions are TrustedHostMiddleware's keywords.
type TrustedHostOptions struct {
	AllowedHosts []string `json:"allowed_hosts"`
	WWWRedirect  bool     `json:"www_redirect"`
}

// hostRE is Starlette's _HOST_RE (starlette/_utils.py): a Host that could
// change the URL's path or authority is invalid.
var hostRE = regexp.MustCompile(`^(?i:(?P<host>[a-z0-9._~%!$&'()*+,;=-]+|\[(?:(?P<ipv6>[a-f0-9]*:[a-f0-9.:]+)|v[a-f0-9]+\.[a-z0-9._~!$&'()*+,;=:-]+)\])(?::(?P<port>[0-9]+))?)$`)

// parseHost returns the host part of a Host header, as Starlette's
// parse_host_header; ok is false for an invalid one.
func parseHost(value string) (host, port string, ok bool) {
	m := hostRE.FindStringSubmatch(value)
	if m == nil {
		return "", "", false
	}
	if m[2] != "" {
		if _, err := netip.ParseAddr(m[2]); err != nil || !strings.Contains(m[2], ":") {
			return "", "", false
		}
	}
	return m[1], m[3], true
}

// TrustedHost answers 400 "Invalid host header" unless the Host is one of
// AllowedHosts ("*" any; "*.example.com" any subdomain of it), as
// Starlette's TrustedHostMiddleware; with WWWRedirect, a Host whose www.
// form is allowed is redirected there (307).
func TrustedHost(o TrustedHostOptions) (server.Middleware, error) {
	allowAny := false
	var patterns []string
	for _, p := range o.AllowedHosts {
		if strings.Contains(p[min(1, len(p)):], "*") || (strings.HasPrefix(p, "*") && p != "*" && !strings.HasPrefix(p, "*.")) {
			return nil, fmt.Errorf("databridge: Domain wildcard patterns must be like '*.example.com'.")
		}
		if p == "*" {
			allowAny = true
		}
		patterns = append(patterns, strings.ToLower(p))
	}
	return func(next server.Handler) server.Handler {
		if allowAny {
			return next
		}
		return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
			value, present := r.Header.Lookup("host")
			host, _, ok := parseHost(value)
			if !present || !ok {
				plain(w, 400, "Invalid host header")
				return
			}
			host = strings.ToLower(host)
			valid, www := false, false
			for _, p := range patterns {
				if host == p || (strings.HasPrefix(p, "*") && strings.HasSuffix(host, p[1:])) {
					valid = true
					break
				} else if "www."+host == p {
					www = true
				}
			}
			if valid {
				next.Serve(w, r)
				return
			}
			if www && o.WWWRedirect {
				redirect(w, requestScheme(r)+"://www."+value+pathAndQuery(r))
				return
			}
			plain(w, 400, "Invalid host header")
		})
	}, nil
}

// requestScheme is the scope's scheme: http/https, ws/wss for a WebSocket
// upgrade.
func requestScheme(r *server.Request) string {
	ws := strings.EqualFold(r.Header.Get("upgrade"), "websocket")
	switch {
	case r.TLS != nil && ws:
		return "wss"
	case ws:
		return "ws"
	}
	return r.Scheme()
}

// pathAndQuery is the request's path as sent, with its query.
func pathAndQuery(r *server.Request) string {
	p := r.RawPath
	if p == "" {
		p = r.Path
	}
	if r.RawQuery != "" {
		return p + "?" + r.RawQuery
	}
	return p
}

// redirect answers 307 with location, as Starlette's RedirectResponse:
// no body, no content-type.
func redirect(w server.ResponseWriter, location string) {
	w.Header().Set("location", location)
	w.Send(307, nil)
}

// HTTPSRedirect redirects http requests to https (ws to wss) with a 307,
// as Starlette's HTTPSRedirectMiddleware: the port is dropped when it is
// 80 or 443; a request without a Host gets 400 "Invalid host header".
func HTTPSRedirect() server.Middleware {
	return func(next server.Handler) server.Handler {
		return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
			if r.TLS != nil {
				next.Serve(w, r)
				return
			}
			value := r.Header.Get("host")
			if value == "" {
				plain(w, 400, "Invalid host header")
				return
			}
			scheme := "https"
			if requestScheme(r) == "ws" {
				scheme = "wss"
			}
			netloc := value
			if host, port, ok := parseHost(value); ok && (port == "80" || port == "443") {
				netloc = strings.ToLower(host)
			}
			redirect(w, scheme+"://"+netloc+pathAndQuery(r))
		})
	}
}
