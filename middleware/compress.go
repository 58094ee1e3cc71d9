package middleware

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/databridge/databridge/server"
)

// CompressOptions are GZipMiddleware's keywords (Starlette's names and
// defaults). ThreadMinimumSize is accepted for Starlette's signature and
// unused: compression runs on the request's goroutine, never on the event
// loop.
type CompressOptions struct {
	MinimumSize         int      `json:"minimum_size"`
	CompressLevel       int      `json:"compresslevel"`
	ThreadMinimumSize   int      `json:"thread_minimum_size"`
	ExcludeContentTypes []string `json:"exclude_content_types"`
}

// DefaultCompressOptions are Starlette's defaults.
func DefaultCompressOptions() CompressOptions {
	return CompressOptions{MinimumSize: 500, CompressLevel: 9, ThreadMinimumSize: 128 * 1024,
		ExcludeContentTypes: []string{"application/grpc", "application/gzip", "application/x-gzip",
			"application/zip", "audio/*", "font/woff", "font/woff2", "image/avif", "image/gif",
			"image/jpeg", "image/png", "image/webp", "text/event-stream", "video/*"}}
}

// The encodings offered, in the order preferred when the client gives
// them the same q-value: br (smallest), zstd (fastest), gzip.
const (
	encIdentity = iota
	encBr
	encZstd
	encGzip
)

var encNames = [...]string{"", "br", "zstd", "gzip"}

// negotiate picks an encoding from Accept-Encoding (RFC 9110, 12.5.3):
// the highest q-value wins, ties go to br, then zstd, then gzip; "*"
// stands for those not named; q=0 refuses. encIdentity when none is
// acceptable.
func negotiate(accept string) int {
	var q [4]float64
	var named [4]bool
	star, hasStar := 0.0, false
	for part := range strings.SplitSeq(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		weight := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					weight = f
				} else {
					weight = 0
				}
			}
		}
		switch name {
		case "br":
			q[encBr], named[encBr] = max(q[encBr], weight), true
		case "zstd":
			q[encZstd], named[encZstd] = max(q[encZstd], weight), true
		case "gzip", "x-gzip":
			q[encGzip], named[encGzip] = max(q[encGzip], weight), true
		case "*":
			star, hasStar = max(star, weight), true
		}
	}
	best, bestQ := encIdentity, 0.0
	for e := encBr; e <= encGzip; e++ {
		w := q[e]
		if !named[e] && hasStar {
			w = star
		}
		if w > bestQ {
			best, bestQ = e, w
		}
	}
	return best
}

type compress struct {
	minimum  int
	level    int
	excluded []string
	pools    [4]sync.Pool
}

// Compress compresses responses as Starlette's GZipMiddleware, with br and
// zstd besides gzip: a response whose body reaches MinimumSize (or that is
// streamed with Flush) is compressed when the client accepts an encoding;
// the engine frames it anew (Content-Length of the compressed body, or
// chunked when streamed). Left alone: responses that already have a
// Content-Encoding, 206s, excluded content types, HEAD requests, statuses
// without a body (1xx, 204, 304), bodies below MinimumSize. Vary:
// Accept-Encoding is added to responses from MinimumSize on, as Starlette
// does. CompressLevel (1-9) is gzip's level, zstd's (by zstd's numbering)
// and brotli's quality.
func Compress(o CompressOptions) (server.Middleware, error) {
	if o.CompressLevel < 1 || o.CompressLevel > 9 {
		return nil, fmt.Errorf("databridge: GZipMiddleware compresslevel must be in 1..9, not %d", o.CompressLevel)
	}
	if o.MinimumSize < 0 {
		return nil, fmt.Errorf("databridge: GZipMiddleware minimum_size must be 0 or more")
	}
	c := &compress{minimum: o.MinimumSize, level: o.CompressLevel}
	for _, t := range o.ExcludeContentTypes {
		t, _, _ = strings.Cut(t, ";")
		c.excluded = append(c.excluded, strings.ToLower(strings.TrimSpace(t)))
	}
	return c.wrap, nil
}

// encoder is a pooled compressor.
type encoder interface {
	io.WriteCloser
	Flush() error
	Reset(w io.Writer)
}

type zstdEncoder struct{ *zstd.Encoder }

func (z zstdEncoder) Reset(w io.Writer) { z.Encoder.Reset(w) }

func (c *compress) encoder(enc int, w io.Writer) encoder {
	if e, ok := c.pools[enc].Get().(encoder); ok {
		e.Reset(w)
		return e
	}
	switch enc {
	case encBr:
		return brotli.NewWriterLevel(w, c.level)
	case encZstd:
		z, _ := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(c.level)),
			zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		return zstdEncoder{z}
	default:
		g, _ := gzip.NewWriterLevel(w, c.level)
		return g
	}
}

func (c *compress) wrap(next server.Handler) server.Handler {
	return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
		if r.Method == "HEAD" {
			next.Serve(w, r)
			return
		}
		cw := &compressWriter{ResponseWriter: w, c: c, enc: negotiate(r.Header.Get("accept-encoding"))}
		next.Serve(cw, r)
		cw.finish()
	})
}

// compressWriter buffers the body until it knows whether to compress it:
// MinimumSize reached, Flush, or the end of the response. It has no
// ReadFrom, on purpose: a body it may compress must go through the
// encoder, never by sendfile, so server.ReaderFromOf finds none and
// package files reads a file whole for Send (compressed with a
// Content-Length) as for any writer without one.
type compressWriter struct {
	server.ResponseWriter
	c       *compress
	enc     int
	status  int
	decided bool
	passing bool // left alone: writes go straight through
	buf     []byte
	e       encoder
	ew      *underlying
}

