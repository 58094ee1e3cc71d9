//go:build linux

package files

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// The cache of open files (nginx's open_file_cache, made exact). A Dir
// keeps the descriptor, stat and response header values of the files it
// served lately, so that a hit costs no open, fstat or close. Freshness
// is exact, not timed: every directory on a cached file's path and the
// file itself are watched with inotify, and each lookup first reads the
// inotify descriptor, non-blocking. The kernel queues an event within the
// system call that makes the change (a write, truncate, chmod, chown,
// utime, link, unlink, rename, create, in any directory of the path or
// through any hard link of the file), so a read that finds nothing
// (EAGAIN) proves that nothing a cached entry depends on changed before
// the request was read; an event drops the entries it concerns, and the
// request opens the file anew. What is cached:
//
//   - only regular files reached without a symbolic link and without
//     crossing a mount point (openat2 RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV:
//     the rest take the uncached way each time), on a local file system
//     whose changes inotify sees (ext4, xfs, btrfs, tmpfs, overlayfs, ...;
//     not NFS or FUSE, where another machine may change a file unseen:
//     there, no cache);
//   - at most maxCached files per Dir, and in all the Dirs of the
//     process never more descriptors than an eighth of RLIMIT_NOFILE; the
//     least recently used is dropped (its descriptor closed when the last
//     response using it ends), and all of them at Close.
//
// An overflowed event queue (IN_Q_OVERFLOW) drops everything; any failure
// to watch (no inotify, no /proc, the watch limit reached) leaves the file
// uncached. What inotify does not report: writes through a shared mmap
// (a file rewritten that way in place keeps, while cached, the size, ETag
// and Last-Modified it had; the bytes sent are the new ones), and a file
// system mounted over a directory of a cached path.

// maxCached bounds the entries of one Dir's cache.
const maxCached = 1024

// cachedFDs counts the descriptors held by every Dir's cache, which
// fdBudget (an eighth of RLIMIT_NOFILE, read at the first cache) bounds.
var (
	cachedFDs atomic.Int64
	fdBudget  = sync.OnceValue(func() int64 {
		var lim syscall.Rlimit
		if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
			return 0
		}
		return int64(min(lim.Cur/8, 1<<20))
	})
)

// Watch masks. A directory: a name in it made, removed or renamed, or its
// own mode changed (which decides whether it may be searched). A file:
// written or truncated, its mode, owner, times or link count changed.
const (
	dirMask  = syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO | syscall.IN_ATTRIB | syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF | syscall.IN_ONLYDIR | syscall.IN_DONT_FOLLOW
	fileMask = syscall.IN_MODIFY | syscall.IN_ATTRIB | syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF
)

// localFS lists the file systems (statfs f_type) whose every change is
// reported by inotify on this machine.
var localFS = map[int64]bool{
	0xEF53:     true, // ext2, ext3, ext4
	0x58465342: true, // xfs
	0x9123683E: true, // btrfs
	0x01021994: true, // tmpfs
	0x858458F6: true, // ramfs
	0x794C7630: true, // overlayfs
	0xF2F52010: true, // f2fs
	0x2FC12FC1: true, // zfs
}

type openCache struct {
	mu       sync.Mutex
	ifd      int // inotify, non-blocking
	dirfd    int // the Dir's directory
	proc     string
	entries  map[string]*entry // by relative path
	head     entry             // the LRU list's sentinel: head.next is the most recent
	watches  map[int32]*watch  // by watch descriptor
	dirs     map[string]*watch // directory watches by relative path ("" the root)
	max      int
	disabled bool // the root's watch is gone, or inotify failed: no cache from now on
	buf      [4096]byte
}

// entry is one cached file. refs counts the cache's own reference (while
// the entry is in it) and one per response using fd; the last release
// closes fd.
type entry struct {
	rel        string
	fd         int
	refs       atomic.Int32
	info       info
	hdr        fileHeaders
	ctype      string
	absent     uint8    // siblings known missing: absentBr, absentGz
	fw         *watch   // the file's own watch
	dws        []*watch // the directories of its path, the root first
	prev, next *entry
}

