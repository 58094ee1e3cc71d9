package server

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Guard reads an HTTP/2 client's byte stream before x/net does and
// fixes the two places where x/net's server departs from RFC 9113:
//
//   - a SETTINGS frame that lists a setting more than once is rewritten to
//     list it once, with its last value: §6.5.3 says the values are
//     processed in order, while x/net refuses such a frame with
//     PROTOCOL_ERROR (its defence against setting floods; h2spec 6.5.3/1);
//   - a request whose header block carries a connection-specific field
//     (connection, keep-alive, proxy-connection, transfer-encoding,
//     upgrade) or TE other than "trailers" is malformed (§8.2.2) and must
//     be a PROTOCOL_ERROR; x/net answers it 400 instead (golang/go#26321;
//     h2spec 8.1.2.2). The guard decodes each header block with its own
//     HPACK decoder, which mirrors x/net's (same blocks, same order), and
//     ends the connection on such a block before x/net sees it (§5.4.1
//     lets an endpoint treat a stream error as a connection error).
//
// Other frames pass through untouched. Cost: reading 9-byte frame headers
// as they go by, and a second HPACK decode of each request's header block
// (the fields are only compared, not kept).
type h2Guard struct {
	net.Conn
	preface int    // preface bytes still to pass through
	hdr     []byte // a frame header being collected
	skip    int    // payload bytes of the current frame to pass through
	frame   []byte // a frame being collected (SETTINGS; HEADERS/CONTINUATION until END_HEADERS)
	want    int    // total length of the frame being collected (header included)
	typ     byte   // its type
	at      int    // where its header starts in frame
	block   []byte // the header block fragments collected so far
	inBlock bool   // collecting a header block that has not ended

	dec       *hpack.Decoder
	malformed bool // the block being decoded has a forbidden field
	noCheck   bool // the mirror decoder lost step: header blocks are not checked any more
	failed    error

	out    []byte // bytes ready for x/net
	outPos int
	buf    []byte // what the last Read of the connection gave
}

var errMalformedH2 = errors.New("databridge: malformed HTTP/2 request (connection-specific header field)")

// Frame types and flags of RFC 9113 §6.
const (
	frameHeaders      = 0x1
	frameSettings     = 0x4
	frameContinuation = 0x9
	flagAck           = 0x1
	flagEndHeaders    = 0x4
	flagPadded        = 0x8
	flagPriority      = 0x20
)

// maxGuardBlock bounds a header block the guard collects; a larger one
// passes unchecked (and ends the checks, see noCheck). maxSettingsFrame
// bounds the SETTINGS frames that are rewritten (x/net refuses more than
// 100 settings anyway).
const (
	maxGuardBlock    = 256 << 10
	maxSettingsFrame = 9 + 6*100
)

func withH2Guard(c net.Conn) net.Conn {
	g := &h2Guard{Conn: c, preface: len(http2.ClientPreface)}
	// x/net's decoder starts from the default table size and the client
	// may not exceed it (the front does not advertise another).
	g.dec = hpack.NewDecoder(4096, g.field)
	if cs, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
		return &h2GuardTLS{g, cs}
	}
	return g
}

type h2GuardTLS struct {
	*h2Guard
	cs interface{ ConnectionState() tls.ConnectionState }
}

func (c *h2GuardTLS) ConnectionState() tls.ConnectionState { return c.cs.ConnectionState() }

func (g *h2Guard) Read(p []byte) (int, error) {
	for g.outPos == len(g.out) {
		if g.failed != nil {
			if errors.Is(g.failed, errMalformedH2) {
				g.Conn.Close()
			}
			return 0, g.failed
		}
		g.out, g.outPos = g.out[:0], 0
		if cap(g.buf) < len(p) {
			g.buf = make([]byte, len(p))
		}
		n, err := g.Conn.Read(g.buf[:len(p)])
		g.feed(g.buf[:n])
		if g.failed != nil && len(g.out) == 0 {
			g.Conn.Close() // a malformed request: the connection ends here
			return 0, g.failed
		}
		if err != nil {
			if len(g.out) == 0 {
				return 0, err
			}
			g.failed = err // after what is ready
		}
	}
	n := copy(p, g.out[g.outPos:])
	g.outPos += n
	return n, nil
}

// feed runs the bytes of one read through the frame scanner into out.
func (g *h2Guard) feed(b []byte) {
	for len(b) > 0 && g.failed == nil {
		switch {
		case g.preface > 0:
			n := min(g.preface, len(b))
			g.out = append(g.out, b[:n]...)
			g.preface -= n
			b = b[n:]
		case g.skip > 0:
			n := min(g.skip, len(b))
			g.out = append(g.out, b[:n]...)
			g.skip -= n
			b = b[n:]
		case g.want > 0:
			n := min(g.want-len(g.frame), len(b))
			g.frame = append(g.frame, b[:n]...)
			b = b[n:]
			if len(g.frame) == g.want {
				g.frameDone()
			}
		default:
			n := min(9-len(g.hdr), len(b))
			g.hdr = append(g.hdr, b[:n]...)
			b = b[n:]
			if len(g.hdr) == 9 {
				g.frameStart()
				g.hdr = g.hdr[:0]
			}
		}
	}
}

