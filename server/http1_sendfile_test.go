package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fileServer serves one file with io.Copy, as package files does:
//
//	/file             the whole file, Content-Length its size
//	/range?o=N&n=M    206: M bytes from N, under an *io.LimitedReader
//	/short            Content-Length 100 more than the file holds
//	/long?n=M         Content-Length M, the whole file offered
//	/nolength         no Content-Length: Write's framing
//	/parts            "<" file ">" in a Write, a ReadFrom and a Write
//
// What each io.Copy returned goes to copied.
type fileServer struct {
	path   string
	size   int64
	copied chan copyResult
}

type copyResult struct {
	n   int64
	err error
}

func newFileServer(t *testing.T, size int) (*fileServer, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return &fileServer{path: path, size: int64(size), copied: make(chan copyResult, 16)}, data
}

func (fs *fileServer) Serve(w ResponseWriter, r *Request) {
	f, err := os.Open(fs.path)
	if err != nil {
		WriteError(w, 500, err.Error())
		return
	}
	defer f.Close()
	q, _ := url.ParseQuery(r.RawQuery)
	num := func(k string) int64 { n, _ := strconv.ParseInt(q.Get(k), 10, 64); return n }
	h := w.Header()
	var src io.Reader = f
	length := fs.size
	switch r.Path {
	case "/range":
		f.Seek(num("o"), io.SeekStart)
		length = num("n")
		src = &io.LimitedReader{R: f, N: length}
		w.WriteHeader(http.StatusPartialContent)
	case "/short":
		length = fs.size + 100
	case "/long":
		length = num("n")
	case "/parts":
		h.Set("content-length", strconv.FormatInt(fs.size+2, 10))
		io.WriteString(w, "<")
		n, err := io.Copy(w, src)
		fs.copied <- copyResult{n, err}
		io.WriteString(w, ">")
		return
	}
	if r.Path != "/nolength" {
		h.Set("content-length", strconv.FormatInt(length, 10))
	}
	n, err := io.Copy(w, src)
	fs.copied <- copyResult{n, err}
}

// sendfileBytes counts the bytes the writer sends by sendfile(2) until
// the test ends.
func sendfileBytes(t *testing.T) *atomic.Int64 {
	var n atomic.Int64
	hook := func(m int64) { n.Add(m) }
	testHookSendfile.Store(&hook)
	t.Cleanup(func() { testHookSendfile.Store(nil) })
	return &n
}

// getOn sends a request for target on c and reads the response.
func getOn(t *testing.T, c *h1Conn, method, target string) *h1Resp {
	t.Helper()
	c.send(t, method+" "+target+" HTTP/1.1\r\nHost: x\r\n\r\n")
	return c.read(t, method)
}

func wantCopied(t *testing.T, fs *fileServer, n int64, wantErr error) {
	t.Helper()
	select {
	case got := <-fs.copied:
		if got.n != n || !errors.Is(got.err, wantErr) {
			t.Errorf("io.Copy returned %d, %v; want %d, %v", got.n, got.err, n, wantErr)
		}
	case <-time.After(3 * time.Second):
		t.Error("the handler did not finish its copy")
	}
}

