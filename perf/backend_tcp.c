/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Engine backend over NVMe/TCP: each worker channel is one I/O queue of the
 * controller (qid = worker + 1), driven from that worker's thread only.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

struct tcp_ctx {
    struct slio_host_ctrl *ctrl;
    uint32_t nsid;
    uint32_t lba_shift;
    struct slio_host_poll_opts poll;
};

struct tcp_chan {
    struct slio_host_queue *q;
    const struct tcp_ctx *ctx;
};

static void tcp_done(void *arg, int status, uint64_t result)
{
    perf_io_complete(arg, status);
}

static int tcp_open_chan(void *ctx, unsigned idx, unsigned qd, uint32_t max_io, void **ret_chan,
                         char *err, size_t errlen)
{
    struct tcp_ctx *c = ctx;
    struct tcp_chan *ch = calloc(1, sizeof(*ch));

    if (!ch)
        return -ENOMEM;
    /* an NVMe queue of N entries holds N - 1 commands: ask for one more than the depth */
    int r =
        slio_host_queue_create(c->ctrl, (uint16_t)(idx + 1), qd + 1, max_io, &ch->q, err, errlen);
    if (r < 0) {
        free(ch);
        return r;
    }
    ch->ctx = c;
    slio_host_queue_set_polling(ch->q, &c->poll);
    *ret_chan = ch;
    return 0;
}

static int tcp_submit(void *chan, struct perf_io *io)
{
    struct tcp_chan *ch = chan;
    uint32_t sh = ch->ctx->lba_shift;

    return slio_host_queue_rw(ch->q, io->write, ch->ctx->nsid, io->offset >> sh, io->len >> sh,
                              io->buf, io->len, io->fua, tcp_done, io);
}

static int tcp_poll(void *chan, int timeout_ms)
{
    struct tcp_chan *ch = chan;

    return slio_host_queue_poll(ch->q, timeout_ms);
}

static void tcp_close_chan(void *chan)
{
    struct tcp_chan *ch = chan;

    slio_host_queue_free(ch->q);
    free(ch);
}

static const char *tcp_chan_error(void *chan)
{
    struct tcp_chan *ch = chan;

    return slio_host_queue_error(ch->q);
}

static const struct perf_backend_ops tcp_ops = {
    .name = "nvme-tcp",
    .open_chan = tcp_open_chan,
    .submit = tcp_submit,
    .poll = tcp_poll,
    .close_chan = tcp_close_chan,
    .chan_error = tcp_chan_error,
};

int perf_backend_tcp_open(struct slio_host_ctrl *ctrl, uint32_t nsid, uint32_t nqueues,
                          const struct slio_host_poll_opts *poll, struct perf_backend *ret_be,
                          char *err, size_t errlen)
{
    const struct slio_host_ctrl_info *info = slio_host_ctrl_get_info(ctrl);
    struct nvme_id_ns ns;
    uint32_t granted = 0;
    int r = slio_host_identify_ns(ctrl, nsid, &ns);

    if (r < 0) {
        snprintf(err, errlen, "namespace %u: %s", nsid, slio_host_ctrl_error(ctrl));
        return r;
    }
    uint32_t lbads = ns.lbaf[ns.flbas & 0xf].ds;
    if (le64toh(ns.nsze) == 0 || lbads < 9 || lbads > 16) {
        snprintf(err, errlen, "namespace %u: inactive or unusable (nsze %llu, LBA size 2^%u)", nsid,
                 (unsigned long long)le64toh(ns.nsze), lbads);
        return -ENODEV;
    }
    r = slio_host_set_num_queues(ctrl, nqueues, &granted);
    if (r < 0) {
        snprintf(err, errlen, "%s", slio_host_ctrl_error(ctrl));
        return r;
    }
    if (granted < nqueues) {
        snprintf(err, errlen, "controller granted %u I/O queues, %u asked", granted, nqueues);
        return -ENOSPC;
    }
    struct tcp_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    *c = (struct tcp_ctx){.ctrl = ctrl, .nsid = nsid, .lba_shift = lbads, .poll = *poll};
    *ret_be = (struct perf_backend){
        .ops = &tcp_ops,
        .ctx = c,
        .size = le64toh(ns.nsze) << lbads,
        .block_size = 1u << lbads,
        .max_io = SLIO_MIN(info->max_xfer, 65536u << lbads),
        .max_qd = info->mqes - 1,
    };
    return 0;
}

void perf_backend_tcp_close(struct perf_backend *be)
{
    free(be->ctx);
    be->ctx = NULL;
}
