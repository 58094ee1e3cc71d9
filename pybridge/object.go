package pybridge

/*
#cgo pkg-config: python3
#include "pybridge.h"
*/
import "C"

import (
	"unsafe"

	python3 "github.com/go-python/cpy3"
)

// Object is a borrowed or owned CPython object pointer, typed as cpy3's so
// that every package can share it.
type Object = *python3.PyObject

// FromC converts a *C.PyObject of any cgo package into an Object.
func FromC(p unsafe.Pointer) Object { return (*python3.PyObject)(p) }

func toC(o Object) *C.PyObject { return (*C.PyObject)(unsafe.Pointer(o)) }

// cBytes passes b to C for the duration of a call (Go memory that C must
// not keep).
func cBytes(b []byte) (*C.char, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// NewRef takes a reference to o and returns it.
func NewRef(_ GIL, o Object) Object {
	o.IncRef()
	return o
}

// Release drops a reference to o (nil is allowed).
func Release(_ GIL, o Object) {
	if o != nil {
		o.DecRef()
	}
}

// Str returns a new Python str.
func Str(_ GIL, s string) Object { return python3.PyUnicode_FromString(s) }