// The precompressed siblings an entry knows missing ("name.br",
// "name.gz"): a request that accepts a coding then looks for no file.
// A sibling made (created, renamed or linked there) is an event in the
// entry's directory, which drops the entry.
const (
	absentBr = 1 << iota
	absentGz
)

func absentBit(ext string) uint8 {
	switch ext {
	case ".br":
		return absentBr
	case ".gz":
		return absentGz
	}
	return 0
}

// watch is one inotify watch and the entries that depend on it.
type watch struct {
	wd    int32
	dir   string // a directory's relative path
	isDir bool
	users int
	files []*entry // a file watch's entries (several: hard links)
}

// newOpenCache returns the cache of the directory open as dirfd, or nil
// when the files there cannot be cached exactly. Its inotify instance is
// made at the first lookup: fs.inotify.max_user_instances (128 by
// default) counts them per user, so a Dir that serves nothing (a docs
// page never visited) takes none; when none is left, the Dir serves
// uncached.
func newOpenCache(dirfd int) *openCache {
	var sfs syscall.Statfs_t
	if syscall.Fstatfs(dirfd, &sfs) != nil || !localFS[int64(sfs.Type)] {
		return nil
	}
	if fdBudget() < 16 {
		return nil
	}
	oc := &openCache{ifd: -1, dirfd: dirfd, proc: "/proc/self/fd/" + strconv.Itoa(dirfd),
		entries: map[string]*entry{}, watches: map[int32]*watch{}, dirs: map[string]*watch{},
		max: int(min(maxCached, fdBudget()))}
	oc.head.prev, oc.head.next = &oc.head, &oc.head
	return oc
}

// start makes the inotify instance and the root's watch, once; false:
// the cache is off.
func (oc *openCache) start() bool {
	if oc.ifd >= 0 || oc.disabled {
		return !oc.disabled
	}
	ifd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		oc.disabled = true
		return false
	}
	oc.ifd = ifd
	root := oc.watchDir("")
	if root == nil {
		syscall.Close(ifd)
		oc.ifd, oc.disabled = -1, true
		return false
	}
	root.users++ // pinned
	return true
}

// lookup returns an open handle of rel from the cache, filling it on a
// miss, or the error opening it gave (one that any way of opening it
// would give); ok false: rel is not cacheable (now), open it the usual
// way.
func (oc *openCache) lookup(rel string) (f *file, fi info, err error, ok bool) {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if !oc.start() || !oc.sync() {
		return nil, info{}, nil, false
	}
	e := oc.entries[rel]
	if e == nil {
		if e, err = oc.fill(rel); e == nil {
			return nil, info{}, err, err != nil
		}
	} else if oc.head.next != e {
		e.unlink()
		oc.pushFront(e)
	}
	e.refs.Add(1)
	f = handles.Get().(*file)
	f.fd, f.name, f.ent = e.fd, e.rel, e
	return f, e.info, nil, true
}

// handles holds the *file of cache hits, which Close puts back: a hit
// allocates nothing.
var handles = sync.Pool{New: func() any { return new(file) }}

// sibling is lookup for the precompressed sibling rel+ext of main, an
// entry this request looked up: the events were read then. A sibling
// found missing is remembered on main.
func (oc *openCache) sibling(main *entry, rel, ext string) (f *file, fi info, err error, ok bool) {
	bit := absentBit(ext)
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if oc.disabled || oc.entries[rel] != main {
		return nil, info{}, nil, false
	}
	if main.absent&bit != 0 {
		return nil, info{}, errAbsent, true
	}
	name := rel + ext
	e := oc.entries[name]
	if e == nil {
		if e, err = oc.fill(name); e == nil {
			if errors.Is(err, syscall.ENOENT) && oc.entries[rel] == main {
				main.absent |= bit
			}
			return nil, info{}, err, err != nil
		}
	}
	e.refs.Add(1)
	f = handles.Get().(*file)
	f.fd, f.name, f.ent = e.fd, e.rel, e
	return f, e.info, nil, true
}

// errAbsent is a sibling known missing.
var errAbsent = &fs.PathError{Op: "open", Path: "precompressed sibling", Err: fs.ErrNotExist}

// release ends a response's use of e.
func (e *entry) release() {
	if e.refs.Add(-1) == 0 {
		syscall.Close(e.fd)
	}
}

