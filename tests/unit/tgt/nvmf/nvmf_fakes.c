/* SPDX-License-Identifier: Apache-2.0 */
/* Test double of the registry and transport seams used by tgt/nvmf (see nvmf_fakes.h). */
#include "nvmf_fakes.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf/io_cmd.h"
#include "slio/log.h"
#include "transport/reactor.h"

struct fake_state fake;
static struct tgt_subsys g_subs[4];
static struct tgt_subsys g_disc = {.nqn = TGT_DISCOVERY_NQN, .type = TGT_SUBSYS_DISCOVERY};
static int g_ns_refs;

static const struct tgt_transport_opts default_opts = {
    .max_queue_depth = 128,
    .max_aq_depth = 128,
    .max_io_qpairs_per_ctrlr = 127,
    .in_capsule_data_size = 8192,
    .max_io_size = 131072,
    .io_unit_size = 131072,
};

void fake_reset(void)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_subs); i++)
        fake_subsys_remove(&g_subs[i]);
    memset(&fake, 0, sizeof(fake));
    fake.opts = default_opts;
    fake.now_us = 1000000;
    fake.genctr = 1;
    g_disc.refs = 0;
    g_ns_refs = 0;
}

struct tgt_subsys *fake_subsys_add(const char *nqn, uint32_t max_nsid)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_subs); i++) {
        struct tgt_subsys *s = &g_subs[i];
        if (s->used)
            continue;
        memset(s, 0, sizeof(*s));
        s->used = true;
        snprintf(s->nqn, sizeof(s->nqn), "%s", nqn);
        s->type = TGT_SUBSYS_NVME;
        snprintf(s->serial, sizeof(s->serial), "SLIO%04zu", i);
        snprintf(s->model, sizeof(s->model), "SLiteIO volume");
        s->max_nsid = max_nsid;
        fake.genctr++;
        return s;
    }
    abort();
}

void fake_subsys_remove(struct tgt_subsys *s)
{
    if (!s->used)
        return;
    for (uint32_t nsid = 1; nsid <= FAKE_MAX_NS; nsid++)
        fake_ns_remove(s, nsid);
    s->used = false;
    fake.genctr++;
}

void fake_host_add(struct tgt_subsys *s, const char *hostnqn)
{
    snprintf(s->hosts[s->nr_hosts++], sizeof(s->hosts[0]), "%s", hostnqn);
    fake.genctr++;
}

void fake_host_remove_all(struct tgt_subsys *s)
{
    s->nr_hosts = 0;
    s->allow_any_host = false;
    fake.genctr++;
}

void fake_listener_add(struct tgt_subsys *s, const char *traddr, const char *trsvcid)
{
    struct tgt_listen_addr *a = &s->listeners[s->nr_listeners++];
    memset(a, 0, sizeof(*a));
    snprintf(a->trtype, sizeof(a->trtype), "TCP");
    snprintf(a->adrfam, sizeof(a->adrfam), "IPv4");
    snprintf(a->traddr, sizeof(a->traddr), "%s", traddr);
    snprintf(a->trsvcid, sizeof(a->trsvcid), "%s", trsvcid);
    fake.genctr++;
}

struct tgt_ns *fake_ns_add(struct tgt_subsys *s, uint32_t nsid, uint64_t blocks, uint32_t bs,
                           bool blockdev)
{
    struct tgt_ns *ns = calloc(1, sizeof(*ns));
    struct tgt_bdev *b = calloc(1, sizeof(*b));
    if (!ns || !b)
        abort();
    snprintf(b->name, sizeof(b->name), "bdev%u", nsid);
    b->block_size = bs;
    b->is_blockdev = blockdev;
    atomic_store(&b->num_blocks, blocks);
    ns->nsid = nsid;
    ns->bdev = b;
    for (int i = 0; i < 16; i++) {
        ns->uuid[i] = (uint8_t)(0xa0 + i);
        ns->nguid[i] = (uint8_t)(0x10 + i + nsid);
    }
    s->ns[nsid] = ns;
    return ns;
}

