/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding what agents send; every byte is checked before the controller believes it. */
#include <string.h>

#include "model.h"
#include "model_agent.h"
#include "slio/json.h"

#define MAX_STATUS_OBJECTS 100000
#define MAX_ORPHANS        10000

static const char *const engines[] = {"lvm", "file", NULL};
static const char *const trtypes[] = {"tcp", NULL};
static const char *const adrfams[] = {"ipv4", "ipv6", NULL};
const char *const model_thin_levels[] = {"ok", "extended", "warning", "critical", NULL};
const char *const model_object_states[] = {"creating", "ready",   "expanding",
                                           "failed",   "deleted", NULL};

static int decode_number(const json_t *v, void *member, struct slio_err *err)
{
    if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1e6) {
        slio_err_set(err, "expected a number in [0, 1e6]");
        return -EINVAL;
    }
    *(json_t **)member = (json_t *)v;
    return 0;
}

static int decode_labels(const json_t *v, void *member, struct slio_err *err)
{
    const char *k;
    json_t *val;
    if (!json_is_object(v) || json_object_size(v) > MODEL_MAX_LABELS) {
        slio_err_set(err, "expected an object of at most %d labels", MODEL_MAX_LABELS);
        return -EINVAL;
    }
    json_object_foreach ((json_t *)v, k, val)
        if (!*k || strlen(k) > 253 || !json_is_string(val) || json_string_length(val) > 63) {
            slio_err_set(err, "label \"%.64s\": keys 1..253 bytes, values strings <= 63", k);
            return -EINVAL;
        }
    *(json_t **)member = (json_t *)v;
    return 0;
}

/* ---- pools ------------------------------------------------------------------------------ */

struct pool_doc {
    const char *name;
    int engine;
    bool thin;
    uint64_t capacity, free, allocated;
    json_t *data_pct, *meta_pct, *overprovision, *labels;
    uint32_t max_remote;
    int thin_level;
};
static const struct slio_json_field pool_fields[] = {
    SLIO_JSON_FIELD(struct pool_doc, name, "name", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = MODEL_NAME_MAX),
    SLIO_JSON_FIELD(struct pool_doc, engine, "engine", SLIO_JSON_ENUM, .required = true,
                    .names = engines),
    SLIO_JSON_FIELD(struct pool_doc, thin, "thin", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct pool_doc, capacity, "capacity", SLIO_JSON_U64, .required = true),
    SLIO_JSON_FIELD(struct pool_doc, free, "free", SLIO_JSON_U64, .required = true),
    SLIO_JSON_FIELD(struct pool_doc, allocated, "allocated", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct pool_doc, data_pct, "thin_data_percent", SLIO_JSON_CUSTOM,
                    .decode = decode_number),
    SLIO_JSON_FIELD(struct pool_doc, meta_pct, "thin_metadata_percent", SLIO_JSON_CUSTOM,
                    .decode = decode_number),
    SLIO_JSON_FIELD(struct pool_doc, overprovision, "overprovision", SLIO_JSON_CUSTOM,
                    .decode = decode_number),
    SLIO_JSON_FIELD(struct pool_doc, labels, "labels", SLIO_JSON_CUSTOM, .decode = decode_labels),
    SLIO_JSON_FIELD(struct pool_doc, max_remote, "max_remote_volumes", SLIO_JSON_U32),
    SLIO_JSON_FIELD(struct pool_doc, thin_level, "thin_level", SLIO_JSON_ENUM,
                    .names = model_thin_levels),
};

static int decode_pools(const json_t *v, void *member, struct slio_err *err)
{
    size_t i;
    json_t *p;
    if (!json_is_array(v) || json_array_size(v) > MODEL_MAX_POOLS) {
        slio_err_set(err, "expected an array of at most %d pools", MODEL_MAX_POOLS);
        return -EINVAL;
    }
    json_array_foreach (v, i, p) {
        struct pool_doc d = {0};
        int r = SLIO_JSON_DECODE(p, pool_fields, &d, 0, err);
        if (r == 0)
            r = model_check_name("name", d.name, err);
        if (r == 0 && d.free > d.capacity) {
            slio_err_set(err, "free %llu > capacity %llu", (unsigned long long)d.free,
                         (unsigned long long)d.capacity);
            r = -EINVAL;
        }
        for (size_t j = 0; r == 0 && j < i; j++)
            if (strcmp(model_str(json_array_get(v, j), "name"), d.name) == 0) {
                slio_err_set(err, "pool \"%s\" listed twice", d.name);
                r = -EINVAL;
            }
        if (r < 0) {
            slio_err_prefix(err, "[%zu]", i);
            return r;
        }
    }
    *(json_t **)member = (json_t *)v;
    return 0;
}

/* ---- register, heartbeat -------------------------------------------------------------------- */

