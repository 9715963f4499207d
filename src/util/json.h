/*
 * json.h — a small, strict JSON (RFC 8259) reader shared by the host tools.
 *
 * The wast runner reads wast2json's output with it and the plan files will
 * too.  Both are inputs where a silently "fixed" document (a trailing comma
 * dropped, a duplicate key where the last one wins, a lone surrogate turned
 * into U+FFFD) hides a real mistake, so the parser refuses anything outside
 * the RFC and says where: "line 3, column 14: expected ',' or '}' ...".
 *
 * Every value remembers its own line and column so that callers can report
 * semantic errors ("line 7, column 5: \"fuel\" must be an integer") at the
 * place the user has to edit.
 */
#ifndef PYLON_UTIL_JSON_H
#define PYLON_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum pl_json_type {
    PL_JSON_NULL,
    PL_JSON_BOOL,
    PL_JSON_NUMBER,
    PL_JSON_STRING,
    PL_JSON_ARRAY,
    PL_JSON_OBJECT,
} pl_json_type;

typedef struct pl_json pl_json;

typedef struct pl_json_member {
    char *key;            /* NUL-terminated; may also contain NUL (\u0000) */
    size_t key_len;
    pl_json *value;
} pl_json_member;

struct pl_json {
    pl_json_type type;
    uint32_t line, col;   /* 1-based position of the value's first character */
    union {
        bool boolean;
        struct {
            double value;
            /* The literal as written: integers beyond 2^53 lose precision
             * in a double, so exact readers (pl_json_int64) use the text. */
            char *text;
        } number;
        struct {
            char *chars;  /* UTF-8, NUL-terminated; may contain NUL */
            size_t len;
        } string;
        struct {
            pl_json **items;
            size_t len;
        } array;
        struct {
            pl_json_member *members;  /* in document order; keys are unique */
            size_t len;
        } object;
    } u;
};

typedef struct pl_json_error {
    uint32_t line, col;   /* where parsing stopped */
    char message[200];    /* "line 3, column 14: expected ..." */
} pl_json_error;

/* Nesting deeper than this is refused instead of risking the C stack. */
#define PL_JSON_MAX_DEPTH 256

/* Parses exactly one JSON text (surrounding whitespace allowed).  Returns
 * NULL and fills *err on any deviation from RFC 8259, including invalid
 * UTF-8, a byte order mark, lone surrogates and duplicate object keys. */
pl_json *pl_json_parse(const char *text, size_t len, pl_json_error *err);
void pl_json_free(pl_json *v);

/* "null", "boolean", "number", "string", "array", "object". */
const char *pl_json_type_name(pl_json_type t);

/* The member `key` of an object; NULL if absent or v is not an object. */
const pl_json *pl_json_get(const pl_json *v, const char *key);
/* The string's chars if v is a string, else NULL. */
const char *pl_json_string(const pl_json *v);
/* True and *out set if v is a number written as an integer (no fraction or
 * exponent) that fits the type exactly. */
bool pl_json_int64(const pl_json *v, int64_t *out);
bool pl_json_uint64(const pl_json *v, uint64_t *out);

#endif
