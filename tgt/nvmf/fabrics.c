/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fabrics commands (opcode 7Fh): Connect (admin and I/O queues), Property
 * Get/Set (CAP, VS, CC, CSTS), Disconnect, and Authentication Send/Receive
 * (auth.c). A Connect from a host whose entry names a DH-HMAC-CHAP key is
 * answered with AUTHREQ.ATR set, and that queue must authenticate before
 * anything else (each I/O queue too, as the Linux host does).
 *
 * A refused Connect is always answered with a status (never by closing the
 * connection): SCT 1 / 82h "invalid parameters" with IATTR/IPO in DW0, or
 * 84h "invalid host" for an ACL refusal.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <string.h>

#include "nvmf/nvmf_internal.h"
#include "slio/log.h"
#include "slio/nvme_auth.h"
#include "transport/reactor.h"

#define CATTR_DISABLE_SQFLOW (1u << 2)
#define CONNECT_KATO_OFF     48u /* CDW12 */

/* Refusals are per peer: a reactor's limiter is touched by its own thread only. */
static __thread struct slio_ratelimit t_refuse_rl = SLIO_RATELIMIT_INIT(1000000, 5);

struct connect_args {
    uint16_t qid;
    uint32_t sqsize; /* entries (SQSIZE + 1) */
    uint8_t cattr;
    uint32_t kato_ms;
    struct nvmf_connect_data *d;
};

static void refuse(struct tgt_req *req, uint16_t status, uint32_t dw0, const char *why)
{
    const struct nvmf_connect_data *d = req->data;
    req->status = status;
    req->result = dw0;
    log_ratelimited(&t_refuse_rl, SLIO_LOG_WARN,
                    "qpair %s: Connect to \"%.*s\" from host \"%.*s\" refused: %s",
                    req->qpair->peer, TGT_NQN_MAX, d->subsysnqn, TGT_NQN_MAX, d->hostnqn, why);
}

static bool sqsize_ok(struct tgt_req *req, const struct connect_args *a)
{
    const struct tgt_transport_opts *o = tgt_transport_get_opts();
    uint32_t max = a->qid == 0 ? o->max_aq_depth : o->max_queue_depth;
    if (a->sqsize < 2 || a->sqsize > max) {
        refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM),
               NVMF_IPO_SQE(NVMF_CONNECT_SQSIZE_OFF), "queue size out of range");
        return false;
    }
    return true;
}

static void attach(struct tgt_qpair *qp, struct tgt_ctrlr *c, const struct connect_args *a)
{
    qp->ctrlr = c;
    qp->qid = a->qid;
    qp->sqsize = (uint16_t)a->sqsize;
    qp->sq_flow_control_disabled = a->cattr & CATTR_DISABLE_SQFLOW;
    qp->connected_at_us = tgt_now_us();
}

static void connect_admin(struct tgt_req *req, struct connect_args *a)
{
    struct nvmf_connect_data *d = a->d;
    struct tgt_qpair *qp = req->qpair;
    bool discovery = strcmp(d->subsysnqn, TGT_DISCOVERY_NQN) == 0;

    if (le16toh(d->cntlid) != NVMF_CNTLID_DYNAMIC)
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM), NVMF_IPO_DATA(cntlid),
                      "only the dynamic controller model (cntlid FFFFh) is supported");
    struct tgt_subsys *s = tgt_subsys_find_get(d->subsysnqn);
    if (!s && !discovery)
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM), NVMF_IPO_DATA(subsysnqn),
                      "no such subsystem");
    if (s && tgt_subsys_type(s) == TGT_SUBSYS_DISCOVERY)
        discovery = true;
    if (!discovery && !tgt_subsys_listener_allowed(s, &qp->local)) {
        tgt_subsys_put(s);
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM), NVMF_IPO_DATA(subsysnqn),
                      "subsystem not reachable through this listener");
    }
    if (!discovery && !tgt_subsys_host_allowed(s, d->hostnqn)) {
        tgt_subsys_put(s);
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_HOST), NVMF_IPO_DATA(hostnqn),
                      "host not allowed");
    }
    if (!discovery && a->kato_ms == 0) {
        tgt_subsys_put(s);
        /* as Set Features refuses it: otherwise a silent host's controller lives forever */
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM),
                      NVMF_IPO_SQE(CONNECT_KATO_OFF),
                      "keep-alive timeout 0 (keep-alive is mandatory for I/O controllers)");
    }
    if (!sqsize_ok(req, a)) {
        if (s)
            tgt_subsys_put(s);
        return;
    }
    struct nvmf_auth *auth = NULL;
    if (!discovery && nvmf_auth_prepare(d->subsysnqn, d->hostnqn, &auth) < 0) {
        tgt_subsys_put(s);
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_CTRL_BUSY), 0, "out of memory");
    }
    struct tgt_ctrlr *c = nvmf_ctrlr_create(s, d->subsysnqn, d, discovery, qp, a->kato_ms);
    if (!c) {
        nvmf_auth_free(auth);
        if (s)
            tgt_subsys_put(s);
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_CTRL_BUSY), 0,
                      "out of memory or controller IDs");
    }
    attach(qp, c, a);
    qp->auth = auth;
    req->result = c->cntlid | (auth ? SLIO_CONNECT_AUTHREQ_ATR : 0);
}