void fake_ns_remove(struct tgt_subsys *s, uint32_t nsid)
{
    struct tgt_ns *ns = s->ns[nsid];
    if (!ns)
        return;
    s->ns[nsid] = NULL;
    free(ns->bdev);
    free(ns);
}

bool fake_refs_balanced(void)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_subs); i++)
        if (g_subs[i].used && g_subs[i].refs != 0)
            return false;
    return g_disc.refs == 0 && g_ns_refs == 0;
}

/* ---- registry API ---- */

struct tgt_subsys *tgt_subsys_find_get(const char *nqn)
{
    if (strcmp(nqn, TGT_DISCOVERY_NQN) == 0) {
        g_disc.refs++;
        return &g_disc;
    }
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_subs); i++) {
        if (g_subs[i].used && strcmp(g_subs[i].nqn, nqn) == 0) {
            g_subs[i].refs++;
            return &g_subs[i];
        }
    }
    return NULL;
}

void tgt_subsys_put(struct tgt_subsys *s)
{
    if (s->refs <= 0)
        abort(); /* unbalanced put */
    s->refs--;
}

const char *tgt_subsys_nqn(const struct tgt_subsys *s)
{
    return s->nqn;
}
enum tgt_subsys_type tgt_subsys_type(const struct tgt_subsys *s)
{
    return s->type;
}
const char *tgt_subsys_serial(const struct tgt_subsys *s)
{
    return s->serial;
}
const char *tgt_subsys_model(const struct tgt_subsys *s)
{
    return s->model;
}
uint32_t tgt_subsys_max_nsid(const struct tgt_subsys *s)
{
    return s->max_nsid;
}

bool tgt_subsys_host_allowed(struct tgt_subsys *s, const char *hostnqn)
{
    if (s->allow_any_host)
        return true;
    for (unsigned i = 0; i < s->nr_hosts; i++)
        if (strcmp(s->hosts[i], hostnqn) == 0)
            return true;
    return false;
}

bool tgt_subsys_listener_allowed(struct tgt_subsys *s, const struct tgt_listen_addr *a)
{
    for (unsigned i = 0; i < s->nr_listeners; i++)
        if (strcmp(s->listeners[i].traddr, a->traddr) == 0 &&
            strcmp(s->listeners[i].trsvcid, a->trsvcid) == 0)
            return true;
    return false;
}

struct tgt_ns *tgt_ns_get_io(struct tgt_subsys *s, uint32_t nsid)
{
    if (nsid == 0 || nsid > FAKE_MAX_NS || !s->ns[nsid])
        return NULL;
    g_ns_refs++;
    return s->ns[nsid];
}

void tgt_ns_put(struct tgt_ns *ns)
{
    if (g_ns_refs <= 0)
        abort();
    g_ns_refs--;
}

uint32_t tgt_subsys_active_nsids(struct tgt_subsys *s, uint32_t after, uint32_t *out, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t nsid = after + 1; nsid <= FAKE_MAX_NS && n < max && nsid > after; nsid++)
        if (s->ns[nsid])
            out[n++] = nsid;
    return n;
}

void tgt_registry_for_each_discovery_entry(const char *hostnqn, tgt_discovery_fn fn, void *ctx)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_subs); i++) {
        struct tgt_subsys *s = &g_subs[i];
        if (!s->used || !tgt_subsys_host_allowed(s, hostnqn))
            continue;
        for (unsigned l = 0; l < s->nr_listeners; l++)
            fn(s->nqn, &s->listeners[l], ctx);
    }
}

uint64_t tgt_registry_discovery_genctr(void)
{
    return fake.genctr;
}

/* ---- transport / io_cmd seams ---- */

const struct tgt_transport_opts *tgt_transport_get_opts(void)
{
    return &fake.opts;
}

