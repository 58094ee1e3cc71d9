/* module.c — PyInit__core and the method table of databridge._core.
 * Each method parses its arguments (PyArg_* is variadic: cgo cannot call it)
 * and hands off to an exported Go function in export.go, which returns -1
 * (or NULL) with a Python exception set on failure. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_cgo_export.h"
#include "pybridge/pybridge.h"
#include "pybridge/ws.h"

static PyObject *m_configure(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"response_class", "http_error_class", "report", "jsonable", "file_response_class", NULL};
    PyObject *response = NULL, *http_error = NULL, *report = NULL, *jsonable = NULL, *file_response = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$OOOOO:configure", kwlist, &response, &http_error, &report,
                                     &jsonable, &file_response))
        return NULL;
    if (response == NULL || http_error == NULL || report == NULL || jsonable == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "configure() needs response_class, http_error_class, report and jsonable");
        return NULL;
    }
    if (file_response != NULL && !PyType_Check(file_response)) {
        PyErr_SetString(PyExc_TypeError, "file_response_class must be a class");
        return NULL;
    }
    if (file_response != NULL) db_configure_files(file_response);
    if (!PyType_Check(response) || !PyType_Check(http_error)) {
        PyErr_SetString(PyExc_TypeError, "response_class and http_error_class must be classes");
        return NULL;
    }
    if (dbConfigure(response, http_error, report, jsonable) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_canonical_path(PyObject *self, PyObject *args) {
    const char *path;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "s#:canonical_path", &path, &n)) return NULL;
    return dbCanonicalPath((char *)path, n);
}

static PyObject *m_parse_path(PyObject *self, PyObject *args) {
    const char *path;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "s#:parse_path", &path, &n)) return NULL;
    return dbParsePath((char *)path, n);
}

static PyObject *m_engine_new(PyObject *self, PyObject *unused) {
    long long h = dbEngineNew();
    return h ? PyLong_FromLongLong(h) : NULL;
}

static PyObject *m_engine_free(PyObject *self, PyObject *arg) {
    long long h = PyLong_AsLongLong(arg);
    if (h == -1 && PyErr_Occurred()) return NULL;
    if (dbEngineFree(h) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_add_route(PyObject *self, PyObject *args) {
    long long h;
    const char *method, *path, *name, *spec = NULL, *options = NULL;
    Py_ssize_t mlen, plen, nlen, slen = 0, olen = 0;
    PyObject *handler;
    if (!PyArg_ParseTuple(args, "Ls#s#Os#|z#z#:add_route", &h, &method, &mlen, &path, &plen, &handler, &name, &nlen,
                          &spec, &slen, &options, &olen))
        return NULL;
    if (!PyCallable_Check(handler)) {
        PyErr_SetString(PyExc_TypeError, "handler must be callable");
        return NULL;
    }
    if (dbAddRoute(h, (char *)method, mlen, (char *)path, plen, handler, (char *)name, nlen, (char *)spec, slen,
                   (char *)options, olen) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_add_fixed(PyObject *self, PyObject *args) {
    long long h;
    const char *method, *path, *name, *body;
    Py_ssize_t mlen, plen, nlen, blen;
    int status;
    PyObject *headers;
    if (!PyArg_ParseTuple(args, "Ls#s#s#iOy#:add_fixed", &h, &method, &mlen, &path, &plen, &name, &nlen, &status,
                          &headers, &body, &blen))
        return NULL;
    if (dbAddFixed(h, (char *)method, mlen, (char *)path, plen, (char *)name, nlen, status, headers, (char *)body,
                   blen) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_add_middleware(PyObject *self, PyObject *args) {
    long long h;
    const char *kind, *opts;
    Py_ssize_t klen, olen;
    if (!PyArg_ParseTuple(args, "Ls#s#:add_middleware", &h, &kind, &klen, &opts, &olen)) return NULL;
    if (dbAddMiddleware(h, (char *)kind, klen, (char *)opts, olen) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_add_static(PyObject *self, PyObject *args) {
    long long h;
    const char *prefix, *dir, *name, *cache = NULL, *only = NULL;
    Py_ssize_t plen, dlen, nlen, clen = 0, olen = 0;
    int html, follow;
    if (!PyArg_ParseTuple(args, "Ls#s#s#pp|z#z#:add_static", &h, &prefix, &plen, &dir, &dlen, &name, &nlen, &html,
                          &follow, &cache, &clen, &only, &olen))
        return NULL;
    if (dbAddStatic(h, (char *)prefix, plen, (char *)dir, dlen, (char *)name, nlen, html, follow, (char *)cache, clen,
                    (char *)only, olen) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_attach(PyObject *self, PyObject *args) {
    long long h;
    PyObject *loop;
    if (!PyArg_ParseTuple(args, "LO:attach", &h, &loop)) return NULL;
    return dbAttach(h, loop); /* (fd, queue) */
}

