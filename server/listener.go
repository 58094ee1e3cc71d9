package server

import (
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// FileListener makes a listener of an inherited listening socket: a
// worker's share of the supervisor's socket, systemd socket activation
// (--fd), a Unix socket bound by the command line (--uds). The listener
// owns a duplicate; fd itself is closed, so that once the listener closes
// this process holds no reference to the socket (the other workers keep
// accepting on it).
func FileListener(fd int) (net.Listener, error) {
	if _, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN); err != nil {
		return nil, fmt.Errorf("databridge: fd %d is not a listening socket: %w", fd, err)
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("listener-fd-%d", fd))
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("databridge: fd %d: %w", fd, err)
	}
	return ln, nil
}

// ListenerPort is the TCP port of ln, or 0 (a Unix socket).
func ListenerPort(ln net.Listener) int {
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		return tcp.Port
	}
	return 0
}

// GracefulListener stops accepting before the server shuts down
// (StopAccepting), in two steps: it first takes every connection already
// queued on the socket (accept until it would block, through a deadline in
// the past), and only then closes the socket, or this process's share of it.
// So a connection the kernel has queued is answered rather than reset when
// the last worker lets go of the socket, and the connections accepted just
// before get their first request read and answered before Shutdown starts
// (net/http drops a request read after Shutdown began). Until Close, Accept
// then blocks instead of failing, so that the serve loop does not take the
// closed socket for an error.
type GracefulListener struct {
	net.Listener
	stopOnce, closeOnce, innerOnce sync.Once
	stopped, closed                chan struct{}
}

// NewGracefulListener wraps ln.
func NewGracefulListener(ln net.Listener) *GracefulListener {
	return &GracefulListener{Listener: ln, stopped: make(chan struct{}), closed: make(chan struct{})}
}

type deadliner interface{ SetDeadline(time.Time) error }

// Accept is the wrapped listener's; after StopAccepting it returns what is
// still queued, then closes the socket and waits for Close.
func (l *GracefulListener) Accept() (net.Conn, error) {
	stopping := false
	select {
	case <-l.stopped:
		stopping = true
		if d, ok := l.Listener.(deadliner); ok {
			// A deadline already past fails before trying; a near one
			// takes what is queued, then times out once the queue is empty.
			d.SetDeadline(time.Now().Add(drainWait))
		}
	default:
	}
	c, err := l.Listener.Accept()
	if err == nil {
		return c, nil
	}
	if !stopping {
		select {
		case <-l.stopped:
		default:
			return nil, err
		}
	}
	l.closeInner() // the queue is empty (or the socket failed): let go of it
	<-l.closed
	return nil, net.ErrClosed
}

// drainWait is how long Accept waits for one more connection once stopping.
const drainWait = 2 * time.Millisecond

func (l *GracefulListener) closeInner() { l.innerOnce.Do(func() { l.Listener.Close() }) }

// StopAccepting takes the queued connections, then closes the socket.
func (l *GracefulListener) StopAccepting() {
	l.stopOnce.Do(func() {
		close(l.stopped)
		if d, ok := l.Listener.(deadliner); ok {
			d.SetDeadline(time.Now().Add(drainWait)) // wakes an Accept blocked on an empty queue
			return
		}
		l.closeInner()
	})
}

// Close stops accepting and ends Accept.
func (l *GracefulListener) Close() error {
	l.StopAccepting()
	l.closeInner()
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}
