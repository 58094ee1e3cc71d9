// Command databridge is built with -buildmode=c-shared into the CPython
// extension module databridge._core. This file is its table of contents:
// each exported function below backs one method of the module (the method
// table and PyInit__core are in module.c) and hands off to a package.
//
// Every export runs with the GIL held (CPython called it) and recovers Go
// panics into Python exceptions. Engines cross into Python as
// runtime/cgo.Handle integers, never as Go pointers.
package main

/*
#include <Python.h>
*/
import "C"

import (
	"runtime/cgo"
	"time"
	"unsafe"

	python3 "github.com/go-python/cpy3"

	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/router"
)

func main() {}

func obj(p *C.PyObject) pybridge.Object { return pybridge.FromC(unsafe.Pointer(p)) }

func str(p *C.char, n C.Py_ssize_t) string { return C.GoStringN(p, C.int(n)) }

// engineOf resolves a handle from Python; a stale or forged one raises.
func engineOf(gil pybridge.GIL, h C.longlong) *engine {
	defer func() {
		if recover() != nil {
			pybridge.SetError(gil, pybridge.ValueError, "databridge: invalid engine handle")
		}
	}()
	e, _ := cgo.Handle(h).Value().(*engine)
	if e == nil {
		pybridge.SetError(gil, pybridge.ValueError, "databridge: invalid engine handle")
	}
	return e
}

// status turns failure into the C convention: -1 with a Python error set.
func status(failed bool) C.int {
	if failed {
		return -1
	}
	return 0
}

//export dbConfigure
func dbConfigure(response, httpError, report, jsonable *C.PyObject) (rc C.int) {
	gil, failed := pybridge.Held(), false
	defer func() { rc = status(failed) }()
	defer pybridge.Recover(gil, &failed)
	failed = pybridge.Configure(gil, obj(response), obj(httpError), obj(report), obj(jsonable)) != nil
	return
}

//export dbCanonicalPath
func dbCanonicalPath(path *C.char, n C.Py_ssize_t) (out *C.PyObject) {
	gil, failed := pybridge.Held(), false
	defer func() {
		if failed {
			out = nil
		}
	}()
	defer pybridge.Recover(gil, &failed)
	p, err := router.Parse(str(path, n))
	if err != nil {
		pybridge.SetError(gil, pybridge.ValueError, err.Error())
		failed = true
		return nil
	}
	return (*C.PyObject)(unsafe.Pointer(pybridge.Str(gil, p.Canonical)))
}

//export dbParsePath
func dbParsePath(path *C.char, n C.Py_ssize_t) (out *C.PyObject) {
	gil, failed := pybridge.Held(), false
	defer func() {
		if failed {
			out = nil
		}
	}()
	defer pybridge.Recover(gil, &failed)
	p, err := router.Parse(str(path, n))
	if err != nil {
		pybridge.SetError(gil, pybridge.ValueError, err.Error())
		failed = true
		return nil
	}
	// (plain, [(name, kind, regexp or None), ...]): a registration-time
	// path, so plain cpy3 calls.
	params := python3.PyList_New(len(p.Params))
	for i, param := range p.Params {
		regexp := python3.Py_None
		if param.Regexp != "" {
			regexp = python3.PyUnicode_FromString(param.Regexp)
		} else {
			regexp.IncRef()
		}
		item := python3.PyTuple_New(3)
		python3.PyTuple_SetItem(item, 0, python3.PyUnicode_FromString(param.Name)) // steals
		python3.PyTuple_SetItem(item, 1, python3.PyUnicode_FromString(param.Kind.String()))
		python3.PyTuple_SetItem(item, 2, regexp)
		python3.PyList_SetItem(params, i, item)
	}
	pair := python3.PyTuple_New(2)
	python3.PyTuple_SetItem(pair, 0, python3.PyUnicode_FromString(p.Plain))
	python3.PyTuple_SetItem(pair, 1, params)
	return (*C.PyObject)(unsafe.Pointer(pair))
}

//export dbEngineNew
func dbEngineNew() (h C.longlong) {
	gil, failed := pybridge.Held(), false
	defer func() {
		if failed {
			h = 0
		}
	}()
	defer pybridge.Recover(gil, &failed)
	e, err := newEngine()
	if err != nil {
		pybridge.SetError(gil, pybridge.OSError, "databridge: "+err.Error())
		failed = true
		return 0
	}
	return C.longlong(cgo.NewHandle(e))
}

//export dbEngineFree
func dbEngineFree(h C.longlong) (rc C.int) {
	gil, failed := pybridge.Held(), false
	defer func() { rc = status(failed) }()
	defer pybridge.Recover(gil, &failed)
	if e := engineOf(gil, h); e != nil {
		e.close(gil)
		cgo.Handle(h).Delete()
	} else {
		failed = true
	}
	return
}

