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
	"time"
	"unsafe"

	"github.com/databridge/databridge/pybridge"
	"github.com/databridge/databridge/router"
	"github.com/databridge/databridge/wsroute"
)

// wsOptions is the JSON of App.websocket's options (python/databridge/websockets.py).
type wsOptions struct {
	MaxMessageSize int64    `json:"max_message_size"`
	SendQueue      int      `json:"send_queue"`
	ReceiveQueue   int      `json:"receive_queue"`
	PingInterval   *float64 `json:"ping_interval"`
	IdleTimeout    *float64 `json:"idle_timeout"`
	Compression    *bool    `json:"compression"`
}

func wsSeconds(v *float64, def time.Duration) time.Duration {
	if v == nil {
		return def
	}
	return time.Duration(*v * float64(time.Second))
}

// addWebSocket registers a WebSocket route: fn is the session entry
// (websockets._entry), called with the session payload (wsroute).
func (e *engine) addWebSocket(gil pybridge.GIL, path string, fn pybridge.Object, name string, opts []byte) error {
	var o wsOptions
	if len(opts) > 0 {
		if err := json.Unmarshal(opts, &o); err != nil {
			return fmt.Errorf("databridge: websocket options: %w", err)
		}
	}
	ro := wsroute.Options{
		MaxMessage: o.MaxMessageSize, SendQueue: o.SendQueue, RecvQueue: o.ReceiveQueue,
		PingInterval: wsSeconds(o.PingInterval, wsroute.Defaults.PingInterval),
		IdleTimeout:  wsSeconds(o.IdleTimeout, wsroute.Defaults.IdleTimeout),
		Compression:  o.Compression == nil || *o.Compression,
	}
	if _, err := router.Parse(path); err != nil {
		return err
	}
	label := "WEBSOCKET " + path + " (" + name + ")"
	h := pybridge.NewHandler(gil, fn, label)
	call := func(payload []byte) {
		r := e.loop.Call(h, payload, false)
		if r == nil {
			return
		}
		if r.Stream != nil { // the session's task returns None; a reply owns its stream all the same
			r.Stream.Close()
		}
		if r.Release != nil {
			r.Release()
		}
	}
	rt := wsroute.New(call, e.loop.Queue(), ro)
	rt.Sessions = &e.wsSessions
	rt.NewHandle = func(s *wsroute.Session) int64 { return int64(cgo.NewHandle(s)) }
	rt.DeleteHandle = func(v int64) { cgo.Handle(v).Delete() }
	if _, err := e.router.Add("GET", path, name, rt); err != nil {
		h.Close(gil)
		return err
	}
	e.handlers = append(e.handlers, h)
	return nil
}

var errSession = errors.New("databridge: this WebSocket session is over")

func withSession(h C.longlong, f func(gil pybridge.GIL, s *wsroute.Session) error) bool {
	return call(func(gil pybridge.GIL) error {
		s, _ := handleValue(h).(*wsroute.Session)
		if s == nil {
			return pybridge.Raise(gil, pybridge.RuntimeError, errSession)
		}
		return f(gil, s)
	})
}

//export dbAddWebSocket
func dbAddWebSocket(h C.longlong, path *C.char, plen C.Py_ssize_t, entry *C.PyObject, name *C.char, nlen C.Py_ssize_t,
	opts *C.char, olen C.Py_ssize_t) C.int {
	return status(withEngine(h, func(gil pybridge.GIL, e *engine) error {
		var o []byte
		if opts != nil {
			o = C.GoBytes(unsafe.Pointer(opts), C.int(olen))
		}
		if err := e.addWebSocket(gil, str(path, plen), obj(entry), str(name, nlen), o); err != nil {
			return pybridge.Raise(gil, pybridge.ValueError, err)
		}
		return nil
	}))
}

//export dbWsAccept
func dbWsAccept(h C.longlong, sub *C.char, slen C.Py_ssize_t, headers *C.PyObject, future *C.PyObject) C.int {
	return status(withSession(h, func(gil pybridge.GIL, s *wsroute.Session) error {
		pairs, ok := pybridge.StrPairs(gil, obj(headers))
		if !ok {
			return pybridge.Raise(gil, pybridge.ValueError, errors.New("databridge: headers must be a list of (str, str) tuples"))
		}
		subprotocol := ""
		if sub != nil {
			subprotocol = str(sub, slen)
		}
		f := pybridge.NewRef(gil, obj(future))
		if err := s.Accept(subprotocol, pairs, f); err != nil {
			pybridge.Release(gil, f)
			return pybridge.Raise(gil, pybridge.RuntimeError, err)
		}
		return nil
	}))
}
