package server

import (
	"bytes"
	"net/netip"
	"unsafe"
)

// The HTTP/1.1 request parser: strictly RFC 9112 §2–§7 and RFC 9110 §5,
// §6, §8.6. parseHead turns one request head (request line and header
// section, the final empty line included) into a Request whose strings
// point into the head's bytes; it never allocates.
//
// Choices where the RFCs leave a MAY or a SHOULD (docs/http1.md lists
// them too):
//   - a bare LF as a line terminator is rejected (400), as is a bare CR
//     anywhere;
//   - any number of empty lines (CRLF) before the request line are
//     ignored, within the header size bound;
//   - HTTP/1.2 to HTTP/1.9 are served as HTTP/1.1 (RFC 9110 §2.5: a
//     higher minor version of a major version we implement); any other
//     version than 1.x is 505;
//   - CONNECT is answered 501 (this origin server implements no tunnel),
//     or 400 when its target is not in authority-form;
//   - two Content-Length fields are rejected (400) even with one value,
//     and so is a list value ("5, 5");
//   - an empty Host value is rejected (400), as is a Host that is not
//     uri-host [":" port];
//   - OPTIONS * is answered by the front itself (200, no body), as
//     net/http does;
//   - a bad %-escape is rejected in the path only; the query is passed
//     as sent (RFC 3986 characters only);
//   - a host (Host, or the absolute-form's authority) may not be
//     pct-encoded: a reg-name of DNS characters, an IPv4 or an IP-literal;
//   - every rejection closes the connection (after a lingering close, so
//     that the client reads the answer), 501 included;
//   - a header that does not arrive within ReadHeaderTimeout gets 408
//     when some of it came, else the connection just closes.
//
// Bodies (http1_body.go, http1_conn.go): a body the handler left unread
// is drained up to 256 KiB to keep the connection, else it closes; with
// Expect: 100-continue and no 100 sent (the handler answered without
// reading) the connection always closes, since the client may or may not
// send the body; a body failure the handler did not answer (pyroute
// writes nothing then) is answered by the front: 400 for bad framing, 413,
// 408 for the body timeout.

// parseError is the status a rejected request head is answered with.
type parseError struct {
	status int
	msg    string
}

func (e *parseError) Error() string { return e.msg }

func perr(status int, msg string) *parseError { return &parseError{status, msg} }

// The rejections, made once so that a rejection does not allocate either.
var (
	errBadRequestLine   = perr(400, "malformed request line")
	errBadMethod        = perr(400, "method is not a token")
	errBadVersion       = perr(400, "malformed HTTP version")
	errVersion          = perr(505, "HTTP version not supported")
	errBadTarget        = perr(400, "malformed request-target")
	errTargetTooLong    = perr(414, "request-target too long")
	errAsterisk         = perr(400, "asterisk-form is only for OPTIONS")
	errAuthorityForm    = perr(400, "authority-form is only for CONNECT")
	errConnect          = perr(501, "CONNECT is not supported")
	errBadLineEnd       = perr(400, "line not terminated by CRLF")
	errLeadingSpace     = perr(400, "whitespace before the first header field")
	errObsFold          = perr(400, "obsolete line folding")
	errBadFieldName     = perr(400, "malformed header field name")
	errSpaceBeforeColon = perr(400, "whitespace before the colon of a header field")
	errBadFieldValue    = perr(400, "invalid character in a header field value")
	errHeaderTooLarge   = perr(431, "request header fields too large")
	errTooManyFields    = perr(431, "too many request header fields")
	errNoHost           = perr(400, "missing Host header field")
	errManyHosts        = perr(400, "more than one Host header field")
	errBadHost          = perr(400, "invalid Host header field")
	errBadCL            = perr(400, "invalid Content-Length")
	errManyCL           = perr(400, "more than one Content-Length")
	errCLAndTE          = perr(400, "both Transfer-Encoding and Content-Length")
	errTE10             = perr(400, "Transfer-Encoding in an HTTP/1.0 request")
	errBadTE            = perr(400, "invalid Transfer-Encoding")
	errTENotChunked     = perr(400, "final transfer coding is not chunked")
	errChunkedTwice     = perr(400, "chunked applied more than once")
	errUnknownTE        = perr(501, "unsupported transfer coding")
	errExpect           = perr(417, "unsupported expectation")
	errH2Preface        = perr(505, "HTTP/2 is not enabled")
	errTimeout          = perr(408, "request timeout")
	// errNotHTTP is a first line with neither a path nor anything like a
	// protocol version ("INVALID CONNECTION PREFACE"): not an HTTP/1
	// message, so it is not answered, the connection
	// just closes (RFC 9112 §3 only says SHOULD answer an invalid
	// request-line; an HTTP/2 client that sent a bad preface must see the
	// connection end, RFC 9113 §3.4, as h2spec 3.5/2 checks).
	errNotHTTP = perr(0, "not an HTTP/1 request")
)

