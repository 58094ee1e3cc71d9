package files

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/databridge/databridge/server"
)

// Options tune one Serve.
type Options struct {
	// Status is the response status. 0 or 200: the file is the selected
	// representation, so conditional requests (304, 412) and ranges (206,
	// 416) apply. Any other status (a 404 page): the file is sent whole
	// with that status, and request preconditions are not evaluated.
	Status int
	// TypeName is the name whose extension gives the content type when
	// the header has none ("" : the file's own path). FileResponse's
	// filename goes here, as Starlette guesses from filename or path.
	TypeName string
	// CacheControl, when not empty, is sent unless the header has one.
	CacheControl string
}

// ErrNotRegular is returned by Serve for a path that is not a regular
// file (a directory, a device).
var ErrNotRegular = errors.New("databridge: not a regular file")

// Serve answers r with the file at path: a 200 with Content-Type (by
// extension, unless w's header has one), Content-Length, ETag,
// Last-Modified and Accept-Ranges; 304 or 412 for conditional requests
// (RFC 9110 §13); 206 for a Range (one range, or several as
// multipart/byteranges), 416 with "Content-Range: bytes */size" when no
// range is satisfiable; no body for HEAD.
//
// Header fields already in w.Header() are kept: an ETag or Last-Modified
// set there is the validator conditions compare with.
//
// The error is not nil, and nothing was written, when the file cannot be
// opened or is not a regular file (fs.ErrNotExist, fs.ErrPermission,
// ErrNotRegular): the caller answers. Errors after the response started
// (the client went away) are not reported.
func Serve(w server.ResponseWriter, r *server.Request, path string, opts *Options) error {
	of, err := os.Open(path)
	if err != nil {
		return err
	}
	f, fi, err := fromOS(of)
	if err != nil {
		return err
	}
	defer f.Close()
	if !fi.regular {
		return fmt.Errorf("%w: %s", ErrNotRegular, path)
	}
	if opts == nil {
		opts = &Options{}
	}
	name := opts.TypeName
	if name == "" {
		name = path
	}
	serveContent(w, r, &content{f: f, size: fi.size, modtime: fi.modtime, ctype: TypeByName(name)}, opts)
	return nil
}

// content is one representation being sent.
type content struct {
	f        *file
	size     int64
	modtime  time.Time
	ctype    string
	encoding string       // "" (identity), "gzip" or "br": a precompressed sibling
	vary     bool         // precompressed siblings exist: Vary: Accept-Encoding
	hdr      *fileHeaders // the header values of size and modtime, made once (cached files); nil: made here
}

// fileHeaders are the header values that follow from a file's stat (size
// and modification time), made once for a cached file.
type fileHeaders struct {
	etag    string // ETag(size, modtime, "")
	lastMod string // Last-Modified
	length  string // size, for Content-Length
}

func makeHeaders(fi info) fileHeaders {
	return fileHeaders{
		etag:    ETag(fi.size, fi.modtime, ""),
		lastMod: fi.modtime.UTC().Format(http.TimeFormat),
		length:  strconv.FormatInt(fi.size, 10),
	}
}

// ETag is the strong entity tag of a file of size and modtime: equal
// content has equal tags as long as size and mtime do (as nginx's).
// encoding is "" or the content coding of a precompressed sibling, so that
// the encoded and identity representations never share a tag.
func ETag(size int64, modtime time.Time, encoding string) string {
	b := make([]byte, 0, 40)
	b = append(b, '"')
	b = strconv.AppendInt(b, size, 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, modtime.UnixNano(), 16)
	if encoding != "" {
		b = append(b, '-')
		b = append(b, encoding...)
	}
	return string(append(b, '"'))
}

func serveContent(w server.ResponseWriter, r *server.Request, c *content, opts *Options) {
	h := w.Header()
	status := opts.Status
	if status == 0 {
		status = http.StatusOK
	}
	if c.vary && !h.Has("vary") {
		h.Add("vary", "Accept-Encoding")
	}
	if c.encoding != "" {
		h.Set("content-encoding", c.encoding)
	}
	if opts.CacheControl != "" && !h.Has("cache-control") {
		h.Add("cache-control", opts.CacheControl)
	}
	etag, ok := h.Lookup("etag")
	if !ok {
		if c.hdr != nil && c.encoding == "" {
			etag = c.hdr.etag
		} else {
			etag = ETag(c.size, c.modtime, c.encoding)
		}
		h.Add("etag", etag)
	}
	modtime := c.modtime.Truncate(time.Second) // HTTP dates have seconds
	if v, ok := h.Lookup("last-modified"); ok {
		if t, err := http.ParseTime(v); err == nil {
			modtime = t
		}
	} else if c.hdr != nil {
		h.Add("last-modified", c.hdr.lastMod)
	} else {
		h.Add("last-modified", c.modtime.UTC().Format(http.TimeFormat))
	}

	if status == http.StatusOK {
		switch preconditions(r, etag, modtime) {
		case http.StatusNotModified:
			h.Del("content-encoding")
			w.Send(http.StatusNotModified, nil)
			return
		case http.StatusPreconditionFailed:
			server.WriteError(w, http.StatusPreconditionFailed, "Precondition Failed")
			return
		}
	}
	if !h.Has("content-type") {
		h.Add("content-type", c.ctype)
	}
	if status != http.StatusOK {
		sendSection(w, r, status, c, 0, c.size)
		return
	}
	h.Add("accept-ranges", "bytes")
	spec, ok := r.Header.Lookup("range")
	if !ok || r.Method != http.MethodGet || !ifRange(r, etag, modtime) {
		sendSection(w, r, status, c, 0, c.size)
		return
	}
	ranges, err := parseRange(spec, c.size)
	switch {
	case err == errUnsatisfiable:
		h.Set("content-range", "bytes */"+strconv.FormatInt(c.size, 10))
		server.WriteError(w, http.StatusRequestedRangeNotSatisfiable, "Range Not Satisfiable")
	case err != nil: // a Range we do not understand, or too many ranges: ignored
		sendSection(w, r, status, c, 0, c.size)
	case len(ranges) == 1:
		h.Set("content-range", contentRange(ranges[0], c.size))
		sendSection(w, r, http.StatusPartialContent, c, ranges[0].start, ranges[0].length)
	default:
		sendMultipart(w, r, c, ranges)
	}
}

