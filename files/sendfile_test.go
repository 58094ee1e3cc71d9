package files

import (
	"bytes"
	"crypto/rand"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/databridge/databridge/server"
)

// spyWriter passes ReadFrom on to the writer it wraps (the HTTP/1.1
// front's) and notes the readers it was given, with what an
// *io.LimitedReader had left after it (noted here: the client may read
// the body before ReadFrom returns).
type spyWriter struct {
	server.ResponseWriter
	mu      *sync.Mutex
	sources *[]source
}

type source struct {
	r    io.Reader
	left int64
}

func (w *spyWriter) ReadFrom(r io.Reader) (int64, error) {
	n, err := w.ResponseWriter.(io.ReaderFrom).ReadFrom(r)
	s := source{r: r}
	if lr, ok := r.(*io.LimitedReader); ok {
		s.left = lr.N
	}
	if fr, ok := r.(server.FileRange); ok {
		_, _, s.left = fr.FileRange()
	}
	w.mu.Lock()
	*w.sources = append(*w.sources, s)
	w.mu.Unlock()
	return n, err
}

func (w *spyWriter) Unwrap() server.ResponseWriter { return w.ResponseWriter }

// h1Files serves h on the HTTP/1.1 front through a spyWriter; sources
// waits for the handler of the last request to return, then returns (and
// forgets) the readers its ReadFrom got.
func h1Files(t *testing.T, h func(w server.ResponseWriter, r *server.Request)) (base string, sources func() []source) {
	t.Helper()
	var mu sync.Mutex
	var got []source
	done := make(chan struct{}, 16)
	s, err := server.Listen(server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
		if _, ok := server.ReaderFromOf(w); !ok {
			t.Errorf("the HTTP/1.1 writer %T has no ReadFrom", w)
		}
		h(&spyWriter{ResponseWriter: w, mu: &mu, sources: &got}, r)
		done <- struct{}{}
	}), server.Config{}, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	t.Cleanup(func() { s.Shutdown(time.Second); <-s.Done() })
	return "http://" + s.Addr().String(), func() []source {
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("the handler did not return")
		}
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}
}

// wantFileSources fails unless each source is an *io.LimitedReader over
// an *os.File, or a server.FileRange (what the writer sends by sendfile),
// of the given sizes, each sent whole.
func wantFileSources(t *testing.T, what string, got []source, sizes ...int64) {
	t.Helper()
	if len(got) != len(sizes) {
		t.Fatalf("%s: %d ReadFrom calls, want %d", what, len(got), len(sizes))
	}
	for i, s := range got {
		if _, ok := s.r.(server.FileRange); ok {
			if s.left != 0 {
				t.Errorf("%s: source %d has %d of %d bytes left", what, i, s.left, sizes[i])
			}
			continue
		}
		lr, ok := s.r.(*io.LimitedReader)
		if !ok {
			t.Fatalf("%s: source %T, want *io.LimitedReader", what, s.r)
		}
		if _, ok := lr.R.(syscall.Conn); !ok {
			t.Fatalf("%s: limited reader over %T, want a syscall.Conn (sendfile)", what, lr.R)
		}
		if s.left != 0 {
			t.Errorf("%s: source %d has %d of %d bytes left", what, i, s.left, sizes[i])
		}
	}
}

func get(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, body
}

// TestServeUsesReadFromH1 is TestServeUsesReadFrom against the real
// writer: a 1 MB file, a HEAD, a range and several ranges are sent byte
// exact with their Content-Length, the bodies by ReadFrom.
func TestServeUsesReadFromH1(t *testing.T) {
	data := make([]byte, 1<<20)
	rand.Read(data)
	dir := t.TempDir()
	path := filepath.Join(dir, "f.bin")
	writeFile(t, path, data)
	base, sources := h1Files(t, serveFile(t, path, nil))

	resp, body := get(t, "GET", base+"/f")
	if resp.StatusCode != 200 || resp.ContentLength != 1<<20 || len(resp.TransferEncoding) != 0 || !bytes.Equal(body, data) {
		t.Fatalf("GET: %d content-length %d %v, %d bytes", resp.StatusCode, resp.ContentLength, resp.TransferEncoding, len(body))
	}
	wantFileSources(t, "GET", sources(), 1<<20)

	resp, body = get(t, "HEAD", base+"/f")
	if resp.StatusCode != 200 || resp.Header.Get("content-length") != "1048576" || len(body) != 0 {
		t.Fatalf("HEAD: %d content-length %q", resp.StatusCode, resp.Header.Get("content-length"))
	}
	wantFileSources(t, "HEAD", sources())

	resp, body = get(t, "GET", base+"/f", "Range", "bytes=100-199999")
	if resp.StatusCode != 206 || resp.ContentLength != 199900 || resp.Header.Get("content-range") != "bytes 100-199999/1048576" || !bytes.Equal(body, data[100:200000]) {
		t.Fatalf("range: %d content-length %d %q, %d bytes", resp.StatusCode, resp.ContentLength, resp.Header.Get("content-range"), len(body))
	}
	wantFileSources(t, "range", sources(), 199900)

	resp, body = get(t, "GET", base+"/f", "Range", "bytes=0-99999,500000-")
	_, params, _ := mime.ParseMediaType(resp.Header.Get("content-type"))
	if resp.StatusCode != 206 || resp.ContentLength != int64(len(body)) || params["boundary"] == "" {
		t.Fatalf("ranges: %d content-length %d, %d bytes", resp.StatusCode, resp.ContentLength, len(body))
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for i, want := range [][]byte{data[:100000], data[500000:]} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		got, _ := io.ReadAll(p)
		if !bytes.Equal(got, want) {
			t.Errorf("part %d: %d bytes, want %d", i, len(got), len(want))
		}
	}
	wantFileSources(t, "ranges", sources(), 100000, 1<<20-500000)

	// A StaticFiles directory: a section of the file's descriptor, sent
	// by sendfile at its offset.
	d, err := NewDir(dir, "/static", DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	base, sources = h1Files(t, d.Serve)
	resp, body = get(t, "GET", base+"/static/f.bin")
	if resp.StatusCode != 200 || resp.ContentLength != 1<<20 || !bytes.Equal(body, data) {
		t.Fatalf("Dir: %d content-length %d, %d bytes", resp.StatusCode, resp.ContentLength, len(body))
	}
	wantFileSources(t, "Dir", sources(), 1<<20)
}

// TestServeShortFileH1: a file shorter than the size it had when it was
// looked at (it shrank) is cut, and the connection closes: the client
// never takes it for whole.
func TestServeShortFileH1(t *testing.T) {
	data := bytes.Repeat([]byte("s"), 100<<10)
	path := filepath.Join(t.TempDir(), "f.bin")
	writeFile(t, path, data)
	base, _ := h1Files(t, func(w server.ResponseWriter, r *server.Request) {
		of, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		f, fi, _ := fromOS(of)
		defer f.Close()
		serveContent(w, r, &content{f: f, size: fi.size + 1000, modtime: fi.modtime, ctype: "application/octet-stream"}, &Options{})
	})
	req, _ := http.NewRequest("GET", base+"/f", nil)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != int64(len(data))+1000 {
		t.Fatalf("content-length %d", resp.ContentLength)
	}
	body, err := io.ReadAll(resp.Body)
	if err != io.ErrUnexpectedEOF || !bytes.Equal(body, data) {
		t.Fatalf("short file: %d bytes, %v; want the %d bytes there are, then io.ErrUnexpectedEOF", len(body), err, len(data))
	}
}
