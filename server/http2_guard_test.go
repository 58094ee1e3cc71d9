package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// settingsFrame builds a SETTINGS frame of (id, value) pairs.
func settingsFrame(pairs ...[2]uint32) []byte {
	var buf bytes.Buffer
	fr := http2.NewFramer(&buf, nil)
	var ss []http2.Setting
	for _, p := range pairs {
		ss = append(ss, http2.Setting{ID: http2.SettingID(p[0]), Val: p[1]})
	}
	fr.WriteSettings(ss...)
	return buf.Bytes()
}

// oneByteConn reads its data one byte per Read, to cross every boundary.
type oneByteConn struct {
	net.Conn
	r io.Reader
}

func (c *oneByteConn) Read(p []byte) (int, error) { return c.r.Read(p[:1]) }

func TestH2GuardSettings(t *testing.T) {
	ping := func() []byte {
		var buf bytes.Buffer
		http2.NewFramer(&buf, nil).WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
		return buf.Bytes()
	}()
	tests := []struct {
		name     string
		in, want []byte
	}{
		// The last value of a repeated setting wins, at its first place.
		{"repeated initial window",
			settingsFrame([2]uint32{4, 100}, [2]uint32{3, 10}, [2]uint32{4, 1}),
			settingsFrame([2]uint32{4, 1}, [2]uint32{3, 10})},
		// Frames without repeats, other frames and the preface pass as they are.
		{"no repeats", settingsFrame([2]uint32{4, 100}, [2]uint32{3, 10}), settingsFrame([2]uint32{4, 100}, [2]uint32{3, 10})},
		{"ping", ping, ping},
	}
	for _, tt := range tests {
		for _, split := range []bool{false, true} {
			in := append([]byte(http2.ClientPreface), tt.in...)
			in = append(in, ping...) // a frame after it is untouched
			var c net.Conn = &oneByteConn{r: bytes.NewReader(in)}
			if !split {
				c = &readerConn{r: bytes.NewReader(in)}
			}
			got, err := io.ReadAll(withH2Guard(c))
			if err != nil {
				t.Fatal(err)
			}
			want := append(append([]byte(http2.ClientPreface), tt.want...), ping...)
			if !bytes.Equal(got, want) {
				t.Errorf("%s (split %v):\n got %x\nwant %x", tt.name, split, got, want)
			}
		}
	}
}

type readerConn struct {
	net.Conn
	r io.Reader
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// headersFrame builds a HEADERS frame (END_HEADERS) of fields, encoded
// with enc (whose dynamic table the guard must follow).
func headersFrame(enc *hpack.Encoder, buf *bytes.Buffer, stream uint32, fields ...[2]string) []byte {
	buf.Reset()
	for _, f := range fields {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	block := append([]byte(nil), buf.Bytes()...)
	var out bytes.Buffer
	http2.NewFramer(&out, nil).WriteHeaders(http2.HeadersFrameParam{
		StreamID: stream, BlockFragment: block, EndHeaders: true, EndStream: true,
	})
	return out.Bytes()
}

func TestH2GuardHeaders(t *testing.T) {
	common := [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "x"}}
	// stream builds the preface, two valid requests (the second indexed
	// from the dynamic table the first filled) and then last's fields.
	stream := func(last ...[2]string) (in []byte, lastLen int) {
		var hbuf bytes.Buffer
		enc := hpack.NewEncoder(&hbuf)
		in = append([]byte(http2.ClientPreface), headersFrame(enc, &hbuf, 1, append(common, [2]string{"te", "trailers"})...)...)
		in = append(in, headersFrame(enc, &hbuf, 3, common...)...)
		if last == nil {
			return in, 0
		}
		f := headersFrame(enc, &hbuf, 5, append(common, last...)...)
		return append(in, f...), len(f)
	}
	in, _ := stream()
	for _, split := range []bool{false, true} {
		var c net.Conn = &readerConn{r: bytes.NewReader(in)}
		if split {
			c = &oneByteConn{r: bytes.NewReader(in)}
		}
		got, err := io.ReadAll(withH2Guard(c))
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("valid requests (split %v): %v, %d of %d bytes", split, err, len(got), len(in))
		}
	}
	for _, field := range [][2]string{
		{"connection", "keep-alive"}, {"keep-alive", "timeout=5"}, {"proxy-connection", "x"},
		{"transfer-encoding", "chunked"}, {"upgrade", "h2c"}, {"te", "gzip"},
	} {
		in, n := stream(field)
		got, err := io.ReadAll(withH2Guard(&readerConn{r: bytes.NewReader(in)}))
		if !errors.Is(err, errMalformedH2) {
			t.Errorf("%s: error %v, want errMalformedH2", field[0], err)
		}
		if want := len(in) - n; len(got) != want {
			t.Errorf("%s: %d bytes passed, want %d (the malformed block held back)", field[0], len(got), want)
		}
	}
}

func (c *readerConn) Close() error  { return nil }
func (c *oneByteConn) Close() error { return nil }
