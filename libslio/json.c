/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded JSON loading and the table-driven object decoder (the role of
 * SPDK's spdk_json_decode_object and systemd's sd_json_dispatch): the schema
 * of each request/config struct is one static table, and every error names
 * the field and says what was expected.
 *
 * The decoder works on a scratch copy of the output struct and copies it back
 * only on success, which is what gives "untouched on failure" for nested
 * structs too.
 */
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "slio/fileio.h"
#include "slio/json.h"
#include "slio/parse.h"
#include "slio/uuid.h"

#define PATH_MAX_LEN 192 /* "outer.inner.field" for error messages */

int slio_json_loadb(const char *buf, size_t len, size_t max_len, json_t **ret, struct slio_err *err)
{
    json_error_t e;
    json_t *j;

    if (len > max_len) {
        slio_err_set(err, "document of %zu bytes is larger than the limit of %zu bytes", len,
                     max_len);
        return -EMSGSIZE;
    }
    j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    if (!j) {
        if (json_error_code(&e) == json_error_out_of_memory)
            return -ENOMEM;
        slio_err_set(err, "line %d column %d: %s", e.line, e.column, e.text);
        return -EINVAL;
    }
    *ret = j;
    return 0;
}

int slio_json_load_file(const char *path, size_t max_len, json_t **ret, struct slio_err *err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r;

    r = slio_read_file(path, max_len, &buf, &len);
    if (r == -EFBIG) {
        slio_err_set(err, "\"%s\": larger than the limit of %zu bytes", path, max_len);
        return r;
    }
    if (r < 0) {
        slio_err_set(err, "\"%s\": %s", path, strerror(-r));
        return r;
    }
    r = slio_json_loadb(buf, len, max_len, ret, err);
    if (r == -EINVAL)
        slio_err_prefix(err, "\"%s\"", path);
    return r;
}

char *slio_json_dump(const json_t *j, size_t flags)
{
    if (!j)
        return NULL;
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | flags);
}

const char *slio_json_type_name(const json_t *j)
{
    switch (j ? json_typeof(j) : JSON_NULL) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
    default:
        return "null";
    }
}

int slio_json_unpack(json_t *j, struct slio_err *err, const char *fmt, ...)
{
    json_error_t e;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = json_vunpack_ex(j, &e, JSON_STRICT, fmt, ap);
    va_end(ap);
    if (r < 0) {
        slio_err_set(err, "%s", e.text);
        return -EINVAL;
    }
    return 0;
}

/* ---- decoder ---------------------------------------------------------- */

struct decode_ctx {
    unsigned flags;
    struct slio_err *err;
};

static int type_error(struct decode_ctx *c, const char *path, const char *want, const json_t *v)
{
    slio_err_set(c->err, "field '%s': expected %s, got %s", path, want, slio_json_type_name(v));
    return -EINVAL;
}

/* Expected member size per type; 0 = any (nested struct, custom). */
static size_t type_size(enum slio_json_type t)
{
    switch (t) {
    case SLIO_JSON_STRING:
        return sizeof(const char *);
    case SLIO_JSON_STRDUP:
        return sizeof(char *);
    case SLIO_JSON_BOOL:
        return sizeof(bool);
    case SLIO_JSON_U64:
    case SLIO_JSON_SIZE:
    case SLIO_JSON_DURATION:
        return sizeof(uint64_t);
    case SLIO_JSON_U32:
        return sizeof(uint32_t);
    case SLIO_JSON_U16:
        return sizeof(uint16_t);
    case SLIO_JSON_I64:
        return sizeof(int64_t);
    case SLIO_JSON_INT:
    case SLIO_JSON_ENUM:
        return sizeof(int);
    case SLIO_JSON_UUID:
        return sizeof(uuid_t);
    case SLIO_JSON_VALUE:
        return sizeof(json_t *);
    case SLIO_JSON_OBJECT:
    case SLIO_JSON_CUSTOM:
    default:
        return 0;
    }
}

