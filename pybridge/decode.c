/* decode.c — builds Python objects from the wire format in one pass.
 * Cost: one allocation per Python object created; fixed keys are interned
 * strings shared by every request. */
#include "pybridge.h"
#include <string.h>

#define MAX_KEYS 64

static PyObject *keys[MAX_KEYS];
static int nkeys;
static PyObject *uuid_class;
static PyObject *multidict_class, *s_lists, *empty_args; /* databridge.requests.MultiDict */

/* The class of 'm' values, imported on first use (the package is loaded
 * by then: it is what configures the engine). */
static PyObject *multidict(void) {
    if (multidict_class != NULL) return multidict_class;
    PyObject *mod = PyImport_ImportModule("databridge.requests");
    if (mod == NULL) return NULL;
    PyObject *cls = PyObject_GetAttrString(mod, "MultiDict");
    Py_DECREF(mod);
    if (cls == NULL) return NULL;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &PyDict_Type)) {
        Py_DECREF(cls);
        PyErr_SetString(PyExc_TypeError, "databridge.requests.MultiDict must be a dict subclass");
        return NULL;
    }
    s_lists = PyUnicode_InternFromString("_lists");
    empty_args = PyTuple_New(0);
    if (s_lists == NULL || empty_args == NULL) {
        Py_DECREF(cls);
        return NULL;
    }
    multidict_class = cls;
    return cls;
}

int db_set_keys(const char **texts, const int *lens, int n) {
    if (n > MAX_KEYS) {
        PyErr_SetString(PyExc_RuntimeError, "databridge: too many interned keys");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        PyObject *s = PyUnicode_FromStringAndSize(texts[i], lens[i]);
        if (s == NULL) return -1;
        PyUnicode_InternInPlace(&s);
        Py_XSETREF(keys[i], s);
    }
    nkeys = n;
    if (uuid_class == NULL) {
        PyObject *mod = PyImport_ImportModule("uuid");
        if (mod == NULL) return -1;
        uuid_class = PyObject_GetAttrString(mod, "UUID");
        Py_DECREF(mod);
        if (uuid_class == NULL) return -1;
    }
    return 0;
}

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} reader;

static int corrupt(void) {
    PyErr_SetString(PyExc_RuntimeError, "databridge: corrupt request buffer");
    return -1;
}

static int read_u32(reader *r, uint32_t *v) {
    if (r->end - r->p < 4) return corrupt();
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return 0;
}

static int read_u64(reader *r, uint64_t *v) {
    if (r->end - r->p < 8) return corrupt();
    memcpy(v, r->p, 8); /* little-endian hosts only (amd64, arm64) */
    r->p += 8;
    return 0;
}

static int read_span(reader *r, const char **s, uint32_t *n) {
    if (read_u32(r, n) < 0) return -1;
    if ((size_t)(r->end - r->p) < *n) return corrupt();
    *s = (const char *)r->p;
    r->p += *n;
    return 0;
}