// headInfo is what the parser learned besides the Request fields: how
// the body is framed and how the connection goes on.
type headInfo struct {
	chunked    bool
	contentLen int64 // -1: none given
	expect     bool  // Expect: 100-continue (HTTP/1.1)
	keepAlive  bool  // Connection: keep-alive
	close      bool  // Connection: close
	upgrade    bool  // Connection: upgrade
	h2Settings bool  // Connection: HTTP2-Settings
	upgradeH2C bool  // Upgrade: h2c (and an HTTP2-Settings field)
	hasH2Set   bool
	preface    bool // the request line of the HTTP/2 preface
	asterisk   bool
}

// Character classes.
const (
	cTchar   = 1 << iota // token
	cPath                // RFC 3986 pchar and "/" (with "%": checked apart)
	cQuery               // query characters
	cRegName             // reg-name: unreserved / sub-delims (and "%")
	cVchar               // field-value: VCHAR / obs-text / SP / HTAB
	cHex
)

var chars [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		var f uint8
		b := byte(c)
		alpha := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
		digit := b >= '0' && b <= '9'
		unreserved := alpha || digit || b == '-' || b == '.' || b == '_' || b == '~'
		subDelim := false
		switch b {
		case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
			subDelim = true
		}
		if alpha || digit {
			f |= cTchar
		}
		switch b {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
			f |= cTchar
		}
		if unreserved || subDelim || b == ':' || b == '@' || b == '/' || b == '%' {
			f |= cPath | cQuery
		}
		if b == '?' {
			f |= cQuery
		}
		if unreserved || subDelim || b == '%' {
			f |= cRegName
		}
		if b >= 0x21 && b != 0x7f || b == ' ' || b == '\t' {
			f |= cVchar
		}
		if digit || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' {
			f |= cHex
		}
		chars[c] = f
	}
}

func tcharByte(b byte) bool { return chars[b]&cTchar != 0 }

// isToken reports whether s is 1*tchar.
func tokenBytes(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, b := range s {
		if chars[b]&cTchar == 0 {
			return false
		}
	}
	return true
}

// bstr is a string over b without a copy: b must not change while the
// string is in use (the head buffer is only rewritten for the next
// request, after the handler returned).
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// eqFold reports whether b equals the lower-case ASCII s, ignoring case.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// h2ClientPreface is the HTTP/2 client connection preface (RFC 9113 §3.4).
const h2ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// parseRequestLine parses line (without its CRLF) into r.
func parseRequestLine(r *Request, info *headInfo, line []byte, cfg *Config) *parseError {
	sp1 := -1
	for i, b := range line {
		if b == ' ' {
			sp1 = i
			break
		}
		if chars[b]&cTchar == 0 {
			return errBadMethod
		}
	}
	if sp1 <= 0 {
		return errBadRequestLine
	}
	rest := line[sp1+1:]
	sp2 := -1
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == ' ' {
			sp2 = i
			break
		}
	}
	if sp2 < 0 {
		return errBadRequestLine
	}
	target, version := rest[:sp2], rest[sp2+1:]
	if len(target) == 0 {
		return errBadRequestLine
	}
	if len(version) > 0 && bytes.IndexByte(version, '/') < 0 && bytes.IndexByte(target, '/') < 0 {
		return errNotHTTP // no protocol name/version, no path: not HTTP/1 at all
	}
	// The version: "HTTP/" DIGIT "." DIGIT, case-sensitive.
	if len(version) != 8 || string(version[:5]) != "HTTP/" || version[6] != '.' ||
		version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9' {
		return errBadVersion
	}
	major, minor := int(version[5]-'0'), int(version[7]-'0')
	method := line[:sp1]
	if major == 2 && minor == 0 && string(method) == "PRI" && string(target) == "*" {
		info.preface = true
		return nil
	}
	if major != 1 {
		return errVersion
	}
	if minor > 1 {
		minor = 1
	}
	if len(target) > cfg.MaxTargetBytes {
		return errTargetTooLong
	}
	r.Method = bstr(method)
	r.Target = bstr(target)
	r.ProtoMajor, r.ProtoMinor = major, minor
	if string(method) == "CONNECT" {
		// CONNECT takes the authority-form only (RFC 9110 §9.3.6); it is
		// well-formed but not implemented by this origin server.
		if !isHostPort(target) {
			return errBadTarget
		}
		return errConnect
	}
	switch {
	case target[0] == '/':
		return parseOrigin(r, target)
	case len(target) == 1 && target[0] == '*':
		if string(method) != "OPTIONS" {
			return errAsterisk
		}
		info.asterisk = true
		r.Path, r.RawPath = "*", "*"
		return nil
	}
	return parseAbsolute(r, target)
}