static int check_unsigned(struct decode_ctx *c, const struct slio_json_field *f, const char *path,
                          uint64_t v, uint64_t type_max)
{
    uint64_t lo = f->min > 0 ? (uint64_t)f->min : 0;
    uint64_t hi = f->max == 0 ? type_max : SLIO_MIN(f->max, type_max);

    if (v < lo || v > hi) {
        slio_err_set(c->err, "field '%s': %" PRIu64 " is out of range [%" PRIu64 ", %" PRIu64 "]",
                     path, v, lo, hi);
        return -EINVAL;
    }
    return 0;
}

static int decode_unsigned(struct decode_ctx *c, const struct slio_json_field *f, const char *path,
                           const json_t *v, uint64_t type_max, uint64_t *ret)
{
    json_int_t i;

    if (!json_is_integer(v))
        return type_error(c, path, "integer", v);
    i = json_integer_value(v);
    if (i < 0) {
        slio_err_set(c->err, "field '%s': %" JSON_INTEGER_FORMAT " must not be negative", path, i);
        return -EINVAL;
    }
    *ret = (uint64_t)i;
    return check_unsigned(c, f, path, *ret, type_max);
}

static int decode_signed(struct decode_ctx *c, const struct slio_json_field *f, const char *path,
                         const json_t *v, int64_t type_min, int64_t type_max, int64_t *ret)
{
    bool dflt = f->min == 0 && f->max == 0;
    int64_t lo = dflt ? type_min : SLIO_MAX(f->min, type_min);
    int64_t hi = f->max == 0 ? type_max : (int64_t)SLIO_MIN(f->max, (uint64_t)type_max);
    json_int_t i;

    if (!json_is_integer(v))
        return type_error(c, path, "integer", v);
    i = json_integer_value(v);
    if (i < lo || i > hi) {
        slio_err_set(c->err,
                     "field '%s': %" JSON_INTEGER_FORMAT " is out of range [%" PRId64 ", %" PRId64
                     "]",
                     path, i, lo, hi);
        return -EINVAL;
    }
    *ret = i;
    return 0;
}

/* A string without embedded NUL, length within [min, max]. */
static int decode_string(struct decode_ctx *c, const struct slio_json_field *f, const char *path,
                         const json_t *v, const char **ret)
{
    const char *s;
    size_t len;

    if (!json_is_string(v))
        return type_error(c, path, "string", v);
    s = json_string_value(v);
    len = json_string_length(v);
    if (strlen(s) != len) {
        slio_err_set(c->err, "field '%s': string contains a NUL character", path);
        return -EINVAL;
    }
    if (f->min > 0 && len < (uint64_t)f->min) {
        slio_err_set(c->err, "field '%s': must be at least %" PRId64 " characters long", path,
                     f->min);
        return -EINVAL;
    }
    if (f->max > 0 && len > f->max) {
        slio_err_set(c->err, "field '%s': longer than %" PRIu64 " characters", path, f->max);
        return -EINVAL;
    }
    *ret = s;
    return 0;
}

static int decode_text_number(struct decode_ctx *c, const struct slio_json_field *f,
                              const char *path, const json_t *v, uint64_t *ret)
{
    const char *s;
    const char *what = f->type == SLIO_JSON_SIZE ? "size" : "duration";
    int r;

    if (f->type == SLIO_JSON_SIZE && json_is_integer(v))
        return decode_unsigned(c, f, path, v, UINT64_MAX, ret);
    if (!json_is_string(v))
        return type_error(c, path,
                          f->type == SLIO_JSON_SIZE ? "size (integer or \"10Gi\")"
                                                    : "duration string (\"30s\")",
                          v);
    s = json_string_value(v);
    r = f->type == SLIO_JSON_SIZE ? slio_parse_size(s, ret) : slio_parse_duration_us(s, ret);
    if (r < 0 || strlen(s) != json_string_length(v)) {
        slio_err_set(c->err, "field '%s': %s \"%.64s\" is %s", path, what, s,
                     r == -ERANGE ? "too large" : "malformed");
        return -EINVAL;
    }
    return check_unsigned(c, f, path, *ret, UINT64_MAX);
}

static int decode_fields(struct decode_ctx *c, const json_t *obj,
                         const struct slio_json_field *fields, size_t n, char *base,
                         const char *prefix);

