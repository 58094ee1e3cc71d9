package pyroute

import (
	"context"
	"net/http"
	"sync"

	"github.com/databridge/databridge/server"
	"github.com/databridge/databridge/wire"
)

// streamBody sends a streamed reply: the head at once, then one chunk at a
// time, each written and flushed before the next is asked for. That is the
// backpressure: the iterator is not advanced while a write blocks (a full
// socket), so a response holds at most one chunk in memory beyond what the
// socket buffers hold.
//
// The stream ends when the iterator does (the last chunk, "0\r\n\r\n" on
// HTTP/1.1, END_STREAM on HTTP/2); when it raises, the response is cut
// (http.ErrAbortHandler: no last chunk and the connection closed on
// HTTP/1.1, RST_STREAM on HTTP/2) so the client sees an incomplete body.
// When a write fails (the client is gone) or the request's context ends
// (the client reset the h2 stream, the server is stopping), the iterator
// is closed. A HEAD, 204 or 304 sends the head and closes the iterator
// unstarted.
func streamBody(w server.ResponseWriter, req *server.Request, status int, st wire.Stream) {
	// Disconnected may run from the context's goroutine: never after Close.
	var mu sync.Mutex
	closed := false
	defer func() {
		mu.Lock()
		closed = true
		mu.Unlock()
		st.Close()
	}()
	w.WriteHeader(status)
	if req.Method == http.MethodHead || status < 200 || status == http.StatusNoContent || status == http.StatusNotModified {
		w.Flush()
		return
	}
	if w.Flush() != nil {
		return
	}
	ctx := req.Context()
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !closed {
			st.Disconnected()
		}
	})
	defer stop()
	for {
		chunk, err := st.Next()
		if err != nil {
			if ctx.Err() != nil {
				return // cancelled because the client left: nothing to cut
			}
			panic(http.ErrAbortHandler) // after the deferred Close
		}
		if chunk == nil {
			return // the end: the writer sends the last chunk
		}
		var werr error
		if len(chunk.Body) > 0 {
			if _, werr = w.Write(chunk.Body); werr == nil {
				werr = w.Flush()
			}
		}
		if chunk.Release != nil {
			chunk.Release()
		}
		if werr != nil || ctx.Err() != nil {
			return
		}
	}
}
