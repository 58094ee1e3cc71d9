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
// several fcntl and an epoll_ctl per open), wrapped in one only when the
// body goes through io.Copy.
type file struct {
	fd   int
	f    *os.File // the file when opened by package os, or once wrapped
	name string
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

// osFile is f as an *os.File (what sendfile needs), made once.
func (f *file) osFile() *os.File {
	if f.f == nil {
		f.f = os.NewFile(uintptr(f.fd), f.name)
		f.fd = -1
	}
	return f.f
}

func (f *file) Close() error {
	if f.f != nil {
		return f.f.Close()
	}
	return syscall.Close(f.fd)
}
