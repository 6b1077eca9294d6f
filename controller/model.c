/* SPDX-License-Identifier: Apache-2.0 */
/* Request decoding (the one field-table decoder) and canonical volume parameters. */
#include <string.h>

#include "model.h"
#include "slio/json.h"

const char *const model_fs_types[] = {"", "ext4", "xfs", NULL};
const char *const model_positions[] = {"any",           "must_local",  "prefer_local",
                                       "prefer_remote", "must_remote", NULL};
const char *const model_spread_levels[] = {"node", "rack", "zone", NULL};
static const char *const selector_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};

int model_check_name(const char *what, const char *s, struct slio_err *err)
{
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= MODEL_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        ok = alnum || ((c == '-' || c == '.') && i > 0 && i < n - 1);
    }
    if (!ok) {
        slio_err_set(err,
                     "%s \"%.80s\" is not a DNS-1123 name (lowercase letters, digits, '-', "
                     "'.'; at most 63 bytes)",
                     what, s);
        return -EINVAL;
    }
    return 0;
}

int model_check_objname(const char *what, const char *s, struct slio_err *err)
{
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= MODEL_OBJNAME_MAX &&
              strspn(s, "abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") == n;
    if (!ok) {
        slio_err_set(err, "%s \"%.80s\": 1 to 128 of letters, digits, '.', '_', '-'", what, s);
        return -EINVAL;
    }
    return 0;
}

/* ---- custom decoders: labels and selector terms ------------------------------------ */

static int decode_labels(const json_t *v, void *member, struct slio_err *err)
{
    const char *k;
    json_t *val;
    if (!json_is_object(v)) {
        slio_err_set(err, "expected object, got %s", slio_json_type_name(v));
        return -EINVAL;
    }
    if (json_object_size(v) > MODEL_MAX_LABELS) {
        slio_err_set(err, "%zu labels, at most %d", json_object_size(v), MODEL_MAX_LABELS);
        return -EINVAL;
    }
    json_object_foreach ((json_t *)v, k, val) {
        if (!*k || strlen(k) > 253 || !json_is_string(val) || json_string_length(val) > 63) {
            slio_err_set(err, "label \"%.64s\": keys 1..253 bytes, values strings of at most 63",
                         k);
            return -EINVAL;
        }
    }
    *(json_t **)member = (json_t *)v;
    return 0;
}

struct term_doc {
    const char *key;
    int op;
    json_t *values;
};
static const struct slio_json_field term_fields[] = {
    SLIO_JSON_FIELD(struct term_doc, key, "key", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = 253),
    SLIO_JSON_FIELD(struct term_doc, op, "operator", SLIO_JSON_ENUM, .required = true,
                    .names = selector_ops),
    SLIO_JSON_FIELD(struct term_doc, values, "values", SLIO_JSON_VALUE),
};

static int check_term_values(const struct term_doc *t, size_t i, struct slio_err *err)
{
    size_t j;
    json_t *s;
    if (!t->values)
        return 0;
    if (!json_is_array(t->values) || json_array_size(t->values) > MODEL_MAX_VALUES) {
        slio_err_set(err, "[%zu].values: expected an array of at most %d strings", i,
                     MODEL_MAX_VALUES);
        return -EINVAL;
    }
    json_array_foreach (t->values, j, s)
        if (!json_is_string(s) || json_string_length(s) > 63) {
            slio_err_set(err, "[%zu].values[%zu]: expected a string of at most 63 bytes", i, j);
            return -EINVAL;
        }
    return 0;
}

static int decode_selector(const json_t *v, void *member, struct slio_err *err)
{
    size_t i;
    json_t *t;
    if (!json_is_array(v) || json_array_size(v) > MODEL_MAX_TERMS) {
        slio_err_set(err, "expected an array of at most %d terms", MODEL_MAX_TERMS);
        return -EINVAL;
    }
    json_array_foreach (v, i, t) {
        struct term_doc td = {0};
        int r = SLIO_JSON_DECODE(t, term_fields, &td, 0, err);
        if (r < 0) {
            slio_err_prefix(err, "[%zu]", i);
            return r;
        }
        r = check_term_values(&td, i, err);
        if (r < 0)
            return r;
    }
    *(json_t **)member = (json_t *)v;
    return 0;
}