static void connect_io(struct tgt_req *req, struct connect_args *a)
{
    struct nvmf_connect_data *d = a->d;
    struct tgt_qpair *qp = req->qpair;
    struct tgt_ctrlr *c = nvmf_ctrlr_find_get(le16toh(d->cntlid));

    if (!c)
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM), NVMF_IPO_DATA(cntlid),
                      "unknown controller ID");
    if (strcmp(c->subnqn, d->subsysnqn) != 0) {
        nvmf_ctrlr_put(c);
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM), NVMF_IPO_DATA(subsysnqn),
                      "controller belongs to another subsystem");
    }
    if (strcmp(c->hostnqn, d->hostnqn) != 0 || memcmp(c->hostid, d->hostid, sizeof(c->hostid))) {
        nvmf_ctrlr_put(c);
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_HOST), NVMF_IPO_DATA(hostnqn),
                      "host NQN/ID differs from the admin queue's");
    }
    /* the admin queue's listener was checked; each I/O queue may come in elsewhere */
    if (!c->discovery && c->subs && !tgt_subsys_listener_allowed(c->subs, &qp->local)) {
        nvmf_ctrlr_put(c);
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM), NVMF_IPO_DATA(subsysnqn),
                      "subsystem not reachable through this listener");
    }
    if (!sqsize_ok(req, a)) {
        nvmf_ctrlr_put(c);
        return;
    }
    struct nvmf_auth *auth = NULL;
    if (!c->discovery && nvmf_auth_prepare(c->subnqn, c->hostnqn, &auth) < 0) {
        nvmf_ctrlr_put(c);
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_CTRL_BUSY), 0, "out of memory");
    }

    pthread_mutex_lock(&c->lock);
    uint16_t status = 0;
    uint32_t dw0 = 0;
    const char *why = NULL;
    if (!(c->csts & NVME_CSTS_RDY_MASK)) {
        status = NVMF_CMD_SEQ_ERROR, why = "controller not enabled";
    } else if (a->qid > c->granted_io_queues) {
        status = NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM);
        dw0 = NVMF_IPO_SQE(NVMF_CONNECT_QID_OFF), why = "queue ID above the granted queues";
    } else if (atomic_load(&c->io_qps[a->qid]) != NULL) {
        status = NVMF_CMD_SEQ_ERROR, why = "queue ID already connected";
    } else {
        atomic_store(&c->io_qps[a->qid], qp);
        c->num_io_qpairs++;
        c->io_queue_seen = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (status) {
        nvmf_auth_free(auth);
        nvmf_ctrlr_put(c);
        return refuse(req, status, dw0, why);
    }
    attach(qp, c, a); /* keeps the reference taken by find_get */
    qp->auth = auth;
    req->result = c->cntlid | (auth ? SLIO_CONNECT_AUTHREQ_ATR : 0);
    log_debug("ctrlr %u: I/O queue %u connected (%s, %u entries)", c->cntlid, a->qid, qp->peer,
              a->sqsize);
}

