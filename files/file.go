package files

import (
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// file is an open file being served: a bare descriptor for the usual
// case, which costs no *os.File (whose creation tries the netpoller:
// several fcntl and an epoll_ctl per open), or an *os.File when package
// os opened it.
type file struct {
	fd    int
	f     *os.File // the file when opened by package os
	name  string
	moved bool // the descriptor's offset may not be 0
}

// info is what serving needs from a stat.
type info struct {
	size    int64
	modtime time.Time
	regular bool
	dir     bool
}

func fromOS(f *os.File) (*file, info, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, info{}, err
	}
	return &file{fd: -1, f: f, name: f.Name()}, info{size: fi.Size(), modtime: fi.ModTime(), regular: fi.Mode().IsRegular(), dir: fi.IsDir()}, nil
}

// ReadAt reads len(p) bytes from off, or fewer with an error.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if f.f != nil {
		return f.f.ReadAt(p, off)
	}
	n := 0
	for n < len(p) {
		m, err := syscall.Pread(f.fd, p[n:], off+int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &fs.PathError{Op: "pread", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// seek moves f's offset to off (where its reader and sendfile start),
// sparing the lseek for a fresh descriptor read from its start (ReadAt
// does not move the offset).
func (f *file) seek(off int64) error {
	if f.f != nil {
		_, err := f.f.Seek(off, io.SeekStart)
		return err
	}
	if off == 0 && !f.moved {
		return nil
	}
	f.moved = true
	_, err := syscall.Seek(f.fd, off, io.SeekStart)
	if err != nil {
		return &fs.PathError{Op: "seek", Path: f.name, Err: err}
	}
	return nil
}

// reader reads f from its offset: the *os.File, or the bare descriptor
// as an fdReader, which the HTTP/1.1 writer sends by sendfile as it would
// an *os.File (both are syscall.Conn) without the netpoller registration
// os.NewFile tries (an fcntl and a failing epoll_ctl per request).
func (f *file) reader() io.Reader {
	if f.f != nil {
		return f.f
	}
	f.moved = true
	return fdReader{f}
}

// fdReader is a bare, blocking descriptor's reader and syscall.Conn.
type fdReader struct{ f *file }

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(r.f.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, &fs.PathError{Op: "read", Path: r.f.name, Err: err}
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (r fdReader) SyscallConn() (syscall.RawConn, error) { return rawFd(r.f.fd), nil }

// rawFd is a blocking descriptor's RawConn: operations never wait for
// readiness (a regular file is always ready).
type rawFd int

func (c rawFd) Control(f func(fd uintptr)) error { f(uintptr(c)); return nil }

func (c rawFd) Read(f func(fd uintptr) bool) error {
	for !f(uintptr(c)) {
	}
	return nil
}

func (c rawFd) Write(f func(fd uintptr) bool) error {
	for !f(uintptr(c)) {
	}
	return nil
}

func (f *file) Close() error {
	if f.f != nil {
		return f.f.Close()
	}
	return syscall.Close(f.fd)
}
