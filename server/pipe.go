package server

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
)

// PipeListener is a net.Listener of in-process connections, for a test
// client that talks to the server without a network port: Dial makes a
// socket pair, queues one end for Accept and returns the other's fd. The
// server sees the peer as TestClientAddr.
type PipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// TestClientAddr is the address of a PipeListener's peers (Starlette's
// test client calls itself "testclient" too).
const TestClientAddr = "testclient:50000"

// NewPipeListener returns an open PipeListener.
func NewPipeListener() *PipeListener {
	return &PipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// ErrPipeClosed is Dial's error once the listener is closed.
var ErrPipeClosed = errors.New("databridge: the in-process listener is closed")

// Dial connects a new client: it returns the client end's fd, owned by the
// caller, once Accept has taken the server end.
func (l *PipeListener) Dial() (int, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	f := os.NewFile(uintptr(fds[0]), "databridge-pipe")
	nc, err := net.FileConn(f) // dups the fd
	f.Close()
	if err != nil {
		syscall.Close(fds[1])
		return -1, err
	}
	select {
	case l.conns <- pipeConn{nc}:
		return fds[1], nil
	case <-l.done:
		nc.Close()
		syscall.Close(fds[1])
		return -1, ErrPipeClosed
	}
}

// Accept returns the server end of the next Dial.
func (l *PipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept and Dial.
func (l *PipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr is the listener's own (pseudo) address.
func (l *PipeListener) Addr() net.Addr { return pipeAddr("testserver") }

// pipeConn is a socket pair's server end, addressed as the test client.
type pipeConn struct{ net.Conn }

func (pipeConn) RemoteAddr() net.Addr { return pipeAddr(TestClientAddr) }
func (pipeConn) LocalAddr() net.Addr  { return pipeAddr("testserver:80") }

type pipeAddr string

func (pipeAddr) Network() string  { return "pipe" }
func (a pipeAddr) String() string { return string(a) }
