/* response.c — turns what a handler returned (or raised) into a status,
 * headers and body bytes, by the contract of issue #2:
 *   Response(...)                          -> its fields
 *   (status, body) / (status, body, headers)
 *   {"status": int, ["body": ..., "headers": ...]} (only those keys)
 *   None                                   -> 204, no body
 *   anything else                          -> 200 with it as the body
 * Bodies: str -> text/plain; charset=utf-8, bytes -> application/octet-stream,
 * everything else -> JSON. An explicit content-type header wins. */
#include "pybridge.h"
#include <string.h>

static PyObject *response_class, *http_error_class, *report_hook, *file_response_class;
PyObject *db_jsonable;
static PyObject *s_status, *s_body, *s_headers, *s_media_type, *s_detail, *s_error, *s_background, *s_schedule;

static PyObject *intern(const char *s) { return PyUnicode_InternFromString(s); }

int db_configure(PyObject *response, PyObject *http_error, PyObject *report, PyObject *jsonable) {
    if (s_status == NULL) {
        s_status = intern("status");
        s_body = intern("body");
        s_headers = intern("headers");
        s_media_type = intern("media_type");
        s_detail = intern("detail");
        s_error = intern("error");
        s_background = intern("background");
        s_schedule = intern("_schedule_background");
        if (!s_status || !s_body || !s_headers || !s_media_type || !s_detail || !s_error || !s_background ||
            !s_schedule)
            return -1;
    }
    Py_XSETREF(response_class, Py_NewRef(response));
    Py_XSETREF(http_error_class, Py_NewRef(http_error));
    Py_XSETREF(report_hook, Py_NewRef(report));
    Py_XSETREF(db_jsonable, Py_NewRef(jsonable));
    return 0;
}

static PyObject *s_path, *s_filename;

void db_configure_files(PyObject *file_response) {
    if (s_path == NULL) s_path = intern("path");
    if (s_filename == NULL) s_filename = intern("filename");
    Py_XSETREF(file_response_class, Py_NewRef(file_response));
}

void db_result_reset(db_result *out) {
    out->status = 0;
    out->nheaders = 0;
    out->body_off = 0;
    out->body_len = 0;
    out->task = NULL;
    out->buf.len = 0;
    out->stream = NULL;
    out->file = 0;
}

static int put_u32(db_buf *b, uint32_t v) {
    unsigned char x[4] = {v & 255, (v >> 8) & 255, (v >> 16) & 255, v >> 24};
    return db_buf_append(b, x, 4);
}

static int put_header(db_result *out, const char *name, size_t nlen, const char *value, size_t vlen) {
    if (put_u32(&out->buf, (uint32_t)nlen) < 0 || db_buf_append(&out->buf, name, nlen) < 0 ||
        put_u32(&out->buf, (uint32_t)vlen) < 0 || db_buf_append(&out->buf, value, vlen) < 0)
        return -1;
    out->nheaders++;
    return 0;
}

static int is_token_char(unsigned char c) {
    return c > 32 && c < 127 && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* Appends one header; returns 1 when it is Content-Type. */
static int add_header(db_result *out, PyObject *name, PyObject *value) {
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "header names must be str, not %.100s", Py_TYPE(name)->tp_name);
        return -1;
    }
    PyObject *text = PyUnicode_Check(value) ? Py_NewRef(value) : PyObject_Str(value);
    if (text == NULL) return -1;
    Py_ssize_t nlen, vlen;
    const char *n = PyUnicode_AsUTF8AndSize(name, &nlen);
    const char *v = n ? PyUnicode_AsUTF8AndSize(text, &vlen) : NULL;
    int rc = -1;
    if (v == NULL) goto done;
    if (nlen == 0) {
        PyErr_SetString(PyExc_ValueError, "empty header name");
        goto done;
    }
    for (Py_ssize_t i = 0; i < nlen; i++) {
        if (!is_token_char((unsigned char)n[i])) {
            PyErr_Format(PyExc_ValueError, "invalid header name %R", name);
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < vlen; i++) {
        if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0') {
            PyErr_Format(PyExc_ValueError, "invalid character in the value of header %R", name);
            goto done;
        }
    }
    if (put_header(out, n, nlen, v, vlen) < 0) goto done;
    rc = (nlen == 12 && strncasecmp(n, "content-type", 12) == 0) ? 1 : 0;
