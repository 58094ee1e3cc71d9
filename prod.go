package main

// The production options of `python -m databridge run` (issue #11): an
// inherited listener, the access log, the concurrency limit, proxy
// headers, the root path, and the worker's control socket. They arrive in
// the same JSON as the limits (options.go embeds prodOptions) and become
// a server.Config field (Listener) and a middleware chain around the
// router, outermost first: proxy headers, root path, access log, worker
// request count, concurrency limit.

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/databridge/databridge/accesslog"
	"github.com/databridge/databridge/limit"
	"github.com/databridge/databridge/metrics"
	"github.com/databridge/databridge/proxy"
	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/server"
)

type prodOptions struct {
	Fd                *int    `json:"fd"`
	AccessLog         bool    `json:"access_log"`
	AccessLogFormat   string  `json:"access_log_format"`
	LimitConcurrency  int     `json:"limit_concurrency"`
	ProxyHeaders      bool    `json:"proxy_headers"`
	ForwardedAllowIPs *string `json:"forwarded_allow_ips"`
	RootPath          string  `json:"root_path"`
	ControlFd         *int    `json:"control_fd"`
	MaxRequests       int     `json:"max_requests"`
	Metrics           bool    `json:"metrics"`
	MetricsPort       int     `json:"metrics_port"`
	MetricsHost       string  `json:"metrics_host"`
	WorkerRestarts    int     `json:"worker_restarts"`
}

// prodState is what an engine keeps of its production options while it
// serves: closed (the access log flushed) once the server has stopped.
type prodState struct {
	chain       server.Chain
	accessLog   *accesslog.Logger
	limiter     *limit.Limiter
	listener    *server.GracefulListener // an inherited socket: stop accepting first
	metricsPort int
	closers     []func()
	closeOnce   sync.Once
}

func (p *prodState) close() {
	if p == nil {
		return
	}
	p.closeOnce.Do(func() {
		for _, c := range p.closers {
			c()
		}
	})
}

// setup applies o to cfg and builds the middleware.
func (o *prodOptions) setup(cfg *server.Config) (*prodState, error) {
	st := &prodState{}
	if o.Fd != nil {
		ln, err := server.FileListener(*o.Fd)
		if err != nil {
			return nil, err
		}
		st.listener = server.NewGracefulListener(ln)
		cfg.Listener = st.listener
	}
	if o.ProxyHeaders {
		allow := "127.0.0.1"
		if o.ForwardedAllowIPs != nil {
			allow = *o.ForwardedAllowIPs
		}
		trust, err := proxy.ParseTrust(allow)
		if err != nil {
			return nil, err
		}
		st.chain = append(st.chain, proxy.Headers(trust))
	}
	if o.RootPath != "" && o.RootPath != "/" {
		st.chain = append(st.chain, proxy.RootPath(o.RootPath))
	}
	if o.AccessLog {
		f, err := accesslog.ParseFormat(o.AccessLogFormat)
		if err != nil {
			return nil, err
		}
		st.accessLog = accesslog.New(f, os.Stdout)
		st.chain = append(st.chain, st.accessLog.Middleware)
		st.closers = append(st.closers, st.accessLog.Close)
	}
	if o.Metrics || o.MetricsPort != 0 {
		restarts := -1
		if o.ControlFd != nil {
			restarts = o.WorkerRestarts
		}
		m := metrics.New(metrics.Source{Pending: loopPending}, restarts)
		metrics.Activate(m)
		pybridge.SetTiming(true)
		st.closers = append(st.closers, func() { pybridge.SetTiming(false); metrics.Activate(nil) })
		if o.MetricsPort != 0 {
			port := o.MetricsPort
			if port == -1 { // a worker: any free port, told to the supervisor
				port = 0
			}
			bound, stop, err := m.ListenAndServe(net.JoinHostPort(o.MetricsHost, strconv.Itoa(port)))
			if err != nil {
				return nil, fmt.Errorf("databridge: metrics port: %w", err)
			}
			st.closers = append(st.closers, stop)
			st.metricsPort = bound
			if o.ControlFd != nil {
				if err := tell(*o.ControlFd, fmt.Sprintf("metrics %d\n", bound)); err != nil {
					return nil, err
				}
			}
		}
		st.chain = append(st.chain, m.Middleware(o.Metrics))
	}
	if o.ControlFd != nil && o.MaxRequests > 0 {
		mw, err := recycleAfter(*o.ControlFd, int64(o.MaxRequests))
		if err != nil {
			return nil, err
		}
		st.chain = append(st.chain, mw)
	}
	if o.LimitConcurrency > 0 {
		st.limiter = limit.New(o.LimitConcurrency, 1)
		st.chain = append(st.chain, st.limiter.Middleware)
	}
	return st, nil
}

// recycleAfter counts requests and, at the max-th, asks the supervisor
// (one line on the worker's control socket) to replace this worker; the
// worker keeps serving until the replacement is up and it is told to stop.
func recycleAfter(fd int, max int64) (server.Middleware, error) {
	dup, err := syscall.Dup(fd)
	if err != nil {
		return nil, fmt.Errorf("databridge: control fd %d: %w", fd, err)
	}
	syscall.CloseOnExec(dup)
	control := os.NewFile(uintptr(dup), "databridge-control")
	var n atomic.Int64
	return func(h server.Handler) server.Handler {
		return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
			if n.Add(1) == max {
				go control.Write([]byte("recycle max-requests\n"))
			}
			h.Serve(w, r)
		})
	}, nil
}

// acceptGrace is how long a server on an inherited socket goes on serving
// the connections it has just accepted, after it stopped accepting, before
// the graceful shutdown starts.
const acceptGrace = 100 * time.Millisecond

// shutdown stops accepting, then starts srv's graceful shutdown after
// acceptGrace (in a goroutine; srv.Done closes when it is over).
func (p *prodState) shutdown(srv *server.Server, timeout time.Duration) bool {
	if p == nil || p.listener == nil || timeout <= 0 {
		return false
	}
	p.listener.StopAccepting()
	go func() {
		time.Sleep(acceptGrace)
		srv.Shutdown(timeout)
	}()
	return true
}

// loopPending is set by the engine that serves (one per process serves).
var loopPending func() int64

// tell writes one line to the supervisor on the worker's control socket.
func tell(fd int, line string) error {
	_, err := syscall.Write(fd, []byte(line))
	return err
}
