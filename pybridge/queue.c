/* queue.c — the hand-off between request goroutines and the GIL thread,
 * in C so that the GIL thread never runs Go code.
 *
 * Why C: a thread that enters Go through a cgo callback keeps a Go P while
 * it is back in C (cgo parks the P in _Psyscall). Python runs in C, so the
 * GIL thread would hold a P for as long as it runs handlers or waits in
 * epoll; sysmon then retakes it every 20 µs and goroutines it readied wait
 * on it. Measured with the drain written in Go: 44k rps pinned, 6% of the
 * CPU in sysmon wake-ups. Here the GIL thread touches only this queue.
 *
 *   request goroutine: db_submit ──▶ in-list, wake_fd ──▶ asyncio reader: db_drain
 *   GIL thread: run each call ──▶ out-list, done_fd ──▶ completer goroutine: db_take_done
 */
#include "pybridge.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct db_queue {
    pthread_mutex_t mu;
    db_call *in_head, *in_tail;
    int sleeping; /* the GIL thread may be waiting: a submit must signal wake_fd */
    db_call *out_head, *out_tail;
    int wake_fd, done_fd;
    PyObject *loop; /* the asyncio loop, while attached (GIL) */
};

static void signal_fd(int fd) {
    uint64_t one = 1;
    while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
    /* EAGAIN: the counter is saturated, so the fd is readable anyway. */
}

static void clear_fd(int fd) {
    uint64_t n;
    while (read(fd, &n, sizeof n) < 0 && errno == EINTR) {
    }
}

db_queue *db_queue_new(void) {
    db_queue *q = calloc(1, sizeof *q);
    if (q == NULL) return NULL;
    pthread_mutex_init(&q->mu, NULL);
    q->sleeping = 1;
    q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    q->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->wake_fd < 0 || q->done_fd < 0) {
        if (q->wake_fd >= 0) close(q->wake_fd);
        if (q->done_fd >= 0) close(q->done_fd);
        free(q);
        return NULL;
    }
    return q;
}

/* GIL held; nothing may use q after. Calls still queued are leaked. */
void db_queue_free(db_queue *q) {
    Py_CLEAR(q->loop);
    close(q->wake_fd);
    close(q->done_fd);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

const char *db_queue_capsule_name(void) { return DB_QUEUE_CAPSULE; }

int db_queue_wake_fd(db_queue *q) { return q->wake_fd; }
int db_queue_done_fd(db_queue *q) { return q->done_fd; }

/* GIL held. */
int db_queue_attach(db_queue *q, PyObject *loop) {
    if (q->loop != NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "databridge: this app is already being served by an event loop; stop it first");
        return -1;
    }
    q->loop = Py_NewRef(loop);
    return 0;
}

void db_queue_detach(db_queue *q) { Py_CLEAR(q->loop); }

static void push_in(db_queue *q, db_call *c) {
    pthread_mutex_lock(&q->mu);
    if (q->in_tail) q->in_tail->next = c;
    else q->in_head = c;
    q->in_tail = c;
    int wake = q->sleeping;
    q->sleeping = 0;
    pthread_mutex_unlock(&q->mu);
    if (wake) signal_fd(q->wake_fd);
}

static db_call *new_call(db_queue *q, db_msg_kind kind, const char *data, size_t len) {
    db_call *c = calloc(1, sizeof *c + len);
    if (c == NULL) return NULL;
    c->kind = kind;
    c->queue = q;
    c->req = (char *)(c + 1);
    c->req_len = len;
    if (len) memcpy(c->req, data, len);
    return c;
}

/* Any thread, no GIL: queues a handler call. handler and label are
 * borrowed (the engine keeps them alive). Returns NULL when out of memory. */
db_call *db_submit(db_queue *q, PyObject *handler, PyObject *label, const char *req, size_t len, int64_t slot,
                   int kwargs) {
    db_call *c = new_call(q, DB_MSG_CALL, req, len);
    if (c == NULL) return NULL;
    c->handler = handler;
    c->label = label;
    c->slot = slot;
    c->kwargs = kwargs;
    push_in(q, c);
    return c;
}

/* Any thread, no GIL: queues future.set_result(<value in the wire format>).
 * The call owns the reference to future. */
int db_deliver(db_queue *q, PyObject *future, const char *value, size_t len) {
    db_call *c = new_call(q, DB_MSG_RESOLVE, value, len);
    if (c == NULL) return -1;
    c->future = future;
    push_in(q, c);
    return 0;
}

/* Any thread, no GIL: queues a DB_MSG_CHUNK message for a stream (Go owns
 * it: see stream.c). slot is answered for DB_STREAM_NEXT only. */
