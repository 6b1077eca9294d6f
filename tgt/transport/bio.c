/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backing I/O dispatch (tgt_bio_submit): reads, writes and flushes go to the
 * reactor's io_uring when it has one; on the epoll engine reads and writes of
 * O_DIRECT descriptors go to Linux AIO on the reactor (bio_aio.c); everything
 * else goes to the worker pool, which runs bio_exec_sync(). Also the
 * per-reactor list of requests deferred by QoS (tgt_req_defer).
 *
 * Memory-backed files (tmpfs, ramfs: tgt_bdev.in_memory) are the exception:
 * they support neither RWF_NOWAIT nor real O_DIRECT, so io_uring hands every
 * request to an io-wq kernel thread and the worker pool costs a cross-thread
 * wake-up each way; measured on 2 cores that cost was more than the copy
 * itself (bench/tgt: 4K randread QD32 93k IOPS with an io-wq thread burning
 * 0.25 core). Reads, writes and flushes of such files run on the reactor
 * instead, batched per loop iteration (bio_mem.c: a memcpy that cannot wait
 * for a device, as SPDK's aio bdev does on tmpfs); their callbacks run later
 * in the same loop iteration, never from inside tgt_bio_submit(), so callers
 * see the same asynchronous contract.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

static bool bio_inline(const struct tgt_bio *b)
{
    if (b->len > TGT_BIO_INLINE_MAX)
        return false;
    if (b->op != TGT_BIO_READ && b->op != TGT_BIO_WRITE && b->op != TGT_BIO_FLUSH)
        return false;
    return b->bdev->in_memory;
}

unsigned bio_inline_reap(struct tgt_reactor *r)
{
    unsigned n = 0;

    bio_mem_flush(r);
    while (r->inline_done) {
        struct bio_ctx *c = r->inline_done;
        r->inline_done = c->next_done;
        if (!r->inline_done)
            r->inline_tail = &r->inline_done;
        c->next_done = NULL;
        bio_complete(c, c->res);
        n++;
        if (!r->inline_done)
            bio_mem_flush(r); /* a callback may have queued more */
    }
    return n;
}

void tgt_bio_submit(struct tgt_req *req, const struct tgt_bio *bio, tgt_bio_cb cb)
{
    struct tcp_req *t = tcp_req_of(req);
    struct tgt_reactor *r = t->conn->r;
    struct bio_ctx *c = &t->bio;

    c->bio = *bio;
    c->cb = cb;
    c->done = 0;
    c->res = 0;
    c->r = r;
    c->ring_us = 0;
    t->bio_pending = true;
    t->conn->bio_pending++;
    r->bio_inflight++;
    if (bio_inline(bio)) {
        bio_mem_queue(r, c);
        return;
    }
    if (r->uring && bio_uring_handles(bio) && bio_uring_submit(r->uring, c) == 0) {
        c->ring_us = r->iter_us;
        slio_hybrid_submitted(&r->poll.dev, r->iter_us);
        return;
    }
    if (!r->uring) {
        c->ring_us = r->iter_us; /* a detour to the pool clears it */
        if (bio_aio_queue(r, c)) {
            slio_hybrid_submitted(&r->poll.dev, r->iter_us);
            return;
        }
        c->ring_us = 0;
    }
    bio_pool_submit(c);
}

void bio_complete(struct bio_ctx *c, int res)
{
    struct tcp_req *t = SLIO_CONTAINER_OF(c, struct tcp_req, bio);

    if (c->ring_us) /* the device's latency, for the polling policy */
        slio_hybrid_completed(&c->r->poll.dev, c->ring_us, c->r->iter_us);
    c->r->bio_inflight--;
    t->conn->bio_pending--;
    t->bio_pending = false;
    /* Always run the callback, even for a closed connection: it drops the namespace reference. */
    c->cb(&t->req, res);
}

void bio_aio_prep(struct bio_ctx *c, int resfd)
{
    const struct tgt_bio *b = &c->bio;

    c->iocb = (struct iocb){
        .aio_data = (uintptr_t)c,
        .aio_lio_opcode = b->op == TGT_BIO_WRITE ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD,
        .aio_fildes = (uint32_t)b->bdev->fd,
        .aio_buf = (uintptr_t)b->buf,
        .aio_nbytes = b->len,
        .aio_offset = (int64_t)b->offset,
        .aio_rw_flags = b->op == TGT_BIO_WRITE && b->fua ? RWF_DSYNC : 0,
        .aio_flags = resfd >= 0 ? IOCB_FLAG_RESFD : 0,
        .aio_resfd = resfd >= 0 ? (uint32_t)resfd : 0,
    };
}

long bio_aio_submit(aio_context_t ctx, long n, struct iocb **q)
{
    long sub;

    do {
        sub = syscall(SYS_io_submit, ctx, n, q);
    } while (sub < 0 && errno == EINTR);
    return sub < 0 ? 0 : sub;
}

long bio_aio_getevents(aio_context_t ctx, long min, long max, struct io_event *ev,
                       struct timespec *timeout)
{
    long k;

    do {
        k = syscall(SYS_io_getevents, ctx, min, max, ev, timeout);
    } while (k < 0 && errno == EINTR);
    if (k < 0) { /* cannot happen with a valid context */
        log_error("io_getevents on AIO context %llu: %s", (unsigned long long)ctx, strerror(errno));
        abort();
    }
    return k;
}

bool bio_aio_result(struct bio_ctx *c, int64_t res, int *ret_res)
{
    if (res == (int64_t)c->bio.len) {
        *ret_res = (int)SLIO_MIN(c->bio.len, (uint64_t)INT32_MAX);
        return true;
    }
    if (res < 0 && res != -EINTR && res != -EAGAIN) {
        *ret_res = (int)res;
        return true;
    }
    c->done = res > 0 ? (uint64_t)res : 0; /* short: -EIO at the end of the file */
    return false;
}

/* ---- synchronous execution (worker threads) ---- */
static int rw_sync(struct bio_ctx *c)
{
    const struct tgt_bio *b = &c->bio;
    bool write = b->op == TGT_BIO_WRITE;
    int flags = write && b->fua ? RWF_DSYNC : 0;

    while (c->done < b->len) {
        struct iovec v = {(uint8_t *)b->buf + c->done, b->len - c->done};
        off_t off = (off_t)(b->offset + c->done);
        ssize_t n =
            write ? pwritev2(b->bdev->fd, &v, 1, off, flags) : preadv2(b->bdev->fd, &v, 1, off, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO; /* the backing file shrank under us */
        c->done += (uint64_t)n;
    }
    return (int)SLIO_MIN(b->len, (uint64_t)INT32_MAX);
}

/* Zeroes by writing, when neither the file system nor the device can do better. */
static int zero_by_writing(const struct tgt_bio *b)
{
    static uint8_t zeros[64 * 1024] __attribute__((aligned(4096)));
    uint64_t done = 0;

    while (done < b->len) {
        size_t n = (size_t)SLIO_MIN(b->len - done, (uint64_t)sizeof(zeros));
        ssize_t w = pwrite(b->bdev->fd, zeros, n, (off_t)(b->offset + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        done += (uint64_t)w;
    }
    return 0;
}

static int range_ioctl(const struct tgt_bio *b, unsigned long req)
{
    uint64_t range[2] = {b->offset, b->len};

    return ioctl(b->bdev->fd, req, range) < 0 ? -errno : 0;
}

static int falloc(const struct tgt_bio *b, int mode)
{
    return fallocate(b->bdev->fd, mode, (off_t)b->offset, (off_t)b->len) < 0 ? -errno : 0;
}

static int zeroes_sync(const struct tgt_bio *b)
{
    int err;

    if (b->bdev->is_blockdev) {
        err = range_ioctl(b, BLKZEROOUT); /* the kernel falls back to writing zeroes itself */
    } else {
        err = falloc(b, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
        /* tmpfs and some others: a punched hole reads back as zeroes too */
        if (err == -EOPNOTSUPP)
            err = falloc(b, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
        if (err == -EOPNOTSUPP)
            err = zero_by_writing(b);
    }
    if (err == 0 && b->fua && fdatasync(b->bdev->fd) < 0)
        err = -errno;
    return err;
}

int bio_exec_sync(struct bio_ctx *c)
{
    const struct tgt_bio *b = &c->bio;

    switch (b->op) {
    case TGT_BIO_READ:
    case TGT_BIO_WRITE:
        return rw_sync(c);
    case TGT_BIO_FLUSH:
        return fdatasync(b->bdev->fd) < 0 ? -errno : 0;
    case TGT_BIO_WRITE_ZEROES:
        return zeroes_sync(b);
    case TGT_BIO_DISCARD:
        if (b->bdev->is_blockdev)
            return range_ioctl(b, BLKDISCARD);
        return falloc(b, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
    }
    return -EINVAL;
}

/* ---- QoS deferral: a short list sorted by deadline ---- */
void tgt_req_defer(struct tgt_req *req, uint64_t delay_us)
{
    struct tcp_req *t = tcp_req_of(req);
    struct tgt_reactor *r = t->conn->r;
    struct tlist *pos = &r->deferred;

    t->defer_until_us = tgt_now_us() + delay_us;
    t->deferred = true;
    /* insert before the first later deadline (walk from the tail: usually the latest) */
    while (pos->prev != &r->deferred &&
           tlist_entry(pos->prev, struct tcp_req, defer_link)->defer_until_us > t->defer_until_us)
        pos = pos->prev;
    tlist_add_tail(pos, &t->defer_link);
}

uint64_t reactor_defer_next(struct tgt_reactor *r)
{
    if (tlist_empty(&r->deferred))
        return 0;
    return tlist_entry(r->deferred.next, struct tcp_req, defer_link)->defer_until_us;
}

void reactor_defer_run(struct tgt_reactor *r, uint64_t now_us)
{
    while (!tlist_empty(&r->deferred)) {
        struct tcp_req *t = tlist_entry(r->deferred.next, struct tcp_req, defer_link);
        if (t->defer_until_us > now_us)
            return;
        tlist_del(&t->defer_link);
        t->deferred = false;
        conn_req_exec(t);
    }
}

void reactor_defer_cancel_conn(struct tgt_reactor *r, struct tgt_conn *c)
{
    struct tlist *it = r->deferred.next;

    while (it != &r->deferred) {
        struct tcp_req *t = tlist_entry(it, struct tcp_req, defer_link);
        it = it->next;
        if (t->conn == c) {
            tlist_del(&t->defer_link);
            t->deferred = false;
        }
    }
}