// sync reads the events queued since the last lookup and drops what they
// concern; false: the cache cannot be trusted now (it was emptied).
func (oc *openCache) sync() bool {
	for {
		n, err := syscall.Read(oc.ifd, oc.buf[:])
		switch {
		case err == syscall.EAGAIN:
			return true
		case err == syscall.EINTR:
			continue
		case err != nil || n <= 0:
			oc.flush()
			oc.disabled = true
			return false
		}
		oc.events(oc.buf[:n])
		if oc.disabled {
			return false
		}
	}
}

// events handles the inotify events in b.
func (oc *openCache) events(b []byte) {
	const hdr = syscall.SizeofInotifyEvent
	ne := binary.NativeEndian
	for len(b) >= hdr {
		// struct inotify_event: wd, mask, cookie, len, then len bytes of
		// name, NUL-padded.
		wd, mask := int32(ne.Uint32(b[0:])), ne.Uint32(b[4:])
		end := hdr + int(ne.Uint32(b[12:]))
		if end > len(b) {
			break
		}
		name := b[hdr:end]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		b = b[end:]
		if mask&syscall.IN_Q_OVERFLOW != 0 {
			oc.flush()
			continue
		}
		w := oc.watches[wd]
		if w == nil {
			continue // a watch already removed
		}
		switch {
		case !w.isDir:
			for _, e := range slices.Clone(w.files) {
				oc.drop(e)
			}
		case len(name) > 0: // a name in the directory
			rel := join(w.dir, string(name))
			oc.dropUnder(rel)
			if base, ext := rel[:max(len(rel)-3, 0)], rel[max(len(rel)-3, 0):]; absentBit(ext) != 0 {
				if e := oc.entries[base]; e != nil {
					oc.drop(e) // it may know this sibling missing
				}
			}
		default: // the directory itself
			if w.dir == "" {
				oc.flush()
			} else {
				oc.dropUnder(w.dir)
			}
		}
		if mask&syscall.IN_IGNORED != 0 {
			// The kernel removed the watch (the inode went, the file
			// system was unmounted).
			oc.forget(w)
			if w.isDir && w.dir == "" {
				oc.flush()
				oc.disabled = true
				return
			}
		}
	}
}

// fill opens rel, watches it and its directories and caches it. Without
// an entry, err is the error of the open when it is one that opening rel
// the usual way gives too (no such file, not a directory, no permission:
// the path walked had neither a link nor a mount point up to the fault),
// else nil: rel cannot be cached.
func (oc *openCache) fill(rel string) (*entry, error) {
	var dws []*watch
	undo := func() {
		for _, w := range dws {
			oc.unwatch(w)
		}
	}
	dws = append(dws, oc.dirs[""])
	oc.dirs[""].users++
	for i := 0; i < len(rel); i++ {
		if rel[i] != '/' {
			continue
		}
		w := oc.watchDir(rel[:i])
		if w == nil {
			undo()
			return nil, nil
		}
		w.users++
		dws = append(dws, w)
	}
	fd, err := openat2(oc.dirfd, rel, resolveBeneath|resolveNoSymlinks|resolveNoXdev|resolveNoMagiclinks)
	if err != nil {
		undo()
		switch err {
		case syscall.ENOENT, syscall.ENOTDIR, syscall.EACCES, syscall.ENAMETOOLONG:
			return nil, &fs.PathError{Op: "openat2", Path: rel, Err: err}
		case syscall.ELOOP, syscall.EXDEV, syscall.EMFILE, syscall.ENFILE, syscall.EAGAIN:
		default: // openat2 refused (ENOSYS, a seccomp filter): no cache
			oc.flush()
			oc.disabled = true
		}
		return nil, nil
	}
	// The file's own watch, on the very inode opened, before its stat:
	// a change after this is an event, one before it is in the stat.
	wd, err := syscall.InotifyAddWatch(oc.ifd, "/proc/self/fd/"+strconv.Itoa(fd), fileMask)
	if err != nil {
		syscall.Close(fd)
		undo()
		return nil, nil
	}
	fw := oc.watches[int32(wd)]
	if fw == nil {
		fw = &watch{wd: int32(wd)}
		oc.watches[fw.wd] = fw
	} else if fw.isDir {
		syscall.Close(fd)
		undo()
		return nil, nil
	}
	fw.users++
	dws = append(dws, fw) // for undo; taken off below
	f, fi, err := fromFD(fd, rel)
	if err != nil || !fi.regular {
		if err == nil {
			f.Close()
		}
		undo()
		return nil, nil
	}
	dws = dws[:len(dws)-1]
	if len(oc.entries) >= oc.max || cachedFDs.Load() >= fdBudget() {
		if len(oc.entries) == 0 { // the other Dirs hold the budget
			f.Close()
			undo()
			oc.unwatch(fw)
			return nil, nil
		}
		oc.drop(oc.head.prev)
	}
	cachedFDs.Add(1)
	e := &entry{rel: rel, fd: fd, info: fi, hdr: makeHeaders(fi), ctype: TypeByName(rel), fw: fw, dws: dws}
	e.refs.Store(1)
	fw.files = append(fw.files, e)
	oc.entries[rel] = e
	oc.pushFront(e)
	return e, nil
}