/* The hot one: the event loop's reader callback, once per batch. It runs
 * the queue in C (pybridge/queue.c): the GIL thread never enters Go. */
static PyObject *m_drain(PyObject *self, PyObject *capsule) {
    db_queue *q = PyCapsule_GetPointer(capsule, DB_QUEUE_CAPSULE);
    if (q == NULL) return NULL;
    return db_drain(q);
}

/* A handler thread's body (python/databridge/_runtime.py): serves sync
 * calls until stop_handlers. */
static PyObject *m_serve_handlers(PyObject *self, PyObject *capsule) {
    db_queue *q = PyCapsule_GetPointer(capsule, DB_QUEUE_CAPSULE);
    if (q == NULL) return NULL;
    return db_serve_sync(q);
}

static PyObject *m_stop_handlers(PyObject *self, PyObject *capsule) {
    db_queue *q = PyCapsule_GetPointer(capsule, DB_QUEUE_CAPSULE);
    if (q == NULL) return NULL;
    db_stop_handlers(q);
    Py_RETURN_NONE;
}

static PyObject *m_detach(PyObject *self, PyObject *arg) {
    long long h = PyLong_AsLongLong(arg);
    if (h == -1 && PyErr_Occurred()) return NULL;
    if (dbDetach(h) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_listen(PyObject *self, PyObject *args) {
    long long h;
    const char *host, *opts = NULL;
    Py_ssize_t hlen, olen = 0;
    int port;
    if (!PyArg_ParseTuple(args, "Ls#i|z#:listen", &h, &host, &hlen, &port, &opts, &olen)) return NULL;
    if (port < 0 || port > 65535) {
        PyErr_Format(PyExc_ValueError, "port must be in 0..65535, not %d", port);
        return NULL;
    }
    int bound = dbListen(h, (char *)host, hlen, port, (char *)opts, olen);
    return bound < 0 ? NULL : PyLong_FromLong(bound);
}

static PyObject *m_shutdown(PyObject *self, PyObject *args) {
    long long h;
    double timeout;
    if (!PyArg_ParseTuple(args, "Ld:shutdown", &h, &timeout)) return NULL;
    if (dbShutdown(h, timeout) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_stopped(PyObject *self, PyObject *arg) {
    long long h = PyLong_AsLongLong(arg);
    if (h == -1 && PyErr_Occurred()) return NULL;
    int rc = dbStopped(h);
    if (rc < 0) return NULL;
    return PyBool_FromLong(rc);
}

static PyObject *m_inject(PyObject *self, PyObject *args) {
    long long h;
    const char *method, *target, *body;
    Py_ssize_t mlen, tlen, blen;
    PyObject *headers, *future;
    if (!PyArg_ParseTuple(args, "Ls#s#Oy#O:inject", &h, &method, &mlen, &target, &tlen, &headers, &body, &blen,
                          &future))
        return NULL;
    if (dbInject(h, (char *)method, mlen, (char *)target, tlen, headers, (char *)body, blen, future) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_set_handler(PyObject *self, PyObject *args) {
    long long h, index;
    PyObject *handler;
    if (!PyArg_ParseTuple(args, "LLO:set_handler", &h, &index, &handler)) return NULL;
    if (!PyCallable_Check(handler)) {
        PyErr_SetString(PyExc_TypeError, "handler must be callable");
        return NULL;
    }
    if (dbSetHandler(h, index, handler) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_set_hook(PyObject *self, PyObject *args) {
    long long h;
    PyObject *hook;
    if (!PyArg_ParseTuple(args, "LO:set_hook", &h, &hook)) return NULL;
    if (hook != Py_None && !PyCallable_Check(hook)) {
        PyErr_SetString(PyExc_TypeError, "hook must be callable or None");
        return NULL;
    }
    if (dbSetHook(h, hook == Py_None ? NULL : hook) < 0) return NULL;
    Py_RETURN_NONE;
}

/* abort(engine): the second Ctrl+C; export_prod.go. */
static PyObject *m_abort(PyObject *self, PyObject *arg) {
    long long h = PyLong_AsLongLong(arg);
    if (h == -1 && PyErr_Occurred()) return NULL;
    if (dbAbort(h) < 0) return NULL;
    Py_RETURN_NONE;
}


/* WebSockets (ws.go, wsroute): a route, and the session methods Python's
 * WebSocket calls with a session handle. None of them blocks. */
static PyObject *m_add_websocket(PyObject *self, PyObject *args) {
    long long h;
    const char *path, *name, *opts = NULL;
    Py_ssize_t plen, nlen, olen = 0;
    PyObject *entry;
    if (!PyArg_ParseTuple(args, "Ls#Os#|z#:add_websocket", &h, &path, &plen, &entry, &name, &nlen, &opts, &olen))
        return NULL;
    if (!PyCallable_Check(entry)) {
        PyErr_SetString(PyExc_TypeError, "entry must be callable");
        return NULL;
    }
    if (dbAddWebSocket(h, (char *)path, plen, entry, (char *)name, nlen, (char *)opts, olen) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *m_ws_accept(PyObject *self, PyObject *args) {
    long long h;
    const char *sub = NULL;
    Py_ssize_t slen = 0;
    PyObject *headers, *future;
    if (!PyArg_ParseTuple(args, "Lz#OO:ws_accept", &h, &sub, &slen, &headers, &future)) return NULL;
    if (dbWsAccept(h, (char *)sub, slen, headers, future) < 0) return NULL;
    Py_RETURN_NONE;
}

/* pipe_connect(engine) -> fd: a socket connected to the app in process
 * (TestClient's WebSockets), no network port. */
static PyObject *m_pipe_connect(PyObject *self, PyObject *arg) {
    long long h = PyLong_AsLongLong(arg);
    if (h == -1 && PyErr_Occurred()) return NULL;
    int fd = dbPipeConnect(h);
    if (fd < 0) return NULL;
    return PyLong_FromLong(fd);
}

/* body_read(stream id, future): the next chunk of a streamed request body
 * (pyroute/bodystream.go), delivered to future as [kind, bytes]. */
static PyObject *m_body_read(PyObject *self, PyObject *args) {
    long long id;
    PyObject *future;
    if (!PyArg_ParseTuple(args, "LO:body_read", &id, &future)) return NULL;
    if (dbBodyRead(id, future) < 0) return NULL;
    Py_RETURN_NONE;
}

/* The session's message queues (pybridge/ws.c): in C, the GIL thread does
 * not enter Go per message. ws_bind(address) -> capsule, once a session. */
static PyObject *m_ws_bind(PyObject *self, PyObject *arg) { return db_ws_bind(arg); }

/* ws_receive(capsule, future): the next message tuple, or None when future
 * was kept to be resolved with it. Fast calls: once per message each. */
static PyObject *m_ws_receive(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "ws_receive(queues, future)");
        return NULL;
    }
    return db_ws_receive(args[0], args[1]);
}

/* ws_send(capsule, kind, str or bytes, future or None): 0 queued (or
 * written), -1 full (future kept when given), else the close code. */
static PyObject *m_ws_send(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "ws_send(queues, kind, data, future)");
        return NULL;
    }
    long kind = PyLong_AsLong(args[1]);
    if (kind == -1 && PyErr_Occurred()) return NULL;
    return db_ws_send(args[0], kind == 0 ? 0 : kind == 1 ? 1 : -1, args[2], args[3]);
}

static PyObject *m_ws_close(PyObject *self, PyObject *args) {
    PyObject *capsule, *reason;
    int code;
    if (!PyArg_ParseTuple(args, "OiU:ws_close", &capsule, &code, &reason)) return NULL;
    return db_ws_close(capsule, code, reason);
}

static PyMethodDef methods[] = {
    {"configure", (PyCFunction)(void (*)(void))m_configure, METH_VARARGS | METH_KEYWORDS, NULL},
    {"canonical_path", m_canonical_path, METH_VARARGS, NULL},
    {"parse_path", m_parse_path, METH_VARARGS, NULL},
    {"engine_new", m_engine_new, METH_NOARGS, NULL},
    {"engine_free", m_engine_free, METH_O, NULL},
    {"add_route", m_add_route, METH_VARARGS, NULL},
    {"add_fixed", m_add_fixed, METH_VARARGS, NULL},
    {"add_middleware", m_add_middleware, METH_VARARGS, NULL},
    {"set_handler", m_set_handler, METH_VARARGS, NULL},
    {"set_hook", m_set_hook, METH_VARARGS, NULL},
    {"add_static", m_add_static, METH_VARARGS, NULL},
    {"attach", m_attach, METH_VARARGS, NULL},
    {"drain", m_drain, METH_O, NULL},
    {"serve_handlers", m_serve_handlers, METH_O, NULL},
    {"stop_handlers", m_stop_handlers, METH_O, NULL},
    {"detach", m_detach, METH_O, NULL},
    {"listen", m_listen, METH_VARARGS, NULL},
    {"shutdown", m_shutdown, METH_VARARGS, NULL},
    {"stopped", m_stopped, METH_O, NULL},
    {"inject", m_inject, METH_VARARGS, NULL},
    {"abort", m_abort, METH_O, NULL},
    {"add_websocket", m_add_websocket, METH_VARARGS, NULL},
    {"ws_accept", m_ws_accept, METH_VARARGS, NULL},
    {"body_read", m_body_read, METH_VARARGS, NULL},
    {"pipe_connect", m_pipe_connect, METH_O, NULL},
    {"ws_bind", m_ws_bind, METH_O, NULL},
    {"ws_receive", (PyCFunction)(void (*)(void))m_ws_receive, METH_FASTCALL, NULL},
    {"ws_send", (PyCFunction)(void (*)(void))m_ws_send, METH_FASTCALL, NULL},
    {"ws_close", m_ws_close, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "databridge._core", "The Go engine of databridge (private).", -1, methods,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