static void connect(struct tgt_req *req)
{
    if (!req->data || req->length < sizeof(struct nvmf_connect_data) || req->xfer != TGT_XFER_H2C) {
        req->status = NVMF_SGL_INVALID_DATA;
        return;
    }
    struct nvmf_connect_data *d = req->data;
    /* Untrusted strings: terminate inside their fields before any use. */
    d->subsysnqn[NVME_NQN_LENGTH - 1] = '\0';
    d->hostnqn[NVME_NQN_LENGTH - 1] = '\0';
    /*
     * Longer than the spec's 223 bytes: refused, never cut. A cut host NQN
     * would be matched against ACLs and filter the discovery log under a
     * name that is not the host's.
     */
    if (strlen(d->subsysnqn) > TGT_NQN_MAX)
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM), NVMF_IPO_DATA(subsysnqn),
                      "subsystem NQN longer than 223 bytes");
    if (strlen(d->hostnqn) > TGT_NQN_MAX)
        return refuse(req, NVMF_SPECIFIC(NVME_SC_CONNECT_INVALID_PARAM), NVMF_IPO_DATA(hostnqn),
                      "host NQN longer than 223 bytes");

    uint32_t cdw10 = nvmf_cdw10(req), cdw11 = nvmf_cdw11(req);
    struct connect_args a = {
        .qid = (uint16_t)(cdw10 >> 16),
        .sqsize = (cdw11 & 0xffffu) + 1,
        .cattr = (uint8_t)(cdw11 >> 16),
        .kato_ms = nvmf_cdw12(req),
        .d = d,
    };
    if ((cdw10 & 0xffffu) != 0) { /* RECFMT */
        req->status = NVMF_SPECIFIC(NVME_SC_CONNECT_FORMAT);
        return;
    }
    if (a.qid == 0)
        connect_admin(req, &a);
    else
        connect_io(req, &a);
}

/* ---- properties ---- */

static uint64_t prop_cap(void)
{
    const struct tgt_transport_opts *o = tgt_transport_get_opts();
    uint64_t mqes = o->max_queue_depth - 1;
    return (mqes & NVME_CAP_MQES_MASK) << NVME_CAP_MQES_SHIFT | (uint64_t)1 << NVME_CAP_CQR_SHIFT |
           (uint64_t)15 << NVME_CAP_TO_SHIFT | /* 7.5 s; CSTS.RDY follows CC.EN at once */
           (uint64_t)NVME_CAP_CSS_NVM << NVME_CAP_CSS_SHIFT;
}

static bool cc_valid(const struct tgt_ctrlr *c, uint32_t cc)
{
    if (NVME_CC_CSS(cc) != NVME_CC_CSS_NVM || NVME_CC_MPS(cc) != 0 ||
        NVME_CC_AMS(cc) != NVME_CC_AMS_RR)
        return false;
    return c->discovery || (NVME_CC_IOSQES(cc) == 6 && NVME_CC_IOCQES(cc) == 4);
}

static void update_cc(struct tgt_ctrlr *c, uint32_t cc)
{
    bool reset = false;
    pthread_mutex_lock(&c->lock);
    uint32_t old = c->cc;
    c->cc = cc;
    if (NVME_CC_EN(cc) && !NVME_CC_EN(old)) {
        c->csts =
            cc_valid(c, cc) ? NVME_CSTS_RDY_MASK : (NVME_CSTS_CFS_MASK << NVME_CSTS_CFS_SHIFT);
        if (!cc_valid(c, cc))
            log_warn("ctrlr %u: host wrote unsupported CC 0x%08x", c->cntlid, cc);
    } else if (!NVME_CC_EN(cc) && NVME_CC_EN(old)) {
        c->csts = 0; /* controller reset */
        reset = true;
    }
    if (NVME_CC_SHN(cc) && !NVME_CC_SHN(old)) {
        c->csts = (c->csts & ~NVME_CSTS_RDY_MASK) | (NVME_CSTS_SHST_CMPLT << NVME_CSTS_SHST_SHIFT);
        nvmf_ctrlr_drop_io_queues_locked(c); /* shut down: no more I/O executes */
    } else if (!NVME_CC_SHN(cc))
        c->csts &= ~((uint32_t)NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT);
    pthread_mutex_unlock(&c->lock);
    if (reset)
        nvmf_ctrlr_reset(c);
}

