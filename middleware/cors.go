package middleware

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/databridge/databridge/server"
)

// CORSOptions are CORSMiddleware's keywords (Starlette's names and
// defaults; Python fills the defaults).
type CORSOptions struct {
	AllowOrigins        []string `json:"allow_origins"`
	AllowMethods        []string `json:"allow_methods"`
	AllowHeaders        []string `json:"allow_headers"`
	AllowCredentials    bool     `json:"allow_credentials"`
	AllowOriginRegex    *string  `json:"allow_origin_regex"`
	AllowPrivateNetwork bool     `json:"allow_private_network"`
	ExposeHeaders       []string `json:"expose_headers"`
	MaxAge              int      `json:"max_age"`
}

var allMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY"}

var safelistedHeaders = []string{"Accept", "Accept-Language", "Content-Language", "Content-Type"}

type cors struct {
	allowOrigins     []string
	allowMethods     []string
	allowHeaders     []string // lower-case
	allowAll         bool
	allowAllHeaders  bool
	allowCredentials bool
	explicitOrigin   bool // preflight answers the origin itself, not "*"
	originRegex      *regexp.Regexp
	privateNetwork   bool
	simple           []server.Field
	preflight        []server.Field
}

// CORS answers preflight requests itself and adds the access-control-*
// fields to other responses, as Starlette's CORSMiddleware. The origin
// regex is Go's RE2 syntax (Python's without look-around and
// back-references), matched against the whole origin.
func CORS(o CORSOptions) (server.Middleware, error) {
	c := &cors{allowOrigins: o.AllowOrigins, allowCredentials: o.AllowCredentials, privateNetwork: o.AllowPrivateNetwork}
	c.allowMethods = o.AllowMethods
	if slices.Contains(o.AllowMethods, "*") {
		c.allowMethods = allMethods
	}
	if o.AllowOriginRegex != nil {
		re, err := regexp.Compile(`^(?:` + *o.AllowOriginRegex + `)$`)
		if err != nil {
			return nil, fmt.Errorf("databridge: CORSMiddleware allow_origin_regex: %v", err)
		}
		c.originRegex = re
	}
	c.allowAll = slices.Contains(o.AllowOrigins, "*")
	c.allowAllHeaders = slices.Contains(o.AllowHeaders, "*")
	c.explicitOrigin = !c.allowAll || o.AllowCredentials

	if c.allowAll {
		c.simple = append(c.simple, server.Field{Name: "access-control-allow-origin", Value: "*"})
	}
	if o.AllowCredentials {
		c.simple = append(c.simple, server.Field{Name: "access-control-allow-credentials", Value: "true"})
	}
	if len(o.ExposeHeaders) > 0 {
		c.simple = append(c.simple, server.Field{Name: "access-control-expose-headers", Value: strings.Join(o.ExposeHeaders, ", ")})
	}

	c.preflight = append(c.preflight, server.Field{Name: "vary",
		Value: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"})
	if !c.explicitOrigin {
		c.preflight = append(c.preflight, server.Field{Name: "access-control-allow-origin", Value: "*"})
	}
	c.preflight = append(c.preflight,
		server.Field{Name: "access-control-allow-methods", Value: strings.Join(c.allowMethods, ", ")},
		server.Field{Name: "access-control-max-age", Value: strconv.Itoa(o.MaxAge)})
	headers := slices.Clone(safelistedHeaders)
	for _, h := range o.AllowHeaders {
		if !slices.Contains(headers, h) {
			headers = append(headers, h)
		}
	}
	slices.Sort(headers)
	if !c.allowAllHeaders {
		c.preflight = append(c.preflight, server.Field{Name: "access-control-allow-headers", Value: strings.Join(headers, ", ")})
	}
	if o.AllowCredentials {
		c.preflight = append(c.preflight, server.Field{Name: "access-control-allow-credentials", Value: "true"})
	}
	for _, h := range headers {
		c.allowHeaders = append(c.allowHeaders, strings.ToLower(h))
	}
	return c.wrap, nil
}

func (c *cors) allowed(origin string) bool {
	if c.allowAll {
		return true
	}
	if c.originRegex != nil && c.originRegex.MatchString(origin) {
		return true
	}
	return slices.Contains(c.allowOrigins, origin)
}

func (c *cors) wrap(next server.Handler) server.Handler {
	return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
		origin, hasOrigin := r.Header.Lookup("origin")
		if hasOrigin && r.Method == "OPTIONS" && r.Header.Has("access-control-request-method") {
			c.answerPreflight(w, r, origin)
			return
		}
		hw := &hookWriter{ResponseWriter: w}
		hw.before = func(int) { c.simpleHeaders(w.Header(), origin, hasOrigin) }
		next.Serve(hw, r)
		hw.finish()
	})
}

// set replaces or appends a field in an ordered list (a Python dict's
// assignment).
func set(fields []server.Field, name, value string) []server.Field {
	for i := range fields {
		if fields[i].Name == name {
			fields[i].Value = value
			return fields
		}
	}
	return append(fields, server.Field{Name: name, Value: value})
}

func (c *cors) answerPreflight(w server.ResponseWriter, r *server.Request, origin string) {
	fields := slices.Clone(c.preflight)
	var failures []string
	if c.allowed(origin) {
		if c.explicitOrigin {
			fields = set(fields, "access-control-allow-origin", origin)
		}
	} else {
		failures = append(failures, "origin")
	}
	if !slices.Contains(c.allowMethods, r.Header.Get("access-control-request-method")) {
		failures = append(failures, "method")
	}
	requested, hasRequested := r.Header.Lookup("access-control-request-headers")
	if c.allowAllHeaders && hasRequested {
		fields = set(fields, "access-control-allow-headers", requested)
	} else if hasRequested {
		for _, h := range strings.Split(requested, ",") {
			if !slices.Contains(c.allowHeaders, pyStrip(strings.ToLower(h))) {
				failures = append(failures, "headers")
				break
			}
		}
	}
	if r.Header.Has("access-control-request-private-network") {
		if c.privateNetwork {
			fields = set(fields, "access-control-allow-private-network", "true")
		} else {
			failures = append(failures, "private-network")
		}
	}
	h := w.Header()
	for _, f := range fields {
		h.Set(f.Name, f.Value)
	}
	if len(failures) > 0 {
		plain(w, 400, "Disallowed CORS "+strings.Join(failures, ", "))
		return
	}
	plain(w, 200, "OK")
}

// pyStrip is Python's str.strip() for the ASCII whitespace a header value
// can hold.
func pyStrip(s string) string { return strings.Trim(s, " \t\n\r\x0b\x0c") }

func (c *cors) simpleHeaders(h *server.Header, origin string, hasOrigin bool) {
	if hasOrigin {
		for _, f := range c.simple {
			h.Set(f.Name, f.Value)
		}
	}
	if hasOrigin && ((c.allowAll && c.allowCredentials) || (!c.allowAll && c.allowed(origin))) {
		h.Set("access-control-allow-origin", origin)
	}
	addVary(h, "Origin")
}