//export dbAddRoute
func dbAddRoute(h C.longlong, method *C.char, mlen C.Py_ssize_t, path *C.char, plen C.Py_ssize_t,
	handler *C.PyObject, name *C.char, nlen C.Py_ssize_t, spec *C.char, slen C.Py_ssize_t) (rc C.int) {
	gil, failed := pybridge.Held(), false
	defer func() { rc = status(failed) }()
	defer pybridge.Recover(gil, &failed)
	e := engineOf(gil, h)
	if e == nil {
		failed = true
		return
	}
	var specJSON []byte
	if spec != nil {
		specJSON = C.GoBytes(unsafe.Pointer(spec), C.int(slen))
	}
	if err := e.addRoute(gil, str(method, mlen), str(path, plen), obj(handler), str(name, nlen), specJSON); err != nil {
		pybridge.SetError(gil, pybridge.ValueError, err.Error())
		failed = true
	}
	return
}

//export dbAttach
func dbAttach(h C.longlong, asyncio *C.PyObject) (out *C.PyObject) {
	gil, failed := pybridge.Held(), false
	defer func() {
		if failed {
			out = nil
		}
	}()
	defer pybridge.Recover(gil, &failed)
	e := engineOf(gil, h)
	if e == nil {
		failed = true
		return
	}
	queue, err := e.loop.Attach(gil, obj(asyncio))
	if err != nil {
		failed = true // the Python error is set
		return
	}
	fd := python3.PyLong_FromLong(e.loop.Fd())
	pair := python3.PyTuple_New(2)
	python3.PyTuple_SetItem(pair, 0, fd) // steals
	python3.PyTuple_SetItem(pair, 1, queue)
	return (*C.PyObject)(unsafe.Pointer(pair))
}

//export dbDetach
func dbDetach(h C.longlong) (rc C.int) {
	gil, failed := pybridge.Held(), false
	defer func() { rc = status(failed) }()
	defer pybridge.Recover(gil, &failed)
	if e := engineOf(gil, h); e != nil {
		e.loop.Detach(gil)
	} else {
		failed = true
	}
	return
}

//export dbListen
func dbListen(h C.longlong, host *C.char, hlen C.Py_ssize_t, port C.int) (out C.int) {
	gil, failed := pybridge.Held(), false
	defer func() {
		if failed {
			out = -1
		}
	}()
	defer pybridge.Recover(gil, &failed)
	e := engineOf(gil, h)
	if e == nil {
		failed = true
		return
	}
	p, err := e.listen(str(host, hlen), int(port))
	if err != nil {
		pybridge.SetError(gil, pybridge.OSError, err.Error())
		failed = true
		return
	}
	return C.int(p)
}

//export dbShutdown
func dbShutdown(h C.longlong, timeout C.double) (rc C.int) {
	gil, failed := pybridge.Held(), false
	defer func() { rc = status(failed) }()
	defer pybridge.Recover(gil, &failed)
	if e := engineOf(gil, h); e != nil {
		e.shutdown(time.Duration(float64(timeout) * float64(time.Second)))
	} else {
		failed = true
	}
	return
}

//export dbStopped
func dbStopped(h C.longlong) (rc C.int) {
	gil, failed := pybridge.Held(), false
	defer func() {
		if failed {
			rc = -1
		}
	}()
	defer pybridge.Recover(gil, &failed)
	e := engineOf(gil, h)
	if e == nil {
		failed = true
		return
	}
	if e.stopped() {
		return 1
	}
	return 0
}

//export dbInject
func dbInject(h C.longlong, method *C.char, mlen C.Py_ssize_t, target *C.char, tlen C.Py_ssize_t,
	headers *C.PyObject, body *C.char, blen C.Py_ssize_t, future *C.PyObject) (rc C.int) {
	gil, failed := pybridge.Held(), false
	defer func() { rc = status(failed) }()
	defer pybridge.Recover(gil, &failed)
	e := engineOf(gil, h)
	if e == nil {
		failed = true
		return
	}
	pairs, ok := headerPairs(obj(headers))
	if !ok {
		pybridge.SetError(gil, pybridge.ValueError, "databridge: headers must be a list of (str, str) tuples")
		failed = true
		return
	}
	b := C.GoBytes(unsafe.Pointer(body), C.int(blen))
	f := pybridge.NewRef(gil, obj(future))
	if err := e.inject(str(method, mlen), str(target, tlen), pairs, b, f); err != nil {
		pybridge.Release(gil, f)
		pybridge.SetError(gil, pybridge.ValueError, "databridge: "+err.Error())
		failed = true
	}
	return
}

// headerPairs reads a list of (str, str) tuples with cpy3 (a test-client
// path, not a hot one).
func headerPairs(list pybridge.Object) ([][2]string, bool) {
	if !python3.PyList_Check(list) {
		return nil, false
	}
	n := python3.PyList_Size(list)
	pairs := make([][2]string, 0, n)
	for i := 0; i < n; i++ {
		item := python3.PyList_GetItem(list, i)
		if !python3.PyTuple_Check(item) || python3.PyTuple_Size(item) != 2 {
			return nil, false
		}
		k, v := python3.PyTuple_GetItem(item, 0), python3.PyTuple_GetItem(item, 1)
		if !python3.PyUnicode_Check(k) || !python3.PyUnicode_Check(v) {
			return nil, false
		}
		pairs = append(pairs, [2]string{python3.PyUnicode_AsUTF8(k), python3.PyUnicode_AsUTF8(v)})
	}
	return pairs, true
}
