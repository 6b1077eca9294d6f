/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backing I/O on memory-backed files (tmpfs, ramfs), run on the reactor.
 *
 * Such files support neither RWF_NOWAIT nor real O_DIRECT, so io_uring hands
 * each request to an io-wq kernel thread and the worker pool costs a
 * cross-thread wake-up each way; both cost more than the copy itself (see
 * bio.c). Reading them on the reactor is cheap, but one preadv2() per I/O is
 * one kernel entry per I/O, about 1.1 µs on the 2-core VM of
 * docs/performance.md. Linux AIO runs reads and writes of these files
 * synchronously inside io_submit(), so the requests of a loop iteration are
 * queued here and handed over in one io_submit() + one io_getevents() (what
 * SPDK's aio bdev gets on tmpfs); measured 1.0 µs per 4K read in batches of
 * 16 against 2.1 µs with preadv2(). A batch of one, flushes, and anything AIO
 * refuses run with bio_exec_sync() instead. Reads of a file the registry
 * mapped (registry/bdev_map.c) copy nothing at all: read_mapped().
 *
 * Callbacks never run from inside tgt_bio_submit(): finished requests go on
 * the reactor's inline_done list and bio_inline_reap() runs them later in the
 * same loop iteration.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

void bio_mem_init(struct tgt_reactor *r)
{
    r->aio_ctx = 0;
    /* unavailable (seccomp, aio-max-nr used up): every request runs with preadv2/pwritev2 */
    if (syscall(SYS_io_setup, BIO_MEM_BATCH, &r->aio_ctx) < 0) {
        log_debug("reactor %u: Linux AIO unavailable (%s): memory files use preadv2", r->id,
                  strerror(errno));
        r->aio_ctx = 0;
    }
}

void bio_mem_fini(struct tgt_reactor *r)
{
    if (r->aio_ctx)
        (void)syscall(SYS_io_destroy, r->aio_ctx);
    r->aio_ctx = 0;
}

static void done_push(struct tgt_reactor *r, struct bio_ctx *c)
{
    c->next_done = NULL;
    *r->inline_tail = c;
    r->inline_tail = &c->next_done;
}

static void run_sync(struct tgt_reactor *r, struct bio_ctx *c)
{
    c->res = bio_exec_sync(c);
    done_push(r, c);
}

/*
 * A read of a mapped memory file copies nothing here: the request's data
 * moves to the file's pages and the send copies from there (the transport
 * owns req.data). Not when the data digest is on: computing it would read
 * the mapping in user space (see registry/bdev_map.c).
 */
static bool read_mapped(struct tgt_reactor *r, struct bio_ctx *c)
{
    struct tcp_req *t = SLIO_CONTAINER_OF(c, struct tcp_req, bio);
    const struct tgt_bio *b = &c->bio;

    if (b->op != TGT_BIO_READ || t->conn->params.ddgst || t->req.data != b->buf || t->mapped)
        return false;
    const uint8_t *src = tgt_bdev_mapped(b->bdev, b->offset, b->len);
    if (!src)
        return false;
    tgt_bdev_get(b->bdev);
    t->mapped = b->bdev;
    t->req.data = (void *)src; /* only sendmsg() reads it */
    c->res = (int)b->len;
    done_push(r, c);
    return true;
}

void bio_mem_queue(struct tgt_reactor *r, struct bio_ctx *c)
{
    const struct tgt_bio *b = &c->bio;

    if (read_mapped(r, c))
        return;
    if (!r->aio_ctx || b->op == TGT_BIO_FLUSH) {
        run_sync(r, c);
        return;
    }
    bio_aio_prep(c, -1); /* completes inside io_submit(): no eventfd */
    r->aio_q[r->aio_n++] = &c->iocb;
    if (r->aio_n == BIO_MEM_BATCH)
        bio_mem_flush(r);
}

/* One finished AIO request: a short or interrupted transfer is finished synchronously. */
static void on_event(struct tgt_reactor *r, const struct io_event *ev)
{
    struct bio_ctx *c = (struct bio_ctx *)(uintptr_t)ev->data;

    if (bio_aio_result(c, ev->res, &c->res))
        done_push(r, c);
    else
        run_sync(r, c); /* continues from c->done */
}

void bio_mem_flush(struct tgt_reactor *r)
{
    struct io_event ev[BIO_MEM_BATCH];
    unsigned n = r->aio_n;
    long sub;

    if (n == 0)
        return;
    r->aio_n = 0;
    if (n == 1) { /* AIO costs two syscalls: one preadv2 is cheaper */
        run_sync(r, SLIO_CONTAINER_OF(r->aio_q[0], struct bio_ctx, iocb));
        return;
    }
    sub = bio_aio_submit(r->aio_ctx, (long)n, r->aio_q); /* e.g. EAGAIN: 0 */
    /* not submitted: the first of these was refused (its error is retold by preadv2) */
    for (unsigned i = (unsigned)sub; i < n; i++)
        run_sync(r, SLIO_CONTAINER_OF(r->aio_q[i], struct bio_ctx, iocb));
    /* memory files complete inside io_submit(): this does not wait in practice */
    for (long got = 0; got < sub;) {
        long k = bio_aio_getevents(r->aio_ctx, sub - got, sub - got, ev, NULL);
        for (long i = 0; i < k; i++)
            on_event(r, &ev[i]);
        got += k;
    }
}
