package server

import (
	"bufio"
	"errors"
	"io"
	"time"
)

// framingError is a malformed or truncated request body; it wraps
// ErrBadFraming.
type framingError struct{ msg string }

func (e *framingError) Error() string { return ErrBadFraming.Error() + ": " + e.msg }
func (e *framingError) Unwrap() error { return ErrBadFraming }

var (
	errTruncated     = &framingError{"body ends before its length"}
	errChunkSize     = &framingError{"malformed chunk size"}
	errChunkExt      = &framingError{"malformed chunk extension"}
	errChunkTooLong  = &framingError{"chunk size line too long"}
	errChunkEnd      = &framingError{"chunk data not followed by CRLF"}
	errTrailer       = &framingError{"malformed trailer field"}
	errTrailerTooBig = &framingError{"trailer section too large"}
)

// maxChunkLine bounds a chunk-size line, extensions included.
const maxChunkLine = 4096

// bodyReader reads one request body from the connection's buffered
// reader: Content-Length or chunked, bounded by the server's limit and
// read timeout. It is the Request.Body of the connection, reused.
type bodyReader struct {
	c       *conn
	br      *bufio.Reader
	chunked bool
	left    int64 // Content-Length: bytes left; chunked: left in this chunk
	read    int64 // bytes of body handed out
	limit   int64
	done    bool  // the whole body was read (io.EOF reached)
	err     error // sticky error
	started bool  // the first Read happened (deadline set, 100 sent)
	expect  bool  // 100-continue is owed on the first Read
	sent100 bool
	inChunk bool  // chunked: within a chunk's data
	drained bool  // the front drains what the handler left
	renewAt int64 // read count at which the read deadline is renewed
}

// bodyDeadlineStep is how much of a body extends its read deadline: the
// first Read sets it to ReadBodyTimeout, and each further step read
// restarts it, so that a large upload need only keep arriving (a step per
// timeout), while a small body still has the timeout in all.
const bodyDeadlineStep = 1 << 20

// setLimit changes the body's limit (SetBodyLimit).
func (b *bodyReader) setLimit(n int64) { b.limit = n }

