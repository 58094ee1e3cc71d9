package pyroute

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/databridge/databridge/wire"
)

// A BodySpool route parses multipart bodies as they arrive: no part is
// held in memory beyond spoolThreshold (files) or maxSpoolField (fields),
// whatever the route's body limit, so a 1 GB upload costs the server a
// few buffers, not a gigabyte.
const (
	// spoolThreshold is the largest file kept in memory (Starlette's
	// UploadFile spools past 1 MiB too); larger ones go to a temporary
	// file, which Python opens before the handler runs and the route
	// removes once the response is sent.
	spoolThreshold = 1 << 20
	// maxSpoolField bounds a non-file field's value.
	maxSpoolField = 1 << 20
)

// spool is a request's temporary files.
type spool struct {
	dir   string // "": os.TempDir()
	paths []string
}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// appendFile appends a file part's "content" (bytes) when it is at most
// spoolThreshold long, else its "path" (the temporary file it was written
// to), and returns its size.
func (sp *spool) appendFile(e *wire.Encoder, part io.Reader) (int64, error) {
	mark := len(e.Buf)
	e.Key(wire.KeyContent)
	n, err := appendBytes(e, io.LimitReader(part, spoolThreshold+1))
	if err != nil || n <= spoolThreshold {
		return int64(n), err
	}
	head := e.Buf[len(e.Buf)-n:] // still valid after the truncation below
	e.Buf = e.Buf[:mark]
	f, err := os.CreateTemp(sp.dir, "databridge-upload-*")
	if err != nil {
		return 0, &spoolError{err}
	}
	sp.paths = append(sp.paths, f.Name())
	total, err := f.Write(head)
	if err != nil {
		f.Close()
		return 0, &spoolError{err}
	}
	bp := copyBuffers.Get().(*[]byte)
	rest, err := io.CopyBuffer(onlyWriter{f}, plainReader{part}, *bp)
	copyBuffers.Put(bp)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &spoolError{cerr}
	}
	if err != nil {
		var we *writeError
		if errors.As(err, &we) {
			err = &spoolError{we.err}
		}
		return 0, err
	}
	e.Key(wire.KeyPath)
	e.Str(f.Name())
	return int64(total) + rest, nil
}

// remove deletes the temporary files (Python has them open by now, or
// never will).
func (sp *spool) remove() {
	for _, p := range sp.paths {
		os.Remove(p)
	}
	sp.paths = sp.paths[:0]
	sp.dir = ""
}

// plainReader and onlyWriter hide ReadFrom/WriteTo, so that CopyBuffer
// uses the pooled buffer; onlyWriter marks write errors as the server's.
type plainReader struct{ r io.Reader }

func (r plainReader) Read(p []byte) (int, error) { return r.r.Read(p) }

type onlyWriter struct{ f *os.File }

func (w onlyWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

// spoolError is a failure to write a temporary file: the server's, a 500.
type spoolError struct{ err error }

func (e *spoolError) Error() string { return "databridge: spooling an upload: " + e.err.Error() }
func (e *spoolError) Unwrap() error { return e.err }

// bodyReadError is a failure to read the request body itself (too large,
// malformed framing, the client gone), as opposed to a malformed form.
type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string { return e.err.Error() }
func (e *bodyReadError) Unwrap() error { return e.err }

// recordingReader remembers the first error of the body other than
// io.EOF, and whether anything was read.
type recordingReader struct {
	r    io.Reader
	n    int64
	err  error
	eofd bool
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if err == io.EOF {
		r.eofd = true
	} else if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// empty reports whether the body ended without a byte.
func (r *recordingReader) empty() bool { return r.err == nil && r.eofd && r.n == 0 }

// fieldReader bounds a field's value.
type fieldReader struct {
	r    io.Reader
	left int64
	name string
}

// errFieldTooLarge is a field value past maxSpoolField: a 413.
var errFieldTooLarge = errors.New("form field too large")

func (f *fieldReader) Read(p []byte) (int, error) {
	if f.left < 0 {
		return 0, fmt.Errorf("%w: %q is over %d bytes", errFieldTooLarge, f.name, maxSpoolField)
	}
	if int64(len(p)) > f.left+1 {
		p = p[:f.left+1]
	}
	n, err := f.r.Read(p)
	f.left -= int64(n)
	if f.left < 0 {
		return n, fmt.Errorf("%w: %q is over %d bytes", errFieldTooLarge, f.name, maxSpoolField)
	}
	return n, err
}

// encodePartHeaders appends a part's header as a dict of lower-case names
// to values (repeated fields joined with ", "), in name order.
func encodePartHeaders(e *wire.Encoder, p *multipart.Part) {
	names := make([]string, 0, len(p.Header))
	for name := range p.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	e.Dict(len(names))
	for _, name := range names {
		e.Str(strings.ToLower(name))
		e.Str(strings.Join(p.Header[name], ", "))
	}
}
