/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Controllers: the global list (cntlid allocation, lookup for I/O-queue
 * Connects, management queries), reference counting, teardown, keep-alive
 * and the per-qpair tick.
 *
 * Keep-alive policy: the timer restarts on every command received on the
 * admin queue (Keep Alive or any other). Traffic-based keep-alive (CTRATT
 * TBKAS) is not advertised, so hosts keep sending Keep Alive every KATO/2
 * even under I/O load and the I/O path never touches shared state. A
 * controller silent for KATO + NVMF_KATO_SLACK_MS is torn down.
 *
 * The timer does not run while the admin queue is still authenticating
 * (DH-HMAC-CHAP): until then the host's Keep Alive would be refused with
 * "Authentication Required", and a host may spend more than KATO on DH
 * between two messages (the Linux host under QEMU/TCG takes seconds for
 * ffdhe8192). The authentication's own step timeout bounds that phase; the
 * timer starts when it succeeds.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <stdlib.h>
#include <string.h>

#include "nvmf/nvmf_internal.h"
#include "slio/log.h"
#include "transport/reactor.h"

static pthread_mutex_t g_ctrlrs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tgt_ctrlr *g_ctrlrs; /* live controllers, under g_ctrlrs_lock */
static uint16_t g_next_cntlid = NVMF_CNTLID_MIN;

static bool cntlid_in_use_locked(uint16_t id)
{
    for (struct tgt_ctrlr *c = g_ctrlrs; c; c = c->next)
        if (c->cntlid == id)
            return true;
    return false;
}

/* Rotating allocation so a quickly reconnecting host does not reuse an ID still in its logs. */
static int cntlid_alloc_locked(uint16_t *ret_id)
{
    for (uint32_t tries = 0; tries < NVMF_CNTLID_MAX; tries++) {
        uint16_t id = g_next_cntlid;
        g_next_cntlid = id >= NVMF_CNTLID_MAX ? NVMF_CNTLID_MIN : (uint16_t)(id + 1);
        if (!cntlid_in_use_locked(id)) {
            *ret_id = id;
            return 0;
        }
    }
    return -EBUSY;
}

static void unlink_locked(struct tgt_ctrlr *c)
{
    for (struct tgt_ctrlr **p = &g_ctrlrs; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            c->next = NULL;
            return;
        }
    }
}

struct tgt_ctrlr *nvmf_ctrlr_create(struct tgt_subsys *s, const char *subnqn,
                                    const struct nvmf_connect_data *d, bool discovery,
                                    struct tgt_qpair *admin_qp, uint32_t kato_ms)
{
    const struct tgt_transport_opts *o = tgt_transport_get_opts();
    struct tgt_ctrlr *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->max_io_qpairs = discovery ? 0 : o->max_io_qpairs_per_ctrlr;
    c->io_qps = calloc(c->max_io_qpairs + 1, sizeof(*c->io_qps));
    if (!c->io_qps) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->discovery = discovery;
    c->subs = s;
    snprintf(c->subnqn, sizeof(c->subnqn), "%s", subnqn);
    memcpy(c->hostnqn, d->hostnqn, sizeof(c->hostnqn) - 1);
    c->hostnqn[sizeof(c->hostnqn) - 1] = '\0';
    memcpy(c->hostid, d->hostid, sizeof(c->hostid));
    c->listener = admin_qp->local;
    c->granted_io_queues = c->max_io_qpairs;
    c->admin_qp = admin_qp;
    c->kato_ms = (discovery && kato_ms == 0) ? NVMF_DISC_KATO_MS : kato_ms;
    c->last_ka_us = tgt_now_us();
    c->vwc_enabled = true;
    atomic_init(&c->refs, 1);

    pthread_mutex_lock(&g_ctrlrs_lock);
    if (cntlid_alloc_locked(&c->cntlid) < 0) {
        pthread_mutex_unlock(&g_ctrlrs_lock);
        pthread_mutex_destroy(&c->lock);
        free(c->io_qps);
        free(c);
        errno = EBUSY;
        return NULL;
    }
    c->next = g_ctrlrs;
    g_ctrlrs = c;
    pthread_mutex_unlock(&g_ctrlrs_lock);
    log_info("ctrlr %u: created for subsystem \"%s\", host \"%s\" (%s), kato %u ms", c->cntlid,
             c->subnqn, c->hostnqn, admin_qp->peer, c->kato_ms);
    return c;
}

