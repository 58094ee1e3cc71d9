package files

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/databridge/databridge/server"
)

// DirOptions configure a Dir.
type DirOptions struct {
	// HTML serves index.html for a directory (redirecting "/dir" to
	// "/dir/") and 404.html, with status 404, for a miss, as Starlette's
	// StaticFiles(html=True). Without it a directory is a 404.
	HTML bool
	// FollowSymlinks lets symbolic links point outside the directory
	// (Starlette's follow_symlink). By default such a link is a 404.
	FollowSymlinks bool
	// CacheControl is sent with every file, when not empty.
	CacheControl string
	// NoOpenCache turns off the cache of open files (cache_linux.go),
	// which is on where it can be exact (Linux, inotify, a local file
	// system) unless FollowSymlinks is set.
	NoOpenCache bool
}

// Dir serves the files under a directory at a URL prefix: a
// server.Handler for the routes "prefix", "prefix/" and
// "prefix/<path:...>", entirely in Go.
//
// A request path is taken from Request.RawPath, segment by segment, so
// that nothing the client escaped can climb out: a segment that is "." or
// "..", or that decodes to one holding "/", "\" or NUL, is a 404, as is
// an empty segment ("a//b"). Files are opened through an os.Root, so that
// a symbolic link may not lead out of the directory either; a link the
// root refuses (an absolute one) is resolved with filepath.EvalSymlinks
// and served only when its target is inside the directory.
//
// When the request has an Accept-Encoding, a "name.br" or "name.gz" next
// to the file is sent instead when the client accepts that coding
// (Content-Encoding, the sibling's own ETag, Vary: Accept-Encoding).
type Dir struct {
	dir    string      // absolute, symlinks resolved
	root   *os.Root    // dir, opened
	dirfd  int         // dir, opened for openat2; -1 without
	noAt2  atomic.Bool // openat2 failed with ENOSYS: os.Root only
	cache  *openCache  // the open files served lately (cache_linux.go); nil: none
	prefix []string    // the mount's segments ("/static/v1": static, v1)
	opts   DirOptions
}

// NewDir returns the handler of directory dir mounted at prefix (a
// literal path: "/static"; "" or "/" mounts at the root).
func NewDir(dir, prefix string, opts DirOptions) (*Dir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, fmt.Errorf("databridge: static directory %q: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("databridge: static directory %q: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("databridge: static directory %q is not a directory", dir)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("databridge: static directory %q: %w", dir, err)
	}
	d := &Dir{dir: abs, root: root, dirfd: -1, opts: opts}
	if fd, err := openDirFD(abs); err == nil {
		d.dirfd = fd
		if !opts.FollowSymlinks && !opts.NoOpenCache {
			d.cache = newOpenCache(fd)
		}
	}
	for _, seg := range strings.Split(strings.Trim(prefix, "/"), "/") {
		if seg != "" {
			d.prefix = append(d.prefix, seg)
		}
	}
	return d, nil
}

// Close releases the directory.
func (d *Dir) Close() error {
	if d.cache != nil {
		d.cache.close() // it stays, disabled: a request may still be served
	}
	if d.dirfd >= 0 {
		syscall.Close(d.dirfd)
		d.dirfd = -1
	}
	return d.root.Close()
}

// Serve implements server.Handler.
func (d *Dir) Serve(w server.ResponseWriter, r *server.Request) {
	rel, slash, ok := d.relative(r)
	if !ok {
		d.notFound(w, r)
		return
	}
	if rel != "" && !slash {
		f, fi, err := d.open(rel)
		if err == nil && fi.regular {
			d.serveFile(w, r, rel, f, fi, 0)
			f.Close()
			return
		}
		if f != nil {
			f.Close()
		}
		if err == nil && fi.dir && d.opts.HTML && d.isFile(rel+"/index.html") {
			redirect(w, r)
			return
		}
		d.notFound(w, r)
		return
	}
	// A directory: "prefix", "prefix/" or "prefix/dir/".
	if !d.opts.HTML {
		d.notFound(w, r)
		return
	}
	if rel == "" && !slash {
		redirect(w, r) // "/static" -> "/static/"
		return
	}
	index := "index.html"
	if rel != "" {
		index = rel + "/index.html"
	}
	if f, fi, err := d.open(index); err == nil {
		defer f.Close()
		if fi.regular {
			d.serveFile(w, r, index, f, fi, 0)
			return
		}
	}
	d.notFound(w, r)
}