db_call *db_submit_stream(db_queue *q, struct db_stream *stream, int op, int64_t slot) {
    db_call *c = new_call(q, DB_MSG_CHUNK, NULL, 0);
    if (c == NULL) return NULL;
    c->stream = stream;
    c->stream_op = op;
    c->slot = slot;
    push_in(q, c);
    return c;
}

/* Any thread, no GIL: the calls whose results are ready, oldest first. */
db_call *db_take_done(db_queue *q) {
    pthread_mutex_lock(&q->mu);
    db_call *list = q->out_head;
    q->out_head = q->out_tail = NULL;
    pthread_mutex_unlock(&q->mu);
    return list;
}

/* Any thread, no GIL: frees a list returned by db_take_done. */
void db_free_calls(db_call *list) {
    while (list) {
        db_call *next = list->next;
        free(list->result.buf.data);
        free(list);
        list = next;
    }
}

static void publish(db_queue *q, db_call *head, db_call *tail) {
    if (head == NULL) return;
    pthread_mutex_lock(&q->mu);
    if (q->out_tail) q->out_tail->next = head;
    else q->out_head = head;
    q->out_tail = tail;
    pthread_mutex_unlock(&q->mu);
    signal_fd(q->done_fd);
}

/* A handler's task finished: self is the call's address. */
static PyObject *task_done(PyObject *self, PyObject *task) {
    db_call *c = PyLong_AsVoidPtr(self);
    if (c == NULL) return NULL;
    db_finish_task(task, c->label, &c->result);
    Py_CLEAR(c->task);
    c->next = NULL;
    int fatal = c->result.fatal;
    publish(c->queue, c, c);
    if (fatal) return NULL;
    Py_RETURN_NONE;
}

PyMethodDef db_task_done_def = {"_task_done", task_done, METH_O, NULL};

/* The GIL thread: publishes one finished call (a stream chunk whose task
 * finished). */
void db_publish_one(db_call *c) {
    c->next = NULL;
    publish(c->queue, c, c);
}

/* The GIL thread, from the event loop when wake_fd is readable: runs one
 * batch. Order matters (ENGINE-NOTES: re-arming before the read lost
 * wake-ups): clear the fd, take the batch, and go back to sleeping only
 * when the queue is found empty. Returns NULL with KeyboardInterrupt or
 * SystemExit set when a handler raised one; the rest of the batch stays
 * queued. */
PyObject *db_drain(db_queue *q) {
    clear_fd(q->wake_fd);
    pthread_mutex_lock(&q->mu);
    db_call *batch = q->in_head;
    q->in_head = q->in_tail = NULL;
    if (batch == NULL) q->sleeping = 1;
    pthread_mutex_unlock(&q->mu);

    db_call *done_head = NULL, *done_tail = NULL;
    int fatal = 0;
    while (batch != NULL && !fatal) {
        db_call *c = batch;
        batch = c->next;
        c->next = NULL;
        switch (c->kind) {
        case DB_MSG_RESOLVE:
            if (db_resolve(c->future, c->req, c->req_len) < 0) PyErr_WriteUnraisable(c->future);
            Py_CLEAR(c->future);
            db_free_calls(c);
            continue;
        case DB_MSG_CALL:
            break;
        case DB_MSG_CHUNK:
            if (db_stream_message(c, q->loop)) {
                fatal = c->result.fatal;
                if (done_tail) done_tail->next = c;
                else done_head = c;
                done_tail = c;
            }
            continue;
        default: /* not sent yet by any Go code */
            db_free_calls(c);
            continue;
        }
        db_invoke(c->handler, c->label, c->req, c->req_len, c->kwargs, q->loop, c, &c->result);
        if (c->result.task != NULL) { /* suspended: task_done publishes it */
            c->task = c->result.task;
            c->result.task = NULL;
            continue;
        }
        fatal = c->result.fatal;
        if (done_tail) done_tail->next = c;
        else done_head = c;
        done_tail = c;
    }
    publish(q, done_head, done_tail);

    pthread_mutex_lock(&q->mu);
    if (batch != NULL) { /* put the rest back, ahead of newer calls */
        db_call *last = batch;
        while (last->next) last = last->next;
        last->next = q->in_head;
        q->in_head = batch;
        if (q->in_tail == NULL) q->in_tail = last;
    }
    int more = q->in_head != NULL;
    q->sleeping = !more;
    pthread_mutex_unlock(&q->mu);
    if (more) signal_fd(q->wake_fd); /* let timers and tasks run, then come back */
    if (fatal) return NULL;
    Py_RETURN_NONE;
}
