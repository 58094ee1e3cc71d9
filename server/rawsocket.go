package server

import (
	"net"
	"syscall"
)

// RawSocket is the socket under c when a write to its descriptor is a
// write to the connection: TCP, Unix and the in-process pipe, not TLS.
// WebSocket sessions write small frames to it from C (pybridge/ws.c).
func RawSocket(c net.Conn) (syscall.Conn, bool) {
	if p, ok := c.(pipeConn); ok {
		c = p.Conn
	}
	switch s := c.(type) {
	case *net.TCPConn:
		return s, true
	case *net.UnixConn:
		return s, true
	}
	return nil, false
}
