package pybridge

/*
#include <stdlib.h>
#include "pybridge.h"
*/
import "C"

import (
	"encoding/binary"
	"unsafe"

	python3 "github.com/go-python/cpy3"

	"github.com/databridge/databridge/wire"
)

// Configure hands the engine the Python types and hooks of the databridge
// package, and interns the wire keys. Called once, from
// databridge/__init__.py.
func Configure(_ GIL, response, httpError, report, jsonable Object) error {
	texts := make([]*C.char, len(wire.Keys))
	lens := make([]C.int, len(wire.Keys))
	for i, k := range wire.Keys {
		texts[i] = C.CString(k)
		lens[i] = C.int(len(k))
	}
	rc := C.db_set_keys(&texts[0], &lens[0], C.int(len(texts)))
	for _, t := range texts {
		C.free(unsafe.Pointer(t))
	}
	if rc < 0 {
		return errPython
	}
	if C.db_configure(toC(response), toC(httpError), toC(report), toC(jsonable)) < 0 {
		return errPython
	}
	return nil
}

type pythonError struct{}

func (pythonError) Error() string { return "databridge: Python error set" }

// errPython means a Python exception is set and should propagate.
var errPython error = pythonError{}

// Handler is a registered Python handler and its route name, both owned.
// Pool sends its calls to the handler threads when any serve the queue (a
// sync handler that may block), else to the event loop thread.
type Handler struct {
	fn      Object
	name    Object
	Pool    bool
	retired []Object // functions replaced by SetFn, released by Close
}

// NewHandler takes references to fn and a new str for name.
func NewHandler(gil GIL, fn Object, name string) *Handler {
	return &Handler{fn: NewRef(gil, fn), name: Str(gil, name)}
}

// Close drops the handler's references.
func (h *Handler) Close(gil GIL) {
	Release(gil, h.fn)
	Release(gil, h.name)
	for _, fn := range h.retired {
		Release(gil, fn)
	}
	h.fn, h.name, h.retired = nil, nil, nil
}

// Result holds what one handler call produced, in a C buffer that is reused
// from call to call: a loop keeps one.
type Result struct{ c *C.db_result }

// NewResult allocates a Result; Free releases it.
func NewResult() *Result {
	return &Result{c: (*C.db_result)(C.calloc(1, C.size_t(unsafe.Sizeof(C.db_result{}))))}
}

func (r *Result) Free() {
	C.free(unsafe.Pointer(r.c.buf.data))
	C.free(unsafe.Pointer(r.c))
	r.c = nil
}

// Invoke calls h with the request decoded from req, on this thread, and
// leaves the response in r (the path a Queue takes, without the queue: for
// tests and benchmarks). A handler task that suspends is an error here.
// Cost: one cgo crossing, whatever the handler does.
func Invoke(_ GIL, h *Handler, req []byte, kwargs bool, loop Object, r *Result) {
	p, n := cBytes(req)
	C.db_invoke(toC(h.fn), toC(h.name), p, n, cBool(kwargs), toC(loop), nil, r.c)
}

// Reply copies the result into Go memory.
func (r *Result) Reply() *wire.Reply { return response(r.c, true) }

// response copies a C result into Go memory. Cost for a typical JSON
// response: two allocations, the Response (with room for one header) and
// the body; the usual header name and values are constants.
// Without copyBody, the caller gives the Response its body (handOver).
func response(c *C.db_result, copyBody bool) *wire.Reply {
	if c.status == 0 { // could not even build the 500
		return &wire.Reply{Status: 500}
	}
	data := unsafe.Slice((*byte)(unsafe.Pointer(c.buf.data)), int(c.buf.len))
	r := &responseWithHeader{}
	resp := &r.Reply
	resp.Status = int(c.status)
	if n := int(c.nheaders); n > 0 {
		if n == 1 {
			resp.Header = r.one[:]
		} else {
			resp.Header = make([][2]string, n)
		}
		off := 0
		for i := 0; i < n; i++ {
			nl := int(binary.LittleEndian.Uint32(data[off:]))
			name := known(data[off+4 : off+4+nl])
			off += 4 + nl
			vl := int(binary.LittleEndian.Uint32(data[off:]))
			value := known(data[off+4 : off+4+vl])
			off += 4 + vl
			resp.Header[i] = [2]string{name, value}
		}
	}
	if c.file != 0 && len(resp.Header) > 0 { // the last pair is the file (response.c)
		last := len(resp.Header) - 1
		resp.File = resp.Header[last][1]
		resp.Header = resp.Header[:last]
	}
	if c.body_len > 0 && copyBody {
		resp.Body = make([]byte, int(c.body_len))
		copy(resp.Body, data[int(c.body_off):int(c.body_off+c.body_len)])
	}
	return resp
}

// responseWithHeader allocates a Response and its only header together.
type responseWithHeader struct {
	wire.Reply
	one [1][2]string
}

// known returns the header names and values that the encoder writes itself
// as constants, and a copy of anything else.
func known(b []byte) string {
	switch string(b) { // no allocation: the compiler compares in place
	case "content-type":
		return "content-type"
	case "application/json":
		return "application/json"
	case "text/plain; charset=utf-8":
		return "text/plain; charset=utf-8"
	case "application/octet-stream":
		return "application/octet-stream"
	}
	return string(b)
}

// Resolve completes an asyncio future with a value given in the wire
// format (the in-process test client's responses).
func Resolve(_ GIL, future Object, value []byte) error {
	p, n := cBytes(value)
	if C.db_resolve(toC(future), p, n) < 0 {
		return errPython
	}
	return nil
}

// IsPythonError reports whether err means "a Python exception is set".
func IsPythonError(err error) bool { return err == errPython }

// RunsInPool asks databridge._runtime._runs_in_pool(fn) whether a route's
// endpoint runs on the handler threads (a sync handler that may block) or
// on the event loop thread (async handlers, and sync ones marked inline).
// A Python exception set on failure is reported as errPython.
func RunsInPool(_ GIL, fn Object) (bool, error) {
	mod := python3.PyImport_ImportModule("databridge._runtime")
	if mod == nil {
		return false, errPython
	}
	defer mod.DecRef()
	f := mod.GetAttrString("_runs_in_pool")
	if f == nil {
		return false, errPython
	}
	defer f.DecRef()
	r := f.CallFunctionObjArgs(fn)
	if r == nil {
		return false, errPython
	}
	defer r.DecRef()
	return r.IsTrue() == 1, nil
}
