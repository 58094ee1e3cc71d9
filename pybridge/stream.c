/* stream.c — streamed responses (StreamingResponse, a generator or async
 * generator returned by a handler).
 *
 * db_convert makes a db_stream holding the iterator; the reply carries it
 * to Go, which owns it from then on. Go's request goroutine asks for one
 * chunk at a time (DB_MSG_CHUNK, DB_STREAM_NEXT) and asks again only once
 * the previous chunk is written: at most one chunk is in flight, which is
 * the backpressure. It always ends the stream with DB_STREAM_CLOSE, which
 * closes an unfinished iterator (close(): GeneratorExit; aclose() for an
 * async one) and frees the stream.
 *
 * A sync iterator's next() runs inline on the GIL thread (a blocking one
 * stalls the loop); an async iterator's __anext__() runs as an asyncio task
 * whose done-callback answers the chunk. While next()/__anext__() runs,
 * databridge.streaming._current holds the stream's state object, which
 * is_disconnected() reads. */
#include "pybridge.h"

struct db_stream {
    PyObject *iter;  /* owned until the iterator ends or is closed */
    PyObject *route; /* borrowed: the route's label lives as long as the engine */
    PyObject *state; /* owned: a databridge.streaming._StreamState */
    PyObject *task;  /* borrowed from the pending call: the __anext__ task, or NULL */
    int async;
};

static PyObject *m_streaming, *state_class, *current_var, *ensure_future, *cancelled_error;
static PyObject *s_anext, *s_aiter, *s_aclose, *s_close, *s_disconnected, *s_result, *s_add_done_callback,
    *s_cancel;

static int init(void) {
    if (m_streaming != NULL) return 0;
    s_anext = PyUnicode_InternFromString("__anext__");
    s_aiter = PyUnicode_InternFromString("__aiter__");
    s_aclose = PyUnicode_InternFromString("aclose");
    s_close = PyUnicode_InternFromString("close");
    s_disconnected = PyUnicode_InternFromString("disconnected");
    s_result = PyUnicode_InternFromString("result");
    s_add_done_callback = PyUnicode_InternFromString("add_done_callback");
    s_cancel = PyUnicode_InternFromString("cancel");
    PyObject *asyncio = PyImport_ImportModule("asyncio");
    if (asyncio == NULL) return -1;
    ensure_future = PyObject_GetAttrString(asyncio, "ensure_future");
    cancelled_error = PyObject_GetAttrString(asyncio, "CancelledError");
    Py_DECREF(asyncio);
    if (ensure_future == NULL || cancelled_error == NULL) return -1;
    PyObject *m = PyImport_ImportModule("databridge.streaming");
    if (m == NULL) return -1;
    state_class = PyObject_GetAttrString(m, "_StreamState");
    current_var = state_class ? PyObject_GetAttrString(m, "_current") : NULL;
    if (current_var == NULL) {
        Py_DECREF(m);
        return -1;
    }
    m_streaming = m;
    return 0;
}

db_stream *db_stream_new(PyObject *content, PyObject *route) {
    if (init() < 0) return NULL;
    int async = PyObject_HasAttr(content, s_aiter);
    PyObject *iter = async ? PyObject_CallMethodNoArgs(content, s_aiter) : PyObject_GetIter(content);
    if (iter == NULL) return NULL;
    PyObject *state = PyObject_CallNoArgs(state_class);
    db_stream *s = state ? PyMem_RawCalloc(1, sizeof *s) : NULL;
    if (s == NULL) {
        if (state != NULL) PyErr_NoMemory();
        Py_DECREF(iter);
        Py_XDECREF(state);
        return NULL;
    }
    s->iter = iter;
    s->route = route ? route : Py_None;
    s->state = state;
    s->async = async;
    return s;
}

/* Fills c's result from what next()/__anext__() gave: item (a new
 * reference) or NULL with an exception set. */