uint64_t tgt_now_us(void)
{
    return fake.now_us;
}

void tgt_req_complete(struct tgt_req *req)
{
    fake.completed++;
    fake.last_completed = req;
}

enum tgt_exec_result tgt_io_cmd_exec(struct tgt_req *req, struct tgt_ns *ns)
{
    fake.io_cmds++;
    fake.last_io_nsid = ns->nsid;
    tgt_ns_put(ns);
    return TGT_EXEC_DONE;
}

/*
 * Logging: weak, so the real libslio log module wins once it exists; until
 * then these keep the tests linkable (and quiet unless SLIO_TEST_LOG is set).
 */
__attribute__((weak)) enum slio_log_level slio_log_get_level(void)
{
    return getenv("SLIO_TEST_LOG") ? SLIO_LOG_DEBUG : SLIO_LOG_ERR;
}
__attribute__((weak)) bool slio_log_debug_enabled(const char *component)
{
    return false;
}
__attribute__((weak)) void slio_log_write(enum slio_log_level level, const char *component,
                                          const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%s] ", component);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- command helpers ---- */

void t_qpair_init(struct t_qpair *q)
{
    memset(q, 0, sizeof(*q));
    snprintf(q->qp.local.trtype, sizeof(q->qp.local.trtype), "TCP");
    snprintf(q->qp.local.adrfam, sizeof(q->qp.local.adrfam), "IPv4");
    snprintf(q->qp.local.traddr, sizeof(q->qp.local.traddr), T_TRADDR);
    snprintf(q->qp.local.trsvcid, sizeof(q->qp.local.trsvcid), T_TRSVCID);
    snprintf(q->qp.peer, sizeof(q->qp.peer), "127.0.0.1:50000");
}

enum tgt_exec_result t_exec(struct t_qpair *q, const struct nvme_sqe *cmd, enum tgt_xfer xfer,
                            uint32_t len)
{
    struct tgt_req *r = &q->req;
    memset(r, 0, sizeof(*r));
    r->cmd = *cmd;
    r->xfer = xfer;
    r->length = len;
    r->data = len ? q->buf : NULL;
    r->qpair = &q->qp;
    r->status = 0xffff; /* must be overwritten */
    if (xfer == TGT_XFER_C2H)
        memset(q->buf, 0xee, sizeof(q->buf)); /* catch bytes the handler forgot */
    return tgt_nvmf_exec(r);
}

uint16_t t_connect(struct t_qpair *q, uint16_t qid, const char *subnqn, const char *hostnqn,
                   uint16_t cntlid, uint16_t sqsize, uint32_t kato_ms)
{
    struct nvme_sqe cmd = {.opcode = NVME_FABRICS_OPCODE, .nsid = htole32(NVMF_FCTYPE_CONNECT)};
    cmd.cdw10 = htole32((uint32_t)qid << 16);
    cmd.cdw11 = htole32(sqsize);
    cmd.cdw12 = htole32(kato_ms);
    struct nvmf_connect_data d;
    memset(&d, 0, sizeof(d));
    memset(d.hostid, 0x42, sizeof(d.hostid));
    d.cntlid = htole16(cntlid);
    snprintf(d.subsysnqn, sizeof(d.subsysnqn), "%s", subnqn);
    snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", hostnqn);
    struct tgt_req *r = &q->req;
    memset(r, 0, sizeof(*r));
    memcpy(q->buf, &d, sizeof(d));
    r->cmd = cmd;
    r->xfer = TGT_XFER_H2C;
    r->length = sizeof(d);
    r->data = q->buf;
    r->qpair = &q->qp;
    tgt_nvmf_exec(r);
    return r->status;
}

uint16_t t_prop_get(struct t_qpair *q, uint32_t off, bool size8, uint64_t *ret)
{
    struct nvme_sqe cmd = {.opcode = NVME_FABRICS_OPCODE, .nsid = htole32(NVMF_FCTYPE_PROP_GET)};
    cmd.cdw10 = htole32(size8 ? 1 : 0);
    cmd.cdw11 = htole32(off);
    t_exec(q, &cmd, TGT_XFER_NONE, 0);
    *ret = q->req.result;
    return q->req.status;
}