/* ---- POST /v1/volumes --------------------------------------------------------------- */

#define QOS_FIELDS(stype, prefix)                                                                  \
    SLIO_JSON_FIELD(stype, prefix rw_ios_per_sec, "rw_ios_per_sec", SLIO_JSON_U64),                \
        SLIO_JSON_FIELD(stype, prefix rw_mbytes_per_sec, "rw_mbytes_per_sec", SLIO_JSON_U64),      \
        SLIO_JSON_FIELD(stype, prefix r_mbytes_per_sec, "r_mbytes_per_sec", SLIO_JSON_U64),        \
        SLIO_JSON_FIELD(stype, prefix w_mbytes_per_sec, "w_mbytes_per_sec", SLIO_JSON_U64)

static const struct slio_json_field qos_fields[] = {QOS_FIELDS(struct model_qos, )};

static const struct slio_json_field spread_fields[] = {
    SLIO_JSON_FIELD(struct model_spread, group, "group", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = 128),
    SLIO_JSON_FIELD(struct model_spread, level, "level", SLIO_JSON_ENUM,
                    .names = model_spread_levels),
    SLIO_JSON_FIELD(struct model_spread, hard, "hard", SLIO_JSON_BOOL),
};

static const struct slio_json_field source_fields[] = {
    SLIO_JSON_FIELD(struct model_source, snapshot, "snapshot", SLIO_JSON_UUID),
    SLIO_JSON_FIELD(struct model_source, volume, "volume", SLIO_JSON_UUID),
};

#define VC(member, name, type, ...)                                                                \
    SLIO_JSON_FIELD(struct volume_create, member, name, type, __VA_ARGS__)
#define VC_OBJ(member, name, tbl)                                                                  \
    VC(member, name, SLIO_JSON_OBJECT, .fields = tbl, .n_fields = SLIO_ARRAY_SIZE(tbl))
static const struct slio_json_field volume_create_fields[] = {
    VC(name, "name", SLIO_JSON_STRING, .required = true, .min = 1, .max = MODEL_OBJNAME_MAX),
    VC(size, "size", SLIO_JSON_SIZE, .required = true, .min = 1),
    VC(thin, "thin", SLIO_JSON_BOOL),
    VC(fs_type, "fs_type", SLIO_JSON_ENUM, .names = model_fs_types),
    VC(position, "position", SLIO_JSON_ENUM, .names = model_positions),
    VC(consumer_node, "consumer_node", SLIO_JSON_STRING, .min = 1, .max = MODEL_NAME_MAX),
    VC(node_selector, "node_selector", SLIO_JSON_CUSTOM, .decode = decode_selector),
    VC(pool_selector, "pool_selector", SLIO_JSON_CUSTOM, .decode = decode_selector),
    VC_OBJ(spread, "spread", spread_fields),
    VC_OBJ(source, "source", source_fields),
    VC_OBJ(qos, "qos", qos_fields),
    VC(labels, "labels", SLIO_JSON_CUSTOM, .decode = decode_labels),
};

int model_volume_create_decode(const json_t *body, struct volume_create *ret, struct slio_err *err)
{
    struct volume_create vc = {.spread = {.hard = true}};
    int r = SLIO_JSON_DECODE(body, volume_create_fields, &vc, 0, err);
    if (r < 0)
        return r;
    r = model_check_objname("field 'name':", vc.name, err);
    if (r == 0 && vc.consumer_node)
        r = model_check_name("field 'consumer_node':", vc.consumer_node, err);
    if (r < 0)
        return r;
    if ((vc.position == SCHED_POS_MUST_LOCAL || vc.position == SCHED_POS_MUST_REMOTE) &&
        !vc.consumer_node) {
        slio_err_set(err, "field 'position': %s needs consumer_node", model_positions[vc.position]);
        return -EINVAL;
    }
    if (!slio_uuid_is_null(vc.source.snapshot) && !slio_uuid_is_null(vc.source.volume)) {
        slio_err_set(err, "field 'source': give a snapshot or a volume, not both");
        return -EINVAL;
    }
    *ret = vc;
    return 0;
}

