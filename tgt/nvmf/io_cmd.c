/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVM command set on a namespace: Read, Write (FUA), Flush, Write Zeroes
 * and Dataset Management (deallocate), turned into backing I/O. Ranges are
 * checked against the bdev's current size (it can grow or shrink on rescan),
 * the transfer length against the command, QoS admits or defers the request,
 * and backing-I/O errors become NVMe status in exactly one table.
 *
 * While a request is in flight req->nvmf_ctx holds the namespace reference
 * and req->result serves as scratch (start time for latency; for DSM also the
 * range cursor, below it); both are cleared before completion.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <endian.h>
#include <errno.h>
#include <nvme/types.h>
#include <string.h>

#include "nvmf/io_cmd.h"
#include "slio/log.h"
#include "transport/reactor.h"

#define ST(sct, sc)     ((uint16_t)NVME_STATUS((sct), (sc)))
#define ST_DNR(sct, sc) ((uint16_t)(NVME_STATUS((sct), (sc)) | NVME_STATUS_DNR))
#define IO_FUA          (1u << 30) /* CDW12 of Read/Write/Write Zeroes */

static struct slio_ratelimit g_err_rl = SLIO_RATELIMIT_INIT(1000000, 10);

/* The one errno -> NVMe status table of the I/O path. */
static const struct {
    int err;
    uint16_t on_read, on_write, other;
} g_errmap[] = {
    {-EIO, ST_DNR(NVME_SCT_MEDIA, NVME_SC_READ_ERROR), ST_DNR(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT),
     ST_DNR(NVME_SCT_GENERIC, NVME_SC_INTERNAL)},
    {-ENOSPC, ST_DNR(NVME_SCT_GENERIC, NVME_SC_CAP_EXCEEDED),
     ST_DNR(NVME_SCT_GENERIC, NVME_SC_CAP_EXCEEDED),
     ST_DNR(NVME_SCT_GENERIC, NVME_SC_CAP_EXCEEDED)},
    {-EDQUOT, ST_DNR(NVME_SCT_GENERIC, NVME_SC_CAP_EXCEEDED),
     ST_DNR(NVME_SCT_GENERIC, NVME_SC_CAP_EXCEEDED),
     ST_DNR(NVME_SCT_GENERIC, NVME_SC_CAP_EXCEEDED)},
    {-EROFS, ST_DNR(NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED),
     ST_DNR(NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED),
     ST_DNR(NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED)},
    {-EPERM, ST_DNR(NVME_SCT_GENERIC, NVME_SC_OP_DENIED),
     ST_DNR(NVME_SCT_GENERIC, NVME_SC_OP_DENIED), ST_DNR(NVME_SCT_GENERIC, NVME_SC_OP_DENIED)},
    /* transient: the host may retry */
    {-ENOMEM, ST(NVME_SCT_GENERIC, NVME_SC_INTERNAL), ST(NVME_SCT_GENERIC, NVME_SC_INTERNAL),
     ST(NVME_SCT_GENERIC, NVME_SC_INTERNAL)},
    {-EAGAIN, ST(NVME_SCT_GENERIC, NVME_SC_INTERNAL), ST(NVME_SCT_GENERIC, NVME_SC_INTERNAL),
     ST(NVME_SCT_GENERIC, NVME_SC_INTERNAL)},
    /* deallocate is advisory: a backing that cannot discard still answers success */
    {-EOPNOTSUPP, ST_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE),
     ST_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE), 0},
};

static uint16_t io_status(int err, uint8_t opcode)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_errmap); i++) {
        if (g_errmap[i].err != err)
            continue;
        if (opcode == nvme_cmd_read)
            return g_errmap[i].on_read;
        if (opcode == nvme_cmd_write || opcode == nvme_cmd_write_zeroes)
            return g_errmap[i].on_write;
        return g_errmap[i].other;
    }
    return ST_DNR(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
}

