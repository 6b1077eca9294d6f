/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz slio_json_loadb and the field-table decoder (every field type, nested, STRDUP cleanup). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct inner {
    uint64_t n;
    char *s;
};

struct outer {
    const char *name;
    char *copy;
    bool b;
    uint64_t u64;
    uint32_t u32;
    uint16_t u16;
    int64_t i64;
    int i;
    uint64_t size;
    uint64_t dur;
    uuid_t uuid;
    int kind;
    struct inner in;
    json_t *any;
};

static const char *const kinds[] = {"a", "b", NULL};

static const struct slio_json_field inner_fields[] = {
    SLIO_JSON_FIELD(struct inner, n, "n", SLIO_JSON_U64, .min = 1, .max = 100),
    SLIO_JSON_FIELD(struct inner, s, "s", SLIO_JSON_STRDUP, .max = 8),
};

static const struct slio_json_field fields[] = {
    SLIO_JSON_FIELD(struct outer, name, "name", SLIO_JSON_STRING, .min = 1, .max = 32),
    SLIO_JSON_FIELD(struct outer, copy, "copy", SLIO_JSON_STRDUP),
    SLIO_JSON_FIELD(struct outer, b, "b", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct outer, u64, "u64", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct outer, u32, "u32", SLIO_JSON_U32),
    SLIO_JSON_FIELD(struct outer, u16, "u16", SLIO_JSON_U16, .min = 10),
    SLIO_JSON_FIELD(struct outer, i64, "i64", SLIO_JSON_I64),
    SLIO_JSON_FIELD(struct outer, i, "i", SLIO_JSON_INT, .min = -5, .max = 5),
    SLIO_JSON_FIELD(struct outer, size, "size", SLIO_JSON_SIZE),
    SLIO_JSON_FIELD(struct outer, dur, "dur", SLIO_JSON_DURATION),
    SLIO_JSON_FIELD(struct outer, uuid, "uuid", SLIO_JSON_UUID),
    SLIO_JSON_FIELD(struct outer, kind, "kind", SLIO_JSON_ENUM, .names = kinds),
    SLIO_JSON_FIELD(struct outer, in, "in", SLIO_JSON_OBJECT, .fields = inner_fields,
                    .n_fields = SLIO_ARRAY_SIZE(inner_fields)),
    SLIO_JSON_FIELD(struct outer, any, "any", SLIO_JSON_VALUE),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slio_err err;
    json_t *j = NULL;
    struct outer o = {0};

    if (slio_json_loadb((const char *)data, size, 1 << 20, &j, &err) < 0)
        return 0;
    if (SLIO_JSON_DECODE(j, fields, &o, size & 1 ? SLIO_JSON_ALLOW_UNKNOWN : 0, &err) == 0)
        slio_json_release_object(fields, SLIO_ARRAY_SIZE(fields), &o);
    char *s = slio_json_dump(j, 0);
    free(s);
    json_decref(j);
    return 0;
}
