/* json.c — encodes handler return values as JSON, like json.dumps with
 * allow_nan=False and ensure_ascii=False, but in one C pass into a reused
 * buffer. Objects it does not know go through the Python hook `jsonable`
 * (datetime, UUID, dataclasses, pydantic models, ...). */
#include "pybridge.h"
#include <string.h>

int db_max_json_depth; /* see pybridge.h */

int db_buf_reserve(db_buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return 0;
    size_t cap = b->cap ? b->cap : 512;
    while (cap - b->len < extra) cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int db_buf_append(db_buf *b, const void *p, size_t n) {
    if (db_buf_reserve(b, n) < 0) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

#define APPEND_LIT(b, s) db_buf_append((b), (s), sizeof(s) - 1)

static const char hex[] = "0123456789abcdef";

/* 0: copy as is; otherwise the escape letter, or 'u' for \u00XX. */
static const char escape_table[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
};

static int encode_utf8_string(db_buf *b, const char *s, Py_ssize_t n) {
    /* Worst case every byte becomes \u00XX. */
    if (db_buf_reserve(b, (size_t)n * 6 + 2) < 0) return -1;
    char *out = b->data + b->len;
    *out++ = '"';
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && escape_table[*p] == 0) p++;
        memcpy(out, run, p - run);
        out += p - run;
        if (p == end) break;
        char e = escape_table[*p];
        *out++ = '\\';
        if (e == 'u') {
            *out++ = 'u';
            *out++ = '0';
            *out++ = '0';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 15];
        } else {
            *out++ = e;
        }
        p++;
    }
    *out++ = '"';
    b->len = out - b->data;
    return 0;
}

static int encode_str(db_buf *b, PyObject *s) {
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n); /* cached on the str */
    if (u == NULL) return -1;
    return encode_utf8_string(b, u, n);
}

static int encode_float(db_buf *b, PyObject *obj) {
    double d = PyFloat_AS_DOUBLE(obj);
    if (!isfinite(d)) {
        PyErr_Format(PyExc_ValueError, "Out of range float values are not JSON compliant: %R", obj);
        return -1;
    }
    char *s = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL); /* float.__repr__ */
    if (s == NULL) return -1;
    int rc = db_buf_append(b, s, strlen(s));
    PyMem_Free(s);
    return rc;
}

static int encode_long(db_buf *b, PyObject *obj) {
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (overflow) {
        PyObject *text = PyLong_Type.tp_repr(obj); /* int.__repr__, also for subclasses */
        if (text == NULL) return -1;
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(text, &n);
        int rc = s == NULL ? -1 : db_buf_append(b, s, n);
        Py_DECREF(text);
        return rc;
    }
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", v);
    return db_buf_append(b, tmp, n);
}

static int encode(db_buf *b, PyObject *obj, int depth);

static int encode_key(db_buf *b, PyObject *key) {
    if (PyUnicode_Check(key)) return encode_str(b, key);
    /* json.dumps turns these keys into strings too. */
    db_buf tmp = {0};
    int rc;
    if (key == Py_None) rc = APPEND_LIT(&tmp, "null");
    else if (key == Py_True) rc = APPEND_LIT(&tmp, "true");
    else if (key == Py_False) rc = APPEND_LIT(&tmp, "false");
    else if (PyLong_Check(key)) rc = encode_long(&tmp, key);
    else if (PyFloat_Check(key)) rc = encode_float(&tmp, key);
    else {
        PyErr_Format(PyExc_TypeError, "keys must be str, int, float, bool or None, not %.100s",
                     Py_TYPE(key)->tp_name);
        return -1;
    }
    if (rc == 0) rc = encode_utf8_string(b, tmp.data, (Py_ssize_t)tmp.len);
    free(tmp.data);
    return rc;
}

/* A container at depth (the number of containers around it) beyond the JSON
 * limit: the same nesting wire.AppendJSON refuses in a request. */
static int too_deep(int depth) {
    if (depth < db_max_json_depth) return 0;
    PyErr_Format(PyExc_ValueError, "nesting deeper than %d levels to encode as JSON (a circular reference?)",
                 db_max_json_depth);
    return 1;
}

static int encode_dict(db_buf *b, PyObject *obj, int depth) {
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    int first = 1;
    if (too_deep(depth)) return -1;
    if (db_buf_append(b, "{", 1) < 0) return -1;
    while (PyDict_Next(obj, &pos, &k, &v)) {
        if (!first && db_buf_append(b, ",", 1) < 0) return -1;
        first = 0;
        /* Hold references: a jsonable hook could mutate the dict. */
        Py_INCREF(k);
        Py_INCREF(v);
        int rc = encode_key(b, k);
        if (rc == 0) rc = db_buf_append(b, ":", 1);
        if (rc == 0) rc = encode(b, v, depth + 1);
        Py_DECREF(k);
        Py_DECREF(v);
        if (rc < 0) return -1;
    }
    return db_buf_append(b, "}", 1);
}

static int encode_sequence(db_buf *b, PyObject *obj, int depth) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(obj);
    if (too_deep(depth)) return -1;
    if (db_buf_append(b, "[", 1) < 0) return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i && db_buf_append(b, ",", 1) < 0) return -1;
        PyObject *item = PySequence_Fast_GET_ITEM(obj, i);
        Py_INCREF(item);
        int rc = encode(b, item, depth + 1);
        Py_DECREF(item);
        if (rc < 0) return -1;
        n = PySequence_Fast_GET_SIZE(obj); /* the list may have shrunk */
    }
    return db_buf_append(b, "]", 1);
}

static int encode(db_buf *b, PyObject *obj, int depth) {
    if (depth > db_max_json_depth) { /* the jsonable hook's results count as levels too */
        too_deep(depth);
        return -1;
    }
    if (PyUnicode_Check(obj)) return encode_str(b, obj);
    if (obj == Py_None) return APPEND_LIT(b, "null");
    if (obj == Py_True) return APPEND_LIT(b, "true");
    if (obj == Py_False) return APPEND_LIT(b, "false");
    if (PyLong_Check(obj)) return encode_long(b, obj);
    if (PyFloat_Check(obj)) return encode_float(b, obj);
    if (PyDict_Check(obj)) return encode_dict(b, obj, depth);
    if (PyList_Check(obj) || PyTuple_Check(obj)) return encode_sequence(b, obj, depth);
    if (db_jsonable == NULL) {
        PyErr_Format(PyExc_TypeError, "Object of type %.100s is not JSON serializable", Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyObject *alt = PyObject_CallOneArg(db_jsonable, obj);
    if (alt == NULL) return -1;
    int rc;
    if (alt == obj) {
        PyErr_Format(PyExc_TypeError, "Object of type %.100s is not JSON serializable", Py_TYPE(obj)->tp_name);
        rc = -1;
    } else {
        rc = encode(b, alt, depth + 1);
    }
    Py_DECREF(alt);
    return rc;
}

int db_json_encode(db_buf *b, PyObject *obj) { return encode(b, obj, 0); }
