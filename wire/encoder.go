package wire

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Value tags. They must match pybridge/decode.c.
const (
	TagNone   = 'N'
	TagTrue   = 'T'
	TagFalse  = 'F'
	TagInt    = 'i'
	TagBigInt = 'n'
	TagFloat  = 'f'
	TagStr    = 's'
	TagBytes  = 'b'
	TagKey    = 'k'
	TagDict   = 'd'
	TagList   = 'l'
	TagUUID   = 'u'
	// TagMultiDict is a dict of first values followed by one more value:
	// None, or a dict of name -> list of every value, for the names that
	// repeat. Python gets a databridge.requests.MultiDict (getlist).
	TagMultiDict = 'm'
)

// Encoder appends tagged values to Buf. The zero value is ready to use.
// Appending never fails; a caller that writes a Dict or List header must
// write exactly that many entries after it.
type Encoder struct {
	Buf []byte
}

// NewEncoder returns an Encoder that appends to buf (which may be nil).
func NewEncoder(buf []byte) *Encoder { return &Encoder{Buf: buf[:0]} }

// Reset empties the buffer, keeping its capacity.
func (e *Encoder) Reset() { e.Buf = e.Buf[:0] }

func (e *Encoder) None() { e.Buf = append(e.Buf, TagNone) }

func (e *Encoder) Bool(b bool) {
	if b {
		e.Buf = append(e.Buf, TagTrue)
	} else {
		e.Buf = append(e.Buf, TagFalse)
	}
}

func (e *Encoder) Int(v int64) {
	e.Buf = append(e.Buf, TagInt)
	e.Buf = binary.LittleEndian.AppendUint64(e.Buf, uint64(v))
}

// BigInt appends an integer given as decimal text (an optional '-' then
// digits), for values outside int64. The text is not checked here.
func (e *Encoder) BigInt(digits string) { e.lenPrefixed(TagBigInt, digits) }

// IntText appends an integer given as decimal text, as an int64 when it
// fits and as a big integer otherwise.
func (e *Encoder) IntText(digits string) {
	if v, err := strconv.ParseInt(digits, 10, 64); err == nil {
		e.Int(v)
		return
	}
	e.BigInt(digits)
}

func (e *Encoder) Float(v float64) {
	e.Buf = append(e.Buf, TagFloat)
	e.Buf = binary.LittleEndian.AppendUint64(e.Buf, math.Float64bits(v))
}

func (e *Encoder) Str(s string) { e.lenPrefixed(TagStr, s) }

// StrBytes appends b as a str without converting it to a Go string first.
func (e *Encoder) StrBytes(b []byte) {
	e.header(TagStr, len(b))
	e.Buf = append(e.Buf, b...)
}

func (e *Encoder) Bytes(b []byte) {
	e.header(TagBytes, len(b))
	e.Buf = append(e.Buf, b...)
}

// UUID appends a uuid.UUID built from its canonical text form.
func (e *Encoder) UUID(text string) { e.lenPrefixed(TagUUID, text) }

// Key appends one of the interned strings of Keys.
func (e *Encoder) Key(k Key) { e.Buf = append(e.Buf, TagKey, byte(k)) }

// Dict starts a dict of n key/value pairs.
func (e *Encoder) Dict(n int) { e.header(TagDict, n) }

// List starts a list of n values.
func (e *Encoder) List(n int) { e.header(TagList, n) }

// MultiDict starts a multi-value dict (TagMultiDict): n key/value pairs of
// first values, then None or the dict of all values of the repeated names.
func (e *Encoder) MultiDict(n int) { e.header(TagMultiDict, n) }

func (e *Encoder) header(tag byte, n int) {
	e.Buf = append(e.Buf, tag)
	e.Buf = binary.LittleEndian.AppendUint32(e.Buf, uint32(n))
}

func (e *Encoder) lenPrefixed(tag byte, s string) {
	e.header(tag, len(s))
	e.Buf = append(e.Buf, s...)
}

// PatchCount rewrites the count of a Dict or List header, or the length
// of a Str or Bytes, that starts at offset at (the tag's index in Buf),
// for writers that learn it only after writing what follows.
func (e *Encoder) PatchCount(at int, n int) {
	binary.LittleEndian.PutUint32(e.Buf[at+1:], uint32(n))
}

// Reply is what a Python handler produced, as it comes back across the
// boundary: neutral of HTTP types, so that pybridge needs no server.

type Reply struct {
	Status int
	Header [][2]string // in order; names as the handler gave them
	Body   []byte
	// Release, when set, is called once the reply has been written or
	// dropped: Body may point into memory that it frees.
	Release func()
	// Stream, when set, makes the reply streamed: Status and Header are
	// the head, Body is empty, and the chunks come from Stream. Whoever
	// takes the reply must call Stream.Close exactly once.
	Stream Stream
	// File, when set, makes the reply a file served by Go (a
	// FileResponse): its path, then, when the handler gave a filename, a
	// NUL and that name (whose extension picks the content type). Status
	// and Header are the head's; Body is empty.
	File string
}

// Stream is the body of a streamed reply, produced by a Python iterator
// one chunk at a time.
type Stream interface {
	// Next blocks until the next chunk is ready: a Reply whose Body is the
	// chunk (call its Release once written), nil at the end, or an error
	// when the iterator raised (it is logged) or the stream was cancelled.
	// The iterator is advanced only when Next is called: one chunk in
	// flight at most.
	Next() (*Reply, error)
	// Disconnected tells the iterator the client is gone (a pending async
	// step is cancelled). It may run concurrently with Next, never after
	// Close.
	Disconnected()
	// Close stops an unfinished iterator (close()/aclose(): GeneratorExit
	// in a generator) and releases it. Not concurrently with Next.
	Close()
}
