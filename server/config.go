package server

import (
	"crypto/tls"
	"net"
	"time"
)

// Config holds the limits and timeouts of a server. Zero fields take the
// defaults below (DefaultConfig); every one is settable from Python
// (Server(...) keyword arguments, `python -m databridge run` flags).
type Config struct {
	// MaxTargetBytes bounds the request-target: longer gets 414.
	MaxTargetBytes int
	// MaxHeaderBytes bounds the request line and header section: more
	// gets 431.
	MaxHeaderBytes int
	// MaxHeaderFields bounds the number of header fields: more gets 431.
	MaxHeaderFields int
	// MaxBodyBytes bounds a request body: more gets 413.
	MaxBodyBytes int64
	// ReadHeaderTimeout bounds the time from the first byte of a request
	// (or the connection's accept) to the end of its header section.
	ReadHeaderTimeout time.Duration
	// ReadBodyTimeout bounds reading a request body.
	ReadBodyTimeout time.Duration
	// WriteTimeout bounds writing a response (each write of a streamed one).
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection.
	IdleTimeout time.Duration
	// MaxRequestsPerConn closes a connection after that many requests;
	// 0 means no limit.
	MaxRequestsPerConn int
	// TLS, when set, serves TLS (ALPN h2 and http/1.1).
	TLS *tls.Config
	// DisableHTTP2 turns off HTTP/2 (h2 over TLS and h2c).
	DisableHTTP2 bool

	// Listener, when set, is served instead of binding host:port: an
	// inherited socket (workers, --fd, --uds; see listener.go).
	Listener net.Listener
}

// The defaults: no looser than target 16 KiB, header section 64 KiB,
// 100 header fields, body 16 MiB, header timeout 10 s, keep-alive idle 5 s.
const (
	DefaultMaxTargetBytes    = 16 << 10
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxHeaderFields   = 100
	DefaultMaxBodyBytes      = 16 << 20
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadBodyTimeout   = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 5 * time.Second
)

// withDefaults returns c with zero fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.MaxTargetBytes <= 0 {
		c.MaxTargetBytes = DefaultMaxTargetBytes
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxHeaderFields <= 0 {
		c.MaxHeaderFields = DefaultMaxHeaderFields
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.ReadBodyTimeout <= 0 {
		c.ReadBodyTimeout = DefaultReadBodyTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	return c
}

// WithDefaults is Config with every zero field set to its default.
func (c Config) WithDefaults() Config { return c.withDefaults() }
