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
	"encoding/json"
	"errors"
	"fmt"
	"runtime/cgo"
	"strings"
	"time"
	"unsafe"

	"github.com/databridge/databridge/files"
	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/server"
)

func main() {}

func obj(p *C.PyObject) pybridge.Object { return pybridge.FromC(unsafe.Pointer(p)) }

func toC(o pybridge.Object) *C.PyObject { return (*C.PyObject)(unsafe.Pointer(o)) }

func str(p *C.char, n C.Py_ssize_t) string { return C.GoStringN(p, C.int(n)) }

// call runs f with the GIL token and reports whether it succeeded. A Go
// panic becomes a Python RuntimeError; an error f returns without having
// raised becomes one too. On failure a Python exception is always set.
func call(f func(gil pybridge.GIL) error) (ok bool) {
	gil, failed := pybridge.Held(), true
	defer func() { ok = !failed }()
	defer pybridge.Recover(gil, &failed)
	if err := f(gil); err != nil {
		if !pybridge.ErrorSet(gil) {
			pybridge.SetError(gil, pybridge.RuntimeError, err.Error())
		}
		return
	}
	failed = false
	return
}

var errHandle = errors.New("databridge: invalid engine handle")

// withEngine is call for the methods that take an engine handle; a stale or
// forged handle raises ValueError.
func withEngine(h C.longlong, f func(gil pybridge.GIL, e *engine) error) bool {
	return call(func(gil pybridge.GIL) error {
		e, _ := handleValue(h).(*engine)
		if e == nil {
			return pybridge.Raise(gil, pybridge.ValueError, errHandle)
		}
		return f(gil, e)
	})
}

func handleValue(h C.longlong) (v any) {
	defer func() { recover() }() // cgo.Handle.Value panics on an unknown handle
	return cgo.Handle(h).Value()
}

// status is the C convention for a method without a result: 0, or -1 with
// a Python exception set.
func status(ok bool) C.int {
	if ok {
		return 0
	}
	return -1
}

//export dbConfigure
func dbConfigure(response, httpError, report, jsonable *C.PyObject) C.int {
	return status(call(func(gil pybridge.GIL) error {
		return pybridge.Configure(gil, obj(response), obj(httpError), obj(report), obj(jsonable))
	}))
}

//export dbCanonicalPath
func dbCanonicalPath(path *C.char, n C.Py_ssize_t) *C.PyObject {
	var out pybridge.Object
	if !call(func(gil pybridge.GIL) error {
		p, err := router.Parse(str(path, n))
		if err != nil {
			return pybridge.Raise(gil, pybridge.ValueError, err)
		}
		out = pybridge.Str(gil, p.Canonical)
		return nil
	}) {
		return nil
	}
	return toC(out)
}

//export dbParsePath
func dbParsePath(path *C.char, n C.Py_ssize_t) *C.PyObject {
	var out pybridge.Object
	if !call(func(gil pybridge.GIL) error {
		p, err := router.Parse(str(path, n))
		if err != nil {
			return pybridge.Raise(gil, pybridge.ValueError, err)
		}
		out = pybridge.PathTuple(gil, p)
		return nil
	}) {
		return nil
	}
	return toC(out)
}

//export dbEngineNew
func dbEngineNew() C.longlong {
	var h C.longlong
	if !call(func(gil pybridge.GIL) error {
		e, err := newEngine()
		if err != nil {
			return pybridge.Raise(gil, pybridge.OSError, err)
		}
		h = C.longlong(cgo.NewHandle(e))
		return nil
	}) {
		return 0
	}
	return h
}

//export dbEngineFree
func dbEngineFree(h C.longlong) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		e.close(gil)
		cgo.Handle(h).Delete()
		return nil
	}))
}

//export dbAddRoute
func dbAddRoute(h C.longlong, method *C.char, mlen C.Py_ssize_t, path *C.char, plen C.Py_ssize_t,
	handler *C.PyObject, name *C.char, nlen C.Py_ssize_t, spec *C.char, slen C.Py_ssize_t,
	options *C.char, olen C.Py_ssize_t) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		var specJSON []byte
		if spec != nil {
			specJSON = C.GoBytes(unsafe.Pointer(spec), C.int(slen))
		}
		var o routeOptions
		if options != nil {
			if err := json.Unmarshal(C.GoBytes(unsafe.Pointer(options), C.int(olen)), &o); err != nil {
				return pybridge.Raise(gil, pybridge.ValueError, fmt.Errorf("databridge: route options: %w", err))
			}
		}
		err := e.addRoute(gil, str(method, mlen), str(path, plen), obj(handler), str(name, nlen), specJSON, o)
		if pybridge.IsPythonError(err) {
			return err // raised
		}
		if err != nil {
			return pybridge.Raise(gil, pybridge.ValueError, err)
		}
		return nil
	}))
}

