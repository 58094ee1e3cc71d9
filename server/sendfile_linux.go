package server

import "syscall"

// canSendfile: sendfile(2) sends a file to a socket on this system.
const canSendfile = true

// sendfile writes head, then up to n bytes of the file src from its
// offset (which advances), to the socket behind rc, waiting for room as
// the write deadline allows. When file bytes follow, the head goes with
// MSG_MORE, so that it leaves in the first segment of the file's rather
// than in one of its own. hn and fn are how much of head and of the file
// went; fn < n with no error: the file ended. errNoSendfile: src cannot be
// sent this way, and nothing of it went.
func sendfile(rc syscall.RawConn, head []byte, src int, n int64) (hn int, fn int64, err error) {
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		flags := 0
		if n > 0 {
			flags = syscall.MSG_MORE
		}
		for hn < len(head) {
			m, e := syscall.SendmsgN(int(fd), head[hn:], nil, nil, flags)
			if m > 0 {
				hn += m
			}
			switch e {
			case nil, syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				serr = e
				return true
			}
		}
		for fn < n {
			m, e := syscall.Sendfile(int(fd), src, nil, int(min(n-fn, 1<<30)))
			if m > 0 {
				fn += int64(m)
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
				serr = e
				if fn == 0 {
					serr = errNoSendfile
				}
				return true
			default:
				serr = e
				return true
			}
		}
		return true
	})
	if err == nil {
		err = serr
	}
	return hn, fn, err
}
