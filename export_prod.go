package main

/*
#include <Python.h>
*/
import "C"

import "github.com/databridge/databridge/pybridge"

// dbAbort backs _core.abort(engine): calls waiting for Python, and later
// ones, are answered 503 at once (the second Ctrl+C ends the drain).
//
//export dbAbort
func dbAbort(h C.longlong) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		e.loop.Abort()
		return nil
	}))
}
