//go:build linux

package files

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/databridge/databridge/server"
)

// The cache of open files must never serve a file as it was: every test
// here changes the tree, then asks again at once (no sleep) and wants the
// tree as it is now. Each runs twice: through the Recorder (a buffered
// body, read with pread) and over the HTTP/1.1 front with a file large
// enough to go by sendfile.

type cacheClient struct {
	t    *testing.T
	d    *Dir
	base string // "" : the Recorder
}

func (c cacheClient) get(target string) (int, string, http.Header) {
	c.t.Helper()
	if c.base == "" {
		rec := record(c.d.Serve, request("GET", target))
		h := http.Header{}
		for _, f := range rec.Fields.Fields() {
			h.Add(f.Name, f.Value)
		}
		return rec.Status, string(rec.Body), h
	}
	resp, body := get(c.t, "GET", c.base+target)
	return resp.StatusCode, string(body), resp.Header
}

// cacheDir returns a Dir with its cache on, and the ways to ask it.
func cacheDir(t *testing.T, dir string) (*Dir, []cacheClient) {
	t.Helper()
	d, err := NewDir(dir, "/static", DirOptions{})
	must(t, err)
	t.Cleanup(func() { d.Close() })
	if !d.cacheOn() {
		t.Skip("no cache of open files here (no inotify, or not a local file system)")
	}
	base, _ := h1Files(t, d.Serve)
	return d, []cacheClient{{t: t, d: d}, {t: t, d: d, base: base}}
}

// body is a file's content: n bytes of a letter, so a change shows.
func body(letter byte, n int) string { return strings.Repeat(string(letter), n) }

// cacheOn starts d's cache and reports whether it works here.
func (d *Dir) cacheOn() bool {
	if d.cache == nil {
		return false
	}
	d.cache.mu.Lock()
	defer d.cache.mu.Unlock()
	return d.cache.start()
}

func (d *Dir) cached(rel string) bool {
	d.cache.mu.Lock()
	defer d.cache.mu.Unlock()
	d.cache.sync()
	return d.cache.entries[rel] != nil
}

func wantBody(t *testing.T, c cacheClient, target string, status int, want string) http.Header {
	t.Helper()
	st, got, h := c.get(target)
	if st != status || (status == 200 && got != want) {
		t.Fatalf("GET %s (%s): %d, %d bytes %.20q..., want %d, %d bytes %.20q...", target, c.kind(), st, len(got), got, status, len(want), want)
	}
	return h
}

func (c cacheClient) kind() string {
	if c.base == "" {
		return "recorder"
	}
	return "HTTP/1.1"
}

