package metrics

import (
	"bytes"
	"net/http"
	"net/url"

	"github.com/databridge/databridge/server"
)

// serveNetHTTP runs a net/http handler (promhttp) for an engine request,
// buffering its response.
func serveNetHTTP(h http.Handler, w server.ResponseWriter, r *server.Request) {
	hr := &http.Request{Method: r.Method, URL: &url.URL{Path: r.Path, RawQuery: r.RawQuery}, Header: http.Header{},
		Host: r.Host, RemoteAddr: r.RemoteAddr, Body: http.NoBody}
	for _, f := range r.Header.Fields() {
		hr.Header.Add(f.Name, f.Value)
	}
	bw := &bufferWriter{header: http.Header{}}
	h.ServeHTTP(bw, hr.WithContext(r.Context()))
	out := w.Header()
	for k, vs := range bw.header {
		for _, v := range vs {
			out.Add(k, v)
		}
	}
	status := bw.status
	if status == 0 {
		status = 200
	}
	w.Send(status, bw.body.Bytes())
}

type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) WriteHeader(s int)           { b.status = s }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
