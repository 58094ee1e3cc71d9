// Package readall is io.ReadAll into a caller's buffer, so that a buffer
// can serve from one read to the next (a WebSocket reader's messages, a
// form's fields).
package readall

import "io"

// Append appends what r holds, up to io.EOF, to b and returns it; the
// error is r's other than io.EOF, with b holding what was read before it.
func Append(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append pick the growth
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
