package server

import (
	"crypto/tls"
	"encoding/binary"
	"net"

	"golang.org/x/net/http2"
)

// settingsConn reads an HTTP/2 client's byte stream and rewrites each
// SETTINGS frame that lists a setting more than once into one that lists
// it once, with its last value. RFC 9113 §6.5.3 says the values of a
// SETTINGS frame are processed in order, so the last one wins; x/net
// refuses such a frame with PROTOCOL_ERROR (a defence against setting
// floods), which h2spec 6.5.3/1 flags. Everything else passes through
// untouched: the cost is reading 9-byte frame headers as they go by.
type settingsConn struct {
	net.Conn
	preface int    // preface bytes still to pass through
	hdr     []byte // a frame header being collected
	skip    int    // payload bytes of the current frame to pass through
	frame   []byte // a SETTINGS frame being collected (header included)
	want    int    // its total length
	out     []byte // rewritten bytes not yet returned
	buf     []byte // what the last Read of the connection gave
}

// maxSettingsFrame bounds the SETTINGS frames that are rewritten; a larger
// one (more than 100 settings) passes as it is, and x/net refuses it.
const maxSettingsFrame = 9 + 6*100

const frameSettings = 0x4

func withSettingsDedup(c net.Conn) net.Conn {
	s := &settingsConn{Conn: c, preface: len(http2.ClientPreface)}
	if cs, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
		return &settingsTLSConn{s, cs}
	}
	return s
}

type settingsTLSConn struct {
	*settingsConn
	cs interface{ ConnectionState() tls.ConnectionState }
}

func (c *settingsTLSConn) ConnectionState() tls.ConnectionState { return c.cs.ConnectionState() }

func (c *settingsConn) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if cap(c.buf) < len(p) {
			c.buf = make([]byte, len(p))
		}
		n, err := c.Conn.Read(c.buf[:len(p)])
		c.feed(c.buf[:n])
		if len(c.out) == 0 && err != nil {
			return 0, err
		}
		if err != nil && len(c.out) > 0 {
			// return what we have; the error comes again on the next Read
			break
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	if len(c.out) == 0 {
		c.out = c.out[:0:0]
	}
	return n, nil
}

// feed runs the bytes of one read through the frame scanner into out.
func (c *settingsConn) feed(b []byte) {
	for len(b) > 0 {
		switch {
		case c.preface > 0:
			n := min(c.preface, len(b))
			c.out = append(c.out, b[:n]...)
			c.preface -= n
			b = b[n:]
		case c.skip > 0:
			n := min(c.skip, len(b))
			c.out = append(c.out, b[:n]...)
			c.skip -= n
			b = b[n:]
		case c.want > 0:
			n := min(c.want-len(c.frame), len(b))
			c.frame = append(c.frame, b[:n]...)
			b = b[n:]
			if len(c.frame) == c.want {
				c.out = append(c.out, dedupSettings(c.frame)...)
				c.frame, c.want = c.frame[:0], 0
			}
		default:
			n := min(9-len(c.hdr), len(b))
			c.hdr = append(c.hdr, b[:n]...)
			b = b[n:]
			if len(c.hdr) < 9 {
				continue
			}
			length := int(c.hdr[0])<<16 | int(c.hdr[1])<<8 | int(c.hdr[2])
			typ, flags := c.hdr[3], c.hdr[4]
			stream := binary.BigEndian.Uint32(c.hdr[5:9]) & 0x7fffffff
			if typ == frameSettings && flags&0x1 == 0 && stream == 0 && length%6 == 0 &&
				length > 6 && 9+length <= maxSettingsFrame {
				c.frame = append(c.frame[:0], c.hdr...)
				c.want = 9 + length
			} else {
				c.out = append(c.out, c.hdr...)
				c.skip = length
			}
			c.hdr = c.hdr[:0]
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
