package pybridge

// SetFn makes h call fn from now on (a new reference is taken). The old
// function is not released: a call already queued may still borrow it, so
// it is kept until Close. Call it only while the engine is not serving
// (the app builds its middleware stack before a server or a test client
// starts): request goroutines read fn without synchronisation.
func (h *Handler) SetFn(gil GIL, fn Object) {
	if h.fn == fn {
		return
	}
	h.retired = append(h.retired, h.fn)
	h.fn = NewRef(gil, fn)
}
