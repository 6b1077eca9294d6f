/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The epoll engine's disk I/O: Linux AIO on the reactor for O_DIRECT
 * descriptors.
 *
 * The epoll engine exists for kernels and containers without io_uring (a
 * container runtime's default seccomp profile refuses io_uring_setup but
 * allows io_submit). Sending each disk request to a worker thread costs two
 * cross-thread wake-ups per request; on the 2-core VM of docs/performance.md
 * that held a disk-backed 4K randread at QD32 to 33-39k IOPS against 52-67k
 * on the ring. With O_DIRECT, io_submit() only queues the request to the
 * device, so the reactor submits reads and writes itself, every `batch`
 * requests and at the end of each loop iteration (as bio_uring does), and
 * learns of completions through an eventfd (IOCB_FLAG_RESFD) that epoll
 * watches like any socket.
 *
 * Not here: buffered descriptors (io_submit would do the I/O synchronously,
 * blocking the reactor on the disk), flushes and the ioctls (the worker pool
 * runs those), and anything io_submit refuses or finishes short: those go to
 * the worker pool, which continues from bio_ctx.done, so nothing is lost.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

#define BIO_AIO_DEPTH  256u /* requests in flight per reactor; beyond it the worker pool */
#define BIO_AIO_EVENTS 64u  /* completions taken per io_getevents() */

struct bio_aio {
    aio_context_t ctx;
    int efd; /* completion doorbell, watched by the reactor's epoll */
    struct ev_source src;
    unsigned inflight; /* submitted, not reaped */
    unsigned batch;    /* submit every this many requests (0: once per loop iteration) */
    unsigned nq;       /* queued in q, not submitted yet */
    struct iocb *q[BIO_AIO_DEPTH];
};

int bio_aio_create(struct tgt_reactor *r)
{
    struct bio_aio *a = calloc(1, sizeof(*a));

    if (!a)
        return -ENOMEM;
    a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (a->efd < 0 || syscall(SYS_io_setup, BIO_AIO_DEPTH, &a->ctx) < 0) {
        int err = -errno;
        if (a->efd >= 0)
            close(a->efd);
        free(a);
        return err;
    }
    a->src.kind = EV_AIO;
    int err = reactor_ev_add(r, a->efd, &a->src, EPOLLIN | EPOLLET);
    if (err < 0) {
        (void)syscall(SYS_io_destroy, a->ctx);
        close(a->efd);
        free(a);
        return err;
    }
    r->aio_disk = a;
    return 0;
}

/* Only once nothing is in flight (the reactor's loop drains before it ends). */
void bio_aio_destroy(struct tgt_reactor *r)
{
    struct bio_aio *a = r->aio_disk;

    if (!a)
        return;
    reactor_ev_del(r, a->efd, &a->src);
    (void)syscall(SYS_io_destroy, a->ctx);
    close(a->efd);
    free(a);
    r->aio_disk = NULL;
}

void bio_aio_set_batch(struct tgt_reactor *r, unsigned batch)
{
    if (r->aio_disk)
        r->aio_disk->batch = batch;
}

unsigned bio_aio_inflight(const struct tgt_reactor *r)
{
    return r->aio_disk ? r->aio_disk->inflight + r->aio_disk->nq : 0;
}

bool bio_aio_queue(struct tgt_reactor *r, struct bio_ctx *c)
{
    struct bio_aio *a = r->aio_disk;
    const struct tgt_bio *b = &c->bio;

    if (!a || !b->bdev->direct || (b->op != TGT_BIO_READ && b->op != TGT_BIO_WRITE) ||
        a->inflight + a->nq >= BIO_AIO_DEPTH)
        return false;
    bio_aio_prep(c, a->efd);
    a->q[a->nq++] = &c->iocb;
    if (a->batch && a->nq >= a->batch)
        bio_aio_flush(r);
    return true;
}

/* A request AIO will not finish: the worker pool does the rest (from c->done). */
static void to_pool(struct bio_ctx *c)
{
    c->ring_us = 0; /* no device latency sample from a detour */
    bio_pool_submit(c);
}

void bio_aio_flush(struct tgt_reactor *r)
{
    struct bio_aio *a = r->aio_disk;
    long sub;

    if (!a || a->nq == 0)
        return;
    /* 0 on EAGAIN (out of AIO slots) or a refusal: the pool retells its error */
    sub = bio_aio_submit(a->ctx, (long)a->nq, a->q);
    a->inflight += (unsigned)sub;
    for (unsigned i = (unsigned)sub; i < a->nq; i++)
        to_pool(SLIO_CONTAINER_OF(a->q[i], struct bio_ctx, iocb));
    a->nq = 0;
}

static void on_event(struct tgt_reactor *r, const struct io_event *ev)
{
    struct bio_ctx *c = (struct bio_ctx *)(uintptr_t)ev->data;
    int res;

    r->aio_disk->inflight--;
    if (bio_aio_result(c, ev->res, &res))
        bio_complete(c, res);
    else
        to_pool(c); /* continues from c->done */
}

unsigned bio_aio_reap(struct tgt_reactor *r)
{
    struct bio_aio *a = r->aio_disk;
    struct io_event ev[BIO_AIO_EVENTS];
    struct timespec now = {0, 0};
    eventfd_t count;
    unsigned n = 0;
    long k;

    if (!a)
        return 0;
    (void)eventfd_read(a->efd, &count); /* edge-triggered: empty it before looking */
    if (a->inflight == 0)
        return 0;
    do {
        k = bio_aio_getevents(a->ctx, 0L, (long)BIO_AIO_EVENTS, ev, &now);
        for (long i = 0; i < k; i++)
            on_event(r, &ev[i]);
        n += (unsigned)k;
    } while (k == (long)BIO_AIO_EVENTS);
    return n;
}
