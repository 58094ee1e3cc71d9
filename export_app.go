package main

/*
#include <Python.h>
*/
import "C"

import (
	"errors"
	"fmt"

	"github.com/databridge/databridge/pybridge"
)

// setHandler makes the index-th Python route (in registration order) call
// fn: the app's middleware stack, built when a server or a test client
// starts. Refused while the engine serves.
func (e *engine) setHandler(gil pybridge.GIL, index int, fn pybridge.Object) error {
	if !e.stopped() {
		return errors.New("databridge: the middleware stack cannot change while the app is serving")
	}
	if index < 0 || index >= len(e.handlers) {
		return fmt.Errorf("databridge: no route handler %d", index)
	}
	e.handlers[index].SetFn(gil, fn)
	return nil
}

//export dbSetHandler
func dbSetHandler(h C.longlong, index C.longlong, fn *C.PyObject) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		if err := e.setHandler(gil, int(index), obj(fn)); err != nil {
			return pybridge.Raise(gil, pybridge.ValueError, err)
		}
		return nil
	}))
}

// setHook and the Go side of the response hook: hook.go.
//
//export dbSetHook
func dbSetHook(h C.longlong, fn *C.PyObject) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		if !e.stopped() {
			return pybridge.Raise(gil, pybridge.ValueError, errors.New("databridge: the response hook cannot change while the app is serving"))
		}
		var f pybridge.Object
		if fn != nil {
			f = obj(fn)
		}
		e.setHook(gil, f)
		return nil
	}))
}
