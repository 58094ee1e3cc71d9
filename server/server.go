package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Server is a bound listener and the http.Server that serves a handler on
// it. Its methods are safe for concurrent use.
type Server struct {
	cfg  Config
	ln   net.Listener
	srv  *http.Server
	port int
	done chan struct{}

	mu        sync.Mutex
	serving   bool          // Serve was called before Shutdown
	stopping  bool          // Shutdown was called
	serveDone chan struct{} // closed when http.Server.Serve returns
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
		cfg: cfg,
		ln:  ln,
		srv: &http.Server{
			Handler:           FromNetHTTP(h, cfg.MaxBodyBytes),
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			MaxHeaderBytes:    cfg.MaxHeaderBytes,
			ErrorLog:          logger,
		},
		done:      make(chan struct{}),
		serveDone: make(chan struct{}),
	}
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
	go func() {
		err := s.srv.Serve(s.ln)
		close(s.serveDone)
		if !errors.Is(err, http.ErrServerClosed) {
			// Accept failed for good; stop so that Done still closes.
			logger.Printf("serve: %v", err)
			s.Shutdown(shutdownAfterError)
		}
	}()
}

// shutdownAfterError is the grace period given to in-flight requests when
// serving fails on its own.
const shutdownAfterError = 5 * time.Second

// Shutdown starts a graceful stop in a goroutine and returns at once: the
// listener closes, idle connections close, and in-flight requests may
// finish for up to timeout, after which remaining connections are closed.
// Done is closed once that is over. A handler still blocked in
// Backend.Call after the timeout keeps its goroutine until Call returns,
// but its connection is gone. Calls after the first do nothing.
func (s *Server) Shutdown(timeout time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return
	}
	s.stopping = true
	serving := s.serving
	go func() {
		defer close(s.done)
		if !serving {
			// http.Server only closes the listeners Serve was given.
			s.ln.Close()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		<-s.serveDone
	}()
}

// Done is closed when the server has stopped after Shutdown.
func (s *Server) Done() <-chan struct{} { return s.done }
