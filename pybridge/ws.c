/* ws.c — a WebSocket session's two message queues, in C memory.
 *
 * Why C: the GIL thread must not run Go (see queue.c): a cgo callback
 * leaves a P parked in the thread, and with GOMAXPROCS=1 (pinned) the
 * connection goroutines then wait for sysmon to take it back. Measured with
 * Go exports for send and receive: 26k echoes/s pinned, 32.5k with
 * GOMAXPROCS=4. Here Python's send, receive and close take one mutex and
 * return; the Go goroutines wait on two eventfds through the netpoller:
 *
 *   reader goroutine: db_ws_push ──▶ in-list (or a waiting future: Deliver)
 *   GIL thread: ws_receive pops it; below the limit again ──▶ space_fd
 *   GIL thread: ws_send ──▶ out-list, out_fd ──▶ writer goroutine: db_ws_take_out
 *
 * Lifetime: two references, the Go session's (db_ws_release) and the
 * Python capsule's (its destructor): the last one frees. */
#include "ws.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct db_ws {
    pthread_mutex_t mu;
    int refs;
    db_ws_msg *in_head, *in_tail;
    int in_count, in_limit, reader_waiting;
    PyObject *recv_future;
    db_ws_msg *out_head, *out_tail;
    int out_count, out_limit, writer_sleeping;
    PyObject *send_future;
    int closed;      /* the peer's side is over: the close code */
    char *reason;    /* and its reason */
    size_t reason_len;
    int close_queued; /* Python closed: no more sends */
    int space_fd, out_fd;
};

static void ws_signal(int fd) {
    uint64_t one = 1;
    while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

db_ws *db_ws_new(int in_limit, int out_limit) {
    db_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) return NULL;
    pthread_mutex_init(&ws->mu, NULL);
    ws->refs = 2;
    ws->in_limit = in_limit;
    ws->out_limit = out_limit;
    ws->writer_sleeping = 1;
    ws->space_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ws->out_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ws->space_fd < 0 || ws->out_fd < 0) {
        if (ws->space_fd >= 0) close(ws->space_fd);
        if (ws->out_fd >= 0) close(ws->out_fd);
        free(ws);
        return NULL;
    }
    return ws;
}

int db_ws_out_fd(db_ws *ws) { return ws->out_fd; }
int db_ws_space_fd(db_ws *ws) { return ws->space_fd; }

static db_ws_msg *new_msg(int kind, int code, const char *data, size_t len) {
    db_ws_msg *m = malloc(sizeof *m + len);
    if (m == NULL) return NULL;
    m->next = NULL;
    m->kind = kind;
    m->code = code;
    m->len = len;
    m->data = (char *)(m + 1);
    if (len) memcpy(m->data, data, len);
    return m;
}

void db_ws_free_msgs(db_ws_msg *list) {
    while (list) {
        db_ws_msg *next = list->next;
        free(list);
        list = next;
    }
}

static void ws_free(db_ws *ws) {
    db_ws_free_msgs(ws->in_head);
    db_ws_free_msgs(ws->out_head);
    free(ws->reason);
    close(ws->space_fd);
    close(ws->out_fd);
    pthread_mutex_destroy(&ws->mu);
    free(ws);
}

static int unref(db_ws *ws) {
    pthread_mutex_lock(&ws->mu);
    int last = --ws->refs == 0;
    pthread_mutex_unlock(&ws->mu);
    return last;
}

/* Go, no GIL: the session is over on Go's side. */
void db_ws_release(db_ws *ws) {
    if (unref(ws)) ws_free(ws);
}

/* Go, no GIL: a message read. Returns 1 when *future (owned by the caller
 * now) waits for it instead: the caller delivers it. Else it is queued and
 * the result is 2 when the reader must wait on space_fd before the next,
 * 0 otherwise; -1 when out of memory. */
