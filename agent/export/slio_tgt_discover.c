/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the target: which of our volumes it exports (nvmf_get_subsystems),
 * which bdevs of ours it holds with what size and QoS (bdev_get_bdevs), and
 * their I/O counters (bdev_get_iostat). Two calls describe every volume, so
 * an agent restarted with 1,000 exports learns them in two round trips.
 * The answers are untrusted: every member is type-checked through the
 * field-table decoder; entries that are not ours are skipped.
 */
#include <string.h>

#include "export/slio_tgt_internal.h"
#include "slio/json.h"
#include "slio/uuid.h"

#define LIST_MAX 100000

static struct agent_export_state *state_for(struct agent_export_list *l, const uuid_t uuid)
{
    struct agent_export_state *s;

    for (size_t i = 0; i < l->n; i++)
        if (uuid_compare(l->items[i].uuid, uuid) == 0)
            return &l->items[i];
    if (l->n >= LIST_MAX)
        return NULL;
    s = realloc(l->items, (l->n + 1) * sizeof(*s));
    if (!s)
        return NULL;
    l->items = s;
    s = &l->items[l->n++];
    *s = (struct agent_export_state){0};
    uuid_copy(s->uuid, uuid);
    return s;
}

struct subsys_view {
    const char *nqn;
    bool allow_any_host;
    json_t *hosts, *listen, *namespaces;
};
static const struct slio_json_field subsys_fields[] = {
    SLIO_JSON_FIELD(struct subsys_view, nqn, "nqn", SLIO_JSON_STRING, .required = true,
                    .max = SLIO_NQN_MAX),
    SLIO_JSON_FIELD(struct subsys_view, allow_any_host, "allow_any_host", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct subsys_view, hosts, "hosts", SLIO_JSON_VALUE),
    SLIO_JSON_FIELD(struct subsys_view, listen, "listen_addresses", SLIO_JSON_VALUE),
    SLIO_JSON_FIELD(struct subsys_view, namespaces, "namespaces", SLIO_JSON_VALUE),
};

/* A host's key name as the target reports it (SPDK: dhchap_key / dhchap_ctrlr_key). */
static int host_key_name(const json_t *h, const char *member, char **ret)
{
    const json_t *v = json_object_get(h, member);

    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= AGENT_KEY_NAME_MAX * 4)
        return -EBADMSG;
    *ret = strdup(json_string_value(v));
    return *ret ? 0 : -ENOMEM;
}

