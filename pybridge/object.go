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
