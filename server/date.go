package server

import (
	"net/http"
	"sync/atomic"
	"time"
)

// The Date header value, formatted at most once a second (RFC 9110
// §6.6.1: IMF-fixdate), shared by every connection.
type dateValue struct {
	sec int64
	b   []byte
}

var cachedDate atomic.Pointer[dateValue]

// appendDate appends now in http.TimeFormat.
func appendDate(b []byte, now time.Time) []byte {
	sec := now.Unix()
	d := cachedDate.Load()
	if d == nil || d.sec != sec {
		d = &dateValue{sec: sec, b: now.UTC().AppendFormat(make([]byte, 0, len(http.TimeFormat)), http.TimeFormat)}
		cachedDate.Store(d)
	}
	return append(b, d.b...)
}