struct tgt_ctrlr *nvmf_ctrlr_find_get(uint16_t cntlid)
{
    struct tgt_ctrlr *found = NULL;
    pthread_mutex_lock(&g_ctrlrs_lock);
    for (struct tgt_ctrlr *c = g_ctrlrs; c; c = c->next) {
        if (c->cntlid == cntlid && !atomic_load(&c->dead)) {
            atomic_fetch_add(&c->refs, 1);
            found = c;
            break;
        }
    }
    pthread_mutex_unlock(&g_ctrlrs_lock);
    return found;
}

void nvmf_ctrlr_put(struct tgt_ctrlr *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    /* Last qpair gone: nobody can reach c any more (it left the list when it died). */
    if (c->subs)
        tgt_subsys_put(c->subs);
    pthread_mutex_destroy(&c->lock);
    free(c->io_qps);
    free(c);
}

void nvmf_ctrlr_kill(struct tgt_ctrlr *c, const char *why)
{
    bool was_dead = atomic_exchange(&c->dead, true);
    pthread_mutex_lock(&g_ctrlrs_lock);
    unlink_locked(c); /* its cntlid is free again and I/O Connects no longer find it */
    pthread_mutex_unlock(&g_ctrlrs_lock);
    if (!was_dead)
        log_info("ctrlr %u: subsystem \"%s\", host \"%s\": torn down (%s)", c->cntlid, c->subnqn,
                 c->hostnqn, why);
}

void nvmf_ctrlr_drop_io_queues_locked(struct tgt_ctrlr *c)
{
    for (uint32_t qid = 1; qid <= c->max_io_qpairs; qid++)
        atomic_store(&c->io_qps[qid], NULL); /* no command runs there; their ticks close them */
    c->num_io_qpairs = 0;
}

void nvmf_ctrlr_reset(struct tgt_ctrlr *c)
{
    pthread_mutex_lock(&c->lock);
    nvmf_ctrlr_drop_io_queues_locked(c);
    c->io_queue_seen = false;
    c->granted_io_queues = c->max_io_qpairs;
    c->aen_cfg = 0;
    c->aen_masked = 0;
    c->ev_count = 0;
    c->nr_changed_ns = 0;
    c->abort_aers = c->nr_aers > 0;
    pthread_mutex_unlock(&c->lock);
}

void nvmf_ctrlr_touch(struct tgt_ctrlr *c)
{
    c->last_ka_us = tgt_now_us();
}

bool nvmf_ctrlr_ready(struct tgt_ctrlr *c)
{
    pthread_mutex_lock(&c->lock);
    bool rdy = (c->csts & NVME_CSTS_RDY_MASK) && !(c->csts & (NVME_CSTS_SHST_MASK << 2));
    pthread_mutex_unlock(&c->lock);
    return rdy;
}

/* ---- qpair lifecycle ---- */

void tgt_nvmf_qpair_fini(struct tgt_qpair *qp)
{
    struct tgt_ctrlr *c = qp->ctrlr;
    nvmf_auth_free(qp->auth);
    qp->auth = NULL;
    if (!c)
        return;
    if (qp->qid == 0 && c->admin_qp == qp) {
        nvmf_aer_drop(c);
        nvmf_ctrlr_kill(c, "admin queue closed");
        c->admin_qp = NULL;
    } else {
        pthread_mutex_lock(&c->lock);
        struct tgt_qpair *expected = qp;
        if (qp->qid <= c->max_io_qpairs &&
            atomic_compare_exchange_strong(&c->io_qps[qp->qid], &expected, NULL))
            c->num_io_qpairs--;
        pthread_mutex_unlock(&c->lock);
    }
    qp->ctrlr = NULL;
    nvmf_ctrlr_put(c);
}

static bool access_still_allowed(struct tgt_ctrlr *c)
{
    if (c->discovery || !c->subs)
        return true;
    return tgt_subsys_host_allowed(c->subs, c->hostnqn) &&
           tgt_subsys_listener_allowed(c->subs, &c->listener);
}

static bool admin_tick(struct tgt_qpair *qp, struct tgt_ctrlr *c, uint64_t now_us)
{
    if (nvmf_auth_pending(qp)) {
        nvmf_ctrlr_touch(c);
    } else if (c->kato_ms) {
        uint64_t limit = ((uint64_t)c->kato_ms + NVMF_KATO_SLACK_MS) * 1000u;
        if (now_us > c->last_ka_us && now_us - c->last_ka_us > limit) {
            nvmf_ctrlr_kill(c, "keep-alive timeout");
            return false;
        }
    }
    if (atomic_exchange(&c->recheck_access, false) && !access_still_allowed(c)) {
        nvmf_ctrlr_kill(c, "host no longer allowed");
        return false;
    }
    nvmf_aer_poll(c);
    return true;
}