// parseOrigin parses an origin-form target: absolute-path [ "?" query ].
func parseOrigin(r *Request, target []byte) *parseError {
	q := len(target)
	pct := false
	for i, b := range target {
		if b == '?' {
			q = i
			break
		}
		if chars[b]&cPath == 0 {
			return errBadTarget
		}
		if b == '%' {
			if i+2 >= len(target) || chars[target[i+1]]&cHex == 0 || chars[target[i+2]]&cHex == 0 {
				return errBadTarget
			}
			pct = true
		}
	}
	if q < len(target) {
		for _, b := range target[q+1:] {
			if chars[b]&cQuery == 0 {
				return errBadTarget
			}
		}
		r.RawQuery = bstr(target[q+1:])
	}
	path := target[:q]
	r.RawPath = bstr(path)
	if !pct {
		r.Path = r.RawPath
	}
	// With escapes the path is decoded by the caller into its own buffer.
	return nil
}

// parseAbsolute parses an absolute-form target: "http" or "https" "://"
// authority path-abempty [ "?" query ] (RFC 9112 §3.2.2); the authority
// replaces Host. Any other form is rejected: authority-form (CONNECT) is
// caught before.
func parseAbsolute(r *Request, target []byte) *parseError {
	i := 0
	for i < len(target) && target[i] != ':' {
		i++
	}
	scheme := target[:i]
	if !eqFold(scheme, "http") && !eqFold(scheme, "https") {
		if i < len(target) && isHostPort(target) {
			return errAuthorityForm
		}
		return errBadTarget
	}
	rest := target[i:]
	if len(rest) < 3 || string(rest[:3]) != "://" {
		return errBadTarget
	}
	rest = rest[3:]
	end := len(rest)
	for j, b := range rest {
		if b == '/' || b == '?' {
			end = j
			break
		}
	}
	authority := rest[:end]
	if !isHostPort(authority) {
		return errBadTarget
	}
	r.Host = bstr(authority)
	rest = rest[end:]
	if len(rest) == 0 || rest[0] == '?' {
		// An empty path is "/" (RFC 9112 §3.2.1).
		for _, b := range rest {
			if chars[b]&cQuery == 0 {
				return errBadTarget
			}
		}
		if len(rest) > 0 {
			r.RawQuery = bstr(rest[1:])
		}
		r.Path, r.RawPath = "/", "/"
		return nil
	}
	return parseOrigin(r, rest)
}