static int add_hosts(struct agent_export_state *s, const json_t *hosts)
{
    size_t i;
    json_t *h;
    int r;

    if (!json_is_array(hosts) || json_array_size(hosts) > 1024)
        return -EBADMSG;
    s->hosts = calloc(json_array_size(hosts) + 1, sizeof(char *));
    s->key_names = calloc(json_array_size(hosts) + 1, sizeof(char *));
    s->ctrl_key_names = calloc(json_array_size(hosts) + 1, sizeof(char *));
    if (!s->hosts || !s->key_names || !s->ctrl_key_names)
        return -ENOMEM;
    json_array_foreach (hosts, i, h) {
        const char *nqn = json_string_value(json_object_get(h, "nqn"));
        if (!nqn || strlen(nqn) > SLIO_NQN_MAX)
            return -EBADMSG;
        s->hosts[s->n_hosts] = strdup(nqn);
        if (!s->hosts[s->n_hosts])
            return -ENOMEM;
        s->n_hosts++;
        r = host_key_name(h, "dhchap_key", &s->key_names[i]);
        if (r == 0)
            r = host_key_name(h, "dhchap_ctrlr_key", &s->ctrl_key_names[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static bool has_our_listener(const json_t *listen, const struct agent_export_addr *addr)
{
    size_t i;
    json_t *l;

    json_array_foreach (listen, i, l) {
        const char *traddr = json_string_value(json_object_get(l, "traddr"));
        const char *trsvcid = json_string_value(json_object_get(l, "trsvcid"));
        if (traddr && trsvcid && strcmp(traddr, addr->traddr) == 0 &&
            strcmp(trsvcid, addr->trsvcid) == 0)
            return true;
    }
    return false;
}

/* Namespace on our bdev whose UUID is the volume's. */
static bool has_our_namespace(const json_t *namespaces, const uuid_t uuid)
{
    char bdev[AGENT_BDEV_NAME_MAX];
    uuid_t ns_uuid;
    size_t i;
    json_t *ns;

    agent_export_bdev_name(uuid, bdev);
    json_array_foreach (namespaces, i, ns) {
        const char *b = json_string_value(json_object_get(ns, "bdev_name"));
        const char *u = json_string_value(json_object_get(ns, "uuid"));
        if (b && u && strcmp(b, bdev) == 0 && slio_uuid_parse(u, ns_uuid) == 0 &&
            uuid_compare(ns_uuid, uuid) == 0)
            return true;
    }
    return false;
}

static int decode_subsystem(const json_t *e, const struct agent_export_addr *addr,
                            struct agent_export_list *list, struct slio_err *err)
{
    struct subsys_view v = {0};
    struct agent_export_state *s;
    uuid_t uuid;
    int r;

    r = SLIO_JSON_DECODE(e, subsys_fields, &v, SLIO_JSON_ALLOW_UNKNOWN, err);
    if (r < 0)
        return r;
    if (agent_export_parse_nqn(v.nqn, uuid) < 0)
        return 0; /* not ours */
    s = state_for(list, uuid);
    if (!s)
        return -ENOMEM;
    if (s->has_subsystem) { /* one NQN twice: the answer cannot be trusted (found by fuzzing) */
        slio_err_set(err, "subsystem \"%s\" listed twice", v.nqn);
        return -EBADMSG;
    }
    s->has_subsystem = true;
    s->allow_any_host = v.allow_any_host;
    s->has_listener = json_is_array(v.listen) && has_our_listener(v.listen, addr);
    s->has_namespace = json_is_array(v.namespaces) && has_our_namespace(v.namespaces, uuid);
    r = v.hosts ? add_hosts(s, v.hosts) : 0;
    if (r == -EBADMSG)
        slio_err_set(err, "subsystem \"%s\": malformed hosts", v.nqn);
    return r;
}

int tgt_decode_subsystems(const json_t *result, const struct agent_export_addr *addr,
                          struct agent_export_list *list, struct slio_err *err)
{
    size_t i;
    json_t *e;
    int r;

    if (!json_is_array(result)) {
        slio_err_set(err, "nvmf_get_subsystems: expected an array");
        return -EBADMSG;
    }
    json_array_foreach (result, i, e) {
        r = decode_subsystem(e, addr, list, err);
        if (r < 0) {
            slio_err_prefix(err, "nvmf_get_subsystems[%zu]", i);
            return r == -EINVAL ? -EBADMSG : r;
        }
    }
    return 0;
}

struct bdev_view {
    const char *name;
    uint32_t block_size;
    uint64_t num_blocks;
    json_t *qos;
};
static const struct slio_json_field bdev_fields[] = {
    SLIO_JSON_FIELD(struct bdev_view, name, "name", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct bdev_view, block_size, "block_size", SLIO_JSON_U32),
    SLIO_JSON_FIELD(struct bdev_view, num_blocks, "num_blocks", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct bdev_view, qos, "assigned_rate_limits", SLIO_JSON_VALUE),
};
static const struct slio_json_field qos_fields[] = {
    SLIO_JSON_FIELD(struct agent_qos, rw_ios_per_sec, "rw_ios_per_sec", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct agent_qos, rw_mbytes_per_sec, "rw_mbytes_per_sec", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct agent_qos, r_mbytes_per_sec, "r_mbytes_per_sec", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct agent_qos, w_mbytes_per_sec, "w_mbytes_per_sec", SLIO_JSON_U64),
};

static int decode_bdev(const json_t *e, struct agent_export_list *list, struct slio_err *err)
{
    struct bdev_view v = {0};
    struct agent_export_state *s;
    struct agent_qos q = {0};
    uuid_t uuid;
    int r;

    r = SLIO_JSON_DECODE(e, bdev_fields, &v, SLIO_JSON_ALLOW_UNKNOWN, err);
    if (r < 0)
        return r;
    if (agent_export_parse_bdev_name(v.name, uuid) < 0)
        return 0;
    if (v.qos) {
        r = SLIO_JSON_DECODE(v.qos, qos_fields, &q, SLIO_JSON_ALLOW_UNKNOWN, err);
        if (r < 0)
            return r;
    }
    if (v.num_blocks > UINT64_MAX / (v.block_size ? v.block_size : 1)) {
        slio_err_set(err, "bdev \"%s\": size overflows", v.name);
        return -EINVAL;
    }
    s = state_for(list, uuid);
    if (!s)
        return -ENOMEM;
    s->has_bdev = true;
    s->bdev_size = v.num_blocks * v.block_size;
    s->qos = q;
    return 0;
}

int tgt_decode_bdevs(const json_t *result, struct agent_export_list *list, struct slio_err *err)
{
    size_t i;
    json_t *e;
    int r;

    if (!json_is_array(result)) {
        slio_err_set(err, "bdev_get_bdevs: expected an array");
        return -EBADMSG;
    }
    json_array_foreach (result, i, e) {
        r = decode_bdev(e, list, err);
        if (r < 0) {
            slio_err_prefix(err, "bdev_get_bdevs[%zu]", i);
            return r == -EINVAL ? -EBADMSG : r;
        }
    }
    return 0;
}

int tgt_discover(struct agent_exporter *x, struct agent_export_list *ret, struct slio_err *err)
{
    struct tgt_exporter *t = (struct tgt_exporter *)x;
    _cleanup_json_ json_t *subsystems = NULL, *bdevs = NULL;
    struct agent_export_list list = {0};
    int r;

    r = tgt_check_transport(t, err);
    if (r == 0)
        r = tgt_call(t, "nvmf_get_subsystems", NULL, &subsystems, NULL, err);
    if (r == 0)
        r = tgt_call(t, "bdev_get_bdevs", NULL, &bdevs, NULL, err);
    if (r == 0)
        r = tgt_decode_subsystems(subsystems, &t->addr, &list, err);
    if (r == 0)
        r = tgt_decode_bdevs(bdevs, &list, err);
    for (size_t i = 0; r == 0 && i < list.n; i++)
        tgt_discover_auth(t, &list.items[i]);
    if (r < 0) {
        agent_export_list_free(&list);
        slio_err_prefix(err, "target \"%s\"", t->socket);
        return r;
    }
    *ret = list;
    return 0;
}

struct iostat_view {
    const char *name;
    uint64_t bytes_read, num_read_ops, bytes_written, num_write_ops;
    uint64_t read_latency_ticks, write_latency_ticks;
};
static const struct slio_json_field iostat_fields[] = {
    SLIO_JSON_FIELD(struct iostat_view, name, "name", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct iostat_view, bytes_read, "bytes_read", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct iostat_view, num_read_ops, "num_read_ops", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct iostat_view, bytes_written, "bytes_written", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct iostat_view, num_write_ops, "num_write_ops", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct iostat_view, read_latency_ticks, "read_latency_ticks", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct iostat_view, write_latency_ticks, "write_latency_ticks", SLIO_JSON_U64),
};

int tgt_decode_iostat(const json_t *result, struct agent_iostat_list *ret, struct slio_err *err)
{
    json_t *bdevs = json_object_get(result, "bdevs"), *e;
    json_int_t tick_rate = json_integer_value(json_object_get(result, "tick_rate"));
    struct agent_iostat_list l = {0};
    size_t i;

    if (!json_is_array(bdevs) || json_array_size(bdevs) > LIST_MAX || tick_rate <= 0) {
        slio_err_set(err, "bdev_get_iostat: expected {tick_rate > 0, bdevs: [...]}");
        return -EBADMSG;
    }
    l.items = calloc(json_array_size(bdevs) + 1, sizeof(*l.items));
    if (!l.items)
        return -ENOMEM;
    json_array_foreach (bdevs, i, e) {
        struct iostat_view v = {0};
        struct agent_iostat *s = &l.items[l.n];
        if (SLIO_JSON_DECODE(e, iostat_fields, &v, SLIO_JSON_ALLOW_UNKNOWN, err) < 0) {
            slio_err_prefix(err, "bdev_get_iostat.bdevs[%zu]", i);
            agent_iostat_list_free(&l);
            return -EBADMSG;
        }
        if (agent_export_parse_bdev_name(v.name, s->uuid) < 0)
            continue;
        s->read_ops = v.num_read_ops;
        s->write_ops = v.num_write_ops;
        s->read_bytes = v.bytes_read;
        s->write_bytes = v.bytes_written;
        s->read_seconds = (double)v.read_latency_ticks / (double)tick_rate;
        s->write_seconds = (double)v.write_latency_ticks / (double)tick_rate;
        l.n++;
    }
    *ret = l;
    return 0;
}

int tgt_iostat(struct agent_exporter *x, struct agent_iostat_list *ret, struct slio_err *err)
{
    struct tgt_exporter *t = (struct tgt_exporter *)x;
    _cleanup_json_ json_t *res = NULL;
    int r;

    r = tgt_call(t, "bdev_get_iostat", NULL, &res, NULL, err);
    if (r == 0)
        r = tgt_decode_iostat(res, ret, err);
    return r;
}
