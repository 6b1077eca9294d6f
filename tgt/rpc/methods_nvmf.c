/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvmf_* methods on the transport and on whole subsystems; the per-subsystem
 * add/remove methods are in methods_subsys.c. SPDK's parameter names and
 * result shapes; SPDK's "tgt_name" is accepted and ignored (one target).
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nvmf/ctrlr.h"
#include "registry/keyring.h"
#include "registry/registry_mgmt.h"
#include "rpc/methods.h"
#include "slio/log.h"
#include "slio/uuid.h"
#include "transport/reactor.h"

/* ---- transport ---- */

struct transport_req {
    const char *trtype;
    const char *tgt_name;
    struct tgt_transport_opts o;
    uint32_t max_qpairs_per_ctrlr; /* deprecated SPDK form: I/O queues + 1 */
};

#define TOPT(member, name) SLIO_JSON_FIELD(struct transport_req, o.member, name, SLIO_JSON_U32)
static const struct slio_json_field transport_fields[] = {
    SLIO_JSON_FIELD(struct transport_req, trtype, "trtype", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct transport_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
    TOPT(max_queue_depth, "max_queue_depth"),
    TOPT(max_aq_depth, "max_aq_depth"),
    TOPT(max_io_qpairs_per_ctrlr, "max_io_qpairs_per_ctrlr"),
    TOPT(in_capsule_data_size, "in_capsule_data_size"),
    TOPT(max_io_size, "max_io_size"),
    TOPT(io_unit_size, "io_unit_size"),
    SLIO_JSON_FIELD(struct transport_req, max_qpairs_per_ctrlr, "max_qpairs_per_ctrlr",
                    SLIO_JSON_U32, .min = 2),
};

/* SPDK has dozens of TCP options (c2h_success, sock_priority, num_shared_buffers...). */
static void log_ignored(json_t *params)
{
    const char *key;
    json_t *v;

    json_object_foreach (params, key, v) {
        bool known = false;
        for (size_t i = 0; i < SLIO_ARRAY_SIZE(transport_fields); i++)
            known |= strcmp(transport_fields[i].name, key) == 0;
        if (!known)
            log_debug("nvmf_create_transport: parameter '%s' is accepted and ignored", key);
    }
}

static int nvmf_create_transport(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct transport_req req = {.o = *tgt_transport_get_opts()};

    if (TGT_RPC_DECODE(params, transport_fields, &req, SLIO_JSON_ALLOW_UNKNOWN, err) < 0)
        return -1;
    if (strcasecmp(req.trtype, "TCP") != 0)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameter 'trtype': transport type '%.32s' is not "
                             "supported (only TCP)",
                             req.trtype);
    log_ignored(params);
    if (req.max_qpairs_per_ctrlr)
        req.o.max_io_qpairs_per_ctrlr = req.max_qpairs_per_ctrlr - 1;
    /* SPDK answers an existing transport with an internal error, not a parameter error */
    if (tgt_transport_created())
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "Transport type 'TCP' already exists");
    int r = tgt_transport_create(&req.o);
    if (r == -EEXIST)
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "Transport type 'TCP' already exists");
    if (r < 0)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "Unable to create transport TCP: %s (the target's log names the "
                             "option)",
                             strerror(-r));
    return tgt_rpc_ok(ret);
}

json_t *tgt_rpc_transport_json(void)
{
    const struct tgt_transport_opts *o = tgt_transport_get_opts();

    /* json_int_t: a uint32_t must never come out negative in save_config */
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "trtype", "TCP", "max_queue_depth",
                     (json_int_t)o->max_queue_depth, "max_io_qpairs_per_ctrlr",
                     (json_int_t)o->max_io_qpairs_per_ctrlr, "in_capsule_data_size",
                     (json_int_t)o->in_capsule_data_size, "max_io_size", (json_int_t)o->max_io_size,
                     "io_unit_size", (json_int_t)o->io_unit_size, "max_aq_depth",
                     (json_int_t)o->max_aq_depth);
}

/* o with the members of extra added (both consumed); NULL if either is or on failure. */
static json_t *merged(json_t *o, json_t *extra)
{
    if (!o || !extra || json_object_update(o, extra) < 0) {
        json_decref(o);
        o = NULL;
    }
    json_decref(extra);
    return o;
}

/*
 * nvmf_get_transports also shows SPDK's options that slio-tgt accepts and
 * ignores, with the values that describe what it does (docs/tgt-rpc.md). They
 * stay out of save_config: num_shared_buffers 0, for one, is not a value to
 * hand to SPDK's nvmf_create_transport.
 */