int db_ws_push(db_ws *ws, int kind, const char *data, size_t len, PyObject **future) {
    *future = NULL;
    pthread_mutex_lock(&ws->mu);
    if (ws->recv_future != NULL) {
        *future = ws->recv_future;
        ws->recv_future = NULL;
        pthread_mutex_unlock(&ws->mu);
        return 1;
    }
    pthread_mutex_unlock(&ws->mu);
    db_ws_msg *m = new_msg(kind, 0, data, len);
    if (m == NULL) return -1;
    pthread_mutex_lock(&ws->mu);
    if (ws->recv_future != NULL) { /* registered meanwhile: it gets m, in order (the list is empty) */
        *future = ws->recv_future;
        ws->recv_future = NULL;
        pthread_mutex_unlock(&ws->mu);
        free(m);
        return 1;
    }
    if (ws->in_tail) ws->in_tail->next = m;
    else ws->in_head = m;
    ws->in_tail = m;
    int full = ++ws->in_count >= ws->in_limit;
    if (full) ws->reader_waiting = 1;
    pthread_mutex_unlock(&ws->mu);
    return full ? 2 : 0;
}

/* Go, no GIL: the peer's side is over (first call wins); hands back the
 * futures waiting, for the caller to deliver. */
void db_ws_disconnect(db_ws *ws, int code, const char *reason, size_t rlen, PyObject **recv, PyObject **send) {
    pthread_mutex_lock(&ws->mu);
    if (ws->closed == 0) {
        ws->closed = code;
        ws->reason = malloc(rlen + 1);
        if (ws->reason) {
            memcpy(ws->reason, reason, rlen);
            ws->reason_len = rlen;
        }
    }
    *recv = ws->recv_future;
    *send = ws->send_future;
    ws->recv_future = ws->send_future = NULL;
    pthread_mutex_unlock(&ws->mu);
}

/* Go, no GIL: frees done (the frames written last time), then returns the
 * frames to write, oldest first (NULL: none; the writer then waits on
 * out_fd). *send is a future waiting for room, if any. */
db_ws_msg *db_ws_take_out(db_ws *ws, db_ws_msg *done, PyObject **send) {
    db_ws_free_msgs(done);
    pthread_mutex_lock(&ws->mu);
    db_ws_msg *list = ws->out_head;
    ws->out_head = ws->out_tail = NULL;
    ws->out_count = 0;
    *send = NULL;
    if (list == NULL) ws->writer_sleeping = 1;
    else {
        *send = ws->send_future;
        ws->send_future = NULL;
    }
    pthread_mutex_unlock(&ws->mu);
    return list;
}

/* -- Python side (GIL) ---------------------------------------------------- */

static void capsule_free(PyObject *capsule) {
    db_ws *ws = PyCapsule_GetPointer(capsule, DB_WS_CAPSULE);
    if (ws == NULL) return;
    pthread_mutex_lock(&ws->mu);
    PyObject *r = ws->recv_future, *s = ws->send_future;
    ws->recv_future = ws->send_future = NULL;
    pthread_mutex_unlock(&ws->mu);
    Py_XDECREF(r);
    Py_XDECREF(s);
    if (unref(ws)) ws_free(ws);
}

/* The session's capsule, from the address in the session payload. Called
 * once per session (websockets.entry). */
PyObject *db_ws_bind(PyObject *addr) {
    void *p = PyLong_AsVoidPtr(addr);
    if (p == NULL) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "databridge: null WebSocket session");
        return NULL;
    }
    return PyCapsule_New(p, DB_WS_CAPSULE, capsule_free);
}

static PyObject *message_tuple(int kind, const char *data, size_t len) {
    PyObject *k = PyLong_FromLong(kind);
    PyObject *v = kind == DB_WS_TEXT ? PyUnicode_DecodeUTF8(data, (Py_ssize_t)len, "surrogateescape")
                                     : PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
    if (k == NULL || v == NULL) {
        Py_XDECREF(k);
        Py_XDECREF(v);
        return NULL;
    }
    PyObject *t = PyTuple_Pack(2, k, v);
    Py_DECREF(k);
    Py_DECREF(v);
    return t;
}

/* The next message as (kind, data), the disconnect as (2, code, reason),
 * or None when future was kept to be resolved with the next message. */
