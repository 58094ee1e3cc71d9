// Package metrics is the Prometheus exposition of the engine
// (prometheus/client_golang, opt-in: --metrics serves it at /metrics on
// the main port, --metrics-port on a port of its own): requests by route,
// method and status, latency histograms, requests in flight, bytes in and
// out, and the hand-off to Python: calls queued or running, the size of
// the batches the GIL thread takes, the time a call waits for the GIL
// thread (or a handler thread) before its handler starts, the time the
// handler then runs until its reply (awaits included), and their sum as
// the request goroutine sees it.
package metrics

import (
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/databridge/databridge/server"
)

// Metrics is one engine's collectors and their registry.
type Metrics struct {
	Registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	bytesIn   prometheus.Counter
	bytesOut  prometheus.Counter
	callTime  prometheus.Histogram
	waitTime  prometheus.Histogram
	runTime   prometheus.Histogram
	batchSize prometheus.Histogram
	restarts  prometheus.Gauge
}

// Source is what the engine reports about the hand-off to Python.
type Source struct {
	// Pending is the number of calls queued for, or running on, the GIL
	// thread.
	Pending func() int64
}

// New makes the collectors; restarts is the supervisor's count of worker
// restarts when this is a worker (-1: not a worker).
func New(src Source, restarts int) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "databridge_http_requests_total", Help: "HTTP requests answered, by route, method and status.",
	}, []string{"route", "method", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "databridge_http_request_duration_seconds", Help: "Time to answer a request, by route and method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "databridge_http_requests_in_flight", Help: "Requests being answered.",
	})
	m.bytesIn = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "databridge_http_request_body_bytes_total", Help: "Request body bytes (by Content-Length).",
	})
	m.bytesOut = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "databridge_http_response_body_bytes_total", Help: "Response body bytes written.",
	})
	m.callTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "databridge_python_call_seconds",
		Help:    "Time from queueing a call to Python to its reply: waiting for the GIL thread plus the handler.",
		Buckets: callBuckets,
	})
	m.waitTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "databridge_python_wait_seconds",
		Help:    "Time a call waited, queued, until the GIL thread (or a handler thread) started its handler.",
		Buckets: callBuckets,
	})
	m.runTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "databridge_python_handler_seconds",
		Help:    "Time a Python handler ran, from its start to its reply (awaits included).",
		Buckets: callBuckets,
	})
	m.batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "databridge_python_batch_size", Help: "Calls completed per batch of the GIL thread.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
	})
	m.Registry.MustRegister(m.requests, m.duration, m.inFlight, m.bytesIn, m.bytesOut, m.callTime, m.waitTime, m.runTime, m.batchSize,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.Pending != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "databridge_python_queue_depth", Help: "Calls queued for, or running on, the GIL thread.",
		}, func() float64 { return float64(src.Pending()) }))
	}
	if restarts >= 0 {
		m.restarts = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "databridge_worker_restarts", Help: "Workers the supervisor started to replace others so far.",
		})
		m.restarts.Set(float64(restarts))
		m.Registry.MustRegister(m.restarts)
	}
	return m
}

// callBuckets are the buckets of the Python call times (seconds).
var callBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}

var active atomic.Pointer[Metrics]

// Activate makes m the one ObserveCall and ObserveBatch report to.
func Activate(m *Metrics) { active.Store(m) }

// ObserveCall records a Python call that took d (cheap when metrics are off).
func ObserveCall(start time.Time) {
	if m := active.Load(); m != nil {
		m.callTime.Observe(time.Since(start).Seconds())
	}
}

// ObserveTiming records how long a call waited for the GIL thread and how
// long its handler ran.
func ObserveTiming(wait, run time.Duration) {
	if m := active.Load(); m != nil {
		m.waitTime.Observe(wait.Seconds())
		m.runTime.Observe(run.Seconds())
	}
}

// On reports whether metrics are collected.
func On() bool { return active.Load() != nil }

// ObserveBatch records a batch of n completed calls.
func ObserveBatch(n int) {
	if m := active.Load(); m != nil {
		m.batchSize.Observe(float64(n))
	}
}

// Handler serves the exposition.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Recorder is the ResponseWriter the middleware passes on: routes name
// themselves on it (Label).
type Recorder struct {
	server.Counter
	Route string
}

// Label wraps a route's handler so that the metrics name it by route.
func Label(route string, h server.Handler) server.Handler {
	return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
		if !On() {
			h.Serve(w, r)
			return
		}
		for x := w; x != nil; {
			if rec, ok := x.(*Recorder); ok {
				rec.Route = route
				break
			}
			u, ok := x.(interface{ Unwrap() server.ResponseWriter })
			if !ok {
				break
			}
			x = u.Unwrap()
		}
		h.Serve(w, r)
	})
}

// Middleware measures every request; when onMain, GET /metrics is the
// exposition (on the main port).
func (m *Metrics) Middleware(onMain bool) server.Middleware {
	expo := m.Handler()
	return func(h server.Handler) server.Handler {
		return server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
			if onMain && r.Path == "/metrics" && r.Method == "GET" {
				serveNetHTTP(expo, w, r)
				return
			}
			start := time.Now()
			m.inFlight.Inc()
			if r.ContentLength > 0 {
				m.bytesIn.Add(float64(r.ContentLength))
			}
			rec := &Recorder{Counter: server.Counter{ResponseWriter: w}}
			h.Serve(rec, r)
			m.inFlight.Dec()
			status := rec.Status
			if status == 0 {
				status = 200
			}
			route := rec.Route
			if route == "" {
				route = "unmatched"
			}
			m.requests.WithLabelValues(route, r.Method, statusText(status)).Inc()
			m.duration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
			m.bytesOut.Add(float64(rec.Bytes))
		})
	}
}

// statusTexts are the label values of the statuses 0-599, made once.
var statusTexts = func() (t [600]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

func statusText(status int) string {
	if status >= 0 && status < len(statusTexts) {
		return statusTexts[status]
	}
	return strconv.Itoa(status)
}

// ListenAndServe serves the exposition at /metrics on addr in a goroutine
// and returns the bound port and a stop function.
func (m *Metrics) ListenAndServe(addr string) (int, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return ln.Addr().(*net.TCPAddr).Port, func() { srv.Close() }, nil
}
