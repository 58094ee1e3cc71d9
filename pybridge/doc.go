// Package pybridge is the only place that knows CPython's object model.
//
// It turns a packed request (package wire) into a Python dict, calls a
// handler, starts a task when the handler is a coroutine, and turns what the
// handler returned into a server.Response — each in one cgo crossing, with
// the per-field work done by the C helpers beside this file:
//
//	decode.c    wire bytes -> Python objects
//	call.c      handler call, task start, task result
//	response.c  return value or exception -> status, headers, body
//	json.c      Python objects -> JSON text
//
// Every function that touches Python takes a GIL token, which proves the
// caller holds the GIL (see gil.go). General-purpose calls (reference counts,
// raising errors) go through github.com/go-python/cpy3.
package pybridge