bool tgt_nvmf_qpair_tick(struct tgt_qpair *qp, uint64_t now_us)
{
    struct tgt_ctrlr *c = qp->ctrlr;
    if (!c)
        return true;
    if (atomic_load(&c->dead) || !nvmf_auth_tick(qp, now_us))
        return false;
    if (qp->qid == 0)
        return admin_tick(qp, c, now_us);
    /* An I/O queue whose slot was cleared (controller reset, Disconnect) must go. */
    return qp->qid <= c->max_io_qpairs && atomic_load(&c->io_qps[qp->qid]) == qp;
}

/* ---- management-side notifications ---- */

/* fn runs under the controller-list lock: it must not call into tgt_nvmf_* or hold a lock
 * that a caller of tgt_nvmf_ns_changed()/access_changed() may hold. */
void tgt_ctrlr_for_each(const char *nqn, void (*fn)(const struct tgt_ctrlr_info *, void *ctx),
                        void *ctx)
{
    pthread_mutex_lock(&g_ctrlrs_lock);
    for (struct tgt_ctrlr *c = g_ctrlrs; c; c = c->next) {
        if (strcmp(c->subnqn, nqn) != 0 || atomic_load(&c->dead))
            continue;
        struct tgt_ctrlr_info info = {.cntlid = c->cntlid};
        memcpy(info.hostnqn, c->hostnqn, sizeof(info.hostnqn));
        memcpy(info.hostid, c->hostid, sizeof(info.hostid));
        pthread_mutex_lock(&c->lock);
        info.num_io_qpairs = c->num_io_qpairs;
        pthread_mutex_unlock(&c->lock);
        fn(&info, ctx);
    }
    pthread_mutex_unlock(&g_ctrlrs_lock);
}

static void changed_ns_add_locked(struct tgt_ctrlr *c, uint32_t nsid)
{
    uint32_t n = SLIO_MIN(c->nr_changed_ns, NVMF_CHANGED_NS_MAX);
    for (uint32_t i = 0; i < n; i++)
        if (c->changed_ns[i] == nsid)
            return;
    if (c->nr_changed_ns < NVMF_CHANGED_NS_MAX)
        c->changed_ns[c->nr_changed_ns] = nsid;
    if (c->nr_changed_ns <= NVMF_CHANGED_NS_MAX)
        c->nr_changed_ns++;
}

void tgt_nvmf_ns_changed(const char *nqn, uint32_t nsid)
{
    pthread_mutex_lock(&g_ctrlrs_lock);
    for (struct tgt_ctrlr *c = g_ctrlrs; c; c = c->next) {
        if (c->discovery || strcmp(c->subnqn, nqn) != 0)
            continue;
        pthread_mutex_lock(&c->lock);
        changed_ns_add_locked(c, nsid);
        nvmf_aen_queue_locked(
            c, NVMF_AEN_NS_ATTR,
            nvmf_aen_dw0(NVME_AER_NOTICE, NVME_AER_NOTICE_NS_CHANGED, NVME_LOG_LID_CHANGED_NS));
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&g_ctrlrs_lock);
}

void tgt_nvmf_subsys_access_changed(const char *nqn)
{
    /*
     * The caller may hold the registry lock: do not call back into the
     * registry here. Each admin qpair re-checks on its own reactor.
     */
    pthread_mutex_lock(&g_ctrlrs_lock);
    for (struct tgt_ctrlr *c = g_ctrlrs; c; c = c->next)
        if (strcmp(c->subnqn, nqn) == 0)
            atomic_store(&c->recheck_access, true);
    pthread_mutex_unlock(&g_ctrlrs_lock);
}

void tgt_nvmf_discovery_changed(void)
{
    pthread_mutex_lock(&g_ctrlrs_lock);
    for (struct tgt_ctrlr *c = g_ctrlrs; c; c = c->next) {
        if (!c->discovery)
            continue;
        pthread_mutex_lock(&c->lock);
        nvmf_aen_queue_locked(
            c, NVMF_AEN_DISC_CHNG,
            nvmf_aen_dw0(NVME_AER_NOTICE, NVME_AER_NOTICE_DISC_CHANGED, NVME_LOG_LID_DISCOVER));
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&g_ctrlrs_lock);
}