struct topology_doc {
    const char *rack, *zone;
};
static const struct slio_json_field topology_fields[] = {
    SLIO_JSON_FIELD(struct topology_doc, rack, "rack", SLIO_JSON_STRING, .max = 63),
    SLIO_JSON_FIELD(struct topology_doc, zone, "zone", SLIO_JSON_STRING, .max = 63),
};
static int decode_topology(const json_t *v, void *member, struct slio_err *err)
{
    struct topology_doc t = {0};
    if (!json_is_object(v)) {
        slio_err_set(err, "expected object");
        return -EINVAL;
    }
    int r = SLIO_JSON_DECODE(v, topology_fields, &t, 0, err);
    if (r == 0)
        *(json_t **)member = (json_t *)v;
    return r;
}

struct address_doc {
    int trtype, adrfam;
    const char *traddr, *trsvcid;
};
static const struct slio_json_field address_fields[] = {
    SLIO_JSON_FIELD(struct address_doc, trtype, "trtype", SLIO_JSON_ENUM, .names = trtypes),
    SLIO_JSON_FIELD(struct address_doc, adrfam, "adrfam", SLIO_JSON_ENUM, .names = adrfams),
    SLIO_JSON_FIELD(struct address_doc, traddr, "traddr", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = 255),
    SLIO_JSON_FIELD(struct address_doc, trsvcid, "trsvcid", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = 32),
};
static int decode_address(const json_t *v, void *member, struct slio_err *err)
{
    struct address_doc a = {0};
    if (!json_is_object(v)) {
        slio_err_set(err, "expected object");
        return -EINVAL;
    }
    int r = SLIO_JSON_DECODE(v, address_fields, &a, 0, err);
    if (r == 0)
        *(json_t **)member = (json_t *)v;
    return r;
}

#define AR(member, name, type, ...)                                                                \
    SLIO_JSON_FIELD(struct agent_register, member, name, type, __VA_ARGS__)
static const struct slio_json_field register_fields[] = {
    AR(node, "node", SLIO_JSON_STRING, .required = true, .min = 1, .max = MODEL_NAME_MAX),
    AR(host_nqn, "host_nqn", SLIO_JSON_STRING, .required = true, .min = 1, .max = SLIO_NQN_MAX),
    AR(labels, "labels", SLIO_JSON_CUSTOM, .decode = decode_labels),
    AR(topology, "topology", SLIO_JSON_CUSTOM, .decode = decode_topology),
    AR(export_address, "export_address", SLIO_JSON_CUSTOM, .required = true,
       .decode = decode_address),
    AR(agent_url, "agent_url", SLIO_JSON_STRING, .max = 512),
    AR(version, "version", SLIO_JSON_STRING, .max = 64),
    AR(pools, "pools", SLIO_JSON_CUSTOM, .required = true, .decode = decode_pools),
};

int model_agent_register_decode(const json_t *body, struct agent_register *ret,
                                struct slio_err *err)
{
    struct agent_register a = {0};
    int r = SLIO_JSON_DECODE(body, register_fields, &a, 0, err);
    if (r == 0)
        r = model_check_name("field 'node':", a.node, err);
    if (r == 0 && slio_nqn_validate(a.host_nqn) < 0) {
        slio_err_set(err, "field 'host_nqn': \"%.80s\" is not an NQN", a.host_nqn);
        r = -EINVAL;
    }
    if (r == 0 && json_array_size(a.pools) == 0) {
        slio_err_set(err, "field 'pools': at least one pool");
        r = -EINVAL;
    }
    if (r == 0)
        *ret = a;
    return r;
}

static const struct slio_json_field heartbeat_fields[] = {
    SLIO_JSON_FIELD(struct agent_heartbeat, node, "node", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = MODEL_NAME_MAX),
    SLIO_JSON_FIELD(struct agent_heartbeat, pools, "pools", SLIO_JSON_CUSTOM,
                    .decode = decode_pools),
};

int model_agent_heartbeat_decode(const json_t *body, struct agent_heartbeat *ret,
                                 struct slio_err *err)
{
    struct agent_heartbeat h = {0};
    int r = SLIO_JSON_DECODE(body, heartbeat_fields, &h, 0, err);
    if (r == 0)
        r = model_check_name("field 'node':", h.node, err);
    if (r == 0)
        *ret = h;
    return r;
}

/* ---- status reports --------------------------------------------------------------------- */

static int decode_nqn_list(const json_t *v, void *member, struct slio_err *err)
{
    size_t i;
    json_t *s;
    if (!json_is_array(v) || json_array_size(v) > 1024) {
        slio_err_set(err, "expected an array of at most 1024 host NQNs");
        return -EINVAL;
    }
    json_array_foreach (v, i, s)
        if (!json_is_string(s) || slio_nqn_validate(json_string_value(s)) < 0) {
            slio_err_set(err, "[%zu]: not an NQN", i);
            return -EINVAL;
        }
    *(json_t **)member = (json_t *)v;
    return 0;
}

#define OS(member, name, type, ...)                                                                \
    SLIO_JSON_FIELD(struct object_status, member, name, type, __VA_ARGS__)
