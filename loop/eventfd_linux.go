package loop

import (
	"syscall"
	"unsafe"
)

// wakeFD is a non-blocking eventfd: Write makes it readable, Clear makes it
// unreadable again.
type wakeFD int

func newWakeFD() (wakeFD, error) {
	const efdCloexec, efdNonblock = syscall.O_CLOEXEC, syscall.O_NONBLOCK
	fd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, efdCloexec|efdNonblock, 0)
	if errno != 0 {
		return -1, errno
	}
	return wakeFD(fd), nil
}

func (w wakeFD) Write() {
	one := uint64(1)
	buf := (*[8]byte)(unsafe.Pointer(&one))[:]
	for {
		_, err := syscall.Write(int(w), buf)
		if err != syscall.EINTR {
			return // EAGAIN means the counter is saturated: already readable
		}
	}
}

func (w wakeFD) Clear() {
	var buf [8]byte
	for {
		_, err := syscall.Read(int(w), buf[:])
		if err != syscall.EINTR {
			return
		}
	}
}

func (w wakeFD) Close() { syscall.Close(int(w)) }