// relative returns the file path below the directory that r names
// ("css/site.css"), whether the request path ended with "/", and false
// when the path is not one this mount may serve.
func (d *Dir) relative(r *server.Request) (rel string, slash, ok bool) {
	raw := r.RawPath
	if raw == "" {
		raw = r.Path
	}
	if !strings.HasPrefix(raw, "/") {
		return "", false, false
	}
	rest := raw[1:]
	for i, want := range d.prefix {
		seg, tail, more := strings.Cut(rest, "/")
		if v, err := url.PathUnescape(seg); err != nil || v != want {
			return "", false, false
		}
		if !more {
			return "", false, i == len(d.prefix)-1 // the prefix itself
		}
		rest = tail
	}
	if rest == "" {
		return "", len(d.prefix) > 0 || raw == "/", true
	}
	if strings.IndexByte(rest, '%') < 0 {
		if rel, slash, ok := plainRel(rest); ok {
			return rel, slash, true // nothing escaped: rest itself, no copy
		}
	}
	var b strings.Builder
	for rest != "" {
		seg, tail, more := strings.Cut(rest, "/")
		rest = tail
		if seg == "" {
			return "", false, false // "a//b"
		}
		v, err := url.PathUnescape(seg)
		if err != nil || v == "." || v == ".." || strings.ContainsAny(v, "/\\\x00") {
			return "", false, false
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(v)
		if more && rest == "" {
			slash = true
		}
	}
	return b.String(), slash, true
}

// plainRel is the relative path of rest when nothing in it is escaped: rest
// without a trailing "/" (slash then true), if every segment passes the
// same checks as an unescaped one; ok false sends the caller the long way,
// which answers the same.
func plainRel(rest string) (rel string, slash, ok bool) {
	rel = rest
	if strings.HasSuffix(rel, "/") {
		rel, slash = rel[:len(rel)-1], true
	}
	for seg := range strings.SplitSeq(rel, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\\x00") {
			return "", false, false
		}
	}
	return rel, slash, true
}

// open opens rel (slash-separated, already checked) inside the directory:
// with openat2 beneath the directory (one system call), else through
// os.Root; what both refuse (an absolute link) by openResolved.
func (d *Dir) open(rel string) (*file, info, error) {
	if d.cache != nil {
		if f, fi, err, ok := d.cache.lookup(rel); ok {
			return f, fi, err
		}
	}
	if d.opts.FollowSymlinks {
		f, err := os.Open(filepath.Join(d.dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, info{}, err
		}
		return fromOS(f)
	}
	if d.dirfd >= 0 && !d.noAt2.Load() {
		fd, err := openBeneath(d.dirfd, rel)
		switch err {
		case nil:
			return fromFD(fd, rel)
		case syscall.ENOENT, syscall.ENOTDIR, syscall.EACCES, syscall.ENAMETOOLONG, syscall.EMFILE, syscall.ENFILE:
			return nil, info{}, &fs.PathError{Op: "openat2", Path: rel, Err: err}
		case syscall.EXDEV, syscall.ELOOP: // out of the directory, or an absolute link
			return d.openResolved(rel)
		default: // ENOSYS, or EPERM/EINVAL from a seccomp filter or an old kernel: os.Root from now on
			d.noAt2.Store(true)
		}
	}
	f, err := d.root.Open(rel)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return d.openResolved(rel)
	}
	if err != nil {
		return nil, info{}, err
	}
	return fromOS(f)
}

// openSibling opens rel+ext, the precompressed sibling of main (the file
// rel): through the cache, which may know it missing, when main came from
// it.
func (d *Dir) openSibling(main *file, rel, ext string) (*file, info, error) {
	if main.ent != nil && d.cache != nil {
		if f, fi, err, ok := d.cache.sibling(main.ent, rel, ext); ok {
			return f, fi, err
		}
	}
	return d.open(rel + ext)
}

