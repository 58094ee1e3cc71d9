/* ws.h — a WebSocket session's message queues in C memory (ws.c), so that
 * the GIL thread sends and receives without entering Go. */
#ifndef DB_WS_H
#define DB_WS_H
#include "pybridge.h"

#define DB_WS_CAPSULE "databridge._core.ws"

enum { DB_WS_TEXT = 0, DB_WS_BYTES = 1, DB_WS_DISCONNECT = 2, DB_WS_CLOSE = 3, DB_WS_RAW = 4 };

typedef struct db_ws_msg {
    struct db_ws_msg *next;
    int kind;   /* DB_WS_TEXT, DB_WS_BYTES, DB_WS_CLOSE (code in code), or DB_WS_RAW (bytes of a frame) */
    int code;
    size_t len;
    char *data; /* points just past the struct */
} db_ws_msg;

typedef struct db_ws db_ws;

db_ws *db_ws_new(db_queue *q, int in_limit, int out_limit);
int db_ws_out_fd(db_ws *ws);
int db_ws_space_fd(db_ws *ws);
/* Go, no GIL. */
int db_ws_push(db_ws *ws, int kind, const char *data, size_t len);
void db_ws_disconnect(db_ws *ws, int code, const char *reason, size_t rlen, PyObject **recv, PyObject **send);
db_ws_msg *db_ws_take_out(db_ws *ws, db_ws_msg *done, PyObject **send, int *partial);
void db_ws_attach(db_ws *ws, int fd, size_t direct_max);
db_ws_msg *db_ws_begin_write(db_ws *ws);
void db_ws_end_write(db_ws *ws);
void db_ws_free_msgs(db_ws_msg *list);
void db_ws_release(db_ws *ws);
/* Python, GIL (module.c). */
PyObject *db_ws_bind(PyObject *addr);
PyObject *db_ws_receive(PyObject *capsule, PyObject *future);
PyObject *db_ws_send(PyObject *capsule, int kind, PyObject *data, PyObject *future);
PyObject *db_ws_close(PyObject *capsule, int code, PyObject *reason);
#endif
