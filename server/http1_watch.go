package server

import (
	"time"
)

// A streamed response can outlive its client by a long time: a generator
// that waits for events writes nothing, so no write fails. While an
// HTTP/1.1 response streams and the request body was read whole, the
// connection is read ahead in the background (as net/http's
// backgroundRead): EOF or an error there means the client is gone, and
// the request's context is cancelled (pyroute then stops the iterator).
// A byte that arrives (a pipelined request) stays in the buffered reader
// for the next request and ends the watch.

// startWatch begins the read-ahead; the conn goroutine must not read until
// stopWatch.
func (c *conn) startWatch() {
	if c.watching || c.hijacked || (c.body.c != nil && !c.body.done) || c.br.Buffered() > 0 {
		return
	}
	c.watching = true
	c.watchGone.Store(false)
	if c.watchDone == nil {
		c.watchDone = make(chan struct{}, 1)
	}
	c.setReadDeadline(time.Time{})
	go func() {
		if _, err := c.br.Peek(1); err != nil && !isDeadlineErr(err) {
			c.watchGone.Store(true)
			c.cancel()
		}
		c.watchDone <- struct{}{}
	}()
}

// stopWatch ends the read-ahead and waits for it: after it, the conn
// goroutine owns the reader again. A client found gone closes the
// connection after this response.
func (c *conn) stopWatch() {
	if !c.watching {
		return
	}
	c.watching = false
	c.setReadDeadline(time.Unix(1, 0)) // in the past: the Peek returns
	<-c.watchDone
	// No deadline in the past is left behind: the next head, when the
	// reader already holds it, is read without setting one.
	c.setReadDeadline(time.Now().Add(c.s.cfg.ReadHeaderTimeout))
	if c.watchGone.Load() {
		c.closeAfter = true
	}
}
