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
// os opened it. A bare descriptor is only ever read at explicit offsets
// (pread, sendfile with an offset), never through its own offset, so that
// one from the cache of open files (cache_linux.go) may serve several
// responses at once.
type file struct {
	fd   int
	f    *os.File // the file when opened by package os
	name string
	ent  *entry  // the cache entry whose descriptor this is (Close releases it)
	sec  section // the body being sent (copyBody), kept here: no allocation
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

// body prepares n bytes from off as a body to copy: an *io.LimitedReader
// over the *os.File, moved to off (which the HTTP/1.1 writer sends by
// sendfile), or, for a bare descriptor, a section of it
// (server.FileRange, sent by sendfile at its offset). The error is the
// seek's.
func (f *file) body(off, n int64) (io.Reader, error) {
	if f.f != nil {
		if _, err := f.f.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
		return &io.LimitedReader{R: f.f, N: n}, nil
	}
	f.sec = section{f: f, off: off, n: n}
	return &f.sec, nil
}

// section is n bytes of a bare descriptor from off: a server.FileRange,
// read with pread where it is not sent by sendfile.
type section struct {
	f      *file
	off, n int64
}

func (s *section) FileRange() (fd int, off, n int64) { return s.f.fd, s.off, s.n }

func (s *section) Skip(n int64) { s.off, s.n = s.off+n, s.n-n }

func (s *section) Read(p []byte) (int, error) {
	if s.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.n {
		p = p[:s.n]
	}
	for {
		m, err := syscall.Pread(s.f.fd, p, s.off)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, &fs.PathError{Op: "pread", Path: s.f.name, Err: err}
		case m == 0 && len(p) > 0:
			return 0, io.EOF
		}
		s.Skip(int64(m))
		return m, nil
	}
}

func (f *file) Close() error {
	if f.f != nil {
		return f.f.Close()
	}
	if e := f.ent; e != nil {
		*f = file{fd: -1}
		handles.Put(f) // no use of f after Close
		e.release()
		return nil
	}
	if f.fd < 0 {
		return os.ErrClosed
	}
	fd := f.fd
	f.fd = -1
	return syscall.Close(fd)
}
