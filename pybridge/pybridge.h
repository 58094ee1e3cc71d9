/* pybridge.h — the C half of package pybridge: the hot paths that would
 * cost one cgo crossing per field if written with cpy3 calls.
 *
 * Every function here must be called with the GIL held. */
#ifndef DATABRIDGE_PYBRIDGE_H
#define DATABRIDGE_PYBRIDGE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* A growable byte buffer, reused across requests. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} db_buf;

int db_buf_reserve(db_buf *b, size_t extra);
int db_buf_append(db_buf *b, const void *p, size_t n);

/* What one handler call produced.
 * buf holds the header block then the body:
 *   header block: count pairs of (u32 name length, name, u32 value length, value)
 *   body:         buf.data[body_off : body_off+body_len] */
typedef struct {
    int status;
    int nheaders;
    size_t body_off;
    size_t body_len;
    PyObject *task;   /* new reference: an unfinished asyncio task, or NULL */
    int file;         /* a FileResponse: the last header pair is the file (DB_FILE_HEADER) */
    db_buf buf;
    /* stream.c: the reply is streamed; Go owns the stream from the reply on
     * and ends it with a DB_STREAM_CLOSE message. NULL for whole bodies. */
    struct db_stream *stream;
} db_result;

/* queue.c: the hand-off between request goroutines and the GIL thread. */
typedef struct db_queue db_queue;

/* What a queued message asks of the GIL thread. */
typedef enum {
    DB_MSG_CALL = 1,    /* run a handler: req is the wire-encoded request */
    DB_MSG_RESOLVE = 2, /* future.set_result(<req decoded>): the test client */
    /* Reserved for streams (next issues): chunks of a request or response
     * body delivered to, or taken from, a handler that is still running. */
    DB_MSG_CHUNK = 3,
    /* a WebSocket message for a waiting receive: ws and future (ws.c) */
    DB_MSG_WS = 4,
} db_msg_kind;

typedef struct db_call {
    struct db_call *next;
    db_msg_kind kind;
    db_queue *queue;
    PyObject *handler; /* borrowed */
    PyObject *label;   /* borrowed */
    PyObject *future;  /* owned, DB_MSG_RESOLVE: the future to resolve */
    PyObject *task;    /* owned while the handler's task runs */
    int64_t slot;      /* the waiting goroutine's slot in Go */
    int kwargs;        /* req holds the request dict, then a dict of keyword arguments */
    db_result result;
    char *req;
    size_t req_len;
    /* DB_MSG_CHUNK: the stream and what to do with it (DB_STREAM_*). */
    struct db_stream *stream;
    int stream_op;
    /* DB_MSG_WS: the session (a reference: db_ws_wake drops it). */
    struct db_ws *ws;
    /* DB_MSG_CALL while db_timing is set (metrics on): CLOCK_MONOTONIC ns
     * when the call was queued, when its handler started, when its reply
     * was ready (0: not measured). */
    int64_t t_queued, t_started, t_done;
} db_call;

/* Set by Go (pybridge.SetTiming) while metrics are collected: calls carry
 * their t_queued/t_started/t_done. */
extern volatile int db_timing;
int64_t db_now_ns(void);

/* What a DB_MSG_CHUNK message asks (stream.c). */
enum {
    DB_STREAM_NEXT = 1,         /* the next chunk, answered on the call's slot */
    DB_STREAM_CLOSE = 2,        /* stop the iterator (if not finished) and free the stream; no answer */
    DB_STREAM_DISCONNECTED = 3, /* the client is gone: is_disconnected() turns true, a pending
                                 * __anext__ task is cancelled; no answer */
};
/* The status of a DB_STREAM_NEXT answer. */
#define DB_CHUNK_DATA 200  /* body is the chunk */
#define DB_CHUNK_END 204   /* the iterator is exhausted */
#define DB_CHUNK_ERROR 500 /* the iterator raised (logged): cut the response */

