/* SPDX-License-Identifier: Apache-2.0 */
/* nvmf_subsystem_* methods that add or remove namespaces, listeners and hosts. */
#define SLIO_LOG_COMPONENT "rpc"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "registry/keyring.h"
#include "registry/registry_mgmt.h"
#include "rpc/methods.h"
#include "slio/uuid.h"

const struct slio_json_field tgt_rpc_nqn_fields[2] = {
    SLIO_JSON_FIELD(struct tgt_rpc_nqn_req, nqn, "nqn", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = TGT_NQN_MAX),
    SLIO_JSON_FIELD(struct tgt_rpc_nqn_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
};

static int finish(int r, const struct slio_err *e, json_t **ret, struct tgt_rpc_err *err)
{
    return r < 0 ? tgt_rpc_error_from(err, r, e, false) : tgt_rpc_ok(ret);
}

/* ---- namespaces ---- */

struct nguid {
    uint8_t b[16];
    bool set;
};

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* 32 hex digits, dashes allowed anywhere (SPDK prints none; UUID-style input is common). */
static int decode_nguid(const json_t *v, void *member, struct slio_err *err)
{
    struct nguid *out = member, n = {.set = true};
    const char *s = json_string_value(v);
    unsigned digits = 0;

    if (!s) {
        slio_err_set(err, "expected string, got %s", slio_json_type_name(v));
        return -EINVAL;
    }
    for (; *s; s++) {
        if (*s == '-')
            continue;
        if (!isxdigit((unsigned char)*s) || digits >= 32) {
            slio_err_set(err, "not 32 hexadecimal digits");
            return -EINVAL;
        }
        n.b[digits / 2] = (uint8_t)(n.b[digits / 2] << 4 | hexval((unsigned char)*s));
        digits++;
    }
    if (digits != 32) {
        slio_err_set(err, "not 32 hexadecimal digits");
        return -EINVAL;
    }
    *out = n;
    return 0;
}

struct ns_params {
    const char *bdev_name;
    uint32_t nsid;
    uuid_t uuid;
    struct nguid nguid;
    const char *ptpl_file, *eui64;
    uint32_t anagrpid;
    bool no_auto_visible;
};
static const struct slio_json_field ns_fields[] = {
    SLIO_JSON_FIELD(struct ns_params, bdev_name, "bdev_name", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = TGT_NAME_MAX),
    SLIO_JSON_FIELD(struct ns_params, nsid, "nsid", SLIO_JSON_U32, .max = TGT_MAX_NAMESPACES),
    SLIO_JSON_FIELD(struct ns_params, uuid, "uuid", SLIO_JSON_UUID),
    SLIO_JSON_FIELD(struct ns_params, nguid, "nguid", SLIO_JSON_CUSTOM, .decode = decode_nguid),
    /* written by SPDK's save_config; only their defaults are supported (checked below) */
    SLIO_JSON_FIELD(struct ns_params, ptpl_file, "ptpl_file", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct ns_params, eui64, "eui64", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct ns_params, anagrpid, "anagrpid", SLIO_JSON_U32),
    SLIO_JSON_FIELD(struct ns_params, no_auto_visible, "no_auto_visible", SLIO_JSON_BOOL),
};

struct add_ns_req {
    const char *nqn, *tgt_name;
    struct ns_params ns;
};
static const struct slio_json_field add_ns_fields[] = {
    SLIO_JSON_FIELD(struct add_ns_req, nqn, "nqn", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_NQN_MAX),
    SLIO_JSON_FIELD(struct add_ns_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct add_ns_req, ns, "namespace", SLIO_JSON_OBJECT, .required = true,
                    .fields = ns_fields, .n_fields = SLIO_ARRAY_SIZE(ns_fields)),
};

int tgt_rpc_subsystem_add_ns(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct add_ns_req req = {0};
    struct slio_err e = {{0}};
    uint32_t nsid;

    if (TGT_RPC_DECODE(params, add_ns_fields, &req, 0, err) < 0)
        return -1;
    if (req.ns.ptpl_file || req.ns.eui64 || req.ns.no_auto_visible)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameter 'namespace.%s': not supported",
                             req.ns.ptpl_file ? "ptpl_file"
                             : req.ns.eui64   ? "eui64"
                                              : "no_auto_visible");
    struct tgt_ns_opts o = {
        .bdev_name = req.ns.bdev_name,
        .nsid = req.ns.nsid,
        .uuid = slio_uuid_is_null(req.ns.uuid) ? NULL : req.ns.uuid,
        .nguid = req.ns.nguid.set ? req.ns.nguid.b : NULL,
    };
    int r = tgt_subsys_add_ns(req.nqn, &o, &e, &nsid);
    if (r < 0)
        return tgt_rpc_error_from(err, r, &e, false);
    *ret = json_integer(nsid);
    return 0;
}