func TestH1SendfileTCP(t *testing.T) {
	fs, data := newFileServer(t, 1<<20)
	sent := sendfileBytes(t)
	addr := serveH1(t, fs, Config{})
	c, err := dialH1(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	r := getOn(t, c, "GET", "/file")
	if r.Status != 200 || r.Chunked || r.get("content-length") != "1048576" || !bytes.Equal(r.Body, data) {
		t.Fatalf("GET: %d chunked=%v content-length %q, %d bytes (equal %v)", r.Status, r.Chunked, r.get("content-length"), len(r.Body), bytes.Equal(r.Body, data))
	}
	wantCopied(t, fs, 1<<20, nil)
	if got := sent.Load(); got != 1<<20 {
		t.Errorf("sendfile sent %d bytes, want %d", got, 1<<20)
	}

	// HEAD: the GET's length, no body, nothing read from the file.
	r = getOn(t, c, "HEAD", "/file")
	if r.Status != 200 || r.get("content-length") != "1048576" || len(r.Body) != 0 {
		t.Fatalf("HEAD: %d content-length %q", r.Status, r.get("content-length"))
	}
	wantCopied(t, fs, 0, nil)

	// A range under an *io.LimitedReader.
	sent.Store(0)
	r = getOn(t, c, "GET", "/range?o=1000&n=300000")
	if r.Status != 206 || r.get("content-length") != "300000" || !bytes.Equal(r.Body, data[1000:301000]) {
		t.Fatalf("range: %d content-length %q, %d bytes", r.Status, r.get("content-length"), len(r.Body))
	}
	wantCopied(t, fs, 300000, nil)
	if got := sent.Load(); got != 300000 {
		t.Errorf("range: sendfile sent %d bytes, want 300000", got)
	}

	// Body bytes written around the file go in order, framed by the one length.
	r = getOn(t, c, "GET", "/parts")
	if r.Status != 200 || r.Chunked || len(r.Body) != len(data)+2 || r.Body[0] != '<' || r.Body[len(r.Body)-1] != '>' || !bytes.Equal(r.Body[1:len(r.Body)-1], data) {
		t.Fatalf("parts: %d chunked=%v, %d bytes", r.Status, r.Chunked, len(r.Body))
	}
	wantCopied(t, fs, 1<<20, nil)

	// A source longer than the Content-Length: the length is sent, the
	// copy fails, the connection goes on.
	r = getOn(t, c, "GET", "/long?n=1000")
	if r.Status != 200 || !bytes.Equal(r.Body, data[:1000]) {
		t.Fatalf("long: %d, %d bytes", r.Status, len(r.Body))
	}
	wantCopied(t, fs, 1000, http.ErrContentLength)

	// No Content-Length: Write's framing (chunked), no sendfile.
	sent.Store(0)
	r = getOn(t, c, "GET", "/nolength")
	if r.Status != 200 || !r.Chunked || !bytes.Equal(r.Body, data) {
		t.Fatalf("no length: %d chunked=%v, %d bytes", r.Status, r.Chunked, len(r.Body))
	}
	wantCopied(t, fs, 1<<20, nil)
	if got := sent.Load(); got != 0 {
		t.Errorf("no length: sendfile sent %d bytes", got)
	}

	// A file shorter than its Content-Length: what it has, then the close.
	c.send(t, "GET /short HTTP/1.1\r\nHost: x\r\n\r\nGET /file HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(h1ReadBound))
	if _, err := readH1Response(c.br, "GET"); err == nil {
		t.Fatal("short: a whole response for a file shorter than its Content-Length")
	}
	wantCopied(t, fs, 1<<20, nil)
	assertClosed(t, c)
}

// TestH1SendfileCounter: the access log's and the metrics' Counter
// passes ReadFrom on (sendfile still) and counts its bytes.
func TestH1SendfileCounter(t *testing.T) {
	fs, data := newFileServer(t, 200<<10)
	counted := make(chan int64, 4)
	sent := sendfileBytes(t)
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		c := &Counter{ResponseWriter: w}
		if _, ok := ReaderFromOf(c); !ok {
			t.Error("ReaderFromOf(Counter over the HTTP/1.1 writer) is false")
		}
		fs.Serve(c, r)
		counted <- c.Bytes
	})
	addr := serveH1(t, h, Config{})
	c, err := dialH1(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := getOn(t, c, "GET", "/file")
	if r.Status != 200 || !bytes.Equal(r.Body, data) {
		t.Fatalf("GET: %d, %d bytes", r.Status, len(r.Body))
	}
	wantCopied(t, fs, 200<<10, nil)
	if n := <-counted; n != 200<<10 {
		t.Errorf("Counter.Bytes %d, want %d", n, 200<<10)
	}
	if got := sent.Load(); got != 200<<10 {
		t.Errorf("sendfile sent %d bytes through the Counter, want %d", got, 200<<10)
	}
}

func TestH1SendfileUnix(t *testing.T) {
	fs, data := newFileServer(t, 1<<20)
	sent := sendfileBytes(t)
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Listen(fs, Config{Listener: ln}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	defer func() { s.Shutdown(time.Second); <-s.Done() }()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{r: nc}
	c := &h1Conn{Conn: nc, br: bufio.NewReader(rec), rec: rec}
	defer c.Close()
	for range 2 {
		r := getOn(t, c, "GET", "/file")
		if r.Status != 200 || r.get("content-length") != "1048576" || !bytes.Equal(r.Body, data) {
			t.Fatalf("GET over a Unix socket: %d content-length %q, %d bytes", r.Status, r.get("content-length"), len(r.Body))
		}
		wantCopied(t, fs, 1<<20, nil)
	}
	if got := sent.Load(); got != 2<<20 {
		t.Errorf("sendfile sent %d bytes, want %d", got, 2<<20)
	}
}

// TestH1SendfileTLS: no sendfile under TLS, but the Content-Length stays.
func TestH1SendfileTLS(t *testing.T) {
	fs, data := newFileServer(t, 300<<10)
	sent := sendfileBytes(t)
	p := newTestPKI(t)
	cfg, err := LoadTLS(p.certFile, p.keyFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	addr := serveH1(t, fs, Config{TLS: cfg, DisableHTTP2: true})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: p.clientTLS()}, Timeout: 3 * time.Second}
	resp, err := client.Get("https://" + addr + "/file")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ContentLength != 300<<10 || len(resp.TransferEncoding) != 0 || !bytes.Equal(body, data) {
		t.Fatalf("TLS: content-length %d, transfer-encoding %v, %d bytes", resp.ContentLength, resp.TransferEncoding, len(body))
	}
	wantCopied(t, fs, 300<<10, nil)
	if got := sent.Load(); got != 0 {
		t.Errorf("sendfile sent %d bytes under TLS", got)
	}
}

// TestH1SendfileWriteTimeout: a file sent to a client that never reads
// ends about WriteTimeout after the socket filled, not when it is whole.
func TestH1SendfileWriteTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	fs, _ := newFileServer(t, 64<<20)
	sendfileBytes(t)
	addr := serveH1(t, fs, Config{WriteTimeout: timeout})
	d := net.Dialer{Timeout: time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	io.WriteString(nc, "GET /file HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case got := <-fs.copied:
		if !isTimeout(got.err) || got.n >= 64<<20 {
			t.Errorf("io.Copy to a stuck client returned %d, %v; want a timeout", got.n, got.err)
		}
		if took := time.Since(start); took > timeout+2*time.Second {
			t.Errorf("the copy took %v with WriteTimeout %v", took, timeout)
		}
	case <-time.After(timeout + 5*time.Second):
		t.Fatalf("a sendfile to a client that never reads still runs %v after WriteTimeout", 5*time.Second)
	}
}

func TestReaderFromOf(t *testing.T) {
	var h1 h1Writer
	if rf, ok := ReaderFromOf(&h1); !ok || rf != io.ReaderFrom(&h1) {
		t.Error("the HTTP/1.1 writer")
	}
	if _, ok := ReaderFromOf(&Counter{ResponseWriter: &h1}); !ok {
		t.Error("a Counter over the HTTP/1.1 writer")
	}
	if _, ok := ReaderFromOf(&Counter{ResponseWriter: &Counter{ResponseWriter: &h1}}); !ok {
		t.Error("two Counters over the HTTP/1.1 writer")
	}
	// A Counter's ReadFrom over a writer without one would only copy.
	if _, ok := ReaderFromOf(&Counter{ResponseWriter: &Recorder{}}); ok {
		t.Error("a Counter over a Recorder")
	}
	if _, ok := ReaderFromOf(&Recorder{}); ok {
		t.Error("a Recorder")
	}
}

// testRange is a FileRange over a bare descriptor, read with pread.
type testRange struct {
	fd     int
	off, n int64
}

func (r *testRange) FileRange() (int, int64, int64) { return r.fd, r.off, r.n }
func (r *testRange) Skip(n int64)                   { r.off, r.n = r.off+n, r.n-n }
func (r *testRange) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	m, err := syscall.Pread(r.fd, p[:min(int64(len(p)), r.n)], r.off)
	if m == 0 && err == nil {
		return 0, io.EOF
	}
	r.Skip(int64(m))
	return m, err
}