done:
    Py_DECREF(text);
    return rc;
}

/* headers: a dict/mapping of name -> value, or an iterable of (name, value). */
static int add_headers(db_result *out, PyObject *headers, int *has_ctype) {
    if (headers == NULL || headers == Py_None) return 0;
    PyObject *items;
    if (PyDict_Check(headers)) {
        items = PyDict_Items(headers);
    } else if (PyMapping_Check(headers) && PyObject_HasAttrString(headers, "items")) {
        items = PyMapping_Items(headers);
    } else {
        items = PySequence_List(headers);
    }
    if (items == NULL) return -1;
    Py_ssize_t n = PyList_GET_SIZE(items);
    int rc = 0;
    for (Py_ssize_t i = 0; i < n && rc == 0; i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(pair) && !PyList_Check(pair)) {
            PyErr_SetString(PyExc_TypeError, "headers must be a dict or a list of (name, value) pairs");
            rc = -1;
            break;
        }
        PyObject *fast = PySequence_Fast(pair, "header pair");
        if (fast == NULL || PySequence_Fast_GET_SIZE(fast) != 2) {
            if (fast) PyErr_SetString(PyExc_TypeError, "headers must be a dict or a list of (name, value) pairs");
            Py_XDECREF(fast);
            rc = -1;
            break;
        }
        int r = add_header(out, PySequence_Fast_GET_ITEM(fast, 0), PySequence_Fast_GET_ITEM(fast, 1));
        Py_DECREF(fast);
        if (r < 0) rc = -1;
        else if (r == 1) *has_ctype = 1;
    }
    Py_DECREF(items);
    return rc;
}

static int get_status(PyObject *v, int *status) {
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        PyErr_Format(PyExc_TypeError, "status must be an int, not %.100s", Py_TYPE(v)->tp_name);
        return -1;
    }
    long s = PyLong_AsLong(v);
    if (s == -1 && PyErr_Occurred()) return -1;
    if (s < 100 || s > 599) { /* the engine's range (server.statusValid makes 1xx a 500) */
        PyErr_Format(PyExc_ValueError, "status %ld is not a valid HTTP status", s);
        return -1;
    }
    *status = (int)s;
    return 0;
}

/* Writes headers, then the body with its content type. body == NULL means
 * "no body at all", which is not the same as JSON null. */
static int emit(db_result *out, int status, PyObject *body, PyObject *headers, PyObject *media_type) {
    enum { NO_BODY, TEXT, BYTES, JSON } kind;
    int has_ctype = 0;
    out->status = status;
    if (add_headers(out, headers, &has_ctype) < 0) return -1;
    if (body == NULL) kind = NO_BODY;
    else if (PyUnicode_Check(body)) kind = TEXT;
    else if (PyBytes_Check(body) || PyByteArray_Check(body) || PyMemoryView_Check(body)) kind = BYTES;
    else kind = JSON;
    if (!has_ctype && media_type != NULL && media_type != Py_None) {
        if (!PyUnicode_Check(media_type)) {
            PyErr_SetString(PyExc_TypeError, "media_type must be a str");
            return -1;
        }
        Py_ssize_t n;
        const char *m = PyUnicode_AsUTF8AndSize(media_type, &n);
        if (m == NULL) return -1;
        char ct[512];
        if (n > 400) {
            PyErr_SetString(PyExc_ValueError, "media_type is too long");
            return -1;
        }
        /* As Starlette does: text types get a charset unless they name one. */
        int len = (strncmp(m, "text/", 5) == 0 && strstr(m, "charset") == NULL)
                      ? snprintf(ct, sizeof ct, "%s; charset=utf-8", m)
                      : snprintf(ct, sizeof ct, "%s", m);
        PyObject *name = PyUnicode_FromStringAndSize("content-type", 12);
        PyObject *value = name ? PyUnicode_FromStringAndSize(ct, len) : NULL;
        int rc = value ? add_header(out, name, value) : -1;
        Py_XDECREF(name);
        Py_XDECREF(value);
        if (rc < 0) return -1;
    } else if (!has_ctype && kind != NO_BODY) {
        static const char *defaults[] = {NULL, "text/plain; charset=utf-8", "application/octet-stream",
                                         "application/json"};
        if (put_header(out, "content-type", 12, defaults[kind], strlen(defaults[kind])) < 0) return -1;
    }
    size_t start = out->buf.len;
    switch (kind) {
    case NO_BODY:
        break;
    case TEXT: {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(body, &n);
        if (s == NULL || db_buf_append(&out->buf, s, n) < 0) return -1;
        break;
    }
    case BYTES: {
        Py_buffer view;
        if (PyObject_GetBuffer(body, &view, PyBUF_SIMPLE) < 0) return -1;
        int rc = db_buf_append(&out->buf, view.buf, view.len);
        PyBuffer_Release(&view);
        if (rc < 0) return -1;
        break;
    }
    case JSON:
        if (db_json_encode(&out->buf, body) < 0) return -1;
        break;
    }
    out->body_off = start;
    out->body_len = out->buf.len - start;
    return 0;
}

