/*
 * _crc32c_dynlink_cap.c — the crc32c cap's C extension inside python.wasm.
 *
 * It resolves the cap "crc32c" once, in PyInit, through compose:dynlink
 * (guest/sdk/dynlink.h), and forwards each call as one invoke whose payload
 * is the Python buffer itself: no copy on the way out for crc32c(data),
 * one 4-byte result on the way back.  Which provider answers (table,
 * slice-by-8, something else) is the plan's business; nothing here or in
 * python.wasm changes when it is swapped.
 *
 * Every error the bridge or the provider returns becomes a CapError with
 * .code ("exec-trap", ...), .code_num and .context, and the interpreter
 * carries on; the next call goes to a fresh provider instance if the last
 * one failed.  If the cap cannot be resolved at import, the import fails
 * with an ImportError that carries the bridge's message (it says what to
 * fix: the plan, the trust store, the blob).
 *
 * The facade users import is crc32c.py (caps/crc32c/python/); the
 * underscore functions below are for tests and tools.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "dynlink.h"

static dl_cap crc_cap = DL_CAP("crc32c");
static PyObject *CapError;

/* Raises CapError from e (and frees e's strings). */
static PyObject *raise_cap_error(dl_error *e, const char *what) {
    /* PyUnicode_FromFormat has no "%.*s": decode the message first. */
    PyObject *text = PyUnicode_DecodeUTF8(e->message ? e->message : "", (Py_ssize_t)e->message_len,
                                          "replace");
    PyObject *msg = text ? PyUnicode_FromFormat("%s: %s: %U", what, dl_code_name(e->code), text) : NULL;
    PyObject *exc = msg ? PyObject_CallOneArg(CapError, msg) : NULL;
    Py_XDECREF(text);
    Py_XDECREF(msg);
    if (exc) {
        PyObject *code = PyUnicode_FromString(dl_code_name(e->code));
        PyObject *num = PyLong_FromLong(e->code);
        PyObject *ctx = e->has_context
            ? PyUnicode_DecodeUTF8(e->context, (Py_ssize_t)e->context_len, "replace")
            : (Py_INCREF(Py_None), Py_None);
        if (code && num && ctx) {
            PyObject_SetAttrString(exc, "code", code);
            PyObject_SetAttrString(exc, "code_num", num);
            PyObject_SetAttrString(exc, "context", ctx);
        }
        Py_XDECREF(code);
        Py_XDECREF(num);
        Py_XDECREF(ctx);
        PyErr_SetObject(CapError, exc);
        Py_DECREF(exc);
    }
    dl_error_clear(e);
    return NULL;
}

static int get_u32(PyObject *o, uint32_t *out) {
    unsigned long v = PyLong_AsUnsignedLong(o);
    if (v == (unsigned long)-1 && PyErr_Occurred()) return -1;
    if (v > 0xffffffffUL) {
        PyErr_SetString(PyExc_OverflowError, "a CRC-32C value fits in 32 bits");
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One CRC through the cap: value 0 sends the buffer as it is ("crc32c");
 * otherwise the running value goes in front of a copy ("extend"). */
static PyObject *crc_call(Py_buffer *b, uint32_t value) {
    static const dl_method m_crc = DL_METHOD("crc32c"), m_extend = DL_METHOD("extend");
    dl_bytes out;
    dl_error e;
    int rc;
    if (value == 0) {
        rc = dl_call(crc_cap.handle, m_crc, b->buf, (size_t)b->len, &out, &e);
    } else {
        uint8_t *tmp = malloc((size_t)b->len + 4);
        if (!tmp) return PyErr_NoMemory();
        tmp[0] = (uint8_t)value; tmp[1] = (uint8_t)(value >> 8);
        tmp[2] = (uint8_t)(value >> 16); tmp[3] = (uint8_t)(value >> 24);
        memcpy(tmp + 4, b->buf, (size_t)b->len);
        rc = dl_call(crc_cap.handle, m_extend, tmp, (size_t)b->len + 4, &out, &e);
        free(tmp);
    }
    if (rc) return raise_cap_error(&e, "crc32c");
    if (out.len != 4) {
        dl_bytes_free(&out);
        PyErr_Format(CapError, "crc32c: the provider returned %zu bytes instead of 4", out.len);
        return NULL;
    }
    uint32_t v = le32(out.ptr);
    dl_bytes_free(&out);
    return PyLong_FromUnsignedLong(v);
}

static PyObject *m_crc32c(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = { "data", "value", NULL };
    Py_buffer b;
    PyObject *value = NULL;
    uint32_t v = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*|O:crc32c", kwlist, &b, &value)) return NULL;
    if (value && get_u32(value, &v)) { PyBuffer_Release(&b); return NULL; }
    PyObject *r = crc_call(&b, v);
    PyBuffer_Release(&b);
    return r;
}

static PyObject *m_extend(PyObject *self, PyObject *args) {
    Py_buffer b;
    PyObject *value;
    uint32_t v;
    if (!PyArg_ParseTuple(args, "Oy*:extend", &value, &b)) return NULL;
    if (get_u32(value, &v)) { PyBuffer_Release(&b); return NULL; }
    PyObject *r = crc_call(&b, v);
    PyBuffer_Release(&b);
    return r;
}

/* What the provider says it is ("table", "slice8"): the body of its CBOR
 * envelope {"schema": "pylon:crc32c/info", "v": 1, "body": <text>}. */
static PyObject *m_info(PyObject *self, PyObject *unused) {
    dl_bytes out;
    dl_error e;
    if (dl_call(crc_cap.handle, DL_METHOD("info"), "", 0, &out, &e)) return raise_cap_error(&e, "info");
    dl_envelope env;
    unsigned major;
    uint64_t len;
    size_t h;
    PyObject *r = NULL;
    if (dl_envelope_decode(out.ptr, out.len, &env) == 0 &&
        (h = dl_cbor_read_head(env.body, env.body_len, &major, &len)) && major == 3 &&
        h + len == env.body_len)
        r = PyUnicode_DecodeUTF8((const char *)env.body + h, (Py_ssize_t)len, "strict");
    else
        PyErr_SetString(CapError, "info: the provider's reply is not a pylon:crc32c/info envelope");
    dl_bytes_free(&out);
    return r;
}

/* ---- raw access, for tests and tools ----------------------------------------------- */

static PyObject *m_resolve(PyObject *self, PyObject *args) {
    const char *id;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "s#:_resolve", &id, &n)) return NULL;
    dl_handle h;
    dl_error e;
    if (dl_resolve_id_n(id, (size_t)n, &h, &e)) return raise_cap_error(&e, "resolve");
    return PyLong_FromUnsignedLong(h);
}

