package main

/*
#include <Python.h>
*/
import "C"

import (
	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/pyroute"
)

// dbBodyRead starts reading the next chunk of a streamed request body
// (request.stream()); the chunk is delivered to future. It never blocks.
//
//export dbBodyRead
func dbBodyRead(id C.longlong, future *C.PyObject) C.int {
	return status(call(func(gil pybridge.GIL) error {
		f := pybridge.NewRef(gil, obj(future))
		if err := pyroute.ReadChunk(uint64(id), f); err != nil {
			pybridge.Release(gil, f)
			return pybridge.Raise(gil, pybridge.RuntimeError, err)
		}
		return nil
	}))
}