func TestOpenCacheFreshness(t *testing.T) {
	const big = 100 << 10 // past tinyFile: sent by sendfile over HTTP/1.1
	changes := []struct {
		name   string
		change func(t *testing.T, dir string) (status int, body string)
	}{
		{"rewrite in place", func(t *testing.T, dir string) (int, string) {
			// The same size and, within the clock's tick, the same
			// mtime: only the bytes differ.
			must(t, os.WriteFile(filepath.Join(dir, "f.bin"), []byte(body('b', big)), 0o644))
			return 200, body('b', big)
		}},
		{"grow", func(t *testing.T, dir string) (int, string) {
			f, err := os.OpenFile(filepath.Join(dir, "f.bin"), os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			f.WriteString("tail")
			f.Close()
			return 200, body('a', big) + "tail"
		}},
		{"truncate", func(t *testing.T, dir string) (int, string) {
			must(t, os.Truncate(filepath.Join(dir, "f.bin"), 10))
			return 200, body('a', 10)
		}},
		{"replace by rename", func(t *testing.T, dir string) (int, string) {
			tmp := filepath.Join(dir, ".f.tmp")
			must(t, os.WriteFile(tmp, []byte(body('c', big+1)), 0o644))
			must(t, os.Rename(tmp, filepath.Join(dir, "f.bin")))
			return 200, body('c', big+1)
		}},
		{"remove", func(t *testing.T, dir string) (int, string) {
			must(t, os.Remove(filepath.Join(dir, "f.bin")))
			return 404, ""
		}},
		{"remove and recreate", func(t *testing.T, dir string) (int, string) {
			must(t, os.Remove(filepath.Join(dir, "f.bin")))
			must(t, os.WriteFile(filepath.Join(dir, "f.bin"), []byte(body('d', 3)), 0o644))
			return 200, body('d', 3)
		}},
		{"replace by a directory", func(t *testing.T, dir string) (int, string) {
			must(t, os.Remove(filepath.Join(dir, "f.bin")))
			must(t, os.Mkdir(filepath.Join(dir, "f.bin"), 0o755))
			return 404, ""
		}},
		{"replace by a link out of the directory", func(t *testing.T, dir string) (int, string) {
			outside := filepath.Join(t.TempDir(), "secret")
			must(t, os.WriteFile(outside, []byte("secret"), 0o644))
			must(t, os.Remove(filepath.Join(dir, "f.bin")))
			must(t, os.Symlink(outside, filepath.Join(dir, "f.bin")))
			return 404, ""
		}},
		{"written through a hard link elsewhere", func(t *testing.T, dir string) (int, string) {
			other := filepath.Join(dir, "..", "elsewhere")
			must(t, os.MkdirAll(other, 0o755))
			link := filepath.Join(other, "f.link")
			must(t, os.Link(filepath.Join(dir, "f.bin"), link))
			f, err := os.OpenFile(link, os.O_WRONLY, 0)
			must(t, err)
			f.WriteAt([]byte("XYZ"), big)
			f.Close()
			return 200, body('a', big) + "XYZ"
		}},
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			for _, kind := range []string{"recorder", "HTTP/1.1"} {
				t.Run(kind, func(t *testing.T) {
					dir := filepath.Join(t.TempDir(), "static")
					writeFile(t, filepath.Join(dir, "f.bin"), []byte(body('a', big)))
					d, clients := cacheDir(t, dir)
					c := clients[0]
					if kind != "recorder" {
						c = clients[1]
					}
					h0 := wantBody(t, c, "/static/f.bin", 200, body('a', big))
					wantBody(t, c, "/static/f.bin", 200, body('a', big))
					if !d.cached("f.bin") {
						t.Fatal("f.bin not cached")
					}
					status, want := ch.change(t, dir)
					h := wantBody(t, c, "/static/f.bin", status, want)
					if status == 200 && len(want) != big && h.Get("etag") == h0.Get("etag") {
						t.Errorf("ETag %s unchanged with the size", h.Get("etag"))
					}
					wantBody(t, c, "/static/f.bin", status, want) // and again, from the cache
				})
			}
		})
	}
}

// TestOpenCacheDirectories: a change to a directory on the path (renamed,
// replaced, its mode changed) is seen at once.
func TestOpenCacheDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	writeFile(t, filepath.Join(dir, "a", "b", "f.txt"), []byte("one"))
	d, clients := cacheDir(t, dir)
	c := clients[0]
	wantBody(t, c, "/static/a/b/f.txt", 200, "one")
	if !d.cached("a/b/f.txt") {
		t.Fatal("a/b/f.txt not cached")
	}
	// The directory a renamed, and another a made with another f.txt.
	must(t, os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "old")))
	writeFile(t, filepath.Join(dir, "a", "b", "f.txt"), []byte("two"))
	wantBody(t, c, "/static/a/b/f.txt", 200, "two")
	wantBody(t, c, "/static/old/b/f.txt", 200, "one")
	// b replaced by a link to old/b: not followed by the cache, served
	// the usual way (a link inside the directory).
	must(t, os.RemoveAll(filepath.Join(dir, "a", "b")))
	must(t, os.Symlink(filepath.Join("..", "old", "b"), filepath.Join(dir, "a", "b")))
	wantBody(t, c, "/static/a/b/f.txt", 200, "one")
	if d.cached("a/b/f.txt") {
		t.Error("a path through a link cached")
	}
	// A directory's mode: the entries below it are dropped (a server that
	// is not root could no longer open them).
	wantBody(t, c, "/static/old/b/f.txt", 200, "one")
	must(t, os.Chmod(filepath.Join(dir, "old"), 0o700))
	if d.cached("old/b/f.txt") {
		t.Error("old/b/f.txt still cached after a chmod of old")
	}
	wantBody(t, c, "/static/old/b/f.txt", 200, "one")
}

// TestOpenCacheMode: a chmod of the file drops it, and when the server
// cannot read it any more it is a 404 at once.
func TestOpenCacheMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	writeFile(t, filepath.Join(dir, "f.txt"), []byte("data"))
	d, clients := cacheDir(t, dir)
	for _, c := range clients {
		must(t, os.Chmod(filepath.Join(dir, "f.txt"), 0o644))
		wantBody(t, c, "/static/f.txt", 200, "data")
		if !d.cached("f.txt") {
			t.Fatal("f.txt not cached")
		}
		must(t, os.Chmod(filepath.Join(dir, "f.txt"), 0o000))
		if d.cached("f.txt") {
			t.Error("f.txt still cached after a chmod")
		}
		if os.Geteuid() != 0 { // root reads it still
			wantBody(t, c, "/static/f.txt", 404, "")
		}
	}
}