static json_t *transport_view_json(void)
{
    json_t *fixed = json_pack(
        "{s:i, s:i, s:b, s:b, s:b, s:i, s:i, s:i, s:i}",
        /* no shared buffer pool: each queue preallocates its data buffers */
        "num_shared_buffers", 0, "buf_cache_size", 0, "dif_insert_or_strip", false, "zcopy", false,
        /* a response capsule follows C2H data unless the host disabled SQ flow control */
        "c2h_success", false, "sock_priority", 0,
        /* Abort never aborts a command that reached the backing: nothing to time out */
        "abort_timeout_sec", 0,
        /* SPDK v24.09 reports these RDMA options for every transport; nothing here */
        "ack_timeout", 0, "data_wr_pool_size", 0);

    return merged(tgt_rpc_transport_json(), fixed);
}

struct get_transports_req {
    const char *trtype;
    const char *tgt_name;
};
static const struct slio_json_field get_transports_fields[] = {
    SLIO_JSON_FIELD(struct get_transports_req, trtype, "trtype", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct get_transports_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
};

static int nvmf_get_transports(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct get_transports_req req = {0};

    if (TGT_RPC_DECODE(params, get_transports_fields, &req, 0, err) < 0)
        return -1;
    if (req.trtype && (strcasecmp(req.trtype, "TCP") != 0 || !tgt_transport_created()))
        return tgt_rpc_error(err, -ENODEV, "Transport %.32s not found", req.trtype);
    json_t *a = json_array();
    if (tgt_transport_created())
        json_array_append_new(a, transport_view_json());
    *ret = a;
    return 0;
}

/* ---- subsystems ---- */

struct create_subsys_req {
    const char *nqn, *serial, *model, *tgt_name;
    bool allow_any_host, ana_reporting;
    uint32_t max_namespaces;
    uint16_t min_cntlid, max_cntlid;
};
static const struct slio_json_field create_subsys_fields[] = {
    /* no length bound here: an over-long NQN is an invalid NQN (tgt_subsys_nqn_check) */
    SLIO_JSON_FIELD(struct create_subsys_req, nqn, "nqn", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct create_subsys_req, serial, "serial_number", SLIO_JSON_STRING,
                    .max = TGT_SERIAL_LEN),
    SLIO_JSON_FIELD(struct create_subsys_req, model, "model_number", SLIO_JSON_STRING,
                    .max = TGT_MODEL_LEN),
    SLIO_JSON_FIELD(struct create_subsys_req, allow_any_host, "allow_any_host", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct create_subsys_req, max_namespaces, "max_namespaces", SLIO_JSON_U32,
                    .max = TGT_MAX_NAMESPACES),
    SLIO_JSON_FIELD(struct create_subsys_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
    /* written by SPDK's save_config; the defaults are what we do anyway */
    SLIO_JSON_FIELD(struct create_subsys_req, ana_reporting, "ana_reporting", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct create_subsys_req, min_cntlid, "min_cntlid", SLIO_JSON_U16),
    SLIO_JSON_FIELD(struct create_subsys_req, max_cntlid, "max_cntlid", SLIO_JSON_U16),
};

static void count_nvme(const struct tgt_subsys_view *v, void *ctx)
{
    *(uint32_t *)ctx += v->type == TGT_SUBSYS_NVME;
}

static int nvmf_create_subsystem(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct create_subsys_req req = {0};
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, create_subsys_fields, &req, 0, err) < 0)
        return -1;
    struct tgt_subsys_opts o = {
        .nqn = req.nqn,
        .serial = req.serial,
        .model = req.model,
        .allow_any_host = req.allow_any_host,
        .max_namespaces = req.max_namespaces,
    };
    /*
     * SPDK answers a subsystem it cannot create (invalid or taken NQN) with an
     * internal error, but a bad serial or model number with a parameter error.
     */
    if (tgt_subsys_nqn_check(req.nqn, &e) < 0)
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "%s", e.text);
    uint32_t n = 0;
    tgt_subsys_for_each(count_nvme, &n);
    if (n >= tgt_rpc_max_subsystems())
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR,
                             "Unable to create subsystem %s: already %u, the maximum "
                             "(nvmf_set_max_subsystems)",
                             req.nqn, n);
    int r = tgt_subsys_create(&o, &e);
    if (r < 0)
        return tgt_rpc_error(err, r == -EINVAL ? TGT_RPC_INVALID_PARAMS : TGT_RPC_INTERNAL_ERROR,
                             "%s", e.text);
    return tgt_rpc_ok(ret);
}