uint16_t t_prop_set_cc(struct t_qpair *q, uint32_t cc)
{
    struct nvme_sqe cmd = {.opcode = NVME_FABRICS_OPCODE, .nsid = htole32(NVMF_FCTYPE_PROP_SET)};
    cmd.cdw11 = htole32(NVME_REG_CC);
    cmd.cdw12 = htole32(cc);
    t_exec(q, &cmd, TGT_XFER_NONE, 0);
    return q->req.status;
}

uint16_t t_admin_up(struct t_qpair *q, const char *subnqn, uint32_t kato_ms)
{
    t_qpair_init(q);
    if (t_connect(q, 0, subnqn, T_HOSTNQN, 0xffff, 31, kato_ms) != 0)
        abort();
    uint16_t cntlid = (uint16_t)q->req.result;
    if (t_prop_set_cc(q, CC_ENABLE_VALUE) != 0)
        abort();
    return cntlid;
}

uint16_t t_identify(struct t_qpair *q, uint8_t cns, uint32_t nsid, uint32_t len)
{
    struct nvme_sqe cmd = {.opcode = nvme_admin_identify, .nsid = htole32(nsid)};
    cmd.cdw10 = htole32(cns);
    t_exec(q, &cmd, TGT_XFER_C2H, len);
    return q->req.status;
}

uint16_t t_get_log(struct t_qpair *q, uint8_t lid, uint32_t nsid, uint64_t offset, uint32_t len,
                   bool rae)
{
    uint32_t numd = len / 4 - 1;
    struct nvme_sqe cmd = {.opcode = nvme_admin_get_log_page, .nsid = htole32(nsid)};
    cmd.cdw10 = htole32(lid | (rae ? 1u << 15 : 0) | (numd & 0xffff) << 16);
    cmd.cdw11 = htole32(numd >> 16);
    cmd.cdw12 = htole32((uint32_t)offset);
    cmd.cdw13 = htole32((uint32_t)(offset >> 32));
    t_exec(q, &cmd, TGT_XFER_C2H, len);
    return q->req.status;
}

uint16_t t_set_feature(struct t_qpair *q, uint8_t fid, uint32_t cdw11, uint32_t *ret_dw0)
{
    struct nvme_sqe cmd = {.opcode = nvme_admin_set_features};
    cmd.cdw10 = htole32(fid);
    cmd.cdw11 = htole32(cdw11);
    t_exec(q, &cmd, TGT_XFER_NONE, 0);
    if (ret_dw0)
        *ret_dw0 = (uint32_t)q->req.result;
    return q->req.status;
}

uint16_t t_get_feature(struct t_qpair *q, uint8_t fid, uint32_t sel, uint32_t *ret_dw0)
{
    struct nvme_sqe cmd = {.opcode = nvme_admin_get_features};
    cmd.cdw10 = htole32(fid | sel << 8);
    t_exec(q, &cmd, TGT_XFER_NONE, 0);
    if (ret_dw0)
        *ret_dw0 = (uint32_t)q->req.result;
    return q->req.status;
}

void t_close(struct t_qpair *q)
{
    tgt_nvmf_qpair_fini(&q->qp);
}

struct tgt_subsys *fake_fixture_setup(void)
{
    fake_reset();
    struct tgt_subsys *s = fake_subsys_add(T_SUBNQN, 32);
    fake_host_add(s, T_HOSTNQN);
    fake_listener_add(s, T_TRADDR, T_TRSVCID);
    fake_ns_add(s, 1, 2048, 512, false);
    return s;
}

bool fake_fixture_reset(void)
{
    bool balanced = fake_refs_balanced();
    fake_reset();
    return balanced;
}
