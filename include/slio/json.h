/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON over jansson: bounded loading with positioned errors, and one
 * table-driven decoder that every JSON shape in SLiteIO goes through —
 * JSON-RPC params, REST bodies and config files (YAML is loaded into the
 * same json_t shape by slio/config.h), so a struct is described once.
 *
 *   struct bdev_req { const char *name; uint64_t size; uint32_t block; bool ro; };
 *   static const struct slio_json_field bdev_fields[] = {
 *       SLIO_JSON_FIELD(struct bdev_req, name, "name", SLIO_JSON_STRING, .required = true,
 *                       .min = 1, .max = 64),
 *       SLIO_JSON_FIELD(struct bdev_req, size, "size", SLIO_JSON_SIZE, .required = true),
 *       SLIO_JSON_FIELD(struct bdev_req, block, "block_size", SLIO_JSON_U32, .min = 512,
 *                       .max = 4096),
 *       SLIO_JSON_FIELD(struct bdev_req, ro, "read_only", SLIO_JSON_BOOL),
 *   };
 *   struct bdev_req req = {.block = 512};      // defaults for optional fields
 *   r = SLIO_JSON_DECODE(params, bdev_fields, &req, 0, &err);
 *   // r == -EINVAL, err.text == "field 'block_size': 100 is out of range [512, 4096]"
 */
#ifndef SLIO_JSON_H
#define SLIO_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uuid/uuid.h>

#include "slio/cleanup.h"
#include "slio/error.h"

static inline void slio_json_decrefp(json_t **p)
{
    json_decref(*p); /* NULL-safe */
}
#define _cleanup_json_ _cleanup_(slio_json_decrefp)

/* Default ceiling for a JSON document read from a file or a peer. */
#define SLIO_JSON_MAX_DEFAULT (16u << 20)

/*
 * Parse buf[0..len) (any JSON value; duplicate keys and NUL in strings are
 * rejected). -EMSGSIZE if len > max_len, -EINVAL with "line L column C: why".
 */
int slio_json_loadb(const char *buf, size_t len, size_t max_len, json_t **ret,
                    struct slio_err *err) _must_check_;
/* Same for a regular file; -EFBIG if it is larger than max_len, -errno from open/read. */
int slio_json_load_file(const char *path, size_t max_len, json_t **ret,
                        struct slio_err *err) _must_check_;
/* Compact (JSON_COMPACT | flags) text to free(); NULL if out of memory or j is NULL. */
char *slio_json_dump(const json_t *j, size_t flags);
/* "object", "array", "string", "integer", "real", "boolean", "null" */
const char *slio_json_type_name(const json_t *j);

/* json_unpack_ex() with JSON_STRICT; on failure -EINVAL and jansson's text in err. */
int slio_json_unpack(json_t *j, struct slio_err *err, const char *fmt, ...) _must_check_;

enum slio_json_type {
    SLIO_JSON_STRING,   /* const char *, borrowed from the json_t; min/max: length in bytes */
    SLIO_JSON_STRDUP,   /* char *, a copy the caller frees; min/max: length in bytes */
    SLIO_JSON_BOOL,     /* bool */
    SLIO_JSON_U64,      /* uint64_t from a JSON integer */
    SLIO_JSON_U32,      /* uint32_t */
    SLIO_JSON_U16,      /* uint16_t */
    SLIO_JSON_I64,      /* int64_t */
    SLIO_JSON_INT,      /* int */
    SLIO_JSON_SIZE,     /* uint64_t bytes: an integer or a string "10Gi" (slio_parse_size) */
    SLIO_JSON_DURATION, /* uint64_t microseconds: a string "30s" (slio_parse_duration_us) */
    SLIO_JSON_UUID,     /* uuid_t (unsigned char[16]) from a strict UUID string */
    SLIO_JSON_ENUM,     /* int: index of the string in .names (NULL-terminated) */
    SLIO_JSON_OBJECT,   /* nested struct at .offset, decoded with .fields/.n_fields */
    SLIO_JSON_VALUE,    /* json_t *, borrowed, any JSON type */
    SLIO_JSON_CUSTOM,   /* .decode() fills the member */
};

struct slio_json_field {
    const char *name;
    enum slio_json_type type;
    size_t offset; /* of the member in the output struct */
    size_t size;   /* sizeof the member, checked against the type */
    bool required;
    /*
     * Integers, sizes, durations: inclusive range; max 0 = the C type's
     * maximum; for signed types min 0 with max 0 = the type's full range.
     * Strings, enums: length range in bytes, max 0 = no upper bound.
     */
    int64_t min;
    uint64_t max;
    const char *const *names;                                               /* SLIO_JSON_ENUM */
    const struct slio_json_field *fields;                                   /* SLIO_JSON_OBJECT */
    size_t n_fields;                                                        /* SLIO_JSON_OBJECT */
    int (*decode)(const json_t *value, void *member, struct slio_err *err); /* CUSTOM */
    /* CUSTOM: undo a successful decode() when a later field fails (may be NULL). */
    void (*release)(void *member);
};

#define SLIO_JSON_FIELD(stype, member, json_name, jtype, ...)                                      \
    {                                                                                              \
        .name = (json_name), .type = (jtype), .offset = offsetof(stype, member),                   \
        .size = sizeof(((stype *)0)->member), __VA_ARGS__                                          \
    }

enum slio_json_decode_flags {
    SLIO_JSON_ALLOW_UNKNOWN = 1u << 0, /* ignore keys not in the table (default: error) */
};

/*
 * Decode the object `obj` into *out following `fields`. Members of absent
 * optional fields keep their value (put defaults there first). On failure
 * returns -EINVAL (or -ENOMEM), names the field in err ("field 'a.b':
 * expected integer, got string") and leaves *out untouched; strings copied
 * for SLIO_JSON_STRDUP are then freed again. Borrowed results
 * (SLIO_JSON_STRING, SLIO_JSON_VALUE) live as long as `obj`.
 */
int slio_json_decode_object(const json_t *obj, const struct slio_json_field *fields,
                            size_t n_fields, void *out, size_t out_size, unsigned flags,
                            struct slio_err *err) _must_check_;
#define SLIO_JSON_DECODE(obj, fields, out, flags, err)                                             \
    slio_json_decode_object((obj), (fields), SLIO_ARRAY_SIZE(fields), (out), sizeof(*(out)),       \
                            (flags), (err))

/* Free the SLIO_JSON_STRDUP members (and CUSTOM .release) of a decoded struct. */
void slio_json_release_object(const struct slio_json_field *fields, size_t n_fields, void *out);

#endif