/* The name of the capsules that carry a queue to databridge._core.drain. */
#define DB_QUEUE_CAPSULE "databridge.queue"
const char *db_queue_capsule_name(void);

db_queue *db_queue_new(void);
void db_queue_free(db_queue *q);
int db_queue_wake_fd(db_queue *q);
int db_queue_done_fd(db_queue *q);
int db_queue_attach(db_queue *q, PyObject *loop);
void db_queue_detach(db_queue *q);
db_call *db_submit(db_queue *q, PyObject *handler, PyObject *label, const char *req, size_t len, int64_t slot,
                   int kwargs, int pool);
PyObject *db_serve_sync(db_queue *q);
void db_stop_handlers(db_queue *q);
int db_tick_handlers(db_queue *q);
int db_deliver(db_queue *q, PyObject *future, const char *value, size_t len);
db_call *db_take_done(db_queue *q);
void db_free_calls(db_call *list);
PyObject *db_drain(db_queue *q);
extern PyMethodDef db_task_done_def;
db_call *db_submit_stream(db_queue *q, struct db_stream *stream, int op, int64_t slot);
void db_publish_one(db_call *c);

/* stream.c: streamed responses. */
typedef struct db_stream db_stream;
db_stream *db_stream_new(PyObject *content, PyObject *route);
/* The GIL thread, for a DB_MSG_CHUNK message: returns 1 when c is answered
 * now (to publish), 0 when a task answers it later or it needs no answer
 * (then it was freed). */
int db_stream_message(db_call *c, PyObject *loop);

/* decode.c: the wire format (see package wire) to Python objects. */
int db_set_keys(const char **keys, const int *lens, int n);
PyObject *db_decode(const char *data, size_t len);
int db_decode_values(const char *data, size_t len, PyObject **out, int n);

/* json.c: Python objects to JSON text. */
int db_json_encode(db_buf *b, PyObject *obj);

/* The deepest nesting of JSON arrays and objects: wire.MaxJSONDepth, set by
 * pybridge's init() (depth.go) before any call. A request body at that depth
 * decodes (db_decode) and a response at that depth encodes (db_json_encode);
 * one level more is refused by both, as by the parser (wire.AppendJSON). */
extern int db_max_json_depth;

/* response.c / call.c: running handlers and converting what they return. */
int db_configure(PyObject *response_class, PyObject *http_error_class,
                 PyObject *report, PyObject *jsonable);
/* The FileResponse class: db_convert encodes one as its status and headers
 * plus a last pair DB_FILE_HEADER (path, then NUL and filename when set),
 * with db_result.file set; Go takes that pair off as wire.Reply.File and
 * serves the file (pyroute, package files). */
void db_configure_files(PyObject *file_response_class);
#define DB_FILE_HEADER ":databridge-file"
void db_invoke(PyObject *handler, PyObject *route, const char *req, size_t req_len, int kwargs,
               PyObject *loop, void *token, db_result *out);
void db_finish_task(PyObject *task, PyObject *route, db_result *out);
int db_resolve(PyObject *future, const char *data, size_t len);
/* GIL: 1 when future is done (a waiter cancelled), 0 when it waits, -1 on
 * error; future.set_result(value), or set_exception when exception. */
int db_future_done(PyObject *future);
int db_future_set(PyObject *future, int exception, PyObject *value);
/* ws.c: the GIL thread, for a DB_MSG_WS message. queue.c: any thread,
 * queues one (it owns future). */
struct db_ws;
int db_ws_wake(struct db_ws *ws, PyObject *future);
int db_queue_ws(db_queue *q, struct db_ws *ws, PyObject *future);

/* Internal helpers shared between the C files. */
extern PyObject *db_jsonable;
void db_result_reset(db_result *out);
int db_convert(PyObject *value, db_result *out, PyObject *route); /* route: named in a stream's logs */
void db_internal_error(db_result *out, const char *kind, PyObject *route);
void db_handler_raised(db_result *out, PyObject *route);

#endif