static int decode_enum(struct decode_ctx *c, const struct slio_json_field *f, const char *path,
                       const json_t *v, int *ret)
{
    const char *s;
    int r = decode_string(c, f, path, v, &s);

    if (r < 0)
        return r;
    for (int i = 0; f->names && f->names[i]; i++)
        if (strcmp(f->names[i], s) == 0) {
            *ret = i;
            return 0;
        }
    slio_err_set(c->err, "field '%s': unknown value \"%.64s\"", path, s);
    return -EINVAL;
}

static int decode_value(struct decode_ctx *c, const struct slio_json_field *f, const char *path,
                        const json_t *v, char *member)
{
    union {
        uint64_t u;
        int64_t i;
        const char *s;
        int e;
    } x;
    int r = 0;

    switch (f->type) {
    case SLIO_JSON_STRING:
    case SLIO_JSON_STRDUP:
        r = decode_string(c, f, path, v, &x.s);
        if (r == 0 && f->type == SLIO_JSON_STRDUP) {
            char *copy = strdup(x.s);
            if (!copy)
                return -ENOMEM;
            memcpy(member, &copy, sizeof(copy));
        } else if (r == 0) {
            memcpy(member, &x.s, sizeof(x.s));
        }
        return r;
    case SLIO_JSON_BOOL:
        if (!json_is_boolean(v))
            return type_error(c, path, "boolean", v);
        *(bool *)member = json_is_true(v);
        return 0;
    case SLIO_JSON_U64:
        r = decode_unsigned(c, f, path, v, UINT64_MAX, &x.u);
        if (r == 0)
            memcpy(member, &x.u, sizeof(uint64_t));
        return r;
    case SLIO_JSON_U32:
        r = decode_unsigned(c, f, path, v, UINT32_MAX, &x.u);
        if (r == 0)
            *(uint32_t *)member = (uint32_t)x.u;
        return r;
    case SLIO_JSON_U16:
        r = decode_unsigned(c, f, path, v, UINT16_MAX, &x.u);
        if (r == 0)
            *(uint16_t *)member = (uint16_t)x.u;
        return r;
    case SLIO_JSON_I64:
        r = decode_signed(c, f, path, v, INT64_MIN, INT64_MAX, &x.i);
        if (r == 0)
            memcpy(member, &x.i, sizeof(int64_t));
        return r;
    case SLIO_JSON_INT:
        r = decode_signed(c, f, path, v, INT_MIN, INT_MAX, &x.i);
        if (r == 0)
            *(int *)member = (int)x.i;
        return r;
    case SLIO_JSON_SIZE:
    case SLIO_JSON_DURATION:
        r = decode_text_number(c, f, path, v, &x.u);
        if (r == 0)
            memcpy(member, &x.u, sizeof(uint64_t));
        return r;
    case SLIO_JSON_UUID:
        if (!json_is_string(v))
            return type_error(c, path, "UUID string", v);
        if (slio_uuid_parse(json_string_value(v), (unsigned char *)member) < 0) {
            slio_err_set(c->err, "field '%s': \"%.64s\" is not a UUID", path, json_string_value(v));
            return -EINVAL;
        }
        return 0;
    case SLIO_JSON_ENUM:
        r = decode_enum(c, f, path, v, &x.e);
        if (r == 0)
            *(int *)member = x.e;
        return r;
    case SLIO_JSON_OBJECT:
        if (!json_is_object(v))
            return type_error(c, path, "object", v);
        return decode_fields(c, v, f->fields, f->n_fields, member, path);
    case SLIO_JSON_VALUE:
        memcpy(member, &v, sizeof(v));
        return 0;
    case SLIO_JSON_CUSTOM:
        r = f->decode ? f->decode(v, member, c->err) : -EINVAL;
        if (r == -EINVAL)
            slio_err_prefix(c->err, "field '%s'", path);
        return r;
    }
    slio_err_set(c->err, "field '%s': schema error: unknown type %d", path, (int)f->type);
    return -EINVAL;
}

static void join_path(char *buf, size_t len, const char *prefix, const char *name)
{
    if (prefix && *prefix)
        snprintf(buf, len, "%s.%s", prefix, name);
    else
        snprintf(buf, len, "%s", name);
}