// isHostPort reports whether b is uri-host [ ":" port ] (RFC 9110 §7.2),
// a non-empty host.
func isHostPort(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	host := b
	if b[0] == '[' {
		end := -1
		for i, c := range b {
			if c == ']' {
				end = i
				break
			}
		}
		if end < 0 {
			return false
		}
		if !isIPLiteral(b[1:end]) {
			return false
		}
		host, b = b[:end+1], b[end+1:]
		if len(b) > 0 && b[0] != ':' {
			return false
		}
	} else {
		colon := len(b)
		for i, c := range b {
			if c == ':' {
				colon = i
				break
			}
		}
		host, b = b[:colon], b[colon:]
		if len(host) == 0 {
			return false
		}
		for _, c := range host {
			// A host is a DNS name or an address (RFC 9110 §4.3.2):
			// no pct-encoding, which net/url refuses in most cases too.
			if chars[c]&cRegName == 0 || c == '%' {
				return false
			}
		}
	}
	_ = host
	if len(b) > 0 { // ":" port
		for _, c := range b[1:] {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// isIPLiteral reports whether b (inside the brackets) is an IPv6
// address or an IPvFuture.
func isIPLiteral(b []byte) bool {
	if len(b) > 1 && (b[0] == 'v' || b[0] == 'V') {
		// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
		i := 1
		for i < len(b) && chars[b[i]]&cHex != 0 {
			i++
		}
		if i == 1 || i >= len(b)-1 || b[i] != '.' {
			return false
		}
		for _, c := range b[i+1:] {
			if c == '%' || chars[c]&cRegName == 0 && c != ':' {
				return false
			}
		}
		return true
	}
	for _, c := range b {
		if chars[c]&cHex == 0 && c != ':' && c != '.' {
			return false // no zone in a URI (RFC 6874 is not in RFC 9110)
		}
	}
	a, err := netip.ParseAddr(bstr(b))
	return err == nil && a.Is6()
}

// trimOWS trims SP and HTAB on both sides.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseFieldLine splits a field line (without its CRLF) into its
// lower-cased name (in place) and its trimmed value.
func parseFieldLine(line []byte) (name, value []byte, err *parseError) {
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		return nil, nil, errObsFold
	}
	colon := -1
	for i, b := range line {
		if b == ':' {
			colon = i
			break
		}
		if chars[b]&cTchar == 0 {
			if b == ' ' || b == '\t' {
				// Whitespace before the colon, or a line with no colon.
				for _, c := range line[i:] {
					if c == ':' {
						return nil, nil, errSpaceBeforeColon
					}
				}
			}
			return nil, nil, errBadFieldName
		}
		if b >= 'A' && b <= 'Z' {
			line[i] = b + ('a' - 'A')
		}
	}
	if colon <= 0 {
		return nil, nil, errBadFieldName
	}
	value = line[colon+1:]
	for _, b := range value {
		if chars[b]&cVchar == 0 {
			return nil, nil, errBadFieldValue
		}
	}
	return line[:colon], trimOWS(value), nil
}

// parseHead parses a request head: lines, each ending in CRLF, the last
// one empty, with the leading empty lines already dropped. The Request
// must be reset; strings in it point into head, whose field names are
// lower-cased in place.
func parseHead(r *Request, info *headInfo, head []byte, cfg *Config, pathBuf *[]byte) *parseError {
	*info = headInfo{contentLen: -1}
	r.ContentLength = 0
	line, rest, err := nextLine(head)
	if err != nil {
		return err
	}
	if err := parseRequestLine(r, info, line, cfg); err != nil {
		return err
	}
	if r.Path == "" && r.RawPath != "" {
		*pathBuf = decodePath((*pathBuf)[:0], r.RawPath)
		r.Path = bstr(*pathBuf)
	}
	if info.preface {
		if len(rest) != 2 {
			return errBadRequestLine
		}
		return nil
	}
	hosts := 0
	hostIdx := -1
	nCL := 0
	teSeen, chunkedSeen := false, false
	lastChunked, otherCoding := false, false
	absHost := r.Host
	for {
		line, rest, err = nextLine(rest)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		name, value, err := parseFieldLine(line)
		if err != nil {
			if err == errObsFold && r.Header.Len() == 0 {
				return errLeadingSpace
			}
			return err
		}
		if r.Header.Len() >= cfg.MaxHeaderFields {
			return errTooManyFields
		}
		r.Header.Add(bstr(name), bstr(value))
		switch len(name) {
		case 4:
			if string(name) == "host" {
				hosts++
				hostIdx = r.Header.Len() - 1
				if !isHostPort(value) {
					return errBadHost
				}
				if absHost == "" {
					r.Host = bstr(value)
				}
			}
		case 6:
			if string(name) == "expect" {
				if e := parseExpect(value); e != nil {
					return e
				}
				info.expect = true
			}
		case 7:
			if string(name) == "upgrade" {
				forList(value, func(el []byte) {
					if eqFold(el, "h2c") {
						info.upgradeH2C = true
					}
				})
			}
		case 10:
			if string(name) == "connection" {
				forList(value, func(el []byte) {
					switch {
					case eqFold(el, "close"):
						info.close = true
					case eqFold(el, "keep-alive"):
						info.keepAlive = true
					case eqFold(el, "upgrade"):
						info.upgrade = true
					case eqFold(el, "http2-settings"):
						info.h2Settings = true
					}
				})
			}
		case 14:
			if string(name) == "content-length" {
				nCL++
				if nCL > 1 {
					return errManyCL
				}
				n, ok := parseContentLength(value)
				if !ok {
					return errBadCL
				}
				info.contentLen = n
			} else if string(name) == "http2-settings" {
				info.hasH2Set = true
			}
		case 17:
			if string(name) == "transfer-encoding" {
				teSeen = true
				if len(value) == 0 {
					return errBadTE
				}
				codings := 0
				var bad *parseError
				forList(value, func(el []byte) {
					if bad != nil {
						return
					}
					codings++
					coding := el
					for i, c := range el {
						if c == ';' {
							coding = trimOWS(el[:i])
							break
						}
					}
					if !tokenBytes(coding) {
						bad = errBadTE
						return
					}
					if eqFold(el, "chunked") {
						if chunkedSeen {
							bad = errChunkedTwice
						}
						chunkedSeen, lastChunked = true, true
						return
					}
					otherCoding, lastChunked = true, false
				})
				if bad == nil && codings == 0 {
					bad = errBadTE
				}
				if bad != nil {
					return bad
				}
			}
		}
	}
	if len(rest) != 0 {
		return errBadLineEnd // cannot happen: the reader stops at the empty line
	}
	if r.ProtoMinor == 1 && hosts == 0 {
		return errNoHost
	}
	if hosts > 1 {
		return errManyHosts
	}
	if absHost != "" && hostIdx >= 0 {
		// RFC 9112 §3.2.2: the target's authority replaces Host.
		r.Header.fields[hostIdx].Value = absHost
	}
	if teSeen {
		if r.ProtoMinor == 0 {
			return errTE10
		}
		if nCL > 0 {
			return errCLAndTE
		}
		if !lastChunked {
			return errTENotChunked
		}
		if otherCoding {
			return errUnknownTE
		}
		info.chunked = true
		r.ContentLength = -1
	} else if info.contentLen >= 0 {
		r.ContentLength = info.contentLen
	}
	if info.expect && r.ProtoMinor == 0 {
		info.expect = false // RFC 9110 §10.1.1: ignored in HTTP/1.0
	}
	return nil
}

// parseExpect accepts only the 100-continue expectation.
func parseExpect(v []byte) *parseError {
	n := 0
	var bad bool
	forList(v, func(el []byte) {
		n++
		if !eqFold(el, "100-continue") {
			bad = true
		}
	})
	if bad || n == 0 {
		return errExpect
	}
	return nil
}

// forList calls f with each non-empty element of a comma-separated list,
// OWS trimmed (RFC 9110 §5.6.1: empty elements are ignored).
func forList(v []byte, f func([]byte)) {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if el := trimOWS(v[:i]); len(el) > 0 {
			f(el)
		}
		if i == len(v) {
			return
		}
		v = v[i+1:]
	}
}

func forListString(v string, f func(string)) {
	forList(unsafe.Slice(unsafe.StringData(v), len(v)), func(b []byte) { f(bstr(b)) })
}

func eqFoldString(b, s string) bool {
	return eqFold(unsafe.Slice(unsafe.StringData(b), len(b)), s)
}

// parseContentLength parses 1*DIGIT, failing on overflow.
func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for _, b := range v {
		if b < '0' || b > '9' {
			return 0, false
		}
		d := int64(b - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// nextLine returns the first line of b without its CRLF, and the rest.
// The reader guarantees that b ends in a line feed.
func nextLine(b []byte) (line, rest []byte, err *parseError) {
	i := bytes.IndexByte(b, '\n')
	if i <= 0 || b[i-1] != '\r' {
		return nil, nil, errBadLineEnd
	}
	line = b[:i-1]
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, nil, errBadLineEnd
	}
	return line, b[i+1:], nil
}

// unhex is the value of a hex digit.
func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// decodePath appends the percent-decoded path to dst ('+' stays '+', as
// in net/http's URL.Path). The escapes were checked by the parser.
func decodePath(dst []byte, path string) []byte {
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '%' && i+2 < len(path) {
			dst = append(dst, unhex(path[i+1])<<4|unhex(path[i+2]))
			i += 2
			continue
		}
		dst = append(dst, c)
	}
	return dst
}
