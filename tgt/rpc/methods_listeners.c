/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvmf_subsystem_get_listeners, nvmf_subsystem_listener_set_ana_state and
 * nvmf_subsystem_get_qpairs.
 *
 * ANA states are groundwork for multipath: they are kept here, per
 * (subsystem, listener, ANA group), reported by get_listeners and written
 * by save_config, but the target does not report ANA to hosts yet (no ANA
 * log page), so a state changes nothing on the wire (docs/tgt-rpc.md). As
 * in SPDK, a namespace's ANA group is its nsid and a state set without
 * "anagrpid" applies to every group. The table forgets a listener when the
 * RPC removes it or its subsystem (tgt_rpc_ana_forget).
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nvmf/ctrlr.h"
#include "registry/registry_mgmt.h"
#include "rpc/methods.h"

enum { ANA_OPTIMIZED = 1, ANA_NON_OPTIMIZED = 2, ANA_INACCESSIBLE = 3 };
static const char *const g_ana_names[] = {NULL, "optimized", "non_optimized", "inaccessible"};

struct ana_entry {
    char nqn[TGT_NQN_MAX + 1];
    struct tgt_listen_addr a;
    uint8_t state[TGT_MAX_NAMESPACES]; /* by ANA group - 1; 0: optimized (never set) */
};

static struct ana_entry **g_ana;
static size_t g_nr_ana;

static bool same_addr(const struct tgt_listen_addr *x, const struct tgt_listen_addr *y)
{
    return strcmp(x->trtype, y->trtype) == 0 && strcmp(x->adrfam, y->adrfam) == 0 &&
           strcmp(x->traddr, y->traddr) == 0 && strcmp(x->trsvcid, y->trsvcid) == 0;
}

static struct ana_entry *ana_find(const char *nqn, const struct tgt_listen_addr *a)
{
    for (size_t i = 0; i < g_nr_ana; i++)
        if (strcmp(g_ana[i]->nqn, nqn) == 0 && (!a || same_addr(&g_ana[i]->a, a)))
            return g_ana[i];
    return NULL;
}

static const char *ana_state_name(const char *nqn, const struct tgt_listen_addr *a, uint32_t grp)
{
    const struct ana_entry *e = ana_find(nqn, a);
    uint8_t s = e && grp >= 1 && grp <= TGT_MAX_NAMESPACES ? e->state[grp - 1] : 0;

    return g_ana_names[s ? s : ANA_OPTIMIZED];
}

void tgt_rpc_ana_forget(const char *nqn, const struct tgt_listen_addr *a)
{
    for (size_t i = g_nr_ana; i-- > 0;) {
        if (strcmp(g_ana[i]->nqn, nqn) != 0 || (a && !same_addr(&g_ana[i]->a, a)))
            continue;
        free(g_ana[i]);
        g_ana[i] = g_ana[--g_nr_ana];
    }
    if (g_nr_ana == 0) {
        free(g_ana);
        g_ana = NULL;
    }
}

void tgt_rpc_ana_clear(void)
{
    while (g_nr_ana)
        free(g_ana[--g_nr_ana]);
    free(g_ana);
    g_ana = NULL;
}

static struct ana_entry *ana_get(const char *nqn, const struct tgt_listen_addr *a)
{
    struct ana_entry *e = ana_find(nqn, a);

    if (e)
        return e;
    struct ana_entry **n = realloc(g_ana, (g_nr_ana + 1) * sizeof(*n));
    if (!n)
        return NULL;
    g_ana = n;
    e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    memcpy(e->nqn, nqn, strlen(nqn) + 1);
    e->a = *a;
    g_ana[g_nr_ana++] = e;
    return e;
}

/* ---- the subsystem's view, read under the registry lock ---- */

struct view_ctx {
    const char *nqn;
    bool found;
    json_t *out;
    const struct tgt_listen_addr *addr; /* set_ana_state: the listener looked for */
    bool has_addr;
    uint32_t max_ns;
    struct tgt_listen_addr only; /* get_qpairs: the listener, when there is one */
    unsigned nr_listeners;
};