json_t *model_qos_json(const struct model_qos *q)
{
    return json_pack("{s:I,s:I,s:I,s:I}", "rw_ios_per_sec", (json_int_t)q->rw_ios_per_sec,
                     "rw_mbytes_per_sec", (json_int_t)q->rw_mbytes_per_sec, "r_mbytes_per_sec",
                     (json_int_t)q->r_mbytes_per_sec, "w_mbytes_per_sec",
                     (json_int_t)q->w_mbytes_per_sec);
}

static json_t *source_json(const struct model_source *s)
{
    char buf[SLIO_UUID_STR_LEN];
    if (!slio_uuid_is_null(s->snapshot))
        return json_pack("{s:s}", "snapshot", slio_uuid_format(s->snapshot, buf));
    if (!slio_uuid_is_null(s->volume))
        return json_pack("{s:s}", "volume", slio_uuid_format(s->volume, buf));
    return json_null();
}

json_t *model_volume_spec(const struct volume_create *vc)
{
    json_t *spread = vc->spread.group
                         ? json_pack("{s:s,s:s,s:b}", "group", vc->spread.group, "level",
                                     model_spread_levels[vc->spread.level], "hard", vc->spread.hard)
                         : json_null();
    return json_pack(
        "{s:s,s:I,s:b,s:s,s:s,s:s?,s:O?,s:O?,s:o,s:o,s:o,s:O?}", "name", vc->name, "size",
        (json_int_t)vc->size, "thin", vc->thin, "fs_type", model_fs_types[vc->fs_type], "position",
        model_positions[vc->position], "consumer_node", vc->consumer_node, "node_selector",
        vc->node_selector, "pool_selector", vc->pool_selector, "spread", spread, "source",
        source_json(&vc->source), "qos", model_qos_json(&vc->qos), "labels", vc->labels);
}

int model_qos_decode(const json_t *body, struct model_qos *ret, struct slio_err *err)
{
    struct model_qos q = {0};
    int r = SLIO_JSON_DECODE(body, qos_fields, &q, 0, err);
    if (r == 0)
        *ret = q;
    return r;
}

static const struct slio_json_field expand_fields[] = {
    SLIO_JSON_FIELD(struct volume_expand, size, "size", SLIO_JSON_SIZE, .required = true, .min = 1),
};

int model_volume_expand_decode(const json_t *body, struct volume_expand *ret, struct slio_err *err)
{
    struct volume_expand e = {0};
    int r = SLIO_JSON_DECODE(body, expand_fields, &e, 0, err);
    if (r == 0)
        *ret = e;
    return r;
}

static const struct slio_json_field attachment_fields[] = {
    SLIO_JSON_FIELD(struct attachment_create, node, "node", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = MODEL_NAME_MAX),
    SLIO_JSON_FIELD(struct attachment_create, host_nqn, "host_nqn", SLIO_JSON_STRING, .min = 1,
                    .max = SLIO_NQN_MAX),
};

int model_attachment_decode(const json_t *body, struct attachment_create *ret, struct slio_err *err)
{
    struct attachment_create a = {0};
    int r = SLIO_JSON_DECODE(body, attachment_fields, &a, 0, err);
    if (r == 0)
        r = model_check_name("field 'node':", a.node, err);
    if (r == 0 && a.host_nqn && slio_nqn_validate(a.host_nqn) < 0) {
        slio_err_set(err, "field 'host_nqn': \"%.80s\" is not an NQN", a.host_nqn);
        r = -EINVAL;
    }
    if (r == 0)
        *ret = a;
    return r;
}

static const struct slio_json_field snapshot_fields[] = {
    SLIO_JSON_FIELD(struct snapshot_create, name, "name", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = MODEL_OBJNAME_MAX),
    SLIO_JSON_FIELD(struct snapshot_create, volume, "volume", SLIO_JSON_UUID, .required = true),
    SLIO_JSON_FIELD(struct snapshot_create, cow_reserve, "cow_reserve", SLIO_JSON_SIZE),
};

int model_snapshot_create_decode(const json_t *body, struct snapshot_create *ret,
                                 struct slio_err *err)
{
    struct snapshot_create s = {0};
    int r = SLIO_JSON_DECODE(body, snapshot_fields, &s, 0, err);
    if (r == 0)
        r = model_check_objname("field 'name':", s.name, err);
    if (r == 0)
        *ret = s;
    return r;
}
