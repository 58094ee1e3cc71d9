package server

import (
	"bytes"
	"time"
)

// Deadlines. Setting one on a connection is not free (a lock, a timer
// moved in the runtime's heap), and a kept-alive connection used to set
// three per request: the idle wait, the head, the write. A deadline need
// only be about right, so the front arms one a sixteenth of its timeout
// late, and keeps the one it armed last while that is still no earlier
// than now+timeout:
//
//	the rule: a timeout may end up to timeout/16 late (an idle timeout
//	of 5 s is 5 s to 5.31 s after the wait began), never early.
//
// A deadline set exactly (none, one in the past, the linger's) is recorded
// the same way, so the next one compares with what is really armed.
//
// The conn's goroutine owns these fields, as it owns the deadlines: the
// handler may set a write or body deadline from its own goroutine only
// while the conn's waits for it.

// deadlineSlack is the share of a timeout (as a right shift) by which a
// deadline may come late.
const deadlineSlack = 4 // timeout/16

// armRead keeps the armed read deadline when it is no earlier than
// now+timeout and at most timeout/16 later; else it arms
// now+timeout+timeout/16.
func (c *conn) armRead(now time.Time, timeout time.Duration) {
	t := now.Add(timeout)
	if keepDeadline(c.readDL, t, timeout) {
		return
	}
	c.setReadDeadline(t.Add(timeout >> deadlineSlack))
}

// armWrite is armRead for the write deadline.
func (c *conn) armWrite(now time.Time, timeout time.Duration) {
	t := now.Add(timeout)
	if keepDeadline(c.writeDL, t, timeout) {
		return
	}
	c.setWriteDeadline(t.Add(timeout >> deadlineSlack))
}

// keepDeadline: armed serves for a deadline of t (never earlier, at most
// timeout/16 later).
func keepDeadline(armed, t time.Time, timeout time.Duration) bool {
	return !armed.IsZero() && !armed.Before(t) && armed.Sub(t) <= timeout>>deadlineSlack
}

// setReadDeadline sets the read deadline exactly (zero: none).
func (c *conn) setReadDeadline(t time.Time) {
	c.readDL = t
	c.nc.SetReadDeadline(t)
}

// setWriteDeadline sets the write deadline exactly (zero: none).
func (c *conn) setWriteDeadline(t time.Time) {
	c.writeDL = t
	c.nc.SetWriteDeadline(t)
}

// clearDeadlines removes both deadlines (the connection is handed over).
func (c *conn) clearDeadlines() {
	c.readDL, c.writeDL = time.Time{}, time.Time{}
	c.nc.SetDeadline(time.Time{})
}

// headBuffered reports whether the reader holds a whole request head (the
// empty line that ends it, past any empty lines before the request line):
// reading it then reads nothing from the connection, and no header
// deadline is needed. A head that ends otherwise (a bare LF) answers no:
// the deadline is set as before.
func (c *conn) headBuffered() bool {
	b, _ := c.br.Peek(c.br.Buffered())
	for len(b) >= 2 && b[0] == '\r' && b[1] == '\n' {
		b = b[2:]
	}
	return bytes.Index(b, []byte("\r\n\r\n")) >= 0
}