static void stat_add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static void account(struct tgt_req *req, struct tgt_bdev *b)
{
    uint64_t lat = tgt_now_us() - req->result;

    switch (req->cmd.opcode) {
    case nvme_cmd_read:
        stat_add(&b->bytes_read, req->length);
        stat_add(&b->num_read_ops, 1);
        tgt_bdev_account_latency(b, TGT_BDEV_IO_READ, lat);
        break;
    case nvme_cmd_write:
        stat_add(&b->bytes_written, req->length);
        stat_add(&b->num_write_ops, 1);
        tgt_bdev_account_latency(b, TGT_BDEV_IO_WRITE, lat);
        break;
    case nvme_cmd_flush:
        stat_add(&b->num_flush_ops, 1);
        break;
    default:
        break;
    }
}

static void finish(struct tgt_req *req, struct tgt_ns *ns)
{
    req->result = 0;
    req->nvmf_ctx = NULL;
    tgt_ns_put(ns);
    tgt_req_complete(req);
}

static void io_done(struct tgt_req *req, int res)
{
    struct tgt_ns *ns = req->nvmf_ctx;

    if (res < 0) {
        req->status = io_status(res, req->cmd.opcode);
        log_ratelimited(&g_err_rl, SLIO_LOG_WARN, "bdev \"%s\": opcode %#x: %s", ns->bdev->name,
                        req->cmd.opcode, strerror(-res));
    } else {
        account(req, ns->bdev);
    }
    finish(req, ns);
}

/* SLBA/NLB of Read, Write, Write Zeroes -> byte range, checked against the current size. */
static uint16_t lba_range(const struct tgt_req *req, const struct tgt_bdev *b, struct tgt_bio *bio)
{
    uint64_t slba = le32toh(req->cmd.cdw10) | (uint64_t)le32toh(req->cmd.cdw11) << 32;
    uint64_t nlb = (le32toh(req->cmd.cdw12) & 0xffffu) + 1;
    uint64_t nblocks = tgt_bdev_num_blocks(b);

    if (slba >= nblocks || nlb > nblocks - slba)
        return ST_DNR(NVME_SCT_GENERIC, NVME_SC_LBA_RANGE);
    bio->offset = slba * b->block_size;
    bio->len = nlb * b->block_size;
    bio->fua = le32toh(req->cmd.cdw12) & IO_FUA;
    return 0;
}

static uint16_t rw_setup(struct tgt_req *req, struct tgt_bdev *b, struct tgt_bio *bio)
{
    bool write = req->cmd.opcode == nvme_cmd_write;
    uint16_t st = lba_range(req, b, bio);

    if (st)
        return st;
    if (req->length != bio->len || !req->data || req->xfer != (write ? TGT_XFER_H2C : TGT_XFER_C2H))
        return ST_DNR(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA);
    bio->op = write ? TGT_BIO_WRITE : TGT_BIO_READ;
    bio->buf = req->data;
    bio->fua = write && bio->fua; /* FUA on a read only means "from media": nothing to do */
    return 0;
}

/* ---- Dataset Management: ranges deallocated one after another ---- */
/*
 * req->result holds both the range cursor (low 16 bits: at most 256 ranges)
 * and the start time in µs (the bits above), for unmap_latency_ticks.
 */
#define DSM_CURSOR_BITS 16
#define DSM_CURSOR(req) ((req)->result & ((1u << DSM_CURSOR_BITS) - 1))

static void dsm_next(struct tgt_req *req, struct tgt_ns *ns);

static void dsm_done(struct tgt_req *req, int res)
{
    struct tgt_ns *ns = req->nvmf_ctx;

    if (res < 0 && io_status(res, req->cmd.opcode) != 0) {
        req->status = io_status(res, req->cmd.opcode);
        finish(req, ns);
        return;
    }
    dsm_next(req, ns);
}

static const struct nvme_dsm_range *dsm_range(const struct tgt_req *req, uint64_t i)
{
    return (const struct nvme_dsm_range *)req->data + i;
}

