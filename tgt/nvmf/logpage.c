/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Get Log Page: supported pages (00h), error (01h, always empty), SMART /
 * health (02h, counters from the bdevs' iostat), firmware slots (03h),
 * changed namespace list (04h) and, on discovery controllers, the
 * discovery log (70h).
 *
 * Every page is produced through a window: only the bytes in
 * [offset, offset + length) of the host's request are written, the rest of
 * the host's buffer is zero-filled, and an offset past the end of the page
 * is Invalid Field. Hosts read the discovery log in pieces (the header for
 * NUMREC first, then the whole log, then the header again for GENCTR).
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <string.h>

#include "nvmf/nvmf_internal.h"
#include "slio/log.h"

struct log_req {
    struct tgt_req *req;
    struct tgt_ctrlr *c;
    uint8_t *buf;    /* req->data */
    uint32_t len;    /* bytes to return */
    uint64_t offset; /* log page offset of buf[0] */
    bool rae;
};

static void window_copy(const struct log_req *l, const void *page, uint64_t size)
{
    if (l->len == 0 || l->offset >= size)
        return;
    uint64_t n = SLIO_MIN(size - l->offset, (uint64_t)l->len);
    memcpy(l->buf, (const uint8_t *)page + l->offset, n);
}

static void put_u128(uint8_t dst[16], uint64_t v)
{
    uint64_t le = htole64(v);
    memset(dst, 0, 16);
    memcpy(dst, &le, sizeof(le));
}

static uint64_t supported_pages(const struct log_req *l)
{
    struct nvme_supported_log_pages p;
    memset(&p, 0, sizeof(p));
    static const uint8_t io_lids[] = {NVME_LOG_LID_SUPPORTED_LOG_PAGES, NVME_LOG_LID_ERROR,
                                      NVME_LOG_LID_SMART, NVME_LOG_LID_FW_SLOT,
                                      NVME_LOG_LID_CHANGED_NS};
    if (l->c->discovery) {
        p.lid_support[NVME_LOG_LID_SUPPORTED_LOG_PAGES] = htole32(1);
        p.lid_support[NVME_LOG_LID_DISCOVER] = htole32(1);
    } else {
        for (size_t i = 0; i < sizeof(io_lids); i++)
            p.lid_support[io_lids[i]] = htole32(1); /* LSUPP */
    }
    window_copy(l, &p, sizeof(p));
    return sizeof(p);
}

static uint64_t error_log(const struct log_req *l)
{
    /* No errors are recorded: (ELPE + 1) zeroed entries; the buffer is already zero. */
    return (uint64_t)(NVMF_ELPE + 1) * sizeof(struct nvme_error_log_page);
}

struct smart_sums {
    uint64_t bytes_read, bytes_written, reads, writes;
};

static void smart_add(struct smart_sums *s, const struct tgt_bdev *b)
{
    s->bytes_read += atomic_load_explicit(&b->bytes_read, memory_order_relaxed);
    s->bytes_written += atomic_load_explicit(&b->bytes_written, memory_order_relaxed);
    s->reads += atomic_load_explicit(&b->num_read_ops, memory_order_relaxed);
    s->writes += atomic_load_explicit(&b->num_write_ops, memory_order_relaxed);
}

static void smart_sum_all(struct tgt_subsys *s, struct smart_sums *sum)
{
    uint32_t ids[64], after = 0, n;
    do {
        n = tgt_subsys_active_nsids(s, after, ids, SLIO_ARRAY_SIZE(ids));
        for (uint32_t i = 0; i < n; i++) {
            struct tgt_ns *ns = tgt_ns_get_io(s, ids[i]);
            if (ns) {
                smart_add(sum, ns->bdev);
                tgt_ns_put(ns);
            }
            after = ids[i];
        }
    } while (n == SLIO_ARRAY_SIZE(ids));
}

static int64_t smart_log(const struct log_req *l)
{
    struct tgt_subsys *s = l->c->subs;
    uint32_t nsid = nvmf_nsid(l->req);
    struct smart_sums sum = {0};

    if (nsid == 0 || nsid == NVME_NSID_ALL) {
        smart_sum_all(s, &sum);
    } else {
        struct tgt_ns *ns = tgt_ns_get_io(s, nsid);
        if (!ns)
            return -ENOENT;
        smart_add(&sum, ns->bdev);
        tgt_ns_put(ns);
    }
    struct nvme_smart_log log;
    memset(&log, 0, sizeof(log));
    /* Data units: thousands of 512-byte units, rounded up (base spec 5.14.1.2). */
    put_u128(log.data_units_read, SLIO_DIV_ROUND_UP(sum.bytes_read / 512, 1000));
    put_u128(log.data_units_written, SLIO_DIV_ROUND_UP(sum.bytes_written / 512, 1000));
    put_u128(log.host_reads, sum.reads);
    put_u128(log.host_writes, sum.writes);
    window_copy(l, &log, sizeof(log));
    return sizeof(log);
}

static uint64_t fw_slot_log(const struct log_req *l)
{
    struct nvme_firmware_slot fw;
    memset(&fw, 0, sizeof(fw));
    fw.afi = 1; /* running from slot 1 */
    nvmf_strpad(fw.frs[0], sizeof(fw.frs[0]), SLIO_VERSION, ' ');
    window_copy(l, &fw, sizeof(fw));
    return sizeof(fw);
}

static uint64_t changed_ns_log(const struct log_req *l)
{
    struct tgt_ctrlr *c = l->c;
    uint32_t list[NVMF_CHANGED_NS_MAX];
    memset(list, 0, sizeof(list));

    pthread_mutex_lock(&c->lock);
    if (c->nr_changed_ns > NVMF_CHANGED_NS_MAX) {
        list[0] = htole32(NVME_NSID_ALL); /* more changed than the list holds */
    } else {
        for (uint32_t i = 0; i < c->nr_changed_ns; i++)
            list[i] = htole32(c->changed_ns[i]);
    }
    c->nr_changed_ns = 0; /* the list is cleared by reading it, as nvmet does */
    if (!l->rae)
        nvmf_aen_unmask_locked(c, NVMF_AEN_NS_ATTR);
    pthread_mutex_unlock(&c->lock);
    window_copy(l, list, sizeof(list));
    return sizeof(list);
}

static uint64_t discovery_log(const struct log_req *l)
{
    uint64_t total = 0;
    nvmf_discovery_log(l->c->hostnqn, l->offset, l->buf, l->len, &total);
    if (!l->rae) {
        pthread_mutex_lock(&l->c->lock);
        nvmf_aen_unmask_locked(l->c, NVMF_AEN_DISC_CHNG);
        pthread_mutex_unlock(&l->c->lock);
    }
    return total;
}

/* Size of the page, or -EINVAL (unsupported here) / -ENOENT (inactive namespace). */
static int64_t build_page(const struct log_req *l, uint8_t lid)
{
    bool disc = l->c->discovery;
    switch (lid) {
    case NVME_LOG_LID_SUPPORTED_LOG_PAGES:
        return (int64_t)supported_pages(l);
    case NVME_LOG_LID_DISCOVER:
        return disc ? (int64_t)discovery_log(l) : -EINVAL;
    case NVME_LOG_LID_ERROR:
        return disc ? -EINVAL : (int64_t)error_log(l);
    case NVME_LOG_LID_SMART:
        return disc || !l->c->subs ? -EINVAL : smart_log(l);
    case NVME_LOG_LID_FW_SLOT:
        return disc ? -EINVAL : (int64_t)fw_slot_log(l);
    case NVME_LOG_LID_CHANGED_NS:
        return disc ? -EINVAL : (int64_t)changed_ns_log(l);
    default:
        return -EINVAL;
    }
}

void nvmf_get_log_page(struct tgt_req *req)
{
    uint32_t cdw10 = nvmf_cdw10(req), cdw11 = nvmf_cdw11(req);
    uint64_t numd = ((uint64_t)(cdw11 & 0xffffu) << 16 | (cdw10 >> 16)) + 1;
    uint64_t offset = (uint64_t)nvmf_cdw13(req) << 32 | nvmf_cdw12(req);
    uint32_t cdw14 = le32toh(req->cmd.cdw14);

    /* Dword-aligned byte offsets only; the index offset type (OT) is not supported. */
    if ((offset & 3) || (cdw14 & (1u << 23))) {
        req->status = NVMF_INVALID_FIELD;
        return;
    }
    struct log_req l = {
        .req = req,
        .c = req->qpair->ctrlr,
        .buf = req->data,
        .offset = offset,
        .rae = cdw10 & (1u << 15),
    };
    l.len = (req->xfer == TGT_XFER_C2H && req->data)
                ? (uint32_t)SLIO_MIN(numd * 4, (uint64_t)req->length)
                : 0;
    if (l.len)
        memset(l.buf, 0, l.len);

    int64_t size = build_page(&l, (uint8_t)(cdw10 & 0xff));
    if (size == -ENOENT) {
        req->status = NVMF_INVALID_NS;
        return;
    }
    if (size < 0 || offset > (uint64_t)size) {
        req->status = NVMF_INVALID_FIELD;
        return;
    }
    req->length = l.len;
}
