package pyroute

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/wire"
)

// fakeStream yields chunks, then ends (or fails), counting what pyroute asks.
type fakeStream struct {
	chunks   []string
	fail     bool // raise after the chunks
	next     int  // Next calls
	released int  // chunk Releases
	closes   int
	inFlight int // chunks handed out and not yet released
	maxHeld  int
}

func (f *fakeStream) Next() (*wire.Reply, error) {
	if f.inFlight > 0 {
		panic("Next called before the previous chunk was released")
	}
	f.next++
	if f.next > len(f.chunks) {
		if f.fail {
			return nil, errors.New("raised")
		}
		return nil, nil
	}
	f.inFlight++
	if f.inFlight > f.maxHeld {
		f.maxHeld = f.inFlight
	}
	return &wire.Reply{Status: 200, Body: []byte(f.chunks[f.next-1]), Release: func() { f.inFlight--; f.released++ }}, nil
}

func (f *fakeStream) Disconnected() {}
func (f *fakeStream) Close()        { f.closes++ }

// recordingWriter records the order of writes and flushes; fails writes
// after failAfter of them when set.
type recordingWriter struct {
	server.Recorder
	ops       []string
	failAfter int
	writes    int
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.failAfter > 0 && w.writes > w.failAfter {
		return 0, errors.New("broken pipe")
	}
	w.ops = append(w.ops, "write:"+string(p))
	return w.Recorder.Write(p)
}

func (w *recordingWriter) Flush() error {
	w.ops = append(w.ops, "flush")
	return nil
}

func streamRoute(st *fakeStream) *Route {
	call := func([]byte, bool) *wire.Reply {
		return &wire.Reply{Status: 201, Header: [][2]string{{"content-type", "text/csv"}}, Stream: st}
	}
	return New(call, "GET /s (s)", nil, nil, Options{})
}

func TestStreamWritesEachChunkThenFlushes(t *testing.T) {
	st := &fakeStream{chunks: []string{"a", "", "bc", "d"}}
	w := &recordingWriter{}
	streamRoute(st).Serve(w, &server.Request{Method: "GET", Path: "/s", Body: server.NoBody})
	w.Finish()
	if got := strings.Join(w.ops, " "); got != "flush write:a flush write:bc flush write:d flush" {
		t.Fatalf("ops %q", got)
	}
	if w.Status != 201 || string(w.Body) != "abcd" || w.Fields.Get("content-type") != "text/csv" {
		t.Fatalf("status %d body %q header %v", w.Status, w.Body, w.Fields.Fields())
	}
	if st.next != 5 || st.released != 4 || st.closes != 1 || st.maxHeld != 1 {
		t.Fatalf("next %d released %d closes %d maxHeld %d", st.next, st.released, st.closes, st.maxHeld)
	}
}

func TestStreamStopsAtAFailedWrite(t *testing.T) {
	st := &fakeStream{chunks: []string{"a", "b", "c", "d"}}
	w := &recordingWriter{failAfter: 1}
	streamRoute(st).Serve(w, &server.Request{Method: "GET", Path: "/s", Body: server.NoBody})
	if st.next != 2 || st.released != 2 || st.closes != 1 {
		t.Fatalf("a failed write must close the stream at once: next %d released %d closes %d", st.next, st.released, st.closes)
	}
}

func TestStreamHeadNeverAdvances(t *testing.T) {
	st := &fakeStream{chunks: []string{"a"}}
	w := &recordingWriter{}
	w.Head = true
	streamRoute(st).Serve(w, &server.Request{Method: "HEAD", Path: "/s", Body: server.NoBody})
	if st.next != 0 || st.closes != 1 {
		t.Fatalf("HEAD: next %d closes %d", st.next, st.closes)
	}
}

func TestStreamErrorCutsTheResponse(t *testing.T) {
	st := &fakeStream{chunks: []string{"a"}, fail: true}
	w := &recordingWriter{}
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
		}
		if st.closes != 1 || st.released != 1 {
			t.Fatalf("closes %d released %d", st.closes, st.released)
		}
	}()
	streamRoute(st).Serve(w, &server.Request{Method: "GET", Path: "/s", Body: server.NoBody})
	t.Fatal("Serve returned")
}