// TestOpenCacheConditional: a 304 for the old ETag turns into a 200 with
// the new file once it changed.
func TestOpenCacheConditional(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	writeFile(t, filepath.Join(dir, "f.txt"), []byte("old"))
	d, _ := cacheDir(t, dir)
	rec := record(d.Serve, request("GET", "/static/f.txt"))
	etag := rec.Fields.Get("etag")
	if rec = record(d.Serve, request("GET", "/static/f.txt", "If-None-Match", etag)); rec.Status != 304 {
		t.Fatalf("If-None-Match the ETag: %d", rec.Status)
	}
	must(t, os.WriteFile(filepath.Join(dir, "f.txt"), []byte("newer"), 0o644))
	rec = record(d.Serve, request("GET", "/static/f.txt", "If-None-Match", etag))
	if rec.Status != 200 || string(rec.Body) != "newer" || rec.Fields.Get("etag") == etag {
		t.Fatalf("after the change: %d %q etag %s", rec.Status, rec.Body, rec.Fields.Get("etag"))
	}
}

// TestOpenCacheInUse: a response under way keeps its descriptor when the
// entry is dropped; the descriptor closes when the response ends.
func TestOpenCacheInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	writeFile(t, filepath.Join(dir, "f.txt"), []byte("first"))
	d, _ := cacheDir(t, dir)
	f, _, err := d.open("f.txt")
	must(t, err)
	fd := f.fd
	must(t, os.Remove(filepath.Join(dir, "f.txt")))
	if d.cached("f.txt") {
		t.Fatal("still cached after the remove")
	}
	buf := make([]byte, 5)
	if n, err := f.ReadAt(buf, 0); n != 5 || string(buf) != "first" {
		t.Fatalf("the open handle reads %q, %v", buf[:n], err)
	}
	f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != syscall.EBADF {
		t.Errorf("descriptor %d still open after the last release: %v", fd, err)
	}
}

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	must(t, err)
	return len(ents)
}

// TestOpenCacheBounds: the cache keeps at most its bound of files, and
// Close closes every descriptor (and the inotify one).
func TestOpenCacheBounds(t *testing.T) {
	before := openFDs(t)
	dir := t.TempDir()
	d, err := NewDir(dir, "/", DirOptions{})
	must(t, err)
	if !d.cacheOn() {
		d.Close()
		t.Skip("no cache of open files here")
	}
	d.cache.max = 20
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("d%d/f%d.txt", i%7, i)
		writeFile(t, filepath.Join(dir, name), []byte(name))
		if rec := record(d.Serve, request("GET", "/"+name)); rec.Status != 200 || string(rec.Body) != name {
			t.Fatalf("%s: %d %q", name, rec.Status, rec.Body)
		}
	}
	if n := len(d.cache.entries); n != 20 {
		t.Errorf("%d entries, want the bound 20", n)
	}
	// Evicted entries' watches went with them: the root, the directories
	// still used, and one per file.
	if n := len(d.cache.watches); n > 20+7+1 {
		t.Errorf("%d watches for 20 entries", n)
	}
	if got := openFDs(t) - before; got > 20+3 {
		t.Errorf("%d descriptors open for 20 entries", got)
	}
	d.Close()
	if got := openFDs(t); got != before {
		t.Errorf("%d descriptors open after Close, %d before NewDir", got, before)
	}
}

// TestOpenCacheLazy: a Dir takes its inotify instance at its first
// request, not when made, and gives it back at Close.
func TestOpenCacheLazy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f.txt"), []byte("x"))
	before := openFDs(t)
	d, err := NewDir(dir, "/", DirOptions{})
	must(t, err)
	if d.cache == nil {
		d.Close()
		t.Skip("no cache of open files here")
	}
	if d.cache.ifd >= 0 {
		t.Errorf("an inotify instance (%d) before any request", d.cache.ifd)
	}
	record(d.Serve, request("GET", "/f.txt"))
	if d.cache.ifd < 0 && !d.cache.disabled {
		t.Error("no inotify instance after a request")
	}
	d.Close()
	if got := openFDs(t); got != before {
		t.Errorf("%d descriptors after Close, %d before", got, before)
	}
}

