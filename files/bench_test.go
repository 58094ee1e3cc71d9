package files

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/databridge/databridge/server"
)

// discard is a ResponseWriter that drops the response.
type discard struct{ h server.Header }

func (d *discard) Header() *server.Header          { return &d.h }
func (d *discard) WriteHeader(int)                 {}
func (d *discard) Write(p []byte) (int, error)     { return len(p), nil }
func (d *discard) Flush() error                    { return nil }
func (d *discard) Send(status int, b []byte) error { return nil }

// BenchmarkDir50K is one 50 KB file from a Dir, as bench/static.py asks.
func BenchmarkDir50K(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "asset.bin"), make([]byte, 50<<10), 0o644); err != nil {
		b.Fatal(err)
	}
	d, err := NewDir(dir, "/static", DirOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	r := request("GET", "/static/asset.bin")
	w := &discard{}
	b.ReportAllocs()
	for b.Loop() {
		w.h.Reset()
		d.Serve(w, r)
	}
}
