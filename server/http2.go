package server

import (
	"bufio"
	"net"
)

// h2front serves HTTP/2 connections with net/http's implementation,
// feeding the same Request view and ResponseWriter as the HTTP/1.1 front
// (see FromNetHTTP): h2 over TLS chosen by ALPN, h2c with prior knowledge
// (the HTTP/1.1 front sees the connection preface and hands the
// connection over) and h2c by Upgrade.
type h2front struct {
	h   Handler
	cfg Config
}

// newH2Front returns the HTTP/2 front of a server, or nil when HTTP/2 is
// turned off.
func newH2Front(h Handler, cfg Config) *h2front {
	if cfg.DisableHTTP2 {
		return nil
	}
	return &h2front{h: h, cfg: cfg}
}

// serveConn serves c as an HTTP/2 connection until it ends. preread holds
// bytes already read from c (the client preface, for prior knowledge).
func (f *h2front) serveConn(c net.Conn, preread []byte) {
	c.Close() // not implemented yet
}

// upgrade answers an HTTP/1.1 request carrying "Upgrade: h2c" and
// HTTP2-Settings with 101 and serves the connection as HTTP/2, the request
// being stream 1. It reports false, having written nothing, when the
// request cannot be upgraded (the caller then serves it as HTTP/1.1).
func (f *h2front) upgrade(c net.Conn, br *bufio.Reader, req *Request) bool {
	return false
}