static const struct slio_json_field object_fields[] = {
    OS(id, "id", SLIO_JSON_STRING, .required = true, .min = 36, .max = 36),
    OS(state, "state", SLIO_JSON_ENUM, .required = true, .names = model_object_states),
    OS(message, "message", SLIO_JSON_STRING, .max = 1024),
    OS(size, "size", SLIO_JSON_U64),
    OS(device, "device", SLIO_JSON_STRING, .max = 4096),
    OS(nqn, "nqn", SLIO_JSON_STRING, .max = SLIO_NQN_MAX),
    OS(exported_to, "exported_to", SLIO_JSON_CUSTOM, .decode = decode_nqn_list),
    OS(progress, "progress", SLIO_JSON_CUSTOM, .decode = decode_number),
};

int model_object_status_decode(const json_t *o, struct object_status *ret, struct slio_err *err)
{
    struct object_status s = {0};
    uuid_t u;
    int r = SLIO_JSON_DECODE(o, object_fields, &s, 0, err);
    if (r == 0 && slio_uuid_parse(s.id, u) < 0) {
        slio_err_set(err, "field 'id': \"%s\" is not a UUID", s.id);
        r = -EINVAL;
    }
    if (r == 0)
        *ret = s;
    return r;
}

static int decode_objects(const json_t *v, void *member, struct slio_err *err)
{
    size_t i;
    json_t *o;
    if (!json_is_array(v) || json_array_size(v) > MAX_STATUS_OBJECTS) {
        slio_err_set(err, "expected an array of at most %d objects", MAX_STATUS_OBJECTS);
        return -EINVAL;
    }
    json_array_foreach (v, i, o) {
        struct object_status s;
        int r = model_object_status_decode(o, &s, err);
        if (r < 0) {
            slio_err_prefix(err, "[%zu]", i);
            return r;
        }
    }
    *(json_t **)member = (json_t *)v;
    return 0;
}

struct orphan_doc {
    const char *node, *pool, *uuid, *device, *reported_at;
    int kind;
    uint64_t size;
};
static const char *const orphan_kinds[] = {"volume", "snapshot", NULL};
static const struct slio_json_field orphan_fields[] = {
    SLIO_JSON_FIELD(struct orphan_doc, node, "node", SLIO_JSON_STRING, .max = MODEL_NAME_MAX),
    SLIO_JSON_FIELD(struct orphan_doc, pool, "pool", SLIO_JSON_STRING, .max = MODEL_NAME_MAX),
    SLIO_JSON_FIELD(struct orphan_doc, uuid, "uuid", SLIO_JSON_STRING, .max = 64),
    SLIO_JSON_FIELD(struct orphan_doc, kind, "kind", SLIO_JSON_ENUM, .names = orphan_kinds),
    SLIO_JSON_FIELD(struct orphan_doc, device, "device", SLIO_JSON_STRING, .max = 4096),
    SLIO_JSON_FIELD(struct orphan_doc, size, "size", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct orphan_doc, reported_at, "reported_at", SLIO_JSON_STRING, .max = 64),
};

static int decode_orphans(const json_t *v, void *member, struct slio_err *err)
{
    size_t i;
    json_t *o;
    if (!json_is_array(v) || json_array_size(v) > MAX_ORPHANS) {
        slio_err_set(err, "expected an array of at most %d orphans", MAX_ORPHANS);
        return -EINVAL;
    }
    json_array_foreach (v, i, o) {
        struct orphan_doc d = {0};
        int r = SLIO_JSON_DECODE(o, orphan_fields, &d, 0, err);
        if (r < 0) {
            slio_err_prefix(err, "[%zu]", i);
            return r;
        }
    }
    *(json_t **)member = (json_t *)v;
    return 0;
}

#define ST(member, name, type, ...)                                                                \
    SLIO_JSON_FIELD(struct agent_status, member, name, type, __VA_ARGS__)
static const struct slio_json_field status_fields[] = {
    ST(node, "node", SLIO_JSON_STRING, .required = true, .min = 1, .max = MODEL_NAME_MAX),
    ST(partial, "partial", SLIO_JSON_BOOL),
    ST(revision, "revision", SLIO_JSON_I64, .min = 0, .max = INT64_MAX),
    ST(volumes, "volumes", SLIO_JSON_CUSTOM, .decode = decode_objects),
    ST(snapshots, "snapshots", SLIO_JSON_CUSTOM, .decode = decode_objects),
    ST(orphans, "orphans", SLIO_JSON_CUSTOM, .decode = decode_orphans),
};

int model_agent_status_decode(const json_t *body, struct agent_status *ret, struct slio_err *err)
{
    struct agent_status s = {0};
    int r = SLIO_JSON_DECODE(body, status_fields, &s, 0, err);
    if (r == 0)
        r = model_check_name("field 'node':", s.node, err);
    if (r == 0)
        *ret = s;
    return r;
}

int model_thin_severity(const json_t *pool)
{
    const char *l = model_str(pool, "thin_level");

    return strcmp(l, "critical") == 0 ? 2 : strcmp(l, "warning") == 0 ? 1 : 0;
}