static json_t *listener_json(const struct tgt_subsys_view *v, const struct tgt_listen_addr *a)
{
    json_t *states = json_array();

    for (uint32_t i = 0; states && i < v->max_namespaces; i++)
        if (v->ns[i])
            json_array_append_new(states, json_pack("{s:i, s:s}", "ana_group", (int)(i + 1),
                                                    "ana_state", ana_state_name(v->nqn, a, i + 1)));
    return json_pack("{s:o, s:o}", "address", tgt_rpc_listen_json(a), "ana_states", states);
}

static void view_one(const struct tgt_subsys_view *v, void *ctx)
{
    struct view_ctx *c = ctx;

    if (strcmp(c->nqn, v->nqn) != 0)
        return;
    c->found = true;
    c->max_ns = v->max_namespaces;
    c->nr_listeners = v->nr_listeners;
    for (unsigned i = 0; i < v->nr_listeners; i++) {
        if (c->out)
            json_array_append_new(c->out, listener_json(v, &v->listeners[i]));
        if (c->addr && same_addr(c->addr, &v->listeners[i]))
            c->has_addr = true;
        c->only = v->listeners[i];
    }
}

static int subsys_view(struct view_ctx *c, struct tgt_rpc_err *err)
{
    tgt_subsys_for_each(view_one, c);
    if (!c->found) {
        json_decref(c->out);
        c->out = NULL;
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "Subsystem %s not found", c->nqn);
    }
    return 0;
}

static int nvmf_subsystem_get_listeners(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct tgt_rpc_nqn_req req = {0};

    if (TGT_RPC_DECODE(params, tgt_rpc_nqn_fields, &req, 0, err) < 0)
        return -1;
    struct view_ctx c = {.nqn = req.nqn, .out = json_array()};
    if (subsys_view(&c, err) < 0)
        return -1;
    *ret = c.out;
    return 0;
}

/* ---- set_ana_state ---- */

struct ana_req {
    const char *nqn, *tgt_name, *state;
    struct tgt_rpc_addr_params addr;
    uint32_t anagrpid;
};
static const struct slio_json_field ana_fields[] = {
    SLIO_JSON_FIELD(struct ana_req, nqn, "nqn", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_NQN_MAX),
    SLIO_JSON_FIELD(struct ana_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct ana_req, addr, "listen_address", SLIO_JSON_OBJECT, .required = true,
                    .fields = tgt_rpc_addr_fields, .n_fields = TGT_RPC_ADDR_FIELDS),
    SLIO_JSON_FIELD(struct ana_req, state, "ana_state", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct ana_req, anagrpid, "anagrpid", SLIO_JSON_U32),
};

static int parse_ana_state(const char *s)
{
    for (int i = ANA_OPTIMIZED; i <= ANA_INACCESSIBLE; i++)
        if (strcasecmp(s, g_ana_names[i]) == 0)
            return i;
    return -EINVAL;
}

static int nvmf_subsystem_listener_set_ana_state(json_t *params, json_t **ret,
                                                 struct tgt_rpc_err *err)
{
    struct ana_req req = {0};
    struct tgt_listen_addr a;
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, ana_fields, &req, 0, err) < 0)
        return -1;
    tgt_rpc_listen_addr_from(&req.addr, &a);
    int state = parse_ana_state(req.state);
    if (state < 0)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameter 'ana_state': \"%.32s\" is not optimized, "
                             "non_optimized or inaccessible",
                             req.state);
    if (tgt_listen_addr_check(&a, &e) < 0)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "%s", e.text);
    struct view_ctx c = {.nqn = req.nqn, .addr = &a};
    if (subsys_view(&c, err) < 0)
        return -1;
    /* SPDK: both are -EINVAL from the subsystem, answered as an internal error */
    if (!c.has_addr)
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR,
                             "error setting ANA state: -22 (subsystem %s does not listen on "
                             "%s:%s)",
                             req.nqn, a.traddr, a.trsvcid);
    if (req.anagrpid > c.max_ns)
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR,
                             "error setting ANA state: -22 (anagrpid %u is more than "
                             "max_namespaces %u)",
                             req.anagrpid, c.max_ns);
    struct ana_entry *en = ana_get(req.nqn, &a);
    if (!en)
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "out of memory");
    for (uint32_t g = 1; g <= c.max_ns; g++)
        if (req.anagrpid == 0 || g == req.anagrpid)
            en->state[g - 1] = (uint8_t)state;
    return tgt_rpc_ok(ret);
}