static int nvmf_delete_subsystem(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct tgt_rpc_nqn_req req = {0};
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, tgt_rpc_nqn_fields, &req, 0, err) < 0)
        return -1;
    int r = tgt_subsys_delete(req.nqn, &e);
    if (r == 0)
        tgt_rpc_ana_forget(req.nqn, NULL);
    return r < 0 ? tgt_rpc_error_from(err, r, &e, false) : tgt_rpc_ok(ret);
}

json_t *tgt_rpc_listen_json(const struct tgt_listen_addr *a)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "trtype", a->trtype, "adrfam", a->adrfam, "traddr",
                     a->traddr, "trsvcid", a->trsvcid);
}

const char *tgt_rpc_nguid_format(const uint8_t nguid[16], char buf[static 33])
{
    for (int i = 0; i < 16; i++)
        snprintf(buf + 2 * i, 3, "%02X", nguid[i]);
    return buf;
}

/*
 * A namespace's ANA group is its nsid (as in SPDK). SPDK prints "anagrpid"
 * only on a subsystem created with ana_reporting; slio-tgt keeps no such
 * flag and always prints it (an extra member where SPDK has none).
 */
static json_t *ns_json(const struct tgt_ns *ns)
{
    char uuid[SLIO_UUID_STR_LEN], nguid[33];

    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "nsid", (int)ns->nsid, "bdev_name",
                     ns->bdev->name, "name", ns->bdev->name, "nguid",
                     tgt_rpc_nguid_format(ns->nguid, nguid), "uuid",
                     slio_uuid_format(ns->uuid, uuid), "anagrpid", (int)ns->nsid);
}

/*
 * nvmf_get_subsystems' listen_addresses entry: SPDK prints the transport under
 * both "transport" (its older name) and "trtype". save_config's listener
 * params (tgt_rpc_listen_json) keep only "trtype", which is what
 * nvmf_subsystem_add_listener decodes.
 */
static json_t *listen_view_json(const struct tgt_listen_addr *a)
{
    return merged(json_pack("{s:s}", "transport", a->trtype), tgt_rpc_listen_json(a));
}

/* A host entry as SPDK lists it: its NQN and the names (never the material) of its keys. */
static json_t *host_json(const char *subnqn, const char *hostnqn)
{
    char key[TGT_KEY_NAME_MAX + 1], ckey[TGT_KEY_NAME_MAX + 1];
    json_t *h = json_pack("{s:s}", "nqn", hostnqn);

    if (h && tgt_host_keys_names(subnqn, hostnqn, key, ckey)) {
        json_object_set_new(h, "dhchap_key", json_string(key));
        if (ckey[0])
            json_object_set_new(h, "dhchap_ctrlr_key", json_string(ckey));
    }
    return h;
}

static json_t *subsys_json(const struct tgt_subsys_view *v)
{
    json_t *listeners = json_array(), *hosts = json_array();

    for (unsigned i = 0; i < v->nr_listeners; i++)
        json_array_append_new(listeners, listen_view_json(&v->listeners[i]));
    for (unsigned i = 0; i < v->nr_hosts; i++)
        json_array_append_new(hosts, host_json(v->nqn, v->hosts[i]));
    json_t *o =
        json_pack("{s:s, s:s, s:o, s:b, s:o}", "nqn", v->nqn, "subtype",
                  v->type == TGT_SUBSYS_DISCOVERY ? "Discovery" : "NVMe", "listen_addresses",
                  listeners, "allow_any_host", v->allow_any_host, "hosts", hosts);
    if (!o || v->type == TGT_SUBSYS_DISCOVERY)
        return o;
    json_t *nss = json_array();
    for (uint32_t i = 0; i < v->max_namespaces; i++)
        if (v->ns[i])
            json_array_append_new(nss, ns_json(v->ns[i]));
    json_object_set_new(o, "serial_number", json_string(v->serial));
    json_object_set_new(o, "model_number", json_string(v->model));
    json_object_set_new(o, "max_namespaces", json_integer(v->max_namespaces));
    json_object_set_new(o, "min_cntlid", json_integer(1));
    json_object_set_new(o, "max_cntlid", json_integer(0xffef));
    json_object_set_new(o, "namespaces", nss);
    return o;
}

struct get_subsys_ctx {
    const char *nqn;
    json_t *out;
    bool found;
};

static void get_subsys_one(const struct tgt_subsys_view *v, void *ctx)
{
    struct get_subsys_ctx *c = ctx;

    if (c->nqn && strcmp(c->nqn, v->nqn) != 0)
        return;
    c->found = true;
    json_array_append_new(c->out, subsys_json(v));
}