// watchDir returns the watch of directory rel ("" the root), adding it;
// nil when it cannot be watched (missing, not a directory, a link, the
// watch limit reached, or a watch of the same directory under another
// name not yet dropped).
func (oc *openCache) watchDir(rel string) *watch {
	if w := oc.dirs[rel]; w != nil {
		return w
	}
	// The root is /proc/self/fd/N, a link to follow; below it, a link
	// is not a directory to watch.
	path, mask := oc.proc, uint32(dirMask&^syscall.IN_DONT_FOLLOW)
	if rel != "" {
		path, mask = path+"/"+rel, dirMask
	}
	wd, err := syscall.InotifyAddWatch(oc.ifd, path, mask)
	if err != nil {
		return nil
	}
	if oc.watches[int32(wd)] != nil {
		return nil // renamed, and the event not read yet
	}
	w := &watch{wd: int32(wd), dir: rel, isDir: true}
	oc.watches[w.wd] = w
	oc.dirs[rel] = w
	return w
}

// unwatch ends one user's dependence on w, removing it after the last.
func (oc *openCache) unwatch(w *watch) {
	w.users--
	if w.users <= 0 {
		oc.removeWatch(w)
	}
}

func (oc *openCache) removeWatch(w *watch) {
	if oc.watches[w.wd] == w {
		syscall.InotifyRmWatch(oc.ifd, uint32(w.wd))
	}
	oc.forget(w)
}

// forget drops w from the maps (the kernel's watch is gone or going).
func (oc *openCache) forget(w *watch) {
	if oc.watches[w.wd] == w {
		delete(oc.watches, w.wd)
	}
	if w.isDir && oc.dirs[w.dir] == w {
		delete(oc.dirs, w.dir)
	}
}

// drop takes e out of the cache.
func (oc *openCache) drop(e *entry) {
	if oc.entries[e.rel] != e {
		return
	}
	delete(oc.entries, e.rel)
	e.unlink()
	for _, w := range e.dws {
		oc.unwatch(w)
	}
	fw := e.fw
	for i, x := range fw.files {
		if x == e {
			fw.files = append(fw.files[:i], fw.files[i+1:]...)
			break
		}
	}
	oc.unwatch(fw)
	cachedFDs.Add(-1)
	e.release()
}

// dropUnder drops the entry rel and every entry below it.
func (oc *openCache) dropUnder(rel string) {
	if e := oc.entries[rel]; e != nil {
		oc.drop(e)
	}
	prefix := rel + "/"
	for k, e := range oc.entries {
		if strings.HasPrefix(k, prefix) {
			oc.drop(e)
		}
	}
}

// flush drops every entry.
func (oc *openCache) flush() {
	for _, e := range oc.entries {
		oc.drop(e)
	}
}

// close drops every entry and the inotify descriptor.
func (oc *openCache) close() {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	oc.flush()
	oc.disabled = true
	if oc.ifd >= 0 {
		syscall.Close(oc.ifd)
		oc.ifd = -1
	}
}

func (oc *openCache) pushFront(e *entry) {
	e.prev, e.next = &oc.head, oc.head.next
	oc.head.next.prev = e
	oc.head.next = e
}

func (e *entry) unlink() {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
