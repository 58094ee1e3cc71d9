package pybridge

/*
#include "pybridge.h"
*/
import "C"

import "unsafe"

// Decode builds the Python value of a wire-encoded buffer (a new
// reference; nil with a Python exception set on failure). It is how an
// export called from Python returns a value made in Go without building it
// object by object: the WebSocket receive fast path.
func Decode(_ GIL, b []byte) Object {
	var p *C.char
	if len(b) > 0 {
		p = (*C.char)(unsafe.Pointer(&b[0]))
	}
	return FromC(unsafe.Pointer(C.db_decode(p, C.size_t(len(b)))))
}
