package pybridge

import (
	"fmt"
	"runtime/debug"

	python3 "github.com/go-python/cpy3"
)

// Exception kinds for SetError.
type Exception int

const (
	ValueError Exception = iota
	RuntimeError
	OSError
)

// SetError raises exc(msg) in Python; the exported function that called it
// then returns its error value.
func SetError(_ GIL, exc Exception, msg string) {
	t := python3.PyExc_RuntimeError
	switch exc {
	case ValueError:
		t = python3.PyExc_ValueError
	case OSError:
		t = python3.PyExc_OSError
	}
	python3.PyErr_SetString(t, msg)
}

// ErrorSet reports whether a Python exception is pending.
func ErrorSet(_ GIL) bool { return python3.PyErr_Occurred() != nil }

// Recover turns a Go panic in an exported function into a Python
// RuntimeError, so a bug in the engine raises instead of killing the
// interpreter. Use it as `defer pybridge.Recover(gil, &failed)` where
// *failed tells the caller to return its error value.
func Recover(gil GIL, failed *bool) {
	if r := recover(); r != nil {
		SetError(gil, RuntimeError, fmt.Sprintf("databridge: internal error: %v\n%s", r, debug.Stack()))
		*failed = true
	}
}

// Raise raises exc with err's message and returns err, for exported
// functions that report failure by returning an error.
func Raise(gil GIL, exc Exception, err error) error {
	SetError(gil, exc, err.Error())
	return err
}