static void prop_get(struct tgt_req *req, struct tgt_ctrlr *c)
{
    bool size8 = (nvmf_cdw10(req) & 0x7u) == 1;
    uint32_t off = nvmf_cdw11(req);
    if (off == NVME_REG_CAP && size8) {
        req->result = prop_cap();
        return;
    }
    if (size8 || (nvmf_cdw10(req) & 0x7u) != 0) {
        req->status = NVMF_INVALID_FIELD;
        return;
    }
    pthread_mutex_lock(&c->lock);
    switch (off) {
    case NVME_REG_VS:
        req->result = NVMF_VS;
        break;
    case NVME_REG_CC:
        req->result = c->cc;
        break;
    case NVME_REG_CSTS:
        req->result = c->csts;
        break;
    case NVME_REG_CMBLOC:
    case NVME_REG_CMBSZ:
    case NVME_REG_BPINFO:
    case NVME_REG_PMRCAP:
        /* Optional capabilities we lack read as zero ("not supported"), as on
         * SPDK's target: SPDK's host probes them at every attach and logs an
         * error for each refusal. */
        req->result = 0;
        break;
    default:
        req->status = NVMF_INVALID_FIELD;
    }
    pthread_mutex_unlock(&c->lock);
}

static void prop_set(struct tgt_req *req, struct tgt_ctrlr *c)
{
    if ((nvmf_cdw10(req) & 0x7u) != 0 || nvmf_cdw11(req) != NVME_REG_CC) {
        req->status = NVMF_INVALID_FIELD;
        return;
    }
    update_cc(c, nvmf_cdw12(req));
}

static void disconnect(struct tgt_req *req, struct tgt_ctrlr *c)
{
    struct tgt_qpair *qp = req->qpair;
    if (qp->qid == 0) {
        req->status = NVMF_SPECIFIC(NVME_SC_DISCONNECT_INVALID_QTYPE);
        return;
    }
    /* The response goes out now; the next tick sees the empty slot and closes the queue. */
    pthread_mutex_lock(&c->lock);
    struct tgt_qpair *expected = qp;
    if (atomic_compare_exchange_strong(&c->io_qps[qp->qid], &expected, NULL))
        c->num_io_qpairs--;
    pthread_mutex_unlock(&c->lock);
}

enum tgt_exec_result nvmf_fabrics_exec(struct tgt_req *req)
{
    struct tgt_qpair *qp = req->qpair;
    struct tgt_ctrlr *c = qp->ctrlr;
    uint8_t fctype = nvme_sqe_fctype(&req->cmd);

    if (fctype == NVMF_FCTYPE_CONNECT) {
        if (c)
            req->status = NVMF_CMD_SEQ_ERROR;
        else
            connect(req);
        return TGT_EXEC_DONE;
    }
    if (!c) {
        req->status = NVMF_CMD_SEQ_ERROR;
        return TGT_EXEC_DONE;
    }
    if (qp->qid == 0)
        nvmf_ctrlr_touch(c);
    switch (fctype) {
    case NVMF_FCTYPE_PROP_GET:
    case NVMF_FCTYPE_PROP_SET:
        if (qp->qid != 0)
            req->status = NVMF_INVALID_OPCODE;
        else if (fctype == NVMF_FCTYPE_PROP_GET)
            prop_get(req, c);
        else
            prop_set(req, c);
        break;
    case NVMF_FCTYPE_DISCONNECT:
        disconnect(req, c);
        break;
    case nvme_fabrics_type_auth_send:
        nvmf_auth_send(req);
        break;
    case nvme_fabrics_type_auth_receive:
        nvmf_auth_receive(req);
        break;
    default:
        req->status = NVMF_INVALID_OPCODE;
    }
    return TGT_EXEC_DONE;
}