// TestH1SendfileFileRange: a FileRange goes by sendfile at its own offset
// (the descriptor's offset stays where it was, so one descriptor may
// serve responses at once), keeps the Content-Length, and ends as an
// *os.File does when the length and the section disagree.
func TestH1SendfileFileRange(t *testing.T) {
	fs, data := newFileServer(t, 1<<20)
	fd, err := syscall.Open(fs.path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	sent := sendfileBytes(t)
	copied := make(chan copyResult, 4)
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		q, _ := url.ParseQuery(r.RawQuery)
		num := func(k string) int64 { n, _ := strconv.ParseInt(q.Get(k), 10, 64); return n }
		src := &testRange{fd: fd, off: num("o"), n: num("n")}
		w.Header().Set("content-length", q.Get("len"))
		n, err := io.Copy(w, src)
		copied <- copyResult{n, err}
	})
	addr := serveH1(t, h, Config{})
	c, err := dialH1(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := func(n int64, wantErr error) {
		t.Helper()
		got := <-copied
		if got.n != n || !errors.Is(got.err, wantErr) {
			t.Errorf("io.Copy returned %d, %v; want %d, %v", got.n, got.err, n, wantErr)
		}
	}

	r := getOn(t, c, "GET", "/?o=0&n=1048576&len=1048576")
	if r.Status != 200 || r.Chunked || !bytes.Equal(r.Body, data) {
		t.Fatalf("whole: %d chunked=%v, %d bytes", r.Status, r.Chunked, len(r.Body))
	}
	want(1<<20, nil)
	if got := sent.Load(); got != 1<<20 {
		t.Errorf("sendfile sent %d bytes, want %d", got, 1<<20)
	}
	if off, _ := syscall.Seek(fd, 0, io.SeekCurrent); off != 0 {
		t.Errorf("the descriptor's offset moved to %d", off)
	}

	r = getOn(t, c, "GET", "/?o=1000&n=300000&len=300000")
	if r.Status != 200 || !bytes.Equal(r.Body, data[1000:301000]) {
		t.Fatalf("section: %d, %d bytes", r.Status, len(r.Body))
	}
	want(300000, nil)

	// More section than Content-Length: the length goes, the copy fails.
	r = getOn(t, c, "GET", "/?o=0&n=5000&len=1000")
	if r.Status != 200 || !bytes.Equal(r.Body, data[:1000]) {
		t.Fatalf("long: %d, %d bytes", r.Status, len(r.Body))
	}
	want(1000, http.ErrContentLength)

	// A section past the end of the file: what there is, then the close.
	c.send(t, "GET /?o=1048000&n=1000&len=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(h1ReadBound))
	if _, err := readH1Response(c.br, "GET"); err == nil {
		t.Fatal("short: a whole response for a section past the file's end")
	}
	want(576, nil)
	assertClosed(t, c)
}