// openResolved is the way for what os.Root refuses (absolute symlinks):
// the path with every link resolved, if it is still inside.
func (d *Dir) openResolved(rel string) (*file, info, error) {
	p, err := filepath.EvalSymlinks(filepath.Join(d.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, info{}, err
	}
	if !within(d.dir, p) {
		return nil, info{}, fmt.Errorf("databridge: %s: %w", rel, fs.ErrNotExist)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, info{}, err
	}
	return fromOS(f)
}

// within reports whether path p is dir or below it (both clean, absolute).
func within(dir, p string) bool {
	if p == dir {
		return true
	}
	if dir == string(filepath.Separator) {
		return strings.HasPrefix(p, dir)
	}
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}

func (d *Dir) isFile(rel string) bool {
	f, fi, err := d.open(rel)
	if err != nil {
		return false
	}
	f.Close()
	return fi.regular
}

// serveFile sends f (the file rel), or its precompressed sibling.
func (d *Dir) serveFile(w server.ResponseWriter, r *server.Request, rel string, f *file, fi info, status int) {
	c := content{f: f, size: fi.size, modtime: fi.modtime}
	if e := f.ent; e != nil {
		c.ctype, c.hdr = e.ctype, &e.hdr
	} else {
		c.ctype = TypeByName(rel)
	}
	if ae, ok := r.Header.Lookup("accept-encoding"); ok && status == 0 {
		if sib, sfi, enc, found := d.sibling(f, rel, ae, r); sib != nil {
			defer sib.Close()
			c.f, c.size, c.modtime, c.encoding, c.hdr = sib, sfi.size, sfi.modtime, enc, nil
			c.vary = true
		} else if found {
			c.vary = true
		}
	}
	serveContent(w, r, &c, &Options{Status: status, CacheControl: d.opts.CacheControl})
}

// sibling opens the precompressed file to send for rel, if any: the
// accepted coding with the higher q (br before gzip on a tie). found
// reports whether any sibling exists, accepted or not (for Vary).
func (d *Dir) sibling(main *file, rel, ae string, r *server.Request) (f *file, fi info, enc string, found bool) {
	if len(r.Header.Values("accept-encoding")) > 1 {
		ae = strings.Join(r.Header.Values("accept-encoding"), ",")
	}
	qbr, qgz := acceptQ(ae, "br"), acceptQ(ae, "gzip")
	type cand struct {
		ext, enc string
		q        float64
	}
	cands := []cand{{".br", "br", qbr}, {".gz", "gzip", qgz}}
	if qgz > qbr {
		cands[0], cands[1] = cands[1], cands[0]
	}
	for _, c := range cands {
		sf, sfi, err := d.openSibling(main, rel, c.ext)
		if err != nil {
			continue
		}
		if !sfi.regular {
			sf.Close()
			continue
		}
		found = true
		if c.q > 0 && f == nil {
			f, fi, enc = sf, sfi, c.enc
			continue
		}
		sf.Close()
	}
	return f, fi, enc, found
}

// acceptQ returns the q-value Accept-Encoding ae gives coding (RFC 9110
// §12.5.3): its own entry, else "*", else 0.
func acceptQ(ae, coding string) float64 {
	star := 0.0
	for _, item := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(item, ";")
		name = strings.TrimSpace(name)
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				q = parseQ(strings.TrimSpace(v))
			}
		}
		if strings.EqualFold(name, coding) {
			return q
		}
		if name == "*" {
			star = q
		}
	}
	return star
}

// parseQ parses a qvalue ("0", "0.5", "1.000"); anything else is 0.
func parseQ(s string) float64 {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0
	}
	q := float64(s[0] - '0')
	if len(s) == 1 {
		return q
	}
	if s[1] != '.' {
		return 0
	}
	scale := 0.1
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		q += float64(s[i]-'0') * scale
		scale /= 10
	}
	if q > 1 {
		return 0
	}
	return q
}

// notFound answers 404: 404.html with status 404 in HTML mode when there
// is one, else the engine's error body.
func (d *Dir) notFound(w server.ResponseWriter, r *server.Request) {
	if d.opts.HTML {
		if f, fi, err := d.open("404.html"); err == nil {
			defer f.Close()
			if fi.regular {
				d.serveFile(w, r, "404.html", f, fi, http.StatusNotFound)
				return
			}
		}
	}
	server.WriteError(w, http.StatusNotFound, server.MsgNotFound)
}

// redirect answers 307 to the request's path with a "/" added (the query
// kept), as Starlette does for a directory.
func redirect(w server.ResponseWriter, r *server.Request) {
	raw := r.RawPath
	if raw == "" {
		raw = r.Path
	}
	loc := raw + "/"
	if r.RawQuery != "" {
		loc += "?" + r.RawQuery
	}
	w.Header().Set("location", loc)
	w.Send(http.StatusTemporaryRedirect, nil)
}