static void answer(db_call *c, PyObject *item) {
    db_stream *s = c->stream;
    db_result *out = &c->result;
    db_result_reset(out);
    if (item == NULL) {
        Py_CLEAR(s->iter); /* finished, one way or the other */
        if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_StopIteration) ||
            PyErr_ExceptionMatches(PyExc_StopAsyncIteration)) {
            PyErr_Clear();
            out->status = DB_CHUNK_END;
            return;
        }
        if (PyErr_ExceptionMatches(cancelled_error)) { /* cancelled by a disconnect */
            PyErr_Clear();
            out->status = DB_CHUNK_ERROR;
            return;
        }
        if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) || PyErr_ExceptionMatches(PyExc_SystemExit)) {
            db_handler_raised(out, s->route);
        } else {
            db_internal_error(out, "stream", s->route);
        }
        out->status = DB_CHUNK_ERROR;
        out->body_len = 0;
        return;
    }
    const char *data = NULL;
    Py_ssize_t n = 0;
    Py_buffer view = {0};
    int have_view = 0;
    if (PyUnicode_Check(item)) {
        data = PyUnicode_AsUTF8AndSize(item, &n);
    } else if (PyBytes_Check(item) || PyByteArray_Check(item) || PyMemoryView_Check(item)) {
        if (PyObject_GetBuffer(item, &view, PyBUF_SIMPLE) == 0) {
            have_view = 1;
            data = view.buf;
            n = view.len;
        }
    } else {
        PyErr_Format(PyExc_TypeError, "a streamed response's chunks must be bytes or str, not %.100s",
                     Py_TYPE(item)->tp_name);
    }
    if (data == NULL || db_buf_append(&out->buf, data, n) < 0) {
        if (have_view) PyBuffer_Release(&view);
        Py_DECREF(item);
        db_result_reset(out);
        db_internal_error(out, "stream", s->route);
        out->status = DB_CHUNK_ERROR;
        out->body_len = 0;
        Py_CLEAR(s->iter);
        return;
    }
    if (have_view) PyBuffer_Release(&view);
    Py_DECREF(item);
    out->status = DB_CHUNK_DATA;
    out->body_off = 0;
    out->body_len = out->buf.len;
}

/* The __anext__ task finished: self is the call's address. */
static PyObject *chunk_done(PyObject *self, PyObject *task) {
    db_call *c = PyLong_AsVoidPtr(self);
    if (c == NULL) return NULL;
    PyObject *item = PyObject_CallMethodNoArgs(task, s_result);
    c->stream->task = NULL;
    answer(c, item);
    Py_CLEAR(c->task);
    db_publish_one(c);
    Py_RETURN_NONE;
}

static PyMethodDef chunk_done_def = {"_chunk_done", chunk_done, METH_O, NULL};

/* Runs fn(arg) (or fn() when arg is NULL) with _current set to the stream's
 * state, so that the task it makes copies that context. */
static PyObject *with_state(db_stream *s, PyObject *fn, PyObject *arg) {
    PyObject *token = PyContextVar_Set(current_var, s->state);
    if (token == NULL) return NULL;
    PyObject *r = arg ? PyObject_CallOneArg(fn, arg) : PyObject_CallNoArgs(fn);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (PyContextVar_Reset(current_var, token) < 0) PyErr_WriteUnraisable(current_var);
    PyErr_Restore(type, value, tb);
    Py_DECREF(token);
    return r;
}

static int next_chunk(db_call *c, PyObject *loop) {
    db_stream *s = c->stream;
    if (s->iter == NULL) { /* already finished */
        db_result_reset(&c->result);
        c->result.status = DB_CHUNK_END;
        return 1;
    }
    if (!s->async) {
        PyObject *token = PyContextVar_Set(current_var, s->state);
        PyObject *item = token ? PyIter_Next(s->iter) : NULL;
        if (token != NULL) {
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            if (PyContextVar_Reset(current_var, token) < 0) PyErr_WriteUnraisable(current_var);
            PyErr_Restore(type, value, tb);
            Py_DECREF(token);
        }
        answer(c, item);
        return 1;
    }
    PyObject *anext = PyObject_GetAttr(s->iter, s_anext);
    PyObject *task = NULL;
    if (anext != NULL) {
        PyObject *awaitable = with_state(s, anext, NULL);
        Py_DECREF(anext);
        if (awaitable != NULL) {
            PyObject *kw = Py_BuildValue("{s:O}", "loop", loop ? loop : Py_None);
            PyObject *args = kw ? PyTuple_Pack(1, awaitable) : NULL;
            PyObject *token = args ? PyContextVar_Set(current_var, s->state) : NULL;
            task = token ? PyObject_Call(ensure_future, args, kw) : NULL;
            if (token) {
                PyObject *type, *value, *tb;
                PyErr_Fetch(&type, &value, &tb);
                if (PyContextVar_Reset(current_var, token) < 0) PyErr_WriteUnraisable(current_var);
                PyErr_Restore(type, value, tb);
                Py_DECREF(token);
            }
            Py_XDECREF(args);
            Py_XDECREF(kw);
            Py_DECREF(awaitable);
        }
    }
    PyObject *r = NULL;
    if (task != NULL) {
        PyObject *id = PyLong_FromVoidPtr(c);
        PyObject *cb = id ? PyCFunction_New(&chunk_done_def, id) : NULL;
        Py_XDECREF(id);
        r = cb ? PyObject_CallMethodOneArg(task, s_add_done_callback, cb) : NULL;
        Py_XDECREF(cb);
    }
    if (r == NULL) {
        Py_XDECREF(task);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "databridge: cannot start a stream's step");
        answer(c, NULL); /* StopAsyncIteration raised by __anext__ itself is a plain end */
        return 1;
    }
    Py_DECREF(r);
    c->task = task; /* the call keeps it until chunk_done */
    s->task = task;
    return 0;
}

