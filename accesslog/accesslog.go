// Package accesslog is the access log, written by Go off the GIL: a
// server.Middleware records each response's status, bytes and duration and
// formats one line (common, combined or json) on the request goroutine; a
// single writer goroutine takes the lines through a bounded channel and
// writes them in batches, one write(2) per batch of whole lines. When the
// channel is full the line is dropped and counted (Dropped), so a slow
// stdout never blocks a request.
package accesslog

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/databridge/databridge/server"
)

// Format is a line format.
type Format int

const (
	Combined Format = iota // NCSA combined: common + "referer" "user-agent"
	Common                 // NCSA common
	JSON                   // one JSON object per line
)

// ParseFormat maps "common", "combined" and "json" to a Format.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "combined":
		return Combined, nil
	case "common":
		return Common, nil
	case "json":
		return JSON, nil
	}
	return 0, fmt.Errorf("databridge: access log format %q is not common, combined or json", s)
}

// Queue is how many lines may wait for the writer before lines are
// dropped: with a flush every flushEvery, up to ~650,000 lines a second.
const Queue = 16384

// flushEvery is how often the writer takes the queued lines.
const flushEvery = 25 * time.Millisecond

// batchBytes is how much the writer gathers before a write.
const batchBytes = 64 << 10

// Logger formats and writes access lines.
type Logger struct {
	format  Format
	out     io.Writer
	lines   chan *[]byte
	dropped atomic.Int64
	written atomic.Int64
	done    chan struct{}
	closing chan struct{}
	close   sync.Once
	clock   clock
	ids     atomic.Uint64
	idBase  string
}

// New starts a Logger writing to out (os.Stdout when nil).
func New(format Format, out io.Writer) *Logger {
	if out == nil {
		out = os.Stdout
	}
	l := &Logger{format: format, out: out, lines: make(chan *[]byte, Queue), done: make(chan struct{}),
		closing: make(chan struct{})}
	l.idBase = strconv.FormatInt(int64(os.Getpid()), 36) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + "-"
	go l.write()
	return l
}

// Dropped is the number of lines dropped because the queue was full.
func (l *Logger) Dropped() int64 { return l.dropped.Load() }

// Written is the number of lines written.
func (l *Logger) Written() int64 { return l.written.Load() }

// Close writes the queued lines and stops the writer; lines logged after
// are dropped. Safe to call more than once.
func (l *Logger) Close() {
	l.close.Do(func() { close(l.closing); close(l.lines) })
	<-l.done
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func (l *Logger) write() {
	defer close(l.done)
	batch := make([]byte, 0, batchBytes+4096)
	flush := func() {
		if len(batch) > 0 {
			l.out.Write(batch) // an error (closed stdout) is not the client's problem
			batch = batch[:0]
		}
	}
	take := func(line *[]byte) {
		batch = append(batch, *line...)
		*line = (*line)[:0]
		linePool.Put(line)
		l.written.Add(1)
		if len(batch) >= batchBytes {
			flush()
		}
	}
	// The writer wakes on a tick, not per line: a request's send never
	// wakes a parked goroutine (measured: waking per line cost ~20 % of
	// the hello's throughput on one core), and a tick's lines go out in
	// one write.
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-l.closing:
		}
		for {
			select {
			case line, ok := <-l.lines:
				if !ok {
					flush()
					return
				}
				take(line)
				continue
			default:
			}
			break
		}
		flush()
	}
}

func (l *Logger) submit(line *[]byte) {
	defer func() {
		if recover() != nil { // closed: the server is stopping
			l.dropped.Add(1)
		}
	}()
	select {
	case l.lines <- line:
	default:
		l.dropped.Add(1)
		linePool.Put(line)
	}
}

