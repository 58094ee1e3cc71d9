package pyroute

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime/multipart"

	"github.com/databridge/databridge/internal/readall"
	"github.com/databridge/databridge/wire"
)

// Limits on the parts of one multipart body, as Starlette has them. The
// body size is already bounded; these bound the per-part work.
const (
	maxFormFields = 1000
	maxFormFiles  = 1000
)

// encodeURLEncodedForm appends form_data for an
// application/x-www-form-urlencoded body: {"fields": {name: first value},
// "files": []}. It allocates one string copy of the body.
func encodeURLEncodedForm(s *scratch) {
	e := &s.enc
	e.Dict(2)
	e.Key(wire.KeyFields)
	s.seen.reset()
	encodeFirstValues(e, &s.seen, string(s.body))
	e.Key(wire.KeyFiles)
	e.List(0)
}

// encodeMultipartForm appends form_data for a multipart/form-data body:
//
//	{"fields": {name: first value},
//	 "files": [{"name", "filename", "content_type", "size", "content"}, ...]}
//
// A part is a file when its Content-Disposition has a filename (reduced to
// its base name by mime/multipart), a field otherwise; parts without a form
// name are skipped, as by multipart.Reader.ReadForm. Fields are written to
// s.enc and files to s.files as they come, then the files are copied after
// the fields, so part contents are read straight into the wire buffers. An
// empty body is an empty form. The error, for a malformed body, is meant
// for the client.
//
// Without sp the body parsed is s.body (read whole before). With sp (a
// BodySpool route) it is body, the request's Body, read as the parts
// come; then a file part larger
// than spoolThreshold is written to a temporary file (sp) and its entry
// has "path" instead of "content", field values are bounded by
// maxSpoolField, and every file entry has its part's "headers". An error
// reading body itself (too large, the client gone) is returned as a
// *bodyReadError.
func encodeMultipartForm(s *scratch, body io.Reader, boundary string, sp *spool) error {
	if boundary == "" {
		return errors.New("databridge: no boundary in Content-Type")
	}
	e, f := &s.enc, &s.files
	f.Reset()
	s.seen.reset()

	e.Dict(2)
	e.Key(wire.KeyFields)
	fieldsAt := len(e.Buf)
	e.MultiDict(0)
	fields, fieldParts, files := 0, 0, 0
	// For getlist: where each first value is in e.Buf, and the later
	// values of repeated fields (only a form with repeats allocates them).
	type span struct {
		name       string
		start, end int
	}
	var firsts []span
	var more map[string][]string

	var mr *multipart.Reader
	var src *recordingReader
	if sp != nil {
		src = &recordingReader{r: body}
		mr = multipart.NewReader(src, boundary)
	} else if len(s.body) > 0 {
		mr = multipart.NewReader(bytes.NewReader(s.body), boundary)
	}
	fail := func(err error) error {
		if src != nil && src.err != nil {
			return &bodyReadError{src.err}
		}
		return err
	}
	for mr != nil {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if src != nil && src.empty() {
				break // no body at all: an empty form
			}
			return fail(fmt.Errorf("databridge: %w", err))
		}
		name := p.FormName()
		if name == "" {
			continue
		}
		filename := p.FileName()
		if filename == "" {
			if fieldParts++; fieldParts > maxFormFields {
				return fmt.Errorf("databridge: more than %d fields", maxFormFields)
			}
			var value io.Reader = p
			if sp != nil {
				value = &fieldReader{r: p, left: maxSpoolField, name: name}
			}
			if s.seen.has(name) {
				// A repeat: its value is only for getlist.
				b, err := readall.Append(nil, value)
				if err != nil {
					return fail(fmt.Errorf("databridge: field %q: %w", name, err))
				}
				if more == nil {
					more = map[string][]string{}
				}
				more[name] = append(more[name], string(b))
				continue
			}
			s.seen.add(name)
			fields++
			e.Str(name)
			start := len(e.Buf) + 5 // past the str's tag and length
			if err := appendStr(e, value); err != nil {
				return fail(fmt.Errorf("databridge: field %q: %w", name, err))
			}
			firsts = append(firsts, span{name, start, len(e.Buf)})
			continue
		}
		if files++; files > maxFormFiles {
			return fmt.Errorf("databridge: more than %d files", maxFormFiles)
		}
		ct := p.Header.Get("Content-Type")
		if ct == "" {
			ct = "application/octet-stream"
		}
		if sp != nil {
			f.Dict(6)
			f.Key(wire.KeyHeaders)
			encodePartHeaders(f, p)
		} else {
			f.Dict(5)
		}
		f.Key(wire.KeyName)
		f.Str(name)
		f.Key(wire.KeyFilename)
		f.Str(filename)
		f.Key(wire.KeyContentType)
		f.Str(ct)
		f.Key(wire.KeySize)
		sizeAt := len(f.Buf)
		f.Int(0)
		var n int64
		if sp != nil {
			n, err = sp.appendFile(f, p)
		} else {
			f.Key(wire.KeyContent)
			var m int
			m, err = appendBytes(f, p)
			n = int64(m)
		}
		if err != nil {
			return fail(fmt.Errorf("databridge: file %q: %w", filename, err))
		}
		binary.LittleEndian.PutUint64(f.Buf[sizeAt+1:], uint64(n))
	}
	e.PatchCount(fieldsAt, fields)
	if more == nil {
		e.None()
	} else {
		e.Dict(len(more))
		for _, f := range firsts {
			if vs, ok := more[f.name]; ok {
				first := string(e.Buf[f.start:f.end]) // copied: e.Buf grows below
				e.Str(f.name)
				e.List(1 + len(vs))
				e.Str(first)
				for _, v := range vs {
					e.Str(v)
				}
			}
		}
	}
	e.Key(wire.KeyFiles)
	e.List(files)
	e.Buf = append(e.Buf, f.Buf...)
	return nil
}

// appendStr appends everything r yields as one str.
func appendStr(e *wire.Encoder, r io.Reader) error {
	at := len(e.Buf)
	e.Str("")
	start := len(e.Buf)
	var err error
	e.Buf, err = readall.Append(e.Buf, r)
	e.PatchCount(at, len(e.Buf)-start)
	return err
}

// appendBytes appends everything r yields as one bytes value and returns
// its length.
func appendBytes(e *wire.Encoder, r io.Reader) (int, error) {
	at := len(e.Buf)
	e.Bytes(nil)
	start := len(e.Buf)
	var err error
	e.Buf, err = readall.Append(e.Buf, r)
	n := len(e.Buf) - start
	e.PatchCount(at, n)
	return n, err
}