static int check_unknown_keys(struct decode_ctx *c, const json_t *obj,
                              const struct slio_json_field *fields, size_t n, const char *prefix)
{
    const char *key;
    json_t *v;

    if (c->flags & SLIO_JSON_ALLOW_UNKNOWN)
        return 0;
    json_object_foreach ((json_t *)obj, key, v) {
        bool known = false;
        for (size_t i = 0; i < n && !known; i++)
            known = strcmp(fields[i].name, key) == 0;
        if (!known) {
            char path[PATH_MAX_LEN];
            join_path(path, sizeof(path), prefix, key);
            slio_err_set(c->err, "unknown field '%s'", path);
            return -EINVAL;
        }
    }
    return 0;
}

static int decode_fields(struct decode_ctx *c, const json_t *obj,
                         const struct slio_json_field *fields, size_t n, char *base,
                         const char *prefix)
{
    int r = check_unknown_keys(c, obj, fields, n, prefix);

    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        const struct slio_json_field *f = &fields[i];
        char path[PATH_MAX_LEN];
        json_t *v = json_object_get(obj, f->name);
        size_t want = type_size(f->type);

        join_path(path, sizeof(path), prefix, f->name);
        if (want && want != f->size) {
            slio_err_set(c->err,
                         "field '%s': schema error: member of %zu bytes for a %zu-byte type", path,
                         f->size, want);
            return -EINVAL;
        }
        if (!v) {
            if (f->required) {
                slio_err_set(c->err, "field '%s': missing", path);
                return -EINVAL;
            }
            continue;
        }
        r = decode_value(c, f, path, v, base + f->offset);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Undo what a failed decode allocated: members that differ from the original. */
static void release_changed(const struct slio_json_field *fields, size_t n, char *tmp,
                            const char *orig)
{
    for (size_t i = 0; i < n; i++) {
        const struct slio_json_field *f = &fields[i];
        char *m = tmp + f->offset;
        const char *o = orig + f->offset;

        if (f->type == SLIO_JSON_STRDUP) {
            char *a, *b;
            memcpy(&a, m, sizeof(a));
            memcpy(&b, o, sizeof(b));
            if (a != b)
                free(a);
        } else if (f->type == SLIO_JSON_OBJECT) {
            release_changed(f->fields, f->n_fields, m, o);
        } else if (f->type == SLIO_JSON_CUSTOM && f->release && memcmp(m, o, f->size) != 0) {
            f->release(m);
        }
    }
}

int slio_json_decode_object(const json_t *obj, const struct slio_json_field *fields,
                            size_t n_fields, void *out, size_t out_size, unsigned flags,
                            struct slio_err *err)
{
    struct decode_ctx c = {.flags = flags, .err = err};
    _cleanup_free_ char *tmp = NULL;
    int r;

    if (!json_is_object(obj)) {
        slio_err_set(err, "expected object, got %s", slio_json_type_name(obj));
        return -EINVAL;
    }
    tmp = malloc(out_size ? out_size : 1);
    if (!tmp)
        return -ENOMEM;
    memcpy(tmp, out, out_size);
    r = decode_fields(&c, obj, fields, n_fields, tmp, "");
    if (r < 0) {
        release_changed(fields, n_fields, tmp, out);
        return r;
    }
    memcpy(out, tmp, out_size);
    return 0;
}

void slio_json_release_object(const struct slio_json_field *fields, size_t n_fields, void *out)
{
    for (size_t i = 0; i < n_fields; i++) {
        const struct slio_json_field *f = &fields[i];
        char *m = (char *)out + f->offset;

        if (f->type == SLIO_JSON_STRDUP) {
            char *p;
            memcpy(&p, m, sizeof(p));
            free(p);
            p = NULL;
            memcpy(m, &p, sizeof(p));
        } else if (f->type == SLIO_JSON_OBJECT) {
            slio_json_release_object(f->fields, f->n_fields, m);
        } else if (f->type == SLIO_JSON_CUSTOM && f->release) {
            f->release(m);
        }
    }
}
