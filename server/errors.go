package server

import (
	"errors"
	"io"
	"log"
	"strings"
	"unicode/utf8"
)

// ErrBodyTooLarge is returned by a request body read past
// Config.MaxBodyBytes (the handler answers 413).
var ErrBodyTooLarge = errors.New("databridge: request body too large")

// ErrBadFraming is wrapped by the errors of a request body whose framing
// is broken (a bad chunk size, a truncated body): the connection is closed.
var ErrBadFraming = errors.New("databridge: malformed request body")

// IsTruncated reports whether err is a body that ended before its length
// or its last chunk because the connection did: the client went away,
// rather than sent a malformed body.
func IsTruncated(err error) bool {
	return err == errTruncated || errors.Is(err, io.ErrUnexpectedEOF)
}

// The messages of the engine's own error responses.
const (
	MsgNotFound         = "Not Found"
	MsgMethodNotAllowed = "Method Not Allowed"
	MsgBodyTooLarge     = "request body too large"
	MsgInternal         = "Internal Server Error"
	MsgUnavailable      = "Service Unavailable"
)

// ErrorBody returns the body of every error response the engine makes,
// {"error":"<msg>"}, compact like every JSON body databridge writes (the
// C encoder writes a handler's HTTPError the same way).
func ErrorBody(msg string) []byte {
	b := make([]byte, 0, len(`{"error":""}`)+len(msg)+8)
	b = append(b, `{"error":`...)
	b = AppendJSONString(b, msg)
	return append(b, '}')
}

// ErrorMessage is the text of err for the client's eyes: without the
// "databridge: " prefix that the engine's errors carry.
func ErrorMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "databridge: ")
}

// WriteError answers status with ErrorBody(msg), keeping header fields the
// caller set (such as Allow).
func WriteError(w ResponseWriter, status int, msg string) {
	WriteJSON(w, status, ErrorBody(msg))
}

// WriteJSON answers status with a JSON body made elsewhere (a 422's).
func WriteJSON(w ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("content-type", "application/json")
	w.Send(status, body)
}

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD; control characters, '"' and '\' are escaped.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// logger is where the package reports what it cannot report to a client:
// handler panics, invalid responses, accept errors. Its lines go through
// the standard logger, with its current output, flags and prefix,
// followed by "databridge: ".
var logger = log.New(stdLog{}, "databridge: ", 0)

// Logf logs a line through the engine's logger.
func Logf(format string, args ...any) { logger.Printf(format, args...) }

// stdLog passes each line to the standard logger.
type stdLog struct{}

func (stdLog) Write(p []byte) (int, error) {
	if err := log.Output(3, string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