static int only_response_keys(PyObject *d) {
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (!PyUnicode_Check(k)) return 0;
        if (PyUnicode_Compare(k, s_status) != 0 && PyUnicode_Compare(k, s_body) != 0 &&
            PyUnicode_Compare(k, s_headers) != 0)
            return 0;
    }
    return 1;
}

/* A streamed reply: the status and headers now, then a stream over content
 * (made last, so that nothing can fail after it exists). No default
 * content-type, as Starlette's StreamingResponse. */
static int emit_stream(db_result *out, int status, PyObject *content, PyObject *headers, PyObject *media_type,
                       PyObject *route) {
    if (emit(out, status, NULL, headers, media_type) < 0) return -1;
    out->stream = db_stream_new(content, route);
    return out->stream ? 0 : -1;
}

/* 1 when v is a StreamingResponse (its class sets _databridge_stream). */
static int is_streaming_response(PyObject *v) {
    static PyObject *s_flag;
    if (s_flag == NULL && (s_flag = intern("_databridge_stream")) == NULL) return -1;
    PyObject *flag = PyObject_GetAttr((PyObject *)Py_TYPE(v), s_flag);
    if (flag == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return -1;
        PyErr_Clear();
        return 0;
    }
    int r = PyObject_IsTrue(flag);
    Py_DECREF(flag);
    return r;
}


/* Response.background, when set, runs after the response is sent: the
 * response's _schedule_background starts it as a task (background.py). A
 * failure there is reported, not turned into a 500: the response is made. */
static void schedule_background(PyObject *v) {
    PyObject *bg = PyObject_GetAttr(v, s_background);
    if (bg == NULL) { /* a subclass without the slot set */
        PyErr_Clear();
        return;
    }
    if (bg != Py_None) {
        PyObject *r = PyObject_CallMethodNoArgs(v, s_schedule);
        if (r == NULL) PyErr_WriteUnraisable(v);
        Py_XDECREF(r);
    }
    Py_DECREF(bg);
}

/* A FileResponse: status, headers and media type as a Response's, no body,
 * then a last pair DB_FILE_HEADER with the file, flagged by out->file: Go
 * takes it off the headers (wire.Reply.File) and serves the file. */
