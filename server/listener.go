package server

import (
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
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

// GracefulListener stops accepting (StopAccepting closes the socket, or
// this process's share of it) before the server shuts down: connections
// it accepted just before get their first request read, and answered,
// before Shutdown starts (net/http drops a request read after Shutdown
// began; with a shared socket the other workers take the new connections).
// Until Close, Accept then blocks instead of failing, so that the serve
// loop does not take the closed socket for an error.
type GracefulListener struct {
	net.Listener
	stopOnce, closeOnce sync.Once
	stopped, closed     chan struct{}
}

// NewGracefulListener wraps ln.
func NewGracefulListener(ln net.Listener) *GracefulListener {
	return &GracefulListener{Listener: ln, stopped: make(chan struct{}), closed: make(chan struct{})}
}

// Accept is the wrapped listener's until StopAccepting.
func (l *GracefulListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		select {
		case <-l.stopped:
			<-l.closed
			return nil, net.ErrClosed
		default:
		}
	}
	return c, err
}

// StopAccepting closes the socket; Accept waits for Close.
func (l *GracefulListener) StopAccepting() {
	l.stopOnce.Do(func() {
		close(l.stopped)
		l.Listener.Close()
	})
}

// Close stops accepting and ends Accept.
func (l *GracefulListener) Close() error {
	l.StopAccepting()
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}