// underlying adapts the wrapped ResponseWriter to an io.Writer for the
// encoder.
// Unwrap is the writer compression wraps (server.HijackerOf: a WebSocket
// upgrade hands the connection over uncompressed).
func (cw *compressWriter) Unwrap() server.ResponseWriter { return cw.ResponseWriter }

type underlying struct{ w server.ResponseWriter }

func (u *underlying) Write(p []byte) (int, error) { return u.w.Write(p) }

func (cw *compressWriter) WriteHeader(status int) {
	if cw.status == 0 {
		cw.status = status
	}
}

// eligible reports whether the response may be compressed at all
// (whatever its size), by its status and header.
func (cw *compressWriter) eligible() bool {
	if cw.status < 200 || cw.status == 204 || cw.status == 304 || cw.status == 206 {
		return false
	}
	h := cw.ResponseWriter.Header()
	if h.Has("content-encoding") {
		return false
	}
	mt, _, _ := strings.Cut(h.Get("content-type"), ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	major, _, _ := strings.Cut(mt, "/")
	for _, x := range cw.c.excluded {
		if x == mt || x == major+"/*" || (x == "application/grpc" && strings.HasPrefix(mt, "application/grpc+")) {
			return false
		}
	}
	return true
}

// start decides to compress: the header changes and the encoder starts.
func (cw *compressWriter) start() {
	cw.decided = true
	h := cw.ResponseWriter.Header()
	addVary(h, "Accept-Encoding")
	if cw.enc == encIdentity {
		cw.passing = true
		cw.ResponseWriter.WriteHeader(cw.status)
		return
	}
	h.Del("content-length")
	h.Set("content-encoding", encNames[cw.enc])
	cw.ResponseWriter.WriteHeader(cw.status)
	cw.ew = &underlying{cw.ResponseWriter}
	cw.e = cw.c.encoder(cw.enc, cw.ew)
}

// pass decides to leave the response alone.
func (cw *compressWriter) pass() {
	cw.decided = true
	cw.passing = true
	cw.ResponseWriter.WriteHeader(cw.status)
}

func (cw *compressWriter) Write(p []byte) (int, error) {
	if cw.status == 0 {
		cw.status = 200
	}
	if !cw.decided {
		if !cw.eligible() {
			cw.pass()
		} else {
			cw.buf = append(cw.buf, p...)
			if len(cw.buf) < cw.c.minimum {
				return len(p), nil
			}
			cw.start()
			buf := cw.buf
			cw.buf = nil
			if err := cw.write(buf); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	if err := cw.write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (cw *compressWriter) write(p []byte) error {
	if cw.e != nil {
		_, err := cw.e.Write(p)
		return err
	}
	_, err := cw.ResponseWriter.Write(p)
	return err
}

// Flush makes the response streamed: compressed (when eligible) whatever
// its size so far, as Starlette compresses a body sent in several parts.
func (cw *compressWriter) Flush() error {
	if cw.status == 0 {
		cw.status = 200
	}
	if !cw.decided {
		if cw.eligible() {
			cw.start()
		} else {
			cw.pass()
		}
		buf := cw.buf
		cw.buf = nil
		if len(buf) > 0 {
			if err := cw.write(buf); err != nil {
				return err
			}
		}
	}
	if cw.e != nil {
		if err := cw.e.Flush(); err != nil {
			return err
		}
	}
	return cw.ResponseWriter.Flush()
}

// Send is the whole response at once: compressed into a buffer and sent
// whole, so that it keeps a Content-Length.
func (cw *compressWriter) Send(status int, body []byte) error {
	if cw.decided {
		return cw.ResponseWriter.Send(status, body)
	}
	cw.status = status
	if !cw.eligible() || len(body) < cw.c.minimum {
		cw.decided, cw.passing = true, true
		return cw.ResponseWriter.Send(status, body)
	}
	cw.decided = true
	h := cw.ResponseWriter.Header()
	addVary(h, "Accept-Encoding")
	if cw.enc == encIdentity {
		cw.passing = true
		return cw.ResponseWriter.Send(status, body)
	}
	out := &sliceWriter{b: make([]byte, 0, len(body)/2+64)}
	e := cw.c.encoder(cw.enc, out)
	if _, err := e.Write(body); err != nil {
		return err
	}
	if err := e.Close(); err != nil {
		return err
	}
	cw.c.pools[cw.enc].Put(e)
	h.Del("content-length")
	h.Set("content-encoding", encNames[cw.enc])
	return cw.ResponseWriter.Send(status, out.b)
}

type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// finish ends the response once the handler returned: a body still below
// MinimumSize goes out as it is; an encoder is closed and pooled.
func (cw *compressWriter) finish() {
	if !cw.decided {
		cw.decided, cw.passing = true, true
		if cw.status != 0 {
			cw.ResponseWriter.WriteHeader(cw.status)
		}
		if len(cw.buf) > 0 {
			cw.ResponseWriter.Write(cw.buf)
		}
		return
	}
	if cw.e != nil {
		if err := cw.e.Close(); err == nil {
			cw.ew.w = nil
			cw.c.pools[cw.enc].Put(cw.e)
		}
		cw.e = nil
	}
}
