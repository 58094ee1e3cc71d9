package server

import (
	"bytes"
	"io"
	"net"
	"testing"

	"golang.org/x/net/http2"
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

func TestSettingsDedup(t *testing.T) {
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
			got, err := io.ReadAll(withSettingsDedup(c))
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