static json_t *ana_call(const struct tgt_subsys_view *v, const struct tgt_listen_addr *a,
                        uint8_t state, uint32_t group)
{
    json_t *p = json_pack("{s:s, s:o, s:s}", "nqn", v->nqn, "listen_address",
                          tgt_rpc_listen_json(a), "ana_state", g_ana_names[state]);

    if (p && group)
        json_object_set_new(p, "anagrpid", json_integer(group));
    return json_pack("{s:s, s:o}", "method", "nvmf_subsystem_listener_set_ana_state", "params", p);
}

/*
 * save_config (SPDK saves no ANA state): per listener, the state most groups
 * have as one call for every group (unless optimized, the default), then one
 * call per group that differs from it. A state set for all groups, however
 * many there are, is one call.
 */
void tgt_rpc_ana_config(const struct tgt_subsys_view *v, json_t *config)
{
    for (unsigned l = 0; l < v->nr_listeners; l++) {
        const struct ana_entry *e = ana_find(v->nqn, &v->listeners[l]);
        uint32_t count[ANA_INACCESSIBLE + 1] = {0};
        uint8_t base = ANA_OPTIMIZED;
        if (!e)
            continue;
        for (uint32_t g = 0; g < v->max_namespaces; g++)
            count[e->state[g] ? e->state[g] : ANA_OPTIMIZED]++;
        for (uint8_t st = ANA_NON_OPTIMIZED; st <= ANA_INACCESSIBLE; st++)
            if (count[st] > count[base])
                base = st;
        if (base != ANA_OPTIMIZED)
            json_array_append_new(config, ana_call(v, &v->listeners[l], base, 0));
        for (uint32_t g = 1; g <= v->max_namespaces; g++) {
            uint8_t st = e->state[g - 1] ? e->state[g - 1] : ANA_OPTIMIZED;
            if (st != base)
                json_array_append_new(config, ana_call(v, &v->listeners[l], st, g));
        }
    }
}

/* ---- qpairs ---- */

struct qpairs_ctx {
    json_t *out;
    const struct tgt_listen_addr *listener; /* NULL: not known (several listeners) */
};

/*
 * The controllers' queues: the admin queue (qid 0) and num_io_qpairs I/O
 * queues numbered from 1. The listener a queue came in on is known only
 * when the subsystem has one; the reactor and peer address are not kept.
 */
static void qpairs_of(const struct tgt_ctrlr_info *ci, void *ctx)
{
    struct qpairs_ctx *c = ctx;

    for (uint32_t qid = 0; qid <= ci->num_io_qpairs; qid++) {
        json_t *q = json_pack("{s:i, s:i, s:s, s:s}", "cntlid", (int)ci->cntlid, "qid", (int)qid,
                              "state", "active", "hostnqn", ci->hostnqn);
        if (q && c->listener)
            json_object_set_new(q, "listen_address", tgt_rpc_listen_json(c->listener));
        json_array_append_new(c->out, q);
    }
}

static int nvmf_subsystem_get_qpairs(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct tgt_rpc_nqn_req req = {0};

    if (TGT_RPC_DECODE(params, tgt_rpc_nqn_fields, &req, 0, err) < 0)
        return -1;
    struct view_ctx v = {.nqn = req.nqn};
    if (subsys_view(&v, err) < 0)
        return -1;
    struct qpairs_ctx c = {.out = json_array(), .listener = v.nr_listeners == 1 ? &v.only : NULL};
    tgt_ctrlr_for_each(req.nqn, qpairs_of, &c);
    *ret = c.out;
    return 0;
}

const struct tgt_rpc_method tgt_rpc_listener_methods[] = {
    {"nvmf_subsystem_get_listeners", nvmf_subsystem_get_listeners, false},
    {"nvmf_subsystem_listener_set_ana_state", nvmf_subsystem_listener_set_ana_state, true},
    {"nvmf_subsystem_get_qpairs", nvmf_subsystem_get_qpairs, false},
};
const size_t tgt_rpc_listener_methods_count = SLIO_ARRAY_SIZE(tgt_rpc_listener_methods);
