package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a bound listener and the HTTP/1.x front that serves a
// handler on it (handing HTTP/2 connections to the HTTP/2 front). Its
// methods are safe for concurrent use.
type Server struct {
	cfg  Config
	h    Handler
	h2   *h2front
	ln   net.Listener
	port int
	done chan struct{}

	ctx      context.Context // canceled when the connections are forced closed
	cancel   context.CancelFunc
	stopFlag atomic.Bool

	mu         sync.Mutex
	serving    bool // Serve was called before Shutdown
	stopping   bool // Shutdown was called
	conns      map[*conn]struct{}
	idlePasses int           // closeIdle runs so far (under mu), for tests
	acceptDone chan struct{} // closed when the accept loop returns
}

// Listen binds host:port (port 0 picks a free port) for h with the limits
// and timeouts of cfg (zero fields take the defaults). It does not serve
// yet: the port is taken, and connections queue, until Serve.
func Listen(h Handler, cfg Config, host string, port int) (*Server, error) {
	cfg = cfg.withDefaults()
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("databridge: invalid port %d", port)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln := cfg.Listener // an inherited socket (listener.go)
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("databridge: listen on %s: %w", addr, err)
		}
	}
	s := &Server{
		cfg:        cfg,
		h:          h,
		h2:         newH2Front(h, cfg),
		ln:         ln,
		done:       make(chan struct{}),
		conns:      make(map[*conn]struct{}),
		acceptDone: make(chan struct{}),
	}
	if s.cfg.TLS != nil && s.h2 == nil && slices.Contains(s.cfg.TLS.NextProtos, "h2") {
		// Without the HTTP/2 front, ALPN must not offer h2.
		t := s.cfg.TLS.Clone()
		t.NextProtos = slices.DeleteFunc(slices.Clone(t.NextProtos), func(p string) bool { return p == "h2" })
		s.cfg.TLS = t
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		s.port = tcp.Port
	}
	return s, nil
}

// Port returns the bound port, which is the chosen one when Listen was
// given 0.
func (s *Server) Port() int { return s.port }

// Addr returns the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve starts serving in a goroutine and returns at once. Calls after the
// first, or after Shutdown, do nothing.
func (s *Server) Serve() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serving || s.stopping {
		return
	}
	s.serving = true
	go s.acceptLoop()
}

// acceptLoop accepts connections until the listener closes, one goroutine
// each.
func (s *Server) acceptLoop() {
	defer close(s.acceptDone)
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.isStopping() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of file descriptors and such: back off and retry.
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay *= 2; delay > time.Second {
					delay = time.Second
				}
				logger.Printf("accept: %v; retrying in %v", err, delay)
				time.Sleep(delay)
				continue
			}
			// Accept failed for good; stop so that Done still closes.
			logger.Printf("serve: %v", err)
			go s.Shutdown(shutdownAfterError)
			return
		}
		delay = 0
		accepted := time.Now()
		c := &conn{s: s, nc: nc, raw: nc, remote: nc.RemoteAddr().String(), local: nc.LocalAddr().String()}
		c.ctx, c.cancel = context.WithCancel(s.ctx)
		s.track(c, accepted)
		go c.serve(accepted)
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// track adds c, just accepted, to the server's connections, as new. It
// runs on the accept loop, which Shutdown waits for before it counts the
// connections, so a connection accepted as the stop begins is served (its
// response says Connection: close) rather than dropped.
func (s *Server) track(c *conn, accepted time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.accepted = accepted
	c.state.Store(stateNew)
	s.conns[c] = struct{}{}
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// setState moves c to state; false when Shutdown closed it, or when it
// would go idle while the server stops. It takes no lock: Shutdown closes
// only a connection it moves from idle to closed itself.
func (s *Server) setState(c *conn, state int32) bool {
	for {
		old := c.state.Load()
		if old == stateClosed {
			return false
		}
		if c.state.CompareAndSwap(old, state) {
			break
		}
	}
	if state == stateIdle && s.isStopping() {
		return false
	}
	return true
}

func (s *Server) isStopping() bool { return s.stopFlag.Load() }

// shutdownAfterError is the grace period given to in-flight requests when
// serving fails on its own.
const shutdownAfterError = 5 * time.Second

// Shutdown starts a graceful stop in a goroutine and returns at once: the
// listener closes, idle connections close, and in-flight requests may
// finish for up to timeout (their responses carry Connection: close),
// after which remaining connections are closed. Done is closed once that
// is over. A handler still blocked in Backend.Call after the timeout
// keeps its goroutine until Call returns, but its connection is gone.
// Calls after the first do nothing.
func (s *Server) Shutdown(timeout time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return
	}
	s.stopping = true
	s.stopFlag.Store(true)
	serving := s.serving
	go func() {
		defer close(s.done)
		s.ln.Close()
		if !serving {
			return
		}
		<-s.acceptDone
		deadline := time.Now().Add(timeout)
		if sh, ok := any(s.h2).(h2Shutdowner); ok && s.h2 != nil {
			// The HTTP/2 front sends GOAWAY and lets its streams finish;
			// its connections leave s.conns as they end.
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			go sh.shutdown(ctx)
		}
		for poll := time.Millisecond; ; {
			if s.closeIdle() == 0 {
				break
			}
			if !time.Now().Before(deadline) {
				s.closeAll()
				break
			}
			wait := min(poll, time.Until(deadline))
			time.Sleep(wait)
			if poll < 50*time.Millisecond {
				poll *= 2
			}
		}
		s.cancel()
	}()
}

// h2Shutdowner is the graceful stop of the HTTP/2 front, when it has one.
type h2Shutdowner interface {
	shutdown(ctx context.Context) error
}

// newConnGrace is how long Shutdown leaves a new connection to begin its
// first request before it counts as idle.
const newConnGrace = 2 * time.Second

// closeIdle closes the idle connections (and the new ones past
// newConnGrace) and returns how many remain.
func (s *Server) closeIdle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idlePasses++
	n := 0
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			c.raw.Close()
		} else if time.Since(c.accepted) > newConnGrace && c.state.CompareAndSwap(stateNew, stateClosed) {
			c.raw.Close()
		}
		if c.state.Load() != stateClosed {
			n++
		}
	}
	return n
}

// closeAll closes every connection at the end of the grace period.
func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.state.Store(stateClosed)
		c.raw.Close()
	}
}

// Done is closed when the server has stopped after Shutdown.
func (s *Server) Done() <-chan struct{} { return s.done }
