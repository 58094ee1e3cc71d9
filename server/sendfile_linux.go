package server

import "syscall"

// canSendfile: sendfile(2) sends a file to a socket on this system.
const canSendfile = true

// sendfileOp is one sendfile call, run by the socket's RawConn.Write: its
// arguments and results live in the conn, so that the function given to
// Write (c.sfRun, a method value of c.sf) is made once per connection
// rather than once per response, as a closure would be.
type sendfileOp struct {
	head   []byte
	src    int
	hasOff bool  // send from off (which advances), not from src's own offset
	off    int64 // with hasOff
	n      int64
	hn     int
	fn     int64
	err    error
}

// sendfile writes head, then up to n bytes of the file src from off (when
// off >= 0; src's own offset is then neither used nor moved) or from src's
// offset (off < 0; it advances), to the socket behind rc, waiting for room
// as the write deadline allows. When file bytes follow, the head goes with
// MSG_MORE, so that it leaves in the first segment of the file's rather
// than in one of its own. hn and fn are how much of head and of the file
// went; fn < n with no error: the file ended. errNoSendfile: src cannot be
// sent this way, and nothing of it went.
func (c *conn) sendfile(rc syscall.RawConn, head []byte, src int, off, n int64) (hn int, fn int64, err error) {
	op := &c.sf
	*op = sendfileOp{head: head, src: src, hasOff: off >= 0, off: off, n: n}
	if c.sfRun == nil {
		c.sfRun = op.run
	}
	err = rc.Write(c.sfRun)
	hn, fn = op.hn, op.fn
	if err == nil {
		err = op.err
	}
	op.head = nil
	return hn, fn, err
}

func (op *sendfileOp) run(fd uintptr) bool {
	flags := 0
	if op.n > 0 {
		flags = syscall.MSG_MORE
	}
	for op.hn < len(op.head) {
		m, e := syscall.SendmsgN(int(fd), op.head[op.hn:], nil, nil, flags)
		if m > 0 {
			op.hn += m
		}
		switch e {
		case nil, syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			op.err = e
			return true
		}
	}
	var offp *int64
	if op.hasOff {
		offp = &op.off
	}
	for op.fn < op.n {
		m, e := syscall.Sendfile(int(fd), op.src, offp, int(min(op.n-op.fn, 1<<30)))
		if m > 0 {
			op.fn += int64(m)
		}
		switch e {
		case nil:
			if m == 0 {
				return true // the end of the file
			}
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		case syscall.EINVAL, syscall.ENOSYS, syscall.EOPNOTSUPP:
			op.err = e
			if op.fn == 0 {
				op.err = errNoSendfile
			}
			return true
		default:
			op.err = e
			return true
		}
	}
	return true
}
