/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Asynchronous events: a small per-controller queue of pending events
 * (filled from any thread under ctrl->lock) and the Asynchronous Event
 * Request commands the host leaves outstanding (held by the admin qpair's
 * reactor, completed only there: a request must be completed on its own
 * reactor).
 *
 * As in the base spec, once an event of a kind has been reported it is
 * masked until the host reads the matching log page without RAE, so a
 * burst of namespace changes produces one AEN and one list.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <string.h>

#include "nvmf/nvmf_internal.h"
#include "slio/log.h"

uint32_t nvmf_aen_dw0(uint8_t type, uint8_t info, uint8_t lid)
{
    return (uint32_t)type | ((uint32_t)info << 8) | ((uint32_t)lid << 16);
}

void nvmf_aen_queue_locked(struct tgt_ctrlr *c, uint32_t aen_bit, uint32_t dw0)
{
    if (!(c->aen_cfg & aen_bit) || (c->aen_masked & aen_bit))
        return;
    if (c->ev_count == NVMF_MAX_EVENTS) {
        log_warn("ctrlr %u: asynchronous event queue full, event 0x%x dropped", c->cntlid, dw0);
        return;
    }
    c->aen_masked |= aen_bit;
    c->events[(c->ev_head + c->ev_count) % NVMF_MAX_EVENTS] = dw0;
    c->ev_count++;
}

void nvmf_aen_unmask_locked(struct tgt_ctrlr *c, uint32_t aen_bit)
{
    c->aen_masked &= ~aen_bit;
}

static bool event_pop_locked(struct tgt_ctrlr *c, uint32_t *ret_dw0)
{
    if (c->ev_count == 0)
        return false;
    *ret_dw0 = c->events[c->ev_head];
    c->ev_head = (c->ev_head + 1) % NVMF_MAX_EVENTS;
    c->ev_count--;
    return true;
}

enum tgt_exec_result nvmf_aer_submit(struct tgt_req *req)
{
    struct tgt_ctrlr *c = req->qpair->ctrlr;
    uint32_t dw0;

    pthread_mutex_lock(&c->lock);
    bool have = c->nr_aers == 0 && event_pop_locked(c, &dw0);
    pthread_mutex_unlock(&c->lock);
    if (have) {
        req->result = dw0;
        return TGT_EXEC_DONE;
    }
    if (c->nr_aers >= NVMF_MAX_AERS) {
        req->status = NVMF_SPECIFIC(NVME_SC_ASYNC_LIMIT);
        return TGT_EXEC_DONE;
    }
    c->aers[c->nr_aers++] = req;
    return TGT_EXEC_PENDING;
}

/* Remove the i-th held AER, keeping the others in submission order. */
static struct tgt_req *aer_take(struct tgt_ctrlr *c, uint32_t i)
{
    struct tgt_req *req = c->aers[i];
    memmove(&c->aers[i], &c->aers[i + 1], (c->nr_aers - i - 1) * sizeof(c->aers[0]));
    c->nr_aers--;
    return req;
}

void nvmf_aer_poll(struct tgt_ctrlr *c)
{
    if (c->nr_aers == 0)
        return;
    pthread_mutex_lock(&c->lock);
    bool abort_all = c->abort_aers;
    c->abort_aers = false;
    pthread_mutex_unlock(&c->lock);

    while (abort_all && c->nr_aers > 0) {
        struct tgt_req *req = aer_take(c, 0);
        req->status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORT_QUEUE);
        tgt_req_complete(req);
    }
    while (c->nr_aers > 0) {
        uint32_t dw0;
        pthread_mutex_lock(&c->lock);
        bool have = event_pop_locked(c, &dw0);
        pthread_mutex_unlock(&c->lock);
        if (!have)
            break;
        struct tgt_req *req = aer_take(c, 0);
        req->status = 0;
        req->result = dw0;
        log_debug("ctrlr %u: asynchronous event 0x%08x reported", c->cntlid, dw0);
        tgt_req_complete(req);
    }
}

struct tgt_req *tgt_nvmf_take_abandoned(struct tgt_qpair *qp, uint16_t cid)
{
    struct tgt_ctrlr *c = qp->ctrlr;

    if (!c || qp->qid != 0 || c->admin_qp != qp)
        return NULL;
    for (uint32_t i = 0; i < c->nr_aers; i++) {
        if (c->aers[i]->cmd.cid != cid)
            continue;
        log_debug("ctrlr %u: host reused CID %u of an outstanding AER: the AER is dropped",
                  c->cntlid, cid);
        return aer_take(c, i);
    }
    return NULL;
}

void nvmf_aer_drop(struct tgt_ctrlr *c)
{
    /* The transport frees these requests after qpair_fini: forget them, never complete. */
    c->nr_aers = 0;
}
