//go:build !linux

package server

import "syscall"

// canSendfile: the writer copies files here (ReadFrom still keeps the
// Content-Length).
const canSendfile = false

type sendfileOp struct{}

func (c *conn) sendfile(rc syscall.RawConn, head []byte, src int, off, n int64) (int, int64, error) {
	return 0, 0, errNoSendfile
}