PyObject *db_ws_receive(PyObject *capsule, PyObject *future) {
    db_ws *ws = PyCapsule_GetPointer(capsule, DB_WS_CAPSULE);
    if (ws == NULL) return NULL;
    pthread_mutex_lock(&ws->mu);
    db_ws_msg *m = ws->in_head;
    if (m != NULL) {
        ws->in_head = m->next;
        if (ws->in_head == NULL) ws->in_tail = NULL;
        ws->in_count--;
        int wake = ws->reader_waiting && ws->in_count < ws->in_limit;
        if (wake) ws->reader_waiting = 0;
        pthread_mutex_unlock(&ws->mu);
        if (wake) ws_signal(ws->space_fd);
        PyObject *t = message_tuple(m->kind, m->data, m->len);
        free(m);
        return t;
    }
    if (ws->closed) {
        int code = ws->closed;
        PyObject *reason = PyUnicode_DecodeUTF8(ws->reason ? ws->reason : "", (Py_ssize_t)ws->reason_len, "replace");
        pthread_mutex_unlock(&ws->mu);
        if (reason == NULL) return NULL;
        PyObject *t = Py_BuildValue("(iiN)", DB_WS_DISCONNECT, code, reason);
        return t;
    }
    if (ws->recv_future != NULL) {
        pthread_mutex_unlock(&ws->mu);
        PyErr_SetString(PyExc_RuntimeError, "databridge: another receive is already waiting on this WebSocket");
        return NULL;
    }
    ws->recv_future = Py_NewRef(future);
    pthread_mutex_unlock(&ws->mu);
    Py_RETURN_NONE;
}

static int queue_out(db_ws *ws, db_ws_msg *m) {
    if (ws->out_tail) ws->out_tail->next = m;
    else ws->out_head = m;
    ws->out_tail = m;
    ws->out_count++;
    int wake = ws->writer_sleeping;
    ws->writer_sleeping = 0;
    return wake;
}

/* Queues a frame: 0 queued, -1 the queue is full (future, when not None,
 * kept and resolved once there is room), else the close code of a session
 * that cannot send any more. */
PyObject *db_ws_send(PyObject *capsule, int kind, PyObject *data, PyObject *future) {
    db_ws *ws = PyCapsule_GetPointer(capsule, DB_WS_CAPSULE);
    if (ws == NULL) return NULL;
    const char *p;
    Py_ssize_t n;
    if (PyUnicode_Check(data)) {
        p = PyUnicode_AsUTF8AndSize(data, &n);
        if (p == NULL) return NULL;
    } else if (PyBytes_Check(data)) {
        p = PyBytes_AS_STRING(data);
        n = PyBytes_GET_SIZE(data);
    } else {
        PyErr_SetString(PyExc_TypeError, "data must be str or bytes");
        return NULL;
    }
    if (kind != DB_WS_TEXT && kind != DB_WS_BYTES) {
        PyErr_SetString(PyExc_ValueError, "bad frame kind");
        return NULL;
    }
    pthread_mutex_lock(&ws->mu);
    int rc;
    if (ws->closed || ws->close_queued) {
        rc = ws->closed ? ws->closed : 1000;
    } else if (ws->out_count < ws->out_limit) {
        pthread_mutex_unlock(&ws->mu);
        db_ws_msg *m = new_msg(kind, 0, p, (size_t)n);
        if (m == NULL) return PyErr_NoMemory();
        pthread_mutex_lock(&ws->mu);
        int wake = queue_out(ws, m);
        pthread_mutex_unlock(&ws->mu);
        if (wake) ws_signal(ws->out_fd);
        return PyLong_FromLong(0);
    } else {
        rc = -1;
        if (future != Py_None && ws->send_future == NULL) ws->send_future = Py_NewRef(future);
    }
    pthread_mutex_unlock(&ws->mu);
    return PyLong_FromLong(rc);
}

/* Queues the close frame after the frames before it (past the limit: a
 * close never waits). Later sends fail. */
PyObject *db_ws_close(PyObject *capsule, int code, PyObject *reason) {
    db_ws *ws = PyCapsule_GetPointer(capsule, DB_WS_CAPSULE);
    if (ws == NULL) return NULL;
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(reason, &n);
    if (p == NULL) return NULL;
    db_ws_msg *m = new_msg(DB_WS_CLOSE, code, p, (size_t)n);
    if (m == NULL) return PyErr_NoMemory();
    pthread_mutex_lock(&ws->mu);
    if (ws->close_queued) {
        pthread_mutex_unlock(&ws->mu);
        free(m);
        Py_RETURN_NONE;
    }
    ws->close_queued = 1;
    int wake = queue_out(ws, m);
    pthread_mutex_unlock(&ws->mu);
    if (wake) ws_signal(ws->out_fd);
    Py_RETURN_NONE;
}