static PyObject *decode_value(reader *r, int depth) {
    const char *s;
    uint32_t n;
    uint64_t u;
    if (r->p >= r->end) {
        corrupt();
        return NULL;
    }
    switch (*r->p++) {
    case 'N': Py_RETURN_NONE;
    case 'T': Py_RETURN_TRUE;
    case 'F': Py_RETURN_FALSE;
    case 'i':
        if (read_u64(r, &u) < 0) return NULL;
        return PyLong_FromLongLong((long long)u);
    case 'f': {
        double d;
        if (read_u64(r, &u) < 0) return NULL;
        memcpy(&d, &u, 8);
        return PyFloat_FromDouble(d);
    }
    case 'n': {
        if (read_span(r, &s, &n) < 0) return NULL;
        char *z = PyMem_Malloc(n + 1);
        if (z == NULL) return PyErr_NoMemory();
        memcpy(z, s, n);
        z[n] = 0;
        PyObject *v = PyLong_FromString(z, NULL, 10);
        PyMem_Free(z);
        return v;
    }
    case 's':
        if (read_span(r, &s, &n) < 0) return NULL;
        return PyUnicode_DecodeUTF8(s, n, "replace");
    case 'b':
        if (read_span(r, &s, &n) < 0) return NULL;
        return PyBytes_FromStringAndSize(s, n);
    case 'u': {
        if (read_span(r, &s, &n) < 0) return NULL;
        PyObject *text = PyUnicode_DecodeUTF8(s, n, "replace");
        if (text == NULL) return NULL;
        PyObject *v = PyObject_CallOneArg(uuid_class, text);
        Py_DECREF(text);
        return v;
    }
    case 'k': {
        if (r->p >= r->end || *r->p >= nkeys) {
            corrupt();
            return NULL;
        }
        PyObject *k = keys[*r->p++];
        return Py_NewRef(k);
    }
    case 'd': {
        /* A container inside db_max_json_depth others: the request dict and
         * a body at the JSON depth limit. */
        if (depth > db_max_json_depth) {
            corrupt();
            return NULL;
        }
        if (read_u32(r, &n) < 0) return NULL;
        PyObject *d = PyDict_New();
        if (d == NULL) return NULL;
        for (uint32_t i = 0; i < n; i++) {
            PyObject *k = decode_value(r, depth + 1);
            if (k == NULL) goto dict_fail;
            PyObject *v = decode_value(r, depth + 1);
            if (v == NULL) {
                Py_DECREF(k);
                goto dict_fail;
            }
            int rc = PyDict_SetItem(d, k, v);
            Py_DECREF(k);
            Py_DECREF(v);
            if (rc < 0) goto dict_fail;
        }
        return d;
    dict_fail:
        Py_DECREF(d);
        return NULL;
    }
    case 'm': {
        /* A multi-value dict: first values, then None or name -> [values]. */
        if (depth > db_max_json_depth) {
            corrupt();
            return NULL;
        }
        if (read_u32(r, &n) < 0) return NULL;
        PyTypeObject *cls = (PyTypeObject *)multidict();
        if (cls == NULL) return NULL;
        PyObject *d = cls->tp_new(cls, empty_args, NULL);
        if (d == NULL) return NULL;
        for (uint32_t i = 0; i < n; i++) {
            PyObject *k = decode_value(r, depth + 1);
            if (k == NULL) goto multi_fail;
            PyObject *v = decode_value(r, depth + 1);
            if (v == NULL) {
                Py_DECREF(k);
                goto multi_fail;
            }
            int rc = PyDict_SetItem(d, k, v);
            Py_DECREF(k);
            Py_DECREF(v);
            if (rc < 0) goto multi_fail;
        }
        PyObject *lists = decode_value(r, depth + 1);
        if (lists == NULL) goto multi_fail;
        if (lists != Py_None && PyObject_SetAttr(d, s_lists, lists) < 0) {
            Py_DECREF(lists);
            goto multi_fail;
        }
        Py_DECREF(lists);
        return d;
    multi_fail:
        Py_DECREF(d);
        return NULL;
    }
    case 'l': {
        if (depth > db_max_json_depth) {
            corrupt();
            return NULL;
        }
        if (read_u32(r, &n) < 0) return NULL;
        if ((size_t)(r->end - r->p) < n) { /* every value takes at least one byte */
            corrupt();
            return NULL;
        }
        PyObject *l = PyList_New(n);
        if (l == NULL) return NULL;
        for (uint32_t i = 0; i < n; i++) {
            PyObject *v = decode_value(r, depth + 1);
            if (v == NULL) {
                Py_DECREF(l);
                return NULL;
            }
            PyList_SET_ITEM(l, i, v);
        }
        return l;
    }
    }
    corrupt();
    return NULL;
}

/* Decodes exactly n consecutive values into out[0..n-1] (new references). */
int db_decode_values(const char *data, size_t len, PyObject **out, int n) {
    reader r = {(const unsigned char *)data, (const unsigned char *)data + len};
    for (int i = 0; i < n; i++) {
        out[i] = decode_value(&r, 0);
        if (out[i] == NULL) {
            while (i-- > 0) Py_CLEAR(out[i]);
            return -1;
        }
    }
    if (r.p != r.end) {
        for (int i = 0; i < n; i++) Py_CLEAR(out[i]);
        return corrupt();
    }
    return 0;
}

PyObject *db_decode(const char *data, size_t len) {
    reader r = {(const unsigned char *)data, (const unsigned char *)data + len};
    PyObject *v = decode_value(&r, 0);
    if (v != NULL && r.p != r.end) {
        Py_DECREF(v);
        corrupt();
        return NULL;
    }
    return v;
}
