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
 * Direct writes: once Go attaches the connection's socket (plain TCP or
 * Unix, no permessage-deflate for that size), ws_send frames the message
 * itself and sends it with one non-blocking send(2), under the mutex, when
 * nothing is ahead of it: the out-list is empty, the writer goroutine
 * sleeps, and Go does not hold the write turn (db_ws_begin_write: gorilla's
 * control frames, and the writer's frames, each hold it from their first
 * byte to their last). What the socket does not take (EAGAIN, a partial
 * write, an error) is kept as the partial frame: whoever takes the write
 * turn next writes it first, and the writer goroutine is woken to do so.
 * Measured on the 64-byte echo (bench/ws.py): the writer goroutine's
 * eventfd wake-up, its two TakeOut crossings and two eventfd reads cost a
 * third of the server's time per message.
 *
 * Lifetime: two references, the Go session's (db_ws_release) and the
 * Python capsule's (its destructor): the last one frees. */
#include "ws.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <stdint.h>
#include <unistd.h>

struct db_ws {
    pthread_mutex_t mu;
    int refs;
    db_queue *queue; /* the engine's: DB_MSG_WS calls go there */
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
    int sock_fd;          /* the socket ws_send writes itself; -1: none (Go writes) */
    size_t direct_max;    /* the largest payload written directly */
    int go_writing;       /* Go holds the write turn (db_ws_begin_write) */
    int direct_writing;   /* ws_send is in send(2), without the mutex */
    int turn_waiters;     /* Go threads waiting on turn_cv for direct_writing to end */
    pthread_cond_t turn_cv;
    db_ws_msg *partial;   /* a directly written frame's unsent tail (kind DB_WS_RAW) */
};