static PyObject *m_invoke(PyObject *self, PyObject *args) {
    unsigned long h;
    const char *method;
    Py_ssize_t mlen;
    Py_buffer b;
    if (!PyArg_ParseTuple(args, "ks#y*:_invoke", &h, &method, &mlen, &b)) return NULL;
    dl_bytes out;
    dl_error e;
    int rc = dl_invoke((dl_handle)h, method, (size_t)mlen, b.buf, (size_t)b.len, &out, &e);
    PyBuffer_Release(&b);
    if (rc) return raise_cap_error(&e, "invoke");
    PyObject *r = PyBytes_FromStringAndSize((const char *)out.ptr, (Py_ssize_t)out.len);
    dl_bytes_free(&out);
    return r;
}

static PyObject *m_drop(PyObject *self, PyObject *args) {
    unsigned long h;
    if (!PyArg_ParseTuple(args, "k:_drop", &h)) return NULL;
    dl_drop((dl_handle)h);
    Py_RETURN_NONE;
}

static PyObject *m_handle(PyObject *self, PyObject *unused) {
    return PyLong_FromUnsignedLong(crc_cap.handle);
}

static PyMethodDef methods[] = {
    { "crc32c", (PyCFunction)(void (*)(void))m_crc32c, METH_VARARGS | METH_KEYWORDS,
      "crc32c(data, value=0) -> int\n\nCRC-32C of data, continuing from value, computed by the "
      "crc32c cap's provider." },
    { "extend", m_extend, METH_VARARGS, "extend(value, data) -> int" },
    { "info", m_info, METH_NOARGS, "info() -> str: which provider answers (\"table\", \"slice8\")" },
    { "_resolve", m_resolve, METH_VARARGS, "_resolve(cap_id) -> handle (raw compose:dynlink)" },
    { "_invoke", m_invoke, METH_VARARGS, "_invoke(handle, method, payload) -> bytes" },
    { "_drop", m_drop, METH_VARARGS, "_drop(handle)" },
    { "_handle", m_handle, METH_NOARGS, "the handle of the crc32c cap" },
    { NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_crc32c_dynlink_cap",
    "CRC-32C through the crc32c cap (compose:dynlink).  Use the crc32c module.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__crc32c_dynlink_cap(void) {
    dl_error e;
    if (dl_cap_get(&crc_cap, &e)) {
        PyObject *text = PyUnicode_DecodeUTF8(e.message ? e.message : "", (Py_ssize_t)e.message_len,
                                              "replace");
        if (text)
            PyErr_Format(PyExc_ImportError, "the crc32c cap is not available: %s: %U",
                         dl_code_name(e.code), text);
        Py_XDECREF(text);
        dl_error_clear(&e);
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (!CapError) {
        CapError = PyErr_NewExceptionWithDoc(
            "_crc32c_dynlink_cap.CapError",
            "A capability call failed.  .code is the compose:dynlink error code "
            "(\"exec-trap\", \"exec-timeout\", ...), .code_num its number, .context the "
            "provider's context string or None.", NULL, NULL);
        if (!CapError) { Py_DECREF(m); return NULL; }
    }
    Py_INCREF(CapError);
    if (PyModule_AddObject(m, "CapError", CapError) < 0) {
        Py_DECREF(CapError);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