// Middleware logs every response h sends.
func (l *Logger) Middleware(h server.Handler) server.Handler {
	return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
		rec := recPool.Get().(*Recorder)
		rec.ResponseWriter, rec.Status, rec.Bytes = w, 0, 0
		var start time.Time
		if l.format == JSON { // only json has the duration
			start = time.Now()
		}
		h.Serve(rec, r)
		l.log(r, rec.Status, rec.Bytes, start)
		rec.ResponseWriter = nil
		recPool.Put(rec)
	})
}

var recPool = sync.Pool{New: func() any { return new(Recorder) }}

// Recorder is the writer the access log wraps a response in.
type Recorder = server.Counter

func (l *Logger) log(r *server.Request, status int, n int64, start time.Time) {
	if status == 0 {
		status = 200 // nothing written: the front sends an empty 200
	}
	now := time.Now()
	line := linePool.Get().(*[]byte)
	b := (*line)[:0]
	host := hostOf(r.RemoteAddr)
	if l.format == JSON {
		b = append(b, `{"time":`...)
		b = append(now.AppendFormat(append(b, '"'), time.RFC3339Nano), '"') // no escapes in a timestamp
		b = append(b, `,"remote_addr":`...)
		b = server.AppendJSONString(b, host)
		b = append(b, `,"method":`...)
		b = server.AppendJSONString(b, r.Method)
		b = append(b, `,"target":`...)
		b = server.AppendJSONString(b, r.Target)
		b = append(b, `,"proto":`...)
		b = server.AppendJSONString(b, r.Proto())
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, n, 10)
		b = append(b, `,"duration_ms":`...)
		b = strconv.AppendFloat(b, float64(now.Sub(start).Microseconds())/1000, 'f', 3, 64)
		b = append(b, `,"user_agent":`...)
		b = server.AppendJSONString(b, r.Header.Get("user-agent"))
		b = append(b, `,"request_id":`...)
		id := r.Header.Get("x-request-id")
		if id == "" {
			b = append(b, '"')
			b = append(b, l.idBase...)
			b = strconv.AppendUint(b, l.ids.Add(1), 36)
			b = append(b, '"')
		} else {
			b = server.AppendJSONString(b, id)
		}
		b = append(b, "}\n"...)
	} else {
		b = append(b, host...)
		b = append(b, " - - ["...)
		b = append(b, l.clock.now(now)...)
		b = append(b, "] \""...)
		b = appendSafe(b, r.Method)
		b = append(b, ' ')
		b = appendSafe(b, r.Target)
		b = append(b, ' ')
		b = append(b, r.Proto()...)
		b = append(b, "\" "...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, ' ')
		if n == 0 {
			b = append(b, '-')
		} else {
			b = strconv.AppendInt(b, n, 10)
		}
		if l.format == Combined {
			b = append(b, " \""...)
			b = appendDash(b, r.Header.Get("referer"))
			b = append(b, "\" \""...)
			b = appendDash(b, r.Header.Get("user-agent"))
			b = append(b, '"')
		}
		b = append(b, '\n')
	}
	*line = b
	l.submit(line)
}

func appendDash(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendSafe(b, s)
}

// appendSafe escapes what would break a line: quotes, backslashes and
// control bytes (\xHH, as nginx does).
func appendSafe(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

const hex = "0123456789ABCDEF"

// clock caches the formatted timestamp of the current second.
type clock struct {
	cur atomic.Pointer[stamp]
}

type stamp struct {
	sec  int64
	text string
}

func (c *clock) now(t time.Time) string {
	sec := t.Unix()
	if s := c.cur.Load(); s != nil && s.sec == sec {
		return s.text
	}
	s := &stamp{sec: sec, text: t.Format("02/Jan/2006:15:04:05 -0700")}
	c.cur.Store(s)
	return s.text
}

// hostOf is the address of "host:port" or "[v6]:port" without the port
// (net.SplitHostPort without its allocations and checks).
func hostOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return addr
	}
	if addr[0] == '[' && i > 0 && addr[i-1] == ']' {
		return addr[1 : i-1]
	}
	if strings.IndexByte(addr[:i], ':') >= 0 { // a bare IPv6 address
		return addr
	}
	return addr[:i]
}