func contentRange(s span, size int64) string {
	b := make([]byte, 0, 48)
	b = append(b, "bytes "...)
	b = strconv.AppendInt(b, s.start, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, s.start+s.length-1, 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, size, 10)
	return string(b)
}

// smallFile is the size up to which a body is read into a pooled buffer
// and sent with Send (one write of head and body). Larger bodies go to the
// writer's ReadFrom when it has one all the way down
// (server.ReaderFromOf): the HTTP/1.1 writer's sends an *io.LimitedReader
// over the *os.File by sendfile, keeping the Content-Length set here.
const smallFile = 128 << 10

// maxBuffered is the size up to which a body is read whole (into a
// buffer of its own past smallFile) and sent with Send when the writer has
// no ReadFrom: only Send frames with a Content-Length, a longer body is
// streamed (chunked) by such a writer.
const maxBuffered = 8 << 20

// tinyFile is the size up to which a body is sent with Send even by a
// writer with ReadFrom: one write beats a write and a sendfile.
const tinyFile = 16 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, smallFile); return &b }}

// copyPool holds io.CopyBuffer's buffers for writers without ReadFrom.
var copyPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// sendSection sends n bytes of c's file from off as the whole body, with
// status.
func sendSection(w server.ResponseWriter, r *server.Request, status int, c *content, off, n int64) {
	h := w.Header()
	f := c.f
	length := ""
	if c.hdr != nil && c.encoding == "" && off == 0 && n == c.size {
		length = c.hdr.length
	} else {
		length = strconv.FormatInt(n, 10)
	}
	if r.Method == http.MethodHead {
		// The writer keeps a HEAD's Content-Length when no body is written.
		h.Set("content-length", length)
		w.Send(status, nil)
		return
	}
	_, rf := server.ReaderFromOf(w)
	if n <= tinyFile || (!rf && n <= maxBuffered) {
		var buf []byte
		if n <= smallFile {
			bp := bufPool.Get().(*[]byte)
			defer bufPool.Put(bp)
			buf = (*bp)[:n]
		} else {
			buf = make([]byte, n)
		}
		if m, err := f.ReadAt(buf, off); int64(m) != n {
			readFailed(w, f, err)
			return
		}
		w.Send(status, buf)
		return
	}
	h.Set("content-length", length)
	src, err := f.body(off, n)
	if err != nil {
		readFailed(w, f, err)
		return
	}
	w.WriteHeader(status)
	copyBody(w, src)
}

// copyBody sends src (from file.body) as the body.
func copyBody(w server.ResponseWriter, src io.Reader) {
	if rf, ok := server.ReaderFromOf(w); ok {
		rf.ReadFrom(src)
		return
	}
	bp := copyPool.Get().(*[]byte)
	io.CopyBuffer(w, src, *bp)
	copyPool.Put(bp)
}

func readFailed(w server.ResponseWriter, f *file, err error) {
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF // the file shrank under us
	}
	server.Logf("read %s: %v", f.name, err)
	w.Header().Reset()
	server.WriteError(w, http.StatusInternalServerError, server.MsgInternal)
}

// sendMultipart sends several ranges as multipart/byteranges (RFC 9110
// §14.6), each part with its Content-Type and Content-Range.
func sendMultipart(w server.ResponseWriter, r *server.Request, c *content, ranges []span) {
	boundary := rand.Text()
	heads := make([]string, len(ranges))
	total := int64(0)
	for i, s := range ranges {
		head := "--" + boundary + "\r\nContent-Type: " + c.ctype + "\r\nContent-Range: " + contentRange(s, c.size) + "\r\n\r\n"
		if i > 0 {
			head = "\r\n" + head
		}
		heads[i] = head
		total += int64(len(head)) + s.length
	}
	tail := "\r\n--" + boundary + "--\r\n"
	total += int64(len(tail))
	h := w.Header()
	h.Set("content-type", "multipart/byteranges; boundary="+boundary)
	h.Set("content-length", strconv.FormatInt(total, 10))
	w.WriteHeader(http.StatusPartialContent)
	for i, s := range ranges {
		if _, err := io.WriteString(w, heads[i]); err != nil {
			return
		}
		src, err := c.f.body(s.start, s.length)
		if err != nil {
			return
		}
		copyBody(w, src)
	}
	io.WriteString(w, tail)
}

// IsNotFound reports whether err from Serve means there is no such file
// for the client (missing, not a regular file, or not readable by us).
func IsNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNotRegular) || errors.Is(err, fs.ErrPermission)
}