static void dsm_next(struct tgt_req *req, struct tgt_ns *ns)
{
    uint32_t nr = (le32toh(req->cmd.cdw10) & 0xffu) + 1;
    struct tgt_bdev *b = ns->bdev;

    while (DSM_CURSOR(req) < nr && dsm_range(req, DSM_CURSOR(req))->nlb == 0)
        req->result++;
    if (DSM_CURSOR(req) >= nr) {
        stat_add(&b->num_unmap_ops, 1);
        tgt_bdev_account_latency(b, TGT_BDEV_IO_UNMAP,
                                 tgt_now_us() - (req->result >> DSM_CURSOR_BITS));
        finish(req, ns);
        return;
    }
    const struct nvme_dsm_range *rg = dsm_range(req, DSM_CURSOR(req));
    req->result++;
    struct tgt_bio bio = {
        .op = TGT_BIO_DISCARD,
        .bdev = b,
        .offset = le64toh(rg->slba) * b->block_size,
        .len = (uint64_t)le32toh(rg->nlb) * b->block_size,
    };
    stat_add(&b->bytes_unmapped, bio.len);
    tgt_bio_submit(req, &bio, dsm_done);
}

static enum tgt_exec_result dsm_exec(struct tgt_req *req, struct tgt_ns *ns)
{
    uint32_t nr = (le32toh(req->cmd.cdw10) & 0xffu) + 1;
    uint64_t nblocks = tgt_bdev_num_blocks(ns->bdev);
    bool any = false;

    /* only Deallocate does anything; the other attributes are hints */
    if (!(le32toh(req->cmd.cdw11) & NVME_DSMGMT_AD))
        goto done;
    if (req->xfer != TGT_XFER_H2C || !req->data ||
        req->length < nr * sizeof(struct nvme_dsm_range)) {
        req->status = ST_DNR(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA);
        goto done;
    }
    for (uint32_t i = 0; i < nr; i++) { /* every range is checked before any is discarded */
        uint64_t slba = le64toh(dsm_range(req, i)->slba), nlb = le32toh(dsm_range(req, i)->nlb);
        if (nlb && (slba >= nblocks || nlb > nblocks - slba)) {
            req->status = ST_DNR(NVME_SCT_GENERIC, NVME_SC_LBA_RANGE);
            goto done;
        }
        any |= nlb != 0;
    }
    if (!any)
        goto done;
    req->nvmf_ctx = ns;
    req->result = tgt_now_us() << DSM_CURSOR_BITS;
    dsm_next(req, ns);
    return TGT_EXEC_PENDING;
done:
    tgt_ns_put(ns);
    return TGT_EXEC_DONE;
}

enum tgt_exec_result tgt_io_cmd_exec(struct tgt_req *req, struct tgt_ns *ns)
{
    struct tgt_bdev *b = ns->bdev;
    struct tgt_bio bio = {.bdev = b};
    uint16_t st = 0;

    switch (req->cmd.opcode) {
    case nvme_cmd_read:
    case nvme_cmd_write:
        st = rw_setup(req, b, &bio);
        break;
    case nvme_cmd_flush:
        bio.op = TGT_BIO_FLUSH;
        break;
    case nvme_cmd_write_zeroes:
        st = lba_range(req, b, &bio);
        bio.op = TGT_BIO_WRITE_ZEROES;
        break;
    case nvme_cmd_dsm:
        return dsm_exec(req, ns);
    default:
        st = ST_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE);
    }
    if (st) {
        req->status = st;
        tgt_ns_put(ns);
        return TGT_EXEC_DONE;
    }
    uint64_t now = tgt_now_us();
    if (bio.op == TGT_BIO_READ || bio.op == TGT_BIO_WRITE) {
        uint64_t wait = tgt_bdev_qos_admit(b, bio.op == TGT_BIO_WRITE, bio.len, now);
        if (wait) {
            /* the retry looks the namespace up again: hold nothing meanwhile */
            tgt_ns_put(ns);
            tgt_req_defer(req, wait);
            return TGT_EXEC_PENDING;
        }
    }
    req->nvmf_ctx = ns;
    req->result = now;
    tgt_bio_submit(req, &bio, io_done);
    return TGT_EXEC_PENDING;
}