// TestOpenCacheOverflow: a queue overflow drops every entry.
func TestOpenCacheOverflow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	writeFile(t, filepath.Join(dir, "f.txt"), []byte("x"))
	d, _ := cacheDir(t, dir)
	record(d.Serve, request("GET", "/static/f.txt"))
	if !d.cached("f.txt") {
		t.Fatal("not cached")
	}
	ev := make([]byte, syscall.SizeofInotifyEvent)
	binary.NativeEndian.PutUint32(ev[0:], uint32(0xFFFFFFFF)) // wd -1
	binary.NativeEndian.PutUint32(ev[4:], syscall.IN_Q_OVERFLOW)
	d.cache.mu.Lock()
	d.cache.events(ev)
	n := len(d.cache.entries)
	d.cache.mu.Unlock()
	if n != 0 {
		t.Errorf("%d entries after an overflow", n)
	}
	if rec := record(d.Serve, request("GET", "/static/f.txt")); rec.Status != 200 || string(rec.Body) != "x" {
		t.Errorf("after the overflow: %d %q", rec.Status, rec.Body)
	}
}

// TestOpenCacheNotUsed: FollowSymlinks and NoOpenCache serve without the
// cache; a file reached through a link inside the directory is served
// but not cached.
func TestOpenCacheNotUsed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	writeFile(t, filepath.Join(dir, "real", "f.txt"), []byte("real"))
	must(t, os.Symlink("real", filepath.Join(dir, "link")))
	must(t, os.Symlink(filepath.Join("real", "f.txt"), filepath.Join(dir, "f.link")))
	for _, opts := range []DirOptions{{FollowSymlinks: true}, {NoOpenCache: true}} {
		d, err := NewDir(dir, "/static", opts)
		must(t, err)
		if d.cache != nil {
			t.Errorf("%+v: a cache", opts)
		}
		d.Close()
	}
	d, _ := cacheDir(t, dir)
	for _, target := range []string{"/static/link/f.txt", "/static/f.link"} {
		if rec := record(d.Serve, request("GET", target)); rec.Status != 200 || !bytes.Equal(rec.Body, []byte("real")) {
			t.Errorf("%s: %d %q", target, rec.Status, rec.Body)
		}
	}
	if d.cached("link/f.txt") || d.cached("f.link") {
		t.Error("a path through a link cached")
	}
}

// TestOpenCacheSiblings: a request that accepts a coding looks for the
// precompressed siblings once; one made later, however (written, renamed
// or linked there), is sent at once.
func TestOpenCacheSiblings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	writeFile(t, filepath.Join(dir, "app.js"), []byte("plain"))
	d, _ := cacheDir(t, dir)
	ask := func(ae string) *server.Recorder {
		return record(d.Serve, request("GET", "/static/app.js", "Accept-Encoding", ae))
	}
	if rec := ask("gzip, br"); rec.Status != 200 || string(rec.Body) != "plain" || rec.Fields.Get("content-encoding") != "" {
		t.Fatalf("no siblings: %d %q %v", rec.Status, rec.Body, rec.Fields.Fields())
	}
	d.cache.mu.Lock()
	absent := d.cache.entries["app.js"].absent
	d.cache.mu.Unlock()
	if absent != absentBr|absentGz {
		t.Errorf("absent %b, want both siblings known missing", absent)
	}
	// Written in place.
	writeFile(t, filepath.Join(dir, "app.js.br"), []byte("BR"))
	if rec := ask("gzip, br"); string(rec.Body) != "BR" || rec.Fields.Get("content-encoding") != "br" || rec.Fields.Get("vary") != "Accept-Encoding" {
		t.Fatalf("after app.js.br was made: %q %v", rec.Body, rec.Fields.Fields())
	}
	if rec := ask("identity"); string(rec.Body) != "plain" || rec.Fields.Get("vary") != "Accept-Encoding" {
		t.Fatalf("identity: %q %v", rec.Body, rec.Fields.Fields())
	}
	// Renamed into place.
	tmp := filepath.Join(dir, ".tmp")
	writeFile(t, tmp, []byte("GZ"))
	ask("gzip")
	must(t, os.Rename(tmp, filepath.Join(dir, "app.js.gz")))
	if rec := ask("gzip"); string(rec.Body) != "GZ" || rec.Fields.Get("content-encoding") != "gzip" {
		t.Fatalf("after app.js.gz was renamed there: %q %v", rec.Body, rec.Fields.Fields())
	}
	// Removed, then linked into place from elsewhere.
	must(t, os.Remove(filepath.Join(dir, "app.js.gz")))
	if rec := ask("gzip"); string(rec.Body) != "plain" {
		t.Fatalf("after app.js.gz was removed: %q", rec.Body)
	}
	other := filepath.Join(t.TempDir(), "x.gz")
	writeFile(t, other, []byte("LINKED"))
	must(t, os.Link(other, filepath.Join(dir, "app.js.gz")))
	if rec := ask("gzip"); string(rec.Body) != "LINKED" {
		t.Fatalf("after app.js.gz was linked there: %q", rec.Body)
	}
}
