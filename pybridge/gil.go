package pybridge

// GIL proves that its holder holds the Python GIL on a locked OS thread.
// Functions that touch Python objects take one, as Granian passes `py:
// Python`. It has no state; only the two constructors below make one.
type GIL struct{ _ [0]func() }

// Held is for code called from Python (an exported function behind a
// method of databridge._core): CPython called it with the GIL held, and cgo
// keeps a callback's goroutine on the calling OS thread until it returns.
func Held() GIL { return GIL{} }