//export dbAddFixed
func dbAddFixed(h C.longlong, method *C.char, mlen C.Py_ssize_t, path *C.char, plen C.Py_ssize_t,
	name *C.char, nlen C.Py_ssize_t, code C.int, headers *C.PyObject, body *C.char, blen C.Py_ssize_t) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		pairs, ok := pybridge.StrPairs(gil, obj(headers))
		if !ok {
			return pybridge.Raise(gil, pybridge.ValueError,
				errors.New("databridge: headers must be a list of (str, str) tuples"))
		}
		b := C.GoBytes(unsafe.Pointer(body), C.int(blen))
		if err := e.addFixed(str(method, mlen), str(path, plen), str(name, nlen), int(code), pairs, b); err != nil {
			return pybridge.Raise(gil, pybridge.ValueError, err)
		}
		return nil
	}))
}

//export dbAddMiddleware
func dbAddMiddleware(h C.longlong, kind *C.char, klen C.Py_ssize_t, opts *C.char, olen C.Py_ssize_t) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		if err := e.addMiddleware(str(kind, klen), C.GoBytes(unsafe.Pointer(opts), C.int(olen))); err != nil {
			return pybridge.Raise(gil, pybridge.ValueError, err)
		}
		return nil
	}))
}

//export dbAddStatic
func dbAddStatic(h C.longlong, prefix *C.char, plen C.Py_ssize_t, dir *C.char, dlen C.Py_ssize_t,
	name *C.char, nlen C.Py_ssize_t, html, follow C.int, cache *C.char, clen C.Py_ssize_t, only *C.char, olen C.Py_ssize_t) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		var names []string // NUL-separated file names, or every path below prefix
		if only != nil {
			names = strings.Split(str(only, olen), "\x00")
		}
		opts := files.DirOptions{HTML: html != 0, FollowSymlinks: follow != 0}
		if cache != nil {
			opts.CacheControl = str(cache, clen)
		}
		if err := e.addStatic(str(prefix, plen), str(dir, dlen), str(name, nlen), opts, names); err != nil {
			return pybridge.Raise(gil, pybridge.ValueError, err)
		}
		return nil
	}))
}

//export dbAttach
func dbAttach(h C.longlong, asyncio *C.PyObject) *C.PyObject {
	var out pybridge.Object
	if !withEngine(h, func(gil pybridge.GIL, e *engine) error {
		queue, err := e.loop.Attach(gil, obj(asyncio))
		if err != nil {
			return err // raised
		}
		out = pybridge.Pair(gil, pybridge.Int(gil, e.loop.Fd()), queue)
		return nil
	}) {
		return nil
	}
	return toC(out)
}

//export dbDetach
func dbDetach(h C.longlong) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		e.loop.Detach(gil)
		return nil
	}))
}

//export dbListen
func dbListen(h C.longlong, host *C.char, hlen C.Py_ssize_t, port C.int, opts *C.char, olen C.Py_ssize_t) C.int {
	var bound int
	if !withEngine(h, func(gil pybridge.GIL, e *engine) error {
		var cfg server.Config
		var prod *prodOptions
		if opts != nil {
			var err error
			if cfg, prod, err = parseAllOptions(C.GoBytes(unsafe.Pointer(opts), C.int(olen))); err != nil {
				return pybridge.Raise(gil, pybridge.ValueError, err)
			}
		}
		p, err := e.listenProd(str(host, hlen), int(port), cfg, prod)
		if err != nil {
			return pybridge.Raise(gil, pybridge.OSError, err)
		}
		bound = p
		return nil
	}) {
		return -1
	}
	return C.int(bound)
}

// dbPipeConnect connects the in-process test client: the fd of a socket
// connected to the app (see engine.pipeConnect), or -1 with an exception.
//
//export dbPipeConnect
func dbPipeConnect(h C.longlong) C.int {
	fd := -1
	if !withEngine(h, func(gil pybridge.GIL, e *engine) error {
		var err error
		if fd, err = e.pipeConnect(); err != nil {
			return pybridge.Raise(gil, pybridge.OSError, err)
		}
		return nil
	}) {
		return -1
	}
	return C.int(fd)
}

//export dbShutdown
func dbShutdown(h C.longlong, timeout C.double) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		e.shutdown(time.Duration(float64(timeout) * float64(time.Second)))
		return nil
	}))
}

//export dbStopped
func dbStopped(h C.longlong) C.int {
	stopped := false
	if !withEngine(h, func(gil pybridge.GIL, e *engine) error {
		stopped = e.stopped()
		return nil
	}) {
		return -1
	}
	if stopped {
		return 1
	}
	return 0
}

//export dbInject
func dbInject(h C.longlong, method *C.char, mlen C.Py_ssize_t, target *C.char, tlen C.Py_ssize_t,
	headers *C.PyObject, body *C.char, blen C.Py_ssize_t, future *C.PyObject) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		pairs, ok := pybridge.StrPairs(gil, obj(headers))
		if !ok {
			return pybridge.Raise(gil, pybridge.ValueError,
				errors.New("databridge: headers must be a list of (str, str) tuples"))
		}
		b := C.GoBytes(unsafe.Pointer(body), C.int(blen))
		f := pybridge.NewRef(gil, obj(future))
		if err := e.inject(str(method, mlen), str(target, tlen), pairs, b, f); err != nil {
			pybridge.Release(gil, f)
			return pybridge.Raise(gil, pybridge.ValueError, errors.New("databridge: "+err.Error()))
		}
		return nil
	}))
}
