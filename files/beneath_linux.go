//go:build linux

package files

import (
	"io/fs"
	"syscall"
	"time"
	"unsafe"
)

// openat2(2) (Linux 5.6): the same number on every architecture.
const sysOpenat2 = 437

type openHow struct {
	flags, mode, resolve uint64
}

const (
	resolveNoXdev       = 0x01
	resolveNoMagiclinks = 0x02
	resolveNoSymlinks   = 0x04
	resolveBeneath      = 0x08
)

// openDirFD opens a directory for openBeneath.
func openDirFD(path string) (int, error) {
	return syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
}

// openBeneath opens name below the directory dirfd in one system call,
// the kernel refusing (EXDEV) any step out of it, by "..", a symbolic
// link or an absolute link; links that stay inside are followed. It is
// what os.Root does in user space, component by component. O_NONBLOCK:
// opening a FIFO does not wait for a writer (reads of regular files are
// not affected). ENOSYS: no openat2 here (an old kernel, a seccomp filter).
func openBeneath(dirfd int, name string) (int, error) {
	return openat2(dirfd, name, resolveBeneath|resolveNoMagiclinks)
}

// openat2 opens name below dirfd for reading with the RESOLVE_ flags
// resolve.
func openat2(dirfd int, name string, resolve uint64) (int, error) {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return -1, err
	}
	how := openHow{
		flags:   syscall.O_RDONLY | syscall.O_CLOEXEC | syscall.O_NONBLOCK | syscall.O_NOCTTY,
		resolve: resolve,
	}
	for {
		fd, _, e := syscall.Syscall6(sysOpenat2, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(&how)), unsafe.Sizeof(how), 0, 0)
		if e == syscall.EINTR || e == syscall.EAGAIN {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(fd), nil
	}
}

func fromFD(fd int, name string) (*file, info, error) {
	var st syscall.Stat_t
	for {
		err := syscall.Fstat(fd, &st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return nil, info{}, &fs.PathError{Op: "fstat", Path: name, Err: err}
		}
		break
	}
	mode := st.Mode & syscall.S_IFMT
	return &file{fd: fd, name: name}, info{
		size:    st.Size,
		modtime: time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)),
		regular: mode == syscall.S_IFREG,
		dir:     mode == syscall.S_IFDIR,
	}, nil
}
