/* SPDX-License-Identifier: Apache-2.0 */
/*
 * io_uring engine for backing I/O: one ring per reactor. SQEs are prepared
 * while PDUs are parsed and submitted once per loop iteration
 * (bio_uring_flush); completions are reaped without a syscall. The ring's
 * file descriptor sits in the reactor's epoll set, so a blocked reactor wakes
 * up when the disk completes. Short reads/writes are resubmitted for the
 * remainder.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

struct bio_uring {
    struct io_uring ring;
    unsigned pending; /* prepared, not yet submitted */
};

int bio_uring_create(unsigned entries, struct bio_uring **ret)
{
    struct bio_uring *u = calloc(1, sizeof(*u));

    if (!u)
        return -ENOMEM;
    int err = io_uring_queue_init(entries, &u->ring, 0);
    if (err < 0) {
        free(u);
        return err;
    }
    *ret = u;
    return 0;
}

void bio_uring_destroy(struct bio_uring *u)
{
    if (!u)
        return;
    io_uring_queue_exit(&u->ring);
    free(u);
}

int bio_uring_fd(const struct bio_uring *u)
{
    return u->ring.ring_fd;
}

bool bio_uring_handles(const struct tgt_bio *b)
{
    return b->op == TGT_BIO_READ || b->op == TGT_BIO_WRITE || b->op == TGT_BIO_FLUSH;
}

static struct io_uring_sqe *get_sqe(struct bio_uring *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

    if (!sqe && u->pending) { /* ring full: push what we have and retry once */
        bio_uring_flush(u);
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

static void prep(struct io_uring_sqe *sqe, struct bio_ctx *c)
{
    const struct tgt_bio *b = &c->bio;
    int fd = b->bdev->fd;

    switch (b->op) {
    case TGT_BIO_READ:
        io_uring_prep_read(sqe, fd, (uint8_t *)b->buf + c->done, (unsigned)(b->len - c->done),
                           b->offset + c->done);
        break;
    case TGT_BIO_WRITE:
        io_uring_prep_write(sqe, fd, (uint8_t *)b->buf + c->done, (unsigned)(b->len - c->done),
                            b->offset + c->done);
        if (b->fua)
            sqe->rw_flags = RWF_DSYNC;
        break;
    default:
        io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
        break;
    }
    io_uring_sqe_set_data(sqe, c);
}

int bio_uring_submit(struct bio_uring *u, struct bio_ctx *c)
{
    struct io_uring_sqe *sqe = get_sqe(u);

    if (!sqe)
        return -EBUSY;
    prep(sqe, c);
    u->pending++;
    return 0;
}

void bio_uring_flush(struct bio_uring *u)
{
    if (!u->pending)
        return;
    int n = io_uring_submit(&u->ring);
    if (n >= 0)
        u->pending -= SLIO_MIN((unsigned)n, u->pending);
    else if (n != -EAGAIN && n != -EBUSY && n != -EINTR)
        log_error("io_uring submit: %s", strerror(-n));
}

/* A completion: finished, or resubmitted for the rest of a short transfer. */
static void on_cqe(struct bio_uring *u, struct bio_ctx *c, int res)
{
    const struct tgt_bio *b = &c->bio;

    bool retry = res == -EINTR || res == -EAGAIN;

    if (!retry && (res < 0 || b->op == TGT_BIO_FLUSH)) {
        bio_complete(c, res);
        return;
    }
    if (!retry && res == 0) {
        bio_complete(c, -EIO); /* read past the end of a file that shrank */
        return;
    }
    c->done += retry ? 0 : (uint64_t)res;
    if (b->op != TGT_BIO_FLUSH && c->done >= b->len) {
        bio_complete(c, (int)SLIO_MIN(b->len, (uint64_t)INT32_MAX));
        return;
    }
    struct io_uring_sqe *sqe = get_sqe(u);
    if (!sqe) {
        bio_pool_submit(c); /* the worker continues from c->done */
        return;
    }
    prep(sqe, c);
    u->pending++;
}

unsigned bio_uring_reap(struct bio_uring *u)
{
    struct io_uring_cqe *cqe;
    unsigned n = 0;

    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        struct bio_ctx *c = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&u->ring, cqe);
        on_cqe(u, c, res);
        n++;
    }
    return n;
}