struct opt_nqn_req {
    const char *nqn, *tgt_name;
};
static const struct slio_json_field opt_nqn_fields[] = {
    SLIO_JSON_FIELD(struct opt_nqn_req, nqn, "nqn", SLIO_JSON_STRING, .max = TGT_NQN_MAX),
    SLIO_JSON_FIELD(struct opt_nqn_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
};

static const struct slio_json_field tgt_name_fields[] = {
    SLIO_JSON_FIELD(struct opt_nqn_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
};

static int nvmf_get_subsystems(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct opt_nqn_req req = {0};

    if (TGT_RPC_DECODE(params, opt_nqn_fields, &req, 0, err) < 0)
        return -1;
    struct get_subsys_ctx c = {.nqn = req.nqn, .out = json_array()};
    tgt_subsys_for_each(get_subsys_one, &c);
    if (req.nqn && !c.found) {
        json_decref(c.out);
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "Subsystem %s not found", req.nqn);
    }
    *ret = c.out;
    return 0;
}

static void ctrlr_one(const struct tgt_ctrlr_info *ci, void *ctx)
{
    char hostid[SLIO_UUID_STR_LEN];

    json_array_append_new(ctx,
                          json_pack("{s:i, s:s, s:s, s:i}", "cntlid", (int)ci->cntlid, "hostnqn",
                                    ci->hostnqn, "hostid", slio_uuid_format(ci->hostid, hostid),
                                    "num_io_qpairs", (int)ci->num_io_qpairs));
}

static int nvmf_subsystem_get_controllers(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct tgt_rpc_nqn_req req = {0};

    if (TGT_RPC_DECODE(params, tgt_rpc_nqn_fields, &req, 0, err) < 0)
        return -1;
    if (!tgt_subsys_exists(req.nqn))
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "Subsystem %s not found", req.nqn);
    json_t *a = json_array();
    tgt_ctrlr_for_each(req.nqn, ctrlr_one, a);
    *ret = a;
    return 0;
}

#define MAX_POLL_GROUPS 1024

static int nvmf_get_stats(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct opt_nqn_req req = {0};
    static struct tgt_reactor_stats st[MAX_POLL_GROUPS]; /* management thread only */

    if (TGT_RPC_DECODE(params, tgt_name_fields, &req, 0, err) < 0)
        return -1;
    unsigned n = tgt_reactor_get_stats(st, MAX_POLL_GROUPS);
    json_t *groups = json_array();
    for (unsigned i = 0; i < n && i < MAX_POLL_GROUPS; i++)
        json_array_append_new(
            groups, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:[{s:s}]}",
                              "name", st[i].name, "admin_qpairs", (json_int_t)st[i].admin_qpairs,
                              "io_qpairs", (json_int_t)st[i].io_qpairs, "current_admin_qpairs",
                              (json_int_t)st[i].current_admin_qpairs, "current_io_qpairs",
                              (json_int_t)st[i].current_io_qpairs, "pending_bdev_io",
                              (json_int_t)st[i].pending_bdev_io, "completed_nvme_io",
                              (json_int_t)st[i].completions, "requests", (json_int_t)st[i].requests,
                              "busy_polls", (json_int_t)st[i].busy_polls, "idle_sleeps",
                              (json_int_t)st[i].idle_sleeps, "transports", "trtype", "TCP"));
    *ret = json_pack("{s:i, s:o}", "tick_rate", 1000000, "poll_groups", groups);
    return 0;
}

const struct tgt_rpc_method tgt_rpc_nvmf_methods[] = {
    {"nvmf_create_transport", nvmf_create_transport, true},
    {"nvmf_get_transports", nvmf_get_transports, false},
    {"nvmf_create_subsystem", nvmf_create_subsystem, true},
    {"nvmf_delete_subsystem", nvmf_delete_subsystem, true},
    {"nvmf_get_subsystems", nvmf_get_subsystems, false},
    {"nvmf_subsystem_add_ns", tgt_rpc_subsystem_add_ns, true},
    {"nvmf_subsystem_remove_ns", tgt_rpc_subsystem_remove_ns, true},
    {"nvmf_subsystem_add_listener", tgt_rpc_subsystem_add_listener, true},
    {"nvmf_subsystem_remove_listener", tgt_rpc_subsystem_remove_listener, true},
    {"nvmf_subsystem_add_host", tgt_rpc_subsystem_add_host, true},
    {"nvmf_subsystem_remove_host", tgt_rpc_subsystem_remove_host, true},
    {"nvmf_subsystem_allow_any_host", tgt_rpc_subsystem_allow_any_host, true},
    {"nvmf_subsystem_get_controllers", nvmf_subsystem_get_controllers, false},
    {"nvmf_get_stats", nvmf_get_stats, false},
};
const size_t tgt_rpc_nvmf_methods_count = SLIO_ARRAY_SIZE(tgt_rpc_nvmf_methods);
