package pybridge

import (
	"runtime"

	python3 "github.com/go-python/cpy3"
)

// GIL proves that its holder holds the Python GIL on a locked OS thread.
// Functions that touch Python objects take one, as Granian passes `py:
// Python`. It has no state; only the two constructors below make one.
type GIL struct{ _ [0]func() }

// Held is for code called from Python (an exported function behind a
// method of databridge._core): CPython called it with the GIL held, and cgo
// keeps a callback's goroutine on the calling OS thread until it returns.
func Held() GIL { return GIL{} }

// WithGIL runs f on a locked OS thread holding the GIL, for Go code that
// Python did not call (tests, finalizers, background work).
func WithGIL(f func(GIL)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	state := python3.PyGILState_Ensure()
	defer python3.PyGILState_Release(state)
	f(GIL{})
}
