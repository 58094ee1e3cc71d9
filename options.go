package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/databridge/databridge/server"
)

// listenOptions are the server settings Python passes to _core.listen as
// JSON (see python/databridge/server.py): limits in bytes and counts,
// timeouts in seconds. Absent or zero fields keep the engine's defaults.
type listenOptions struct {
	MaxTargetBytes     int     `json:"max_target_size"`
	MaxHeaderBytes     int     `json:"max_header_size"`
	MaxHeaderFields    int     `json:"max_header_count"`
	MaxBodyBytes       int64   `json:"max_body_size"`
	ReadHeaderTimeout  float64 `json:"timeout_read_header"`
	ReadBodyTimeout    float64 `json:"timeout_read_body"`
	WriteTimeout       float64 `json:"timeout_write"`
	IdleTimeout        float64 `json:"timeout_keep_alive"`
	MaxRequestsPerConn int     `json:"max_requests_per_connection"`
	HTTP2              *bool   `json:"http2"`
	SSLCertfile        string  `json:"ssl_certfile"`
	SSLKeyfile         string  `json:"ssl_keyfile"`
	SSLKeyfilePassword string  `json:"ssl_keyfile_password"`
	SSLCACerts         string  `json:"ssl_ca_certs"`

	prodOptions // prod.go: listener fd, access log, limits, proxies, metrics
}

// parseOptions turns the JSON options into a server.Config. Unknown keys
// are an error, so that a misspelt setting is not silently ignored.
func parseOptions(data []byte) (server.Config, error) {
	cfg, _, err := parseAllOptions(data)
	return cfg, err
}

// parseAllOptions is parseOptions with the production options (prod.go).
func parseAllOptions(data []byte) (server.Config, *prodOptions, error) {
	var o listenOptions
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return server.Config{}, nil, fmt.Errorf("databridge: server options: %v", err)
	}
	cfg := server.Config{
		MaxTargetBytes:     o.MaxTargetBytes,
		MaxHeaderBytes:     o.MaxHeaderBytes,
		MaxHeaderFields:    o.MaxHeaderFields,
		MaxBodyBytes:       o.MaxBodyBytes,
		ReadHeaderTimeout:  seconds(o.ReadHeaderTimeout),
		ReadBodyTimeout:    seconds(o.ReadBodyTimeout),
		WriteTimeout:       seconds(o.WriteTimeout),
		IdleTimeout:        seconds(o.IdleTimeout),
		MaxRequestsPerConn: o.MaxRequestsPerConn,
		DisableHTTP2:       o.HTTP2 != nil && !*o.HTTP2,
	}
	if o.SSLCertfile != "" || o.SSLKeyfile != "" {
		tlsCfg, err := server.LoadTLS(o.SSLCertfile, o.SSLKeyfile, o.SSLKeyfilePassword, o.SSLCACerts)
		if err != nil {
			return server.Config{}, nil, err
		}
		cfg.TLS = tlsCfg
	} else if o.SSLCACerts != "" {
		return server.Config{}, nil, fmt.Errorf("databridge: ssl_ca_certs needs ssl_certfile and ssl_keyfile")
	}
	return cfg, &o.prodOptions, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