struct remove_ns_req {
    const char *nqn, *tgt_name;
    uint32_t nsid;
};
static const struct slio_json_field remove_ns_fields[] = {
    SLIO_JSON_FIELD(struct remove_ns_req, nqn, "nqn", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_NQN_MAX),
    SLIO_JSON_FIELD(struct remove_ns_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct remove_ns_req, nsid, "nsid", SLIO_JSON_U32, .required = true, .min = 1),
};

int tgt_rpc_subsystem_remove_ns(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct remove_ns_req req = {0};
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, remove_ns_fields, &req, 0, err) < 0)
        return -1;
    return finish(tgt_subsys_remove_ns(req.nqn, req.nsid, &e), &e, ret, err);
}

/* ---- listeners ---- */

const struct slio_json_field tgt_rpc_addr_fields[TGT_RPC_ADDR_FIELDS] = {
    SLIO_JSON_FIELD(struct tgt_rpc_addr_params, trtype, "trtype", SLIO_JSON_STRING,
                    .required = true, .max = 7),
    SLIO_JSON_FIELD(struct tgt_rpc_addr_params, adrfam, "adrfam", SLIO_JSON_STRING, .max = 7),
    SLIO_JSON_FIELD(struct tgt_rpc_addr_params, traddr, "traddr", SLIO_JSON_STRING,
                    .required = true, .min = 1, .max = TGT_TRADDR_MAX),
    SLIO_JSON_FIELD(struct tgt_rpc_addr_params, trsvcid, "trsvcid", SLIO_JSON_STRING,
                    .required = true, .min = 1, .max = TGT_TRSVCID_MAX),
};

void tgt_rpc_listen_addr_from(const struct tgt_rpc_addr_params *p, struct tgt_listen_addr *a)
{
    *a = (struct tgt_listen_addr){0};
    memcpy(a->trtype, p->trtype, strlen(p->trtype));
    if (p->adrfam)
        memcpy(a->adrfam, p->adrfam, strlen(p->adrfam));
    memcpy(a->traddr, p->traddr, strlen(p->traddr));
    memcpy(a->trsvcid, p->trsvcid, strlen(p->trsvcid));
}

struct listener_req {
    const char *nqn, *tgt_name, *ana_state, *sock_impl;
    struct tgt_rpc_addr_params addr;
    bool secure_channel;
};
static const struct slio_json_field listener_fields[] = {
    SLIO_JSON_FIELD(struct listener_req, nqn, "nqn", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_NQN_MAX),
    SLIO_JSON_FIELD(struct listener_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct listener_req, addr, "listen_address", SLIO_JSON_OBJECT, .required = true,
                    .fields = tgt_rpc_addr_fields, .n_fields = TGT_RPC_ADDR_FIELDS),
    SLIO_JSON_FIELD(struct listener_req, secure_channel, "secure_channel", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct listener_req, ana_state, "ana_state", SLIO_JSON_STRING),
    /* written by SPDK v24.09's save_config when set; one socket layer here */
    SLIO_JSON_FIELD(struct listener_req, sock_impl, "sock_impl", SLIO_JSON_STRING),
};

static int decode_listener(json_t *params, struct listener_req *req, struct tgt_listen_addr *a,
                           struct tgt_rpc_err *err)
{
    if (TGT_RPC_DECODE(params, listener_fields, req, 0, err) < 0)
        return -1;
    if (req->secure_channel)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameter 'secure_channel': TLS is not supported");
    tgt_rpc_listen_addr_from(&req->addr, a);
    return 0;
}

struct listens_ctx {
    const char *nqn;
    const struct tgt_listen_addr *a;
    bool found;
};

static void listens_one(const struct tgt_subsys_view *v, void *ctx)
{
    struct listens_ctx *c = ctx;

    if (strcmp(v->nqn, c->nqn) != 0)
        return;
    for (unsigned i = 0; i < v->nr_listeners; i++)
        c->found |= strcmp(v->listeners[i].trtype, c->a->trtype) == 0 &&
                    strcmp(v->listeners[i].adrfam, c->a->adrfam) == 0 &&
                    strcmp(v->listeners[i].traddr, c->a->traddr) == 0 &&
                    strcmp(v->listeners[i].trsvcid, c->a->trsvcid) == 0;
}

