package pyroute

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/wire"
)

// A reply with File is served from the file, in Go, with the handler's
// headers.
func TestFileReply(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, value, rng string
		status           int
		wantStatus       int
		wantBody, wantCT string
	}{
		{"whole", path, "", 200, 200, "0123456789", "application/octet-stream"},
		{"type from filename", path + "\x00report.pdf", "", 200, 200, "0123456789", "application/pdf"},
		{"range", path, "bytes=2-3", 200, 206, "23", "application/octet-stream"},
		{"other status whole", path, "bytes=2-3", 404, 404, "0123456789", "application/octet-stream"},
		{"missing file", path + ".nope", "", 200, 500, `{"error":"Internal Server Error"}`, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := func([]byte, bool) *wire.Reply {
				return &wire.Reply{Status: tt.status, Header: [][2]string{{"x-a", "1"}}, File: tt.value}
			}
			rt := New(call, "GET /f (f)", nil, nil, Options{})
			req := &server.Request{Method: "GET", Path: "/f", RawPath: "/f", Body: server.NoBody, ProtoMajor: 1, ProtoMinor: 1}
			if tt.rng != "" {
				req.Header.Add("range", tt.rng)
			}
			rec := &server.Recorder{}
			rt.Serve(rec, req)
			rec.Finish()
			if rec.Status != tt.wantStatus || string(rec.Body) != tt.wantBody || rec.Fields.Get("content-type") != tt.wantCT {
				t.Fatalf("got %d %q %v", rec.Status, rec.Body, rec.Fields.Fields())
			}
			if tt.wantStatus != 500 && rec.Fields.Get("x-a") != "1" {
				t.Errorf("handler header lost: %v", rec.Fields.Fields())
			}
		})
	}
}
