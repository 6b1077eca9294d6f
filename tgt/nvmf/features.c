/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Set/Get Features: Number of Queues (07h), Asynchronous Event
 * Configuration (0Bh), Keep Alive Timer (0Fh), Volatile Write Cache (06h),
 * Host Identifier (81h, get only). Get of the remaining mandatory features
 * without meaning over fabrics (arbitration, power management, temperature
 * threshold, error recovery, interrupt coalescing/vector, write atomicity)
 * returns 0, as nvmet does. Anything else, and saving, is refused with
 * Invalid Field / Feature Not Saveable + DNR, which Linux hosts tolerate
 * (e.g. Host Behavior Support, Timestamp: we do not advertise them).
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <string.h>

#include "nvmf/nvmf_internal.h"
#include "slio/log.h"

#define FEAT_SV   (1u << 31)
#define SEL_SHIFT 8
#define SEL_MASK  0x7u

/*
 * AEN configuration bits a host may set. The SMART critical-warning bits
 * (7:0) are accepted like nvmet does (SPDK's initiator always sets them);
 * we simply never have such an event to report.
 */
static uint32_t aen_settable(const struct tgt_ctrlr *c)
{
    return c->discovery ? NVMF_AEN_DISC_CHNG : (NVMF_AEN_NS_ATTR | 0xffu);
}

static void set_num_queues(struct tgt_req *req, struct tgt_ctrlr *c, uint32_t v)
{
    uint32_t nsqr = v & 0xffffu, ncqr = v >> 16;
    if (nsqr == 0xffffu || ncqr == 0xffffu || c->max_io_qpairs == 0) {
        req->status = NVMF_INVALID_FIELD;
        return;
    }
    pthread_mutex_lock(&c->lock);
    if (c->io_queue_seen) {
        req->status = NVMF_CMD_SEQ_ERROR; /* only before the first I/O queue is created */
    } else {
        uint32_t want = SLIO_MAX(nsqr, ncqr) + 1;
        c->granted_io_queues = SLIO_MIN(want, c->max_io_qpairs);
        uint32_t g = c->granted_io_queues - 1;
        req->result = g | g << 16;
    }
    pthread_mutex_unlock(&c->lock);
}

void nvmf_set_features(struct tgt_req *req)
{
    struct tgt_ctrlr *c = req->qpair->ctrlr;
    uint32_t cdw10 = nvmf_cdw10(req), v = nvmf_cdw11(req);
    uint8_t fid = (uint8_t)(cdw10 & 0xff);

    if (cdw10 & FEAT_SV) {
        req->status = NVMF_SPECIFIC(NVME_SC_FEATURE_NOT_SAVEABLE);
        return;
    }
    switch (fid) {
    case NVME_FEAT_FID_NUM_QUEUES:
        set_num_queues(req, c, v);
        break;
    case NVME_FEAT_FID_ASYNC_EVENT:
        if (v & ~aen_settable(c)) {
            req->status = NVMF_INVALID_FIELD;
            break;
        }
        pthread_mutex_lock(&c->lock);
        c->aen_cfg = v;
        pthread_mutex_unlock(&c->lock);
        break;
    case NVME_FEAT_FID_KATO:
        if (v == 0 && !c->discovery) { /* keep-alive is mandatory for I/O controllers */
            req->status = NVMF_STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_KAT_INVALID);
            break;
        }
        c->kato_ms = v;
        nvmf_ctrlr_touch(c);
        break;
    case NVME_FEAT_FID_VOLATILE_WC:
        if (c->discovery || !(v & 1)) {
            /* The cache of the backing store cannot be switched off: say so truthfully. */
            req->status = NVMF_SPECIFIC(NVME_SC_FEATURE_NOT_CHANGEABLE);
            break;
        }
        c->vwc_enabled = true;
        break;
    default:
        req->status = NVMF_INVALID_FIELD;
    }
}

static void get_host_id(struct tgt_req *req, const struct tgt_ctrlr *c)
{
    if (!(nvmf_cdw11(req) & 1)) { /* only the 128-bit extended host identifier */
        req->status = NVMF_INVALID_FIELD;
        return;
    }
    nvmf_copy_out(req, c->hostid, sizeof(c->hostid));
}

/* Current value of a feature, or false if unsupported. */
static bool feature_value(struct tgt_ctrlr *c, uint8_t fid, uint32_t *ret)
{
    switch (fid) {
    case NVME_FEAT_FID_NUM_QUEUES: {
        if (c->max_io_qpairs == 0)
            return false;
        pthread_mutex_lock(&c->lock);
        uint32_t g = c->granted_io_queues - 1;
        pthread_mutex_unlock(&c->lock);
        *ret = g | g << 16;
        return true;
    }
    case NVME_FEAT_FID_ASYNC_EVENT:
        pthread_mutex_lock(&c->lock);
        *ret = c->aen_cfg;
        pthread_mutex_unlock(&c->lock);
        return true;
    case NVME_FEAT_FID_KATO:
        *ret = c->kato_ms;
        return true;
    case NVME_FEAT_FID_VOLATILE_WC:
        *ret = c->vwc_enabled ? 1 : 0;
        return !c->discovery;
    case NVME_FEAT_FID_ARBITRATION:
    case NVME_FEAT_FID_POWER_MGMT:
    case NVME_FEAT_FID_TEMP_THRESH:
    case NVME_FEAT_FID_ERR_RECOVERY:
    case NVME_FEAT_FID_IRQ_COALESCE:
    case NVME_FEAT_FID_IRQ_CONFIG:
    case NVME_FEAT_FID_WRITE_ATOMIC:
        *ret = 0;
        return !c->discovery;
    default:
        return false;
    }
}

void nvmf_get_features(struct tgt_req *req)
{
    struct tgt_ctrlr *c = req->qpair->ctrlr;
    uint32_t cdw10 = nvmf_cdw10(req);
    uint8_t fid = (uint8_t)(cdw10 & 0xff);
    uint32_t sel = (cdw10 >> SEL_SHIFT) & SEL_MASK;
    uint32_t v = 0;

    if (fid == NVME_FEAT_FID_HOST_ID) {
        get_host_id(req, c);
        return;
    }
    if (!feature_value(c, fid, &v)) {
        req->status = NVMF_INVALID_FIELD;
        return;
    }
    switch (sel) {
    case NVME_GET_FEATURES_SEL_CURRENT:
    case NVME_GET_FEATURES_SEL_SAVED: /* nothing is saveable: saved == current */
        req->result = v;
        break;
    case NVME_GET_FEATURES_SEL_DEFAULT:
        req->result = fid == NVME_FEAT_FID_VOLATILE_WC ? 1 : 0;
        if (fid == NVME_FEAT_FID_NUM_QUEUES) {
            uint32_t g = c->max_io_qpairs - 1;
            req->result = g | g << 16;
        }
        break;
    case NVME_GET_FEATURES_SEL_SUPPORTED:
        /* Capabilities: changeable (bit 2) for those Set Features accepts; not saveable. */
        req->result = (fid == NVME_FEAT_FID_NUM_QUEUES || fid == NVME_FEAT_FID_ASYNC_EVENT ||
                       fid == NVME_FEAT_FID_KATO)
                          ? 0x4
                          : 0;
        break;
    default:
        req->status = NVMF_INVALID_FIELD;
    }
}