static int emit_file(db_result *out, PyObject *v) {
    int status, rc = -1;
    PyObject *st = PyObject_GetAttr(v, s_status);
    if (st == NULL) return -1;
    rc = get_status(st, &status);
    Py_DECREF(st);
    if (rc < 0) return -1;
    rc = -1;
    PyObject *headers = PyObject_GetAttr(v, s_headers);
    PyObject *media = headers ? PyObject_GetAttr(v, s_media_type) : NULL;
    PyObject *path = media ? PyObject_GetAttr(v, s_path) : NULL;
    PyObject *filename = path ? PyObject_GetAttr(v, s_filename) : NULL;
    PyObject *pbytes = NULL, *fbytes = NULL;
    if (filename == NULL) goto done;
    if (!PyUnicode_Check(path) || (filename != Py_None && !PyUnicode_Check(filename))) {
        PyErr_SetString(PyExc_TypeError, "FileResponse path and filename must be str");
        goto done;
    }
    pbytes = PyUnicode_EncodeFSDefault(path);
    if (pbytes == NULL) goto done;
    if (filename != Py_None && (fbytes = PyUnicode_EncodeFSDefault(filename)) == NULL) goto done;
    if (memchr(PyBytes_AS_STRING(pbytes), 0, PyBytes_GET_SIZE(pbytes)) != NULL) {
        PyErr_SetString(PyExc_ValueError, "FileResponse path contains a NUL character");
        goto done;
    }
    if (emit(out, status, NULL, headers, media) < 0) goto done;
    size_t plen = (size_t)PyBytes_GET_SIZE(pbytes), flen = fbytes ? (size_t)PyBytes_GET_SIZE(fbytes) : 0;
    if (put_u32(&out->buf, (uint32_t)strlen(DB_FILE_HEADER)) < 0 ||
        db_buf_append(&out->buf, DB_FILE_HEADER, strlen(DB_FILE_HEADER)) < 0 ||
        put_u32(&out->buf, (uint32_t)(plen + (fbytes ? 1 + flen : 0))) < 0 ||
        db_buf_append(&out->buf, PyBytes_AS_STRING(pbytes), plen) < 0)
        goto done;
    if (fbytes != NULL && (db_buf_append(&out->buf, "", 1) < 0 ||
                           db_buf_append(&out->buf, PyBytes_AS_STRING(fbytes), flen) < 0))
        goto done;
    out->nheaders++;
    out->file = 1;
    out->body_off = out->buf.len;
    out->body_len = 0;
    rc = 0;
done:
    Py_XDECREF(headers);
    Py_XDECREF(media);
    Py_XDECREF(path);
    Py_XDECREF(filename);
    Py_XDECREF(pbytes);
    Py_XDECREF(fbytes);
    return rc;
}

/* route names the call's route in a stream's logs. It is passed, not kept
 * in a global: converting runs Python code, during which a handler thread
 * may take the GIL and convert another call. */
int db_convert(PyObject *v, db_result *out, PyObject *route) {
    int status;
    if (v == Py_None) return emit(out, 204, NULL, NULL, NULL);
    /* Streams: a generator or async generator returned as the whole value,
     * or a StreamingResponse (a Response subclass). */
    if (PyGen_Check(v) || PyAsyncGen_CheckExact(v)) return emit_stream(out, 200, v, NULL, NULL, route);
    if (response_class != NULL && Py_TYPE(v) != (PyTypeObject *)response_class &&
        PyObject_TypeCheck(v, (PyTypeObject *)response_class)) {
        int streaming = is_streaming_response(v);
        if (streaming < 0) return -1;
        if (streaming) {
            PyObject *st = PyObject_GetAttr(v, s_status);
            if (st == NULL) return -1;
            int rc = get_status(st, &status);
            Py_DECREF(st);
            if (rc < 0) return -1;
            PyObject *body = PyObject_GetAttr(v, s_body);
            PyObject *headers = body ? PyObject_GetAttr(v, s_headers) : NULL;
            PyObject *media = headers ? PyObject_GetAttr(v, s_media_type) : NULL;
            rc = media ? emit_stream(out, status, body, headers, media, route) : -1;
            Py_XDECREF(body);
            Py_XDECREF(headers);
            Py_XDECREF(media);
            return rc;
        }
    }
    if (PyDict_Check(v)) {
        PyObject *st = PyDict_GetItemWithError(v, s_status);
        if (st == NULL && PyErr_Occurred()) return -1;
        if (st != NULL && PyLong_Check(st) && !PyBool_Check(st) && only_response_keys(v)) {
            if (get_status(st, &status) < 0) return -1;
            PyObject *body = PyDict_GetItemWithError(v, s_body);
            if (body == NULL && PyErr_Occurred()) return -1;
            PyObject *headers = PyDict_GetItemWithError(v, s_headers);
            if (headers == NULL && PyErr_Occurred()) return -1;
            return emit(out, status, body, headers, NULL);
        }
        return emit(out, 200, v, NULL, NULL);
    }
    if (PyTuple_Check(v)) {
        Py_ssize_t n = PyTuple_GET_SIZE(v);
        PyObject *first = n ? PyTuple_GET_ITEM(v, 0) : NULL;
        if ((n == 2 || n == 3) && PyLong_Check(first) && !PyBool_Check(first)) {
            if (get_status(first, &status) < 0) return -1;
            return emit(out, status, PyTuple_GET_ITEM(v, 1), n == 3 ? PyTuple_GET_ITEM(v, 2) : NULL, NULL);
        }
        return emit(out, 200, v, NULL, NULL);
    }
    if (file_response_class != NULL && PyObject_TypeCheck(v, (PyTypeObject *)file_response_class))
        return emit_file(out, v);
    if (response_class != NULL && PyObject_TypeCheck(v, (PyTypeObject *)response_class)) {
        PyObject *st = PyObject_GetAttr(v, s_status);
        if (st == NULL) return -1;
        int rc = get_status(st, &status);
        Py_DECREF(st);
        if (rc < 0) return -1;
        PyObject *body = PyObject_GetAttr(v, s_body);
        PyObject *headers = body ? PyObject_GetAttr(v, s_headers) : NULL;
        PyObject *media = headers ? PyObject_GetAttr(v, s_media_type) : NULL;
        rc = media ? emit(out, status, body == Py_None ? NULL : body, headers, media) : -1;
        Py_XDECREF(body);
        Py_XDECREF(headers);
        Py_XDECREF(media);
        if (rc == 0) schedule_background(v);
        return rc;
    }
    return emit(out, 200, v, NULL, NULL);
}