// frameStart decides, from a frame's header, whether to collect it.
func (g *h2Guard) frameStart() {
	length := int(g.hdr[0])<<16 | int(g.hdr[1])<<8 | int(g.hdr[2])
	typ, flags := g.hdr[3], g.hdr[4]
	stream := binary.BigEndian.Uint32(g.hdr[5:9]) & 0x7fffffff
	if g.inBlock && typ != frameContinuation {
		// Only CONTINUATION may follow a block that has not ended (§6.10):
		// what was held goes out in order, and x/net refuses the rest.
		g.passBlock()
	}
	collect := false
	switch {
	case typ == frameSettings:
		collect = flags&flagAck == 0 && stream == 0 && length%6 == 0 && length > 6 && 9+length <= maxSettingsFrame
	case typ == frameHeaders || typ == frameContinuation && g.inBlock:
		collect = !g.noCheck && len(g.block)+length <= maxGuardBlock
		if !collect && !g.noCheck {
			g.noCheck = true // a block too large to check: the mirror decoder would lose step
			g.out = append(g.out, g.frame...)
			g.frame, g.block, g.inBlock = g.frame[:0], g.block[:0], false
		}
	}
	if !collect {
		g.out = append(g.out, g.hdr...)
		g.skip = length
		if length == 0 {
			g.skip = 0
		}
		return
	}
	g.at = len(g.frame)
	g.frame = append(g.frame, g.hdr...)
	g.want, g.typ = len(g.frame)+length, typ
	if length == 0 {
		g.frameDone()
	}
}

// frameDone handles a collected frame: a SETTINGS frame goes out
// deduplicated; header block frames wait for the end of the block.
func (g *h2Guard) frameDone() {
	g.want = 0
	if g.typ == frameSettings {
		g.out = append(g.out, dedupSettings(g.frame)...)
		g.frame = g.frame[:0]
		return
	}
	h := g.frame[g.at:]
	flags := h[4]
	payload := h[9:]
	if h[3] == frameHeaders {
		g.inBlock = true
		if flags&flagPadded != 0 {
			if len(payload) == 0 || int(payload[0]) >= len(payload) {
				g.passBlock() // malformed framing: x/net answers it
				return
			}
			pad := int(payload[0])
			payload = payload[1 : len(payload)-pad]
		}
		if flags&flagPriority != 0 {
			if len(payload) < 5 {
				g.passBlock()
				return
			}
			payload = payload[5:]
		}
	}
	g.block = append(g.block, payload...)
	if flags&flagEndHeaders == 0 {
		return
	}
	g.inBlock = false
	g.malformed = false
	_, err := g.dec.Write(g.block)
	if err == nil {
		err = g.dec.Close()
	}
	g.block = g.block[:0]
	switch {
	case err != nil:
		g.noCheck = true // x/net will refuse the block the same way
	case g.malformed:
		g.failed = errMalformedH2
		return
	}
	g.out = append(g.out, g.frame...)
	g.frame = g.frame[:0]
}

// passBlock gives up checking: what was collected goes out as it is.
func (g *h2Guard) passBlock() {
	g.noCheck = true
	g.out = append(g.out, g.frame...)
	g.frame, g.block, g.inBlock = g.frame[:0], g.block[:0], false
}

// field is the mirror decoder's callback: it flags the fields RFC 9113
// §8.2.2 forbids in a request.
func (g *h2Guard) field(f hpack.HeaderField) {
	switch strings.ToLower(f.Name) {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		g.malformed = true
	case "te":
		if f.Value != "trailers" {
			g.malformed = true
		}
	}
}

// dedupSettings returns frame (a whole SETTINGS frame) with each setting
// listed once, at the place of its first appearance, with its last value.
func dedupSettings(frame []byte) []byte {
	payload := frame[9:]
	n := len(payload) / 6
	dup := false
	for i := 0; i < n && !dup; i++ {
		for j := i + 1; j < n; j++ {
			if payload[6*i] == payload[6*j] && payload[6*i+1] == payload[6*j+1] {
				dup = true
				break
			}
		}
	}
	if !dup {
		return frame
	}
	out := append([]byte(nil), frame[:9]...)
	for i := 0; i < n; i++ {
		id := payload[6*i : 6*i+2]
		seen := false
		for k := 9; k < len(out); k += 6 {
			if out[k] == id[0] && out[k+1] == id[1] {
				copy(out[k+2:k+6], payload[6*i+2:6*i+6]) // a later value wins
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, payload[6*i:6*i+6]...)
		}
	}
	length := len(out) - 9
	out[0], out[1], out[2] = byte(length>>16), byte(length>>8), byte(length)
	return out
}
