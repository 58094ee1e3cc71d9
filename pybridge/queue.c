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
 *
 * Handler threads (issue #9): a sync handler (a def) may block in I/O, so
 * its calls go to a second list, the sync list, served by handler threads
 * (Python threads started by _runtime.py, each inside db_serve_sync) while
 * any run; async handlers, inline routes and the test client's messages
 * stay on the in-list and the event loop thread. A handler thread waits on
 * sync_cv without the GIL, takes ONE call, takes the GIL, runs it and
 * publishes it through the same out-list and done_fd; it takes the next
 * queued call without letting the GIL go, so that under load the calls of
 * a busy thread run back to back as a batch does.
 *
 *   request goroutine: db_submit(pool) ──▶ sync list, sync_cv ──▶ handler thread: run one call ──▶ out-list
 */
#include "pybridge.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

volatile int db_timing;

int64_t db_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The timestamps of a measured call (db_timing): its handler starts, its
 * reply is ready. */
static inline void call_started(db_call *c) {
    if (c->t_queued) c->t_started = db_now_ns();
}
static inline void call_done(db_call *c) {
    if (c->t_queued) c->t_done = db_now_ns();
}

struct db_queue {
    pthread_mutex_t mu;
    db_call *in_head, *in_tail;
    int sleeping; /* the GIL thread may be waiting: a submit must signal wake_fd */
    db_call *out_head, *out_tail;
    int wake_fd, done_fd;
    PyObject *loop; /* the asyncio loop, while attached (GIL) */
    /* Handler threads; all under mu. */
    pthread_cond_t sync_cv;
    db_call *sync_head, *sync_tail;
    int workers;        /* handler threads of the current generation */
    int idle;           /* of those, waiting on sync_cv */
    int waking;         /* one was signalled and has not looked at the list yet: signal no other */
    int running;        /* handler threads inside a call */
    int chain;          /* the signalled thread was woken by db_tick_handlers: it wakes the next */
    db_call *tick_head; /* the sync list's head at the last tick */
    int alive;          /* handler threads inside db_serve_sync, of any generation */
    int freed;          /* db_queue_free was called: the last of them frees the queue */
    unsigned long gen;  /* db_stop_handlers starts a new generation: the old threads leave */
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
    pthread_cond_init(&q->sync_cv, NULL);
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
static void queue_release(db_queue *q) {
    Py_CLEAR(q->loop);
    close(q->wake_fd);
    close(q->done_fd);
    pthread_cond_destroy(&q->sync_cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* A handler thread still blocked in a handler when the engine is freed
 * (its app collected after a stop that gave up waiting for it) uses the
 * queue when the handler returns: the last such thread frees it then. */
void db_queue_free(db_queue *q) {
    pthread_mutex_lock(&q->mu);
    int deferred = q->alive > 0;
    q->freed = 1;
    q->gen++; /* any thread still serving leaves after its call */
    q->workers = 0;
    pthread_cond_broadcast(&q->sync_cv);
    pthread_mutex_unlock(&q->mu);
    if (!deferred) queue_release(q);
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
 * borrowed (the engine keeps them alive). pool: the handler may block, so
 * it runs on a handler thread when any serve (else on the loop thread, as
 * every call did before handler threads). Returns NULL when out of memory. */
db_call *db_submit(db_queue *q, PyObject *handler, PyObject *label, const char *req, size_t len, int64_t slot,
                   int kwargs, int pool) {
    db_call *c = new_call(q, DB_MSG_CALL, req, len);
    if (c == NULL) return NULL;
    if (db_timing) c->t_queued = db_now_ns();
    c->handler = handler;
    c->label = label;
    c->slot = slot;
    c->kwargs = kwargs;
    if (pool) {
        pthread_mutex_lock(&q->mu);
        if (q->workers > 0) {
            if (q->sync_tail) q->sync_tail->next = c;
            else q->sync_head = c;
            q->sync_tail = c;
            /* Wake a thread only when none is running a call: a running
             * one takes this call next, unless it is blocked, which
             * db_tick_handlers finds out. Waking one per call while another
             * runs calls back to back cost a GIL hand-off per call. */
            if (q->idle > 0 && !q->waking && q->running == 0) {
                q->waking = 1;
                q->chain = 0;
                pthread_cond_signal(&q->sync_cv);
            }
            pthread_mutex_unlock(&q->mu);
            return c;
        }
        pthread_mutex_unlock(&q->mu);
    }
    push_in(q, c);
    return c;
}

/* mu held: the oldest call of the sync list, or NULL. */
static db_call *pop_sync(db_queue *q) {
    db_call *c = q->sync_head;
    if (c != NULL) {
        q->sync_head = c->next;
        if (q->sync_head == NULL) q->sync_tail = NULL;
        c->next = NULL;
    }
    return c;
}

static void publish(db_queue *q, db_call *head, db_call *tail);

/* A handler thread: a Python thread (started by the threading module, so it
 * has a thread state) calls this with the GIL held; it returns None when
 * db_stop_handlers ends its generation and the sync list is empty.
 * The GIL is released while waiting (Py_BEGIN/END_ALLOW_THREADS, paired)
 * and while the handler itself blocks (its own I/O releases it). */
PyObject *db_serve_sync(db_queue *q) {
    pthread_mutex_lock(&q->mu);
    unsigned long gen = q->gen;
    q->workers++;
    q->alive++;
    pthread_mutex_unlock(&q->mu);
    /* workers is not decremented on the way out: db_stop_handlers zeroes
     * it when it ends the generation, the only way out. */
    int woken = 0;
    for (;;) {
        /* Calls are taken with the GIL held: a thread woken while another
         * runs calls back to back waits for the GIL first and finds the list
         * empty (no GIL hand-off per call), yet takes over as soon as the
         * busy one blocks in I/O and lets the GIL go. */
        pthread_mutex_lock(&q->mu);
        db_call *c = pop_sync(q);
        if (woken) { /* the wake-up is consumed; a tick's is passed on while calls wait */
            woken = 0;
            q->waking = 0;
            if (q->chain && q->sync_head != NULL && q->idle > 0) {
                q->waking = 1;
                pthread_cond_signal(&q->sync_cv);
            } else {
                q->chain = 0;
            }
        }
        if (c == NULL && q->gen != gen) {
            pthread_mutex_unlock(&q->mu);
            break; /* stopped, nothing queued */
        }
        if (c == NULL) {
            pthread_mutex_unlock(&q->mu);
            Py_BEGIN_ALLOW_THREADS
            pthread_mutex_lock(&q->mu);
            while (q->sync_head == NULL && q->gen == gen) {
                q->idle++;
                pthread_cond_wait(&q->sync_cv, &q->mu);
                q->idle--;
                /* Woken for a call another thread took: nothing left to
                 * wake anyone for, so let the next submit signal. */
                if (q->sync_head == NULL) q->waking = 0;
            }
            woken = 1;
            pthread_mutex_unlock(&q->mu);
            Py_END_ALLOW_THREADS
            continue;
        }
        q->running++;
        pthread_mutex_unlock(&q->mu);
        call_started(c);
        db_invoke(c->handler, c->label, c->req, c->req_len, c->kwargs, NULL, NULL, &c->result);
        call_done(c);
        publish(q, c, c);
        pthread_mutex_lock(&q->mu);
        q->running--;
        pthread_mutex_unlock(&q->mu);
    }
    pthread_mutex_lock(&q->mu);
    int last = --q->alive == 0 && q->freed;
    pthread_mutex_unlock(&q->mu);
    if (last) queue_release(q);
    Py_RETURN_NONE;
}

/* Any thread, no GIL, every 500 µs while sync calls wait (package loop):
 * when the oldest sync call has waited since the last tick while a thread
 * is idle, the running threads are blocked (or busy for longer than
 * that): wake one, which wakes the next while calls still wait, so that a
 * burst of blocking calls spreads over the pool within a tick. Returns
 * whether sync calls are queued (the ticker stops when none are). */
int db_tick_handlers(db_queue *q) {
    pthread_mutex_lock(&q->mu);
    db_call *head = q->sync_head;
    if (head != NULL && head == q->tick_head && q->idle > 0 && !q->waking) {
        q->waking = 1;
        q->chain = 1;
        pthread_cond_signal(&q->sync_cv);
    }
    q->tick_head = head;
    pthread_mutex_unlock(&q->mu);
    return head != NULL;
}

/* Any thread, no GIL: ends the current generation of handler threads.
 * Each leaves once its current call (if any) is done. Calls still queued
 * for them, and those submitted from now on, go to the loop thread until
 * new threads start. */
void db_stop_handlers(db_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->gen++;
    q->workers = 0;
    q->waking = 0;
    q->chain = 0;
    q->tick_head = NULL;
    db_call *rest = q->sync_head;
    q->sync_head = q->sync_tail = NULL;
    pthread_cond_broadcast(&q->sync_cv);
    pthread_mutex_unlock(&q->mu);
    while (rest != NULL) {
        db_call *c = rest;
        rest = c->next;
        c->next = NULL;
        push_in(q, c);
    }
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

/* Any thread, no GIL: queues the hand-over of a WebSocket message to the
 * receive waiting for it (db_ws_wake, ws.c); the call owns future and a
 * reference to ws. */
int db_queue_ws(db_queue *q, struct db_ws *ws, PyObject *future) {
    db_call *c = new_call(q, DB_MSG_WS, NULL, 0);
    if (c == NULL) return -1;
    c->future = future;
    c->ws = ws;
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
    /* The completer reads done_fd and then takes the whole list, so the fd
     * needs a signal only when the list goes from empty to not empty. */
    int was_empty = q->out_head == NULL;
    if (q->out_tail) q->out_tail->next = head;
    else q->out_head = head;
    q->out_tail = tail;
    pthread_mutex_unlock(&q->mu);
    if (was_empty) signal_fd(q->done_fd);
}

/* A handler's task finished: self is the call's address. */
static PyObject *task_done(PyObject *self, PyObject *task) {
    db_call *c = PyLong_AsVoidPtr(self);
    if (c == NULL) return NULL;
    db_finish_task(task, c->label, &c->result);
    Py_CLEAR(c->task);
    c->next = NULL;
    if (c->kind == DB_MSG_CALL) call_done(c);
    publish(c->queue, c, c);
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
 * when the queue is found empty. What a handler raises becomes its
 * response (KeyboardInterrupt and SystemExit too: see db_handler_raised),
 * so this never fails. */
PyObject *db_drain(db_queue *q) {
    clear_fd(q->wake_fd);
    pthread_mutex_lock(&q->mu);
    db_call *batch = q->in_head;
    q->in_head = q->in_tail = NULL;
    if (batch == NULL) q->sleeping = 1;
    pthread_mutex_unlock(&q->mu);

    db_call *done_head = NULL, *done_tail = NULL;
    while (batch != NULL) {
        db_call *c = batch;
        batch = c->next;
        c->next = NULL;
        switch (c->kind) {
        case DB_MSG_RESOLVE:
            if (db_resolve(c->future, c->req, c->req_len) < 0) PyErr_WriteUnraisable(c->future);
            Py_CLEAR(c->future);
            db_free_calls(c);
            continue;
        case DB_MSG_WS:
            if (db_ws_wake(c->ws, c->future) < 0) PyErr_WriteUnraisable(c->future);
            Py_CLEAR(c->future);
            db_free_calls(c);
            continue;
        case DB_MSG_CALL:
            break;
        case DB_MSG_CHUNK:
            if (db_stream_message(c, q->loop)) {
                if (done_tail) done_tail->next = c;
                else done_head = c;
                done_tail = c;
            }
            continue;
        default: /* not sent yet by any Go code */
            db_free_calls(c);
            continue;
        }
        call_started(c);
        db_invoke(c->handler, c->label, c->req, c->req_len, c->kwargs, q->loop, c, &c->result);
        if (c->result.task != NULL) { /* suspended: task_done publishes it */
            c->task = c->result.task;
            c->result.task = NULL;
            continue;
        }
        call_done(c);
        if (done_tail) done_tail->next = c;
        else done_head = c;
        done_tail = c;
    }
    publish(q, done_head, done_tail);

    pthread_mutex_lock(&q->mu);
    int more = q->in_head != NULL;
    q->sleeping = !more;
    pthread_mutex_unlock(&q->mu);
    if (more) signal_fd(q->wake_fd); /* let timers and tasks run, then come back */
    Py_RETURN_NONE;
}