static void close_stream(db_stream *s, PyObject *loop) {
    if (s->task != NULL) { /* Go closes only between chunks; never expected */
        PyObject *r = PyObject_CallMethodNoArgs(s->task, s_cancel);
        Py_XDECREF(r);
        PyErr_Clear();
    }
    if (s->iter != NULL) {
        /* Unfinished: the client left, the server stops, or a HEAD. */
        if (PyObject_SetAttr(s->state, s_disconnected, Py_True) < 0) PyErr_Clear();
        if (s->async) {
            /* aclose() runs as a task on the loop (the generator's finally
             * may await), made with _current set so that is_disconnected()
             * answers inside that finally. */
            PyObject *aclose = PyObject_GetAttr(s->iter, s_aclose);
            PyObject *token = aclose ? PyContextVar_Set(current_var, s->state) : NULL;
            PyObject *aw = token ? PyObject_CallNoArgs(aclose) : NULL;
            PyObject *kw = aw ? Py_BuildValue("{s:O}", "loop", loop ? loop : Py_None) : NULL;
            PyObject *args = kw ? PyTuple_Pack(1, aw) : NULL;
            PyObject *t = args ? PyObject_Call(ensure_future, args, kw) : NULL;
            if (token != NULL) {
                PyObject *type, *value, *tb;
                PyErr_Fetch(&type, &value, &tb);
                if (PyContextVar_Reset(current_var, token) < 0) PyErr_WriteUnraisable(current_var);
                PyErr_Restore(type, value, tb);
                Py_DECREF(token);
            }
            Py_XDECREF(t);
            Py_XDECREF(args);
            Py_XDECREF(kw);
            Py_XDECREF(aw);
            Py_XDECREF(aclose);
        } else if (PyObject_HasAttr(s->iter, s_close)) {
            PyObject *close = PyObject_GetAttr(s->iter, s_close);
            PyObject *r = close ? with_state(s, close, NULL) : NULL;
            Py_XDECREF(close);
            Py_XDECREF(r);
        }
        if (PyErr_Occurred()) { /* the generator's finally raised: log it */
            db_result scratch = {0};
            db_internal_error(&scratch, "stream", s->route);
            free(scratch.buf.data);
        }
        Py_CLEAR(s->iter);
    }
    Py_CLEAR(s->state);
    PyMem_RawFree(s);
}

int db_stream_message(db_call *c, PyObject *loop) {
    db_stream *s = c->stream;
    if (init() < 0) {
        PyErr_WriteUnraisable(NULL);
        if (c->stream_op != DB_STREAM_NEXT) {
            db_free_calls(c);
            return 0;
        }
        db_result_reset(&c->result);
        c->result.status = DB_CHUNK_ERROR;
        return 1;
    }
    switch (c->stream_op) {
    case DB_STREAM_NEXT:
        return next_chunk(c, loop);
    case DB_STREAM_DISCONNECTED:
        if (PyObject_SetAttr(s->state, s_disconnected, Py_True) < 0) PyErr_WriteUnraisable(s->state);
        if (s->task != NULL) {
            PyObject *r = PyObject_CallMethodNoArgs(s->task, s_cancel);
            if (r == NULL) PyErr_WriteUnraisable(s->task);
            Py_XDECREF(r);
        }
        break;
    case DB_STREAM_CLOSE:
        close_stream(s, loop);
        break;
    }
    db_free_calls(c);
    return 0;
}