static void ws_signal(int fd) {
    uint64_t one = 1;
    while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

db_ws *db_ws_new(db_queue *q, int in_limit, int out_limit) {
    db_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) return NULL;
    pthread_mutex_init(&ws->mu, NULL);
    pthread_cond_init(&ws->turn_cv, NULL);
    ws->refs = 2;
    ws->queue = q;
    ws->in_limit = in_limit;
    ws->out_limit = out_limit;
    ws->writer_sleeping = 1;
    ws->sock_fd = -1;
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
    if (len && data) memcpy(m->data, data, len); /* data NULL: the caller fills it */
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
    db_ws_free_msgs(ws->partial);
    free(ws->reason);
    close(ws->space_fd);
    close(ws->out_fd);
    pthread_cond_destroy(&ws->turn_cv);
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

/* Go, no GIL: a message read, queued. When a receive waits for it, the
 * waiting future is handed to the GIL thread with it (a DB_MSG_WS call on
 * the engine's queue: db_ws_wake), one crossing for the reader. Returns 2
 * when the reader must wait on space_fd before the next, 0 otherwise; -1
 * when out of memory. */
int db_ws_push(db_ws *ws, int kind, const char *data, size_t len) {
    db_ws_msg *m = new_msg(kind, 0, data, len);
    if (m == NULL) return -1;
    pthread_mutex_lock(&ws->mu);
    if (ws->in_tail) ws->in_tail->next = m;
    else ws->in_head = m;
    ws->in_tail = m;
    int full = ++ws->in_count >= ws->in_limit;
    if (full) ws->reader_waiting = 1;
    PyObject *f = ws->recv_future;
    ws->recv_future = NULL;
    if (f != NULL) ws->refs++; /* the DB_MSG_WS call's */
    pthread_mutex_unlock(&ws->mu);
    if (f != NULL && db_queue_ws(ws->queue, ws, f) < 0) {
        /* No call: the receive keeps waiting (nothing can have taken its
         * place, as the list is not empty), the message stays queued. */
        pthread_mutex_lock(&ws->mu);
        ws->recv_future = f;
        ws->refs--;
        pthread_mutex_unlock(&ws->mu);
        return -1;
    }
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
 * out_fd, unless *partial says a partial frame waits to be written first:
 * db_ws_begin_write hands it over). *send is a future waiting for room, if
 * any. */
db_ws_msg *db_ws_take_out(db_ws *ws, db_ws_msg *done, PyObject **send, int *partial) {
    db_ws_free_msgs(done);
    pthread_mutex_lock(&ws->mu);
    db_ws_msg *list = ws->out_head;
    ws->out_head = ws->out_tail = NULL;
    ws->out_count = 0;
    *send = NULL;
    *partial = ws->partial != NULL;
    if (list == NULL && ws->partial == NULL) ws->writer_sleeping = 1;
    else {
        *send = ws->send_future;
        ws->send_future = NULL;
    }
    pthread_mutex_unlock(&ws->mu);
    return list;
}

/* Go, no GIL: the socket ws_send may write itself from now on (payloads
 * up to direct_max bytes), or none (fd -1: before the connection is
 * closed, so that no write can reach a reused descriptor). */
/* With the mutex held: waits for a direct write in send(2) to end. */
static void wait_direct(db_ws *ws) {
    while (ws->direct_writing) {
        ws->turn_waiters++;
        pthread_cond_wait(&ws->turn_cv, &ws->mu);
        ws->turn_waiters--;
    }
}

void db_ws_attach(db_ws *ws, int fd, size_t direct_max) {
    pthread_mutex_lock(&ws->mu);
    wait_direct(ws);
    ws->sock_fd = fd;
    ws->direct_max = direct_max;
    pthread_mutex_unlock(&ws->mu);
}

/* Go, no GIL: Go takes the write turn (ws_send's direct writes queue until
 * db_ws_end_write) and gets the partial frame to write first, if any (the
 * caller frees it). One Go writer at a time: the caller serializes. */
db_ws_msg *db_ws_begin_write(db_ws *ws) {
    pthread_mutex_lock(&ws->mu);
    wait_direct(ws);
    ws->go_writing = 1;
    db_ws_msg *m = ws->partial;
    ws->partial = NULL;
    pthread_mutex_unlock(&ws->mu);
    return m;
}

void db_ws_end_write(db_ws *ws) {
    pthread_mutex_lock(&ws->mu);
    ws->go_writing = 0;
    pthread_mutex_unlock(&ws->mu);
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

/* With the mutex held: the oldest message read (NULL: none); wakes a
 * held-back reader when below the limit again. */
static db_ws_msg *pop_in(db_ws *ws) {
    db_ws_msg *m = ws->in_head;
    if (m == NULL) return NULL;
    ws->in_head = m->next;
    if (ws->in_head == NULL) ws->in_tail = NULL;
    ws->in_count--;
    if (ws->reader_waiting && ws->in_count < ws->in_limit) {
        ws->reader_waiting = 0;
        ws_signal(ws->space_fd);
    }
    return m;
}

/* With the mutex held: (2, code, reason) for a session the peer ended. */
static PyObject *disconnect_tuple(db_ws *ws) {
    PyObject *reason = PyUnicode_DecodeUTF8(ws->reason ? ws->reason : "", (Py_ssize_t)ws->reason_len, "replace");
    if (reason == NULL) return NULL;
    return Py_BuildValue("(iiN)", DB_WS_DISCONNECT, ws->closed, reason);
}

/* The message tuple of m, which it frees. */
static PyObject *take_tuple(db_ws_msg *m) {
    PyObject *t = message_tuple(m->kind, m->data, m->len);
    free(m);
    return t;
}

/* The next message as (kind, data), the disconnect as (2, code, reason),
 * or None when future was kept to be resolved with the next message. A
 * kept future that is done (its receive was cancelled) gives way. */
PyObject *db_ws_receive(PyObject *capsule, PyObject *future) {
    db_ws *ws = PyCapsule_GetPointer(capsule, DB_WS_CAPSULE);
    if (ws == NULL) return NULL;
    for (;;) {
        pthread_mutex_lock(&ws->mu);
        db_ws_msg *m = pop_in(ws);
        if (m != NULL) {
            pthread_mutex_unlock(&ws->mu);
            return take_tuple(m);
        }
        if (ws->closed) {
            PyObject *t = disconnect_tuple(ws);
            pthread_mutex_unlock(&ws->mu);
            return t;
        }
        if (ws->recv_future == NULL) {
            ws->recv_future = Py_NewRef(future);
            pthread_mutex_unlock(&ws->mu);
            Py_RETURN_NONE;
        }
        PyObject *old = ws->recv_future; /* this thread's to check (the GIL): taken out meanwhile */
        ws->recv_future = NULL;
        pthread_mutex_unlock(&ws->mu);
        int done = db_future_done(old);
        if (done == 1) {
            Py_DECREF(old);
            continue;
        }
        pthread_mutex_lock(&ws->mu);
        if (ws->recv_future == NULL && ws->in_head == NULL && !ws->closed) ws->recv_future = old;
        else Py_DECREF(old); /* cannot happen: only this thread registers */
        pthread_mutex_unlock(&ws->mu);
        if (done == 0) PyErr_SetString(PyExc_RuntimeError, "databridge: another receive is already waiting on this WebSocket");
        return NULL;
    }
}

/* The GIL thread, for a DB_MSG_WS call (queue.c): resolves future, which
 * waited when db_ws_push queued a message, with the oldest message, and
 * drops the call's reference to ws. A cancelled future leaves the message
 * for the next receive; one whose message another receive took meanwhile
 * waits again. */
int db_ws_wake(db_ws *ws, PyObject *future) {
    int rc = 0;
    int done = db_future_done(future);
    if (done != 0) {
        rc = done < 0 ? -1 : 0;
    } else {
        pthread_mutex_lock(&ws->mu);
        db_ws_msg *m = pop_in(ws);
        PyObject *t = NULL;
        int again = 0;
        if (m == NULL) {
            if (ws->closed) t = disconnect_tuple(ws);
            else if (ws->recv_future == NULL) {
                ws->recv_future = Py_NewRef(future);
                again = 1;
            }
        }
        pthread_mutex_unlock(&ws->mu);
        if (m != NULL) t = take_tuple(m);
        if (t != NULL) {
            rc = db_future_set(future, 0, t);
            Py_DECREF(t);
        } else if (PyErr_Occurred()) {
            rc = -1;
        } else if (!again) { /* two receives at once: this one fails, as ws_receive would */
            PyObject *exc = PyObject_CallFunction(PyExc_RuntimeError, "s",
                                                  "databridge: another receive is already waiting on this WebSocket");
            rc = exc ? db_future_set(future, 1, exc) : -1;
            Py_XDECREF(exc);
        }
    }
    if (unref(ws)) ws_free(ws);
    return rc;
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

/* A server frame's header (RFC 6455 §5.2: FIN, the opcode, no mask) for a
 * payload of n bytes; returns its length. */
static size_t frame_header(unsigned char *h, int kind, size_t n) {
    h[0] = 0x80 | (kind == DB_WS_TEXT ? 0x1 : 0x2);
    if (n < 126) {
        h[1] = (unsigned char)n;
        return 2;
    }
    if (n <= 0xffff) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    return 10;
}

/* With the mutex held and nothing ahead: sends one frame on the socket
 * without waiting. What is not sent becomes the partial frame, and the
 * result is 1 when the writer goroutine must be woken to send it, else 0
 * (-1: no memory for it; the connection is shut down, as its stream is
 * cut). An error other than EAGAIN stops direct
 * writes: Go's write of the partial frame then meets it and ends the
 * session. */
static int send_direct(db_ws *ws, int kind, const char *p, size_t n) {
    unsigned char h[10];
    size_t hl = frame_header(h, kind, n);
    struct iovec iov[2] = {{h, hl}, {(void *)p, n}};
    struct msghdr msg = {0};
    msg.msg_iov = iov;
    msg.msg_iovlen = n ? 2 : 1;
    /* The send runs without the mutex, so that the reader goroutine's push
     * does not wait on it (nor sleep on the futex when the send's softirq
     * wakes it mid-send); the write turn and the descriptor are kept by
     * direct_writing: Go's begin_write and attach wait for it. Only the GIL
     * thread sends, so nothing queues meanwhile. */
    ws->direct_writing = 1;
    int fd = ws->sock_fd;
    pthread_mutex_unlock(&ws->mu);
    ssize_t w;
    do {
        w = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (w < 0 && errno == EINTR);
    pthread_mutex_lock(&ws->mu);
    ws->direct_writing = 0;
    if (ws->turn_waiters) pthread_cond_broadcast(&ws->turn_cv);
    size_t total = hl + n;
    if (w >= 0 && (size_t)w == total) return 0;
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) ws->sock_fd = -1;
        w = 0;
    }
    size_t sent = (size_t)w, rest = total - sent;
    db_ws_msg *m = new_msg(DB_WS_RAW, 0, NULL, rest);
    if (m != NULL) {
        size_t hrest = sent < hl ? hl - sent : 0;
        memcpy(m->data, h + (hl - hrest), hrest);
        memcpy(m->data + hrest, p + (n - (rest - hrest)), rest - hrest);
    }
    if (m == NULL) { /* the frame is cut and its tail lost: the stream cannot go on */
        shutdown(ws->sock_fd, SHUT_RDWR);
        ws->sock_fd = -1;
        return -1;
    }
    ws->partial = m;
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
    } else if (ws->sock_fd >= 0 && ws->writer_sleeping && !ws->go_writing && ws->partial == NULL &&
               (size_t)n <= ws->direct_max) {
        int wake = send_direct(ws, kind, p, (size_t)n);
        pthread_mutex_unlock(&ws->mu);
        if (wake < 0) return PyErr_NoMemory();
        if (wake) ws_signal(ws->out_fd);
        return PyLong_FromLong(0);
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
