package server

import (
	"bufio"
	"errors"
	"io"
	"net"
)

// Counter is a ResponseWriter that notes the status and the body bytes
// sent through it: what the access log and the metrics middleware wrap a
// response in. It unwraps to the writer it wraps and passes a hijack and
// ReadFrom on.
type Counter struct {
	ResponseWriter
	Status int
	Bytes  int64
}

func (c *Counter) WriteHeader(status int) {
	if c.Status == 0 {
		c.Status = status
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *Counter) Write(p []byte) (int, error) {
	if c.Status == 0 {
		c.Status = 200
	}
	n, err := c.ResponseWriter.Write(p)
	c.Bytes += int64(n)
	return n, err
}

func (c *Counter) Send(status int, body []byte) error {
	if c.Status == 0 {
		c.Status = status
	}
	c.Bytes += int64(len(body))
	return c.ResponseWriter.Send(status, body)
}

// ReadFrom sends r as the body through the writer below, with its
// ReadFrom when it has one (sendfile on the HTTP/1.1 front), and counts
// the bytes sent.
func (c *Counter) ReadFrom(r io.Reader) (int64, error) {
	if c.Status == 0 {
		c.Status = 200
	}
	n, err := CopyBody(c.ResponseWriter, r)
	c.Bytes += n
	return n, err
}

// Hijack hands the connection over when a writer below can (a 101).
func (c *Counter) Hijack() (net.Conn, *bufio.Reader, error) {
	if h, ok := HijackerOf(c.ResponseWriter); ok {
		if c.Status == 0 {
			c.Status = 101
		}
		return h.Hijack()
	}
	return nil, nil, errors.New("databridge: this connection cannot be hijacked")
}

// Unwrap is the wrapped writer.
func (c *Counter) Unwrap() ResponseWriter { return c.ResponseWriter }