/* Does subsystem nqn listen on a (normalised) already? */
static bool already_listens(const char *nqn, struct tgt_listen_addr *a)
{
    struct slio_err e = {{0}};
    struct listens_ctx c = {.nqn = nqn, .a = a};

    if (tgt_listen_addr_check(a, &e) < 0)
        return false; /* tgt_subsys_add_listener reports it */
    tgt_subsys_for_each(listens_one, &c);
    return c.found;
}

int tgt_rpc_subsystem_add_listener(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct listener_req req = {0};
    struct tgt_listen_addr a;
    struct slio_err e = {{0}};

    if (decode_listener(params, &req, &a, err) < 0)
        return -1;
    /* SPDK succeeds when the listener exists: scripts and the agent retry */
    if (already_listens(req.nqn, &a))
        return tgt_rpc_ok(ret);
    return finish(tgt_subsys_add_listener(req.nqn, &a, &e), &e, ret, err);
}

int tgt_rpc_subsystem_remove_listener(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct listener_req req = {0};
    struct tgt_listen_addr a;
    struct slio_err e = {{0}};

    if (decode_listener(params, &req, &a, err) < 0)
        return -1;
    int r = tgt_subsys_remove_listener(req.nqn, &a, &e);
    if (r == 0 && tgt_listen_addr_check(&a, &e) == 0)
        tgt_rpc_ana_forget(req.nqn, &a);
    return finish(r, &e, ret, err);
}

/* ---- hosts ---- */

struct host_req {
    const char *nqn, *tgt_name, *host, *key, *ckey;
};
#define HOST_FIELDS                                                                                \
    SLIO_JSON_FIELD(struct host_req, nqn, "nqn", SLIO_JSON_STRING, .required = true, .min = 1,     \
                    .max = TGT_NQN_MAX),                                                           \
        SLIO_JSON_FIELD(struct host_req, tgt_name, "tgt_name", SLIO_JSON_STRING),                  \
        SLIO_JSON_FIELD(struct host_req, host, "host", SLIO_JSON_STRING, .required = true,         \
                        .min = 1, .max = TGT_NQN_MAX)
static const struct slio_json_field host_fields[] = {HOST_FIELDS};
/* nvmf_subsystem_add_host also takes SPDK's DH-HMAC-CHAP key names */
static const struct slio_json_field add_host_fields[] = {
    HOST_FIELDS,
    SLIO_JSON_FIELD(struct host_req, key, "dhchap_key", SLIO_JSON_STRING, .max = TGT_KEY_NAME_MAX),
    SLIO_JSON_FIELD(struct host_req, ckey, "dhchap_ctrlr_key", SLIO_JSON_STRING,
                    .max = TGT_KEY_NAME_MAX),
};

/*
 * The key names are checked (and set) before the host is allowed, so a
 * host never gets in without the keys it was added with.
 */
int tgt_rpc_subsystem_add_host(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct host_req req = {0};
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, add_host_fields, &req, 0, err) < 0)
        return -1;
    if (!tgt_subsys_exists(req.nqn))
        return finish(tgt_subsys_add_host(req.nqn, req.host, &e), &e, ret, err);
    int r = tgt_host_keys_set(req.nqn, req.host, req.key, req.ckey, &e);
    if (r == 0) {
        r = tgt_subsys_add_host(req.nqn, req.host, &e);
        if (r < 0)
            tgt_host_keys_drop(req.nqn, req.host);
    }
    return finish(r, &e, ret, err);
}

int tgt_rpc_subsystem_remove_host(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct host_req req = {0};
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, host_fields, &req, 0, err) < 0)
        return -1;
    return finish(tgt_subsys_remove_host(req.nqn, req.host, &e), &e, ret, err);
}

struct any_host_req {
    const char *nqn, *tgt_name;
    bool allow;
};
static const struct slio_json_field any_host_fields[] = {
    SLIO_JSON_FIELD(struct any_host_req, nqn, "nqn", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_NQN_MAX),
    SLIO_JSON_FIELD(struct any_host_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct any_host_req, allow, "allow_any_host", SLIO_JSON_BOOL, .required = true),
};

int tgt_rpc_subsystem_allow_any_host(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct any_host_req req = {0};
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, any_host_fields, &req, 0, err) < 0)
        return -1;
    return finish(tgt_subsys_set_allow_any_host(req.nqn, req.allow, &e), &e, ret, err);
}