func (b *bodyReader) reset(c *conn, chunked bool, length int64, limit int64, expect bool) {
	*b = bodyReader{c: c, br: c.br, chunked: chunked, left: length, limit: limit, expect: expect}
	if !chunked && length == 0 {
		b.done = true
	}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.done {
		return 0, io.EOF
	}
	if !b.started {
		b.started = true
		if !b.chunked && b.left > b.limit {
			b.err = ErrBodyTooLarge
			return 0, b.err
		}
		if b.expect {
			b.expect = false
			if err := b.c.write100(); err != nil {
				b.err = err
				return 0, err
			}
			b.sent100 = true
		}
		b.c.armRead(time.Now(), b.c.s.cfg.ReadBodyTimeout)
		b.renewAt = bodyDeadlineStep
	} else if b.read >= b.renewAt {
		b.c.armRead(time.Now(), b.c.s.cfg.ReadBodyTimeout)
		b.renewAt = b.read + bodyDeadlineStep
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	if b.chunked {
		n, err = b.readChunked(p)
	} else {
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
		n, err = b.br.Read(p)
		b.left -= int64(n)
		if b.left == 0 {
			b.done = true
			err = nil
		} else if err == io.EOF {
			err = errTruncated
		}
	}
	b.read += int64(n)
	if err != nil {
		b.err = err
		return n, err
	}
	if b.done {
		return n, io.EOF
	}
	return n, nil
}

// readChunked reads chunk data (RFC 9112 §7.1).
func (b *bodyReader) readChunked(p []byte) (int, error) {
	if !b.inChunk {
		size, err := b.chunkHeader()
		if err != nil {
			return 0, err
		}
		if size == 0 {
			if err := b.trailers(); err != nil {
				return 0, err
			}
			b.done = true
			return 0, nil
		}
		if size > b.limit-b.read {
			return 0, ErrBodyTooLarge
		}
		b.left, b.inChunk = size, true
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	if b.left == 0 {
		b.inChunk = false
		if err := b.crlf(); err != nil {
			return n, err
		}
		// Look ahead for the last chunk so that a reader gets io.EOF
		// with the final bytes when they are already here.
		if b.br.Buffered() >= 5 {
			if pk, _ := b.br.Peek(5); string(pk) == "0\r\n\r\n" {
				b.br.Discard(5)
				b.done = true
			}
		}
		return n, nil
	}
	if err == io.EOF {
		return n, errTruncated
	}
	return n, err
}

// crlf reads the CRLF after a chunk's data.
func (b *bodyReader) crlf() error {
	pk, err := b.br.Peek(2)
	if err != nil {
		return readErr(err)
	}
	if pk[0] != '\r' || pk[1] != '\n' {
		return errChunkEnd
	}
	b.br.Discard(2)
	return nil
}

// readErr maps the end of input within a body to a framing error.
func readErr(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errTruncated
	}
	return err
}

// readLine reads one line of at most max bytes, ending in CRLF, and
// returns it without the CRLF. The slice is valid until the next read.
func (b *bodyReader) readLine(max int, tooLong error) ([]byte, error) {
	line, err := b.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull || len(line) > max {
		return nil, tooLong
	}
	if err != nil {
		return nil, readErr(err)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, errChunkSize
	}
	return line[:len(line)-2], nil
}

// chunkHeader reads chunk-size [ chunk-ext ] CRLF.
func (b *bodyReader) chunkHeader() (int64, error) {
	line, err := b.readLine(maxChunkLine, errChunkTooLong)
	if err != nil {
		if err == errChunkSize {
			return 0, errChunkSize
		}
		return 0, err
	}
	i := 0
	var size int64
	for i < len(line) && chars[line[i]]&cHex != 0 {
		if size > (1<<63-1)>>4 {
			return 0, errChunkSize
		}
		size = size<<4 | int64(unhex(line[i]))
		i++
	}
	if i == 0 {
		return 0, errChunkSize
	}
	if !validChunkExt(line[i:]) {
		return 0, errChunkExt
	}
	return size, nil
}

// validChunkExt checks *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
// with ext-val a token or a quoted-string.
func validChunkExt(b []byte) bool {
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
	}
	token := func() bool {
		j := i
		for i < len(b) && tcharByte(b[i]) {
			i++
		}
		return i > j
	}
	for {
		j := i
		ws()
		if i == len(b) {
			return i == j // BWS only before a ";"
		}
		if b[i] != ';' {
			return false
		}
		i++
		ws()
		if !token() {
			return false
		}
		ws()
		if i == len(b) || b[i] == ';' {
			continue
		}
		if b[i] != '=' {
			return false
		}
		i++
		ws()
		if i < len(b) && b[i] == '"' {
			i++
			for {
				if i == len(b) {
					return false
				}
				c := b[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					i++
					if i == len(b) || chars[b[i]]&cVchar == 0 {
						return false
					}
				} else if chars[c]&cVchar == 0 {
					return false
				}
				i++
			}
		} else if !token() {
			return false
		}
	}
}

// trailers reads the trailer section after the last chunk with the
// header field rules and limits, and drops it.
func (b *bodyReader) trailers() error {
	cfg := &b.c.s.cfg
	total, fields := 0, 0
	for {
		line, err := b.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return errTrailerTooBig
		}
		if err != nil {
			return readErr(err)
		}
		total += len(line)
		if total > cfg.MaxHeaderBytes {
			return errTrailerTooBig
		}
		if len(line) < 2 || line[len(line)-2] != '\r' {
			return errTrailer
		}
		line = line[:len(line)-2]
		if len(line) == 0 {
			return nil
		}
		for _, c := range line {
			if c == '\r' {
				return errTrailer
			}
		}
		if _, _, perr := parseFieldLine(line); perr != nil {
			return errTrailer
		}
		fields++
		if fields > cfg.MaxHeaderFields {
			return errTrailerTooBig
		}
	}
}

// maxDrain is how much of a body the handler left unread is read and
// dropped to keep the connection.
const maxDrain = 256 << 10

// drain reads what the handler left of the body, up to maxDrain. It
// reports whether the connection can go on, and the error that stopped
// it (ErrBadFraming wrapped for a malformed body).
func (b *bodyReader) drain() (bool, error) {
	if b.done {
		return true, nil
	}
	if b.err != nil {
		return false, b.err
	}
	if b.expect && !b.sent100 {
		// The client waits for 100 Continue, which it will not get: the
		// body may or may not come, so the connection cannot go on.
		return false, nil
	}
	if !b.chunked && b.left > maxDrain {
		return false, nil
	}
	if !b.started {
		b.drained = true
	}
	saved := b.limit
	if b.limit-b.read > maxDrain {
		b.limit = b.read + maxDrain
	}
	var scratch [4096]byte
	for {
		_, err := b.Read(scratch[:])
		if err == io.EOF {
			b.limit = saved
			return true, nil
		}
		if err != nil {
			if errors.Is(err, ErrBodyTooLarge) {
				return false, nil
			}
			return false, err
		}
	}
}