/* The current exception, normalised, with its traceback attached. */
static PyObject *fetch_exception(void) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL) PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}

static const char internal_error_body[] = "{\"error\":\"Internal Server Error\"}";

static void emit_500(db_result *out) {
    out->buf.len = 0;
    out->nheaders = 0;
    out->status = 500;
    if (put_header(out, "content-type", 12, "application/json", 16) < 0 ||
        db_buf_append(&out->buf, internal_error_body, sizeof internal_error_body - 1) < 0) {
        /* Out of memory: Go answers a bare 500 for a result without headers. */
        PyErr_Clear();
        out->buf.len = 0;
        out->nheaders = 0;
        out->body_off = out->body_len = 0;
        return;
    }
    out->body_off = out->buf.len - (sizeof internal_error_body - 1);
    out->body_len = sizeof internal_error_body - 1;
}

/* Logs the current exception through the report hook and answers 500. */
void db_internal_error(db_result *out, const char *kind, PyObject *route) {
    PyObject *exc = fetch_exception();
    if (exc != NULL && report_hook != NULL) {
        PyObject *r = PyObject_CallFunction(report_hook, "sOO", kind, route, exc);
        if (r == NULL) PyErr_WriteUnraisable(report_hook);
        Py_XDECREF(r);
    }
    Py_XDECREF(exc);
    emit_500(out);
}

/* A handler raised: HTTPError becomes its response, anything else is
 * logged and answers 500 -- KeyboardInterrupt and SystemExit included: a
 * handler that raises them does not stop the server (issue #9). Ctrl+C and
 * SIGTERM reach the server through the event loop's signal handlers, not
 * as exceptions inside handlers (python/databridge/server.py). */
void db_handler_raised(db_result *out, PyObject *route) {
    if (http_error_class == NULL || !PyErr_ExceptionMatches(http_error_class)) {
        db_internal_error(out, "handler", route);
        return;
    }
    PyObject *exc = fetch_exception();
    out->buf.len = 0;
    out->nheaders = 0;
    int status, rc = -1;
    PyObject *st = PyObject_GetAttr(exc, s_status);
    PyObject *detail = st ? PyObject_GetAttr(exc, s_detail) : NULL;
    PyObject *headers = detail ? PyObject_GetAttr(exc, s_headers) : NULL;
    PyObject *body = headers ? PyDict_New() : NULL;
    if (body != NULL && PyDict_SetItem(body, s_error, detail) == 0 && get_status(st, &status) == 0)
        rc = emit(out, status, body, headers, NULL);
    Py_XDECREF(st);
    Py_XDECREF(detail);
    Py_XDECREF(headers);
    Py_XDECREF(body);
    Py_DECREF(exc);
    if (rc < 0) {
        db_result_reset(out);
        db_internal_error(out, "response", route);
    }
}
