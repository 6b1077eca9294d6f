/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The io_uring engine: one ring per reactor carries the backing I/O, the
 * connections' receives and sends, and the readiness of the listener and the
 * mailbox, so one io_uring_enter() submits a loop iteration's disk requests
 * and socket operations and sleeps, and a spinning reactor finds received
 * bytes and disk completions in the completion queue without any system call.
 *
 * Backing I/O: SQEs are prepared while PDUs are parsed and submitted every
 * max_batch requests (--disk-batch, 2 by default) and at the end of each loop
 * iteration; max_batch 0 leaves only the latter:
 * more than two SQEs in one io_uring_enter() are plugged by the block layer
 * and reach the device together at the end of the call, which a virtual disk
 * answers together too (the convoy in docs/performance.md); batches of one or
 * two are never plugged. Short reads/writes are resubmitted for the
 * remainder.
 *
 * Connections: their receives and sends are ring operations themselves
 * (bio_uring_recv/bio_uring_sendmsg; bio_uring_poll_in while large data is
 * due, see conn_rx_ring_arm). Their user_data is a pointer: the connection
 * outlives its operations (struct net_op).
 *
 * Readiness (reactor_ev_add): a multishot, edge-triggered poll request (the
 * same contract as EPOLLET), or for a listener a one-shot poll armed again
 * after each event, which makes it level-triggered. A poll's user_data is a
 * slot number plus a generation, never a pointer: a poll cancelled when its
 * source goes away may still complete after the source is freed, and such a
 * late completion then only finds a newer generation and is dropped. A
 * multishot poll the kernel ends on its own (no IORING_CQE_F_MORE) is armed
 * again.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

/*
 * user_data: a bio_ctx pointer (8-aligned, low bits 0) for backing I/O, or
 * tagged in the low bits for the rest.
 */
#define UD_POLL_TAG    1ull /* (slot << 32) | (generation << 1) | 1 */
#define UD_NET_TAG     2ull /* struct net_op pointer | 2 */
#define UD_POLL_REMOVE 4ull /* the completion of a cancellation: nothing to do */
#define UD_TAG_MASK    7ull

struct poll_slot {
    struct ev_source *src; /* NULL: free */
    int fd;
    uint32_t events;
    uint32_t gen;
    uint32_t next_free;
    bool edge;
};

struct bio_uring {
    struct io_uring ring;
    unsigned pending;        /* prepared, not yet submitted */
    unsigned max_batch;      /* backing I/O per submission; 0: a loop iteration's */
    unsigned disk_unflushed; /* backing I/O prepared since the last submission */
    struct poll_slot *slots;
    uint32_t nslots, free_head; /* free list through next_free; UINT32_MAX: empty */
};

int bio_uring_create(unsigned entries, struct bio_uring **ret)
{
    struct bio_uring *u = calloc(1, sizeof(*u));

    if (!u)
        return -ENOMEM;
    u->free_head = UINT32_MAX;
    /*
     * Cooperative task running: completions that need the task's context are
     * run at our next io_uring_enter() instead of interrupting the reactor
     * with an IPI; IORING_SQ_TASKRUN tells liburing's peek when to enter.
     * Kernels before 5.19 refuse the flags: plain ring then.
     */
    int err = io_uring_queue_init(entries, &u->ring,
                                  IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
    if (err == -EINVAL)
        err = io_uring_queue_init(entries, &u->ring, 0);
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
    free(u->slots);
    free(u);
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
    if (u->max_batch && ++u->disk_unflushed >= u->max_batch)
        bio_uring_flush(u);
    return 0;
}

void bio_uring_set_batch(struct bio_uring *u, unsigned max_batch)
{
    u->max_batch = max_batch;
}

unsigned bio_uring_unsubmitted(const struct bio_uring *u)
{
    return u->pending;
}

void bio_uring_flush(struct bio_uring *u)
{
    u->disk_unflushed = 0;
    if (!u->pending)
        return;
    int n = io_uring_submit(&u->ring);
    if (n >= 0)
        u->pending -= SLIO_MIN((unsigned)n, u->pending);
    else if (n != -EAGAIN && n != -EBUSY && n != -EINTR)
        log_error("io_uring submit: %s", strerror(-n));
}

int bio_uring_wait(struct bio_uring *u, int64_t timeout_us)
{
    struct io_uring_cqe *cqe;
    int n;

    if (timeout_us == 0 || io_uring_cq_ready(&u->ring)) {
        bio_uring_flush(u);
        return 0;
    }
    if (timeout_us < 0) {
        n = io_uring_submit_and_wait(&u->ring, 1);
    } else {
        struct __kernel_timespec ts = {.tv_sec = timeout_us / 1000000,
                                       .tv_nsec = (long long)(timeout_us % 1000000) * 1000};
        n = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
        if (n == -ETIME)
            n = 0;
    }
    if (n >= 0) {
        u->pending = 0;
        u->disk_unflushed = 0;
        return 0;
    }
    return n == -EINTR ? 0 : n;
}

/* -EBUSY: the submission queue is full and cannot be flushed (completion queue overflowing) */
static int poll_arm(struct bio_uring *u, uint32_t slot)
{
    struct poll_slot *p = &u->slots[slot];
    struct io_uring_sqe *sqe = get_sqe(u);

    if (!sqe)
        return -EBUSY;
    if (p->edge)
        io_uring_prep_poll_multishot(sqe, p->fd, p->events);
    else
        io_uring_prep_poll_add(sqe, p->fd, p->events); /* re-armed per event: level-triggered */
    io_uring_sqe_set_data64(sqe, ((uint64_t)slot << 32) | ((uint64_t)p->gen << 1) | UD_POLL_TAG);
    u->pending++;
    return 0;
}

static void slot_free(struct bio_uring *u, uint32_t slot)
{
    struct poll_slot *p = &u->slots[slot];

    /* Whatever still completes for the old generation is dropped. */
    p->src = NULL;
    p->gen = (p->gen + 1) & 0x7fffffffu;
    p->next_free = u->free_head;
    u->free_head = slot;
}

static int slot_alloc(struct bio_uring *u, uint32_t *ret)
{
    if (u->free_head == UINT32_MAX) {
        uint32_t n = u->nslots ? u->nslots * 2 : 64;
        struct poll_slot *s = reallocarray(u->slots, n, sizeof(*s));
        if (!s)
            return -ENOMEM;
        for (uint32_t i = u->nslots; i < n; i++)
            s[i] = (struct poll_slot){.next_free = i + 1 < n ? i + 1 : UINT32_MAX};
        u->slots = s;
        u->free_head = u->nslots;
        u->nslots = n;
    }
    *ret = u->free_head;
    u->free_head = u->slots[*ret].next_free;
    return 0;
}

int bio_uring_poll_add(struct bio_uring *u, int fd, struct ev_source *src, uint32_t events)
{
    uint32_t slot;
    int err = slot_alloc(u, &slot);

    if (err < 0)
        return err;
    struct poll_slot *p = &u->slots[slot];
    p->src = src;
    p->fd = fd;
    p->events = events & ~(uint32_t)EPOLLET;
    p->edge = events & EPOLLET;
    p->gen = (p->gen + 1) & 0x7fffffffu;
    src->slot = slot;
    err = poll_arm(u, slot);
    if (err < 0)
        slot_free(u, slot);
    return err;
}

void bio_uring_poll_del(struct bio_uring *u, struct ev_source *src)
{
    struct poll_slot *p = &u->slots[src->slot];
    uint64_t ud = ((uint64_t)src->slot << 32) | ((uint64_t)p->gen << 1) | UD_POLL_TAG;
    struct io_uring_sqe *sqe = get_sqe(u);

    /* without room to cancel, the poll lives on until the ring closes: its events are dropped */
    if (sqe) {
        io_uring_prep_poll_remove(sqe, ud);
        io_uring_sqe_set_data64(sqe, UD_POLL_REMOVE);
        u->pending++;
    }
    slot_free(u, src->slot);
}

int bio_uring_recv(struct bio_uring *u, int fd, void *buf, size_t len, struct net_op *op)
{
    struct io_uring_sqe *sqe = get_sqe(u);

    if (!sqe)
        return -EBUSY;
    io_uring_prep_recv(sqe, fd, buf, len, 0);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)op | UD_NET_TAG);
    u->pending++;
    return 0;
}

int bio_uring_poll_in(struct bio_uring *u, int fd, struct net_op *op)
{
    struct io_uring_sqe *sqe = get_sqe(u);

    if (!sqe)
        return -EBUSY;
    io_uring_prep_poll_add(sqe, fd, EPOLLIN);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)op | UD_NET_TAG);
    u->pending++;
    return 0;
}

int bio_uring_sendmsg(struct bio_uring *u, int fd, const struct msghdr *mh, struct net_op *op)
{
    struct io_uring_sqe *sqe = get_sqe(u);

    if (!sqe)
        return -EBUSY;
    /* not MSG_DONTWAIT: with a full socket buffer the ring waits for room itself */
    io_uring_prep_sendmsg(sqe, fd, mh, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)op | UD_NET_TAG);
    u->pending++;
    return 0;
}

/* Returns true if the source was told of an event. */
static bool on_poll_cqe(struct bio_uring *u, uint64_t ud, const struct io_uring_cqe *cqe,
                        bio_uring_event_fn on_event, void *arg)
{
    uint32_t slot = (uint32_t)(ud >> 32);
    uint32_t gen = (uint32_t)(ud & 0xffffffffu) >> 1;

    if (slot >= u->nslots || u->slots[slot].gen != gen || !u->slots[slot].src)
        return false; /* a poll cancelled since */
    struct poll_slot *p = &u->slots[slot];
    bool told = cqe->res >= 0;
    if (told) {
        on_event(p->src, (uint32_t)cqe->res, arg);
    } else if (cqe->res != -ECANCELED) {
        /* not armed again (it would fail the same way): the owner looks at its socket */
        log_warn("io_uring poll on fd %d: %s", p->fd, strerror(-cqe->res));
        on_event(p->src, EPOLLIN | EPOLLOUT | EPOLLERR, arg);
        return true;
    }
    /* the owner may have deleted the source; if not and the poll ended, arm it again */
    p = &u->slots[slot];
    if (!(cqe->flags & IORING_CQE_F_MORE) && p->gen == gen && p->src && poll_arm(u, slot) < 0) {
        log_error("io_uring: cannot watch fd %d again: ring full", p->fd);
        on_event(p->src, EPOLLIN | EPOLLOUT | EPOLLERR, arg);
        told = true;
    }
    return told;
}

/* A completion: finished, or resubmitted for the rest of a short transfer. */
static void on_cqe(struct bio_uring *u, struct bio_ctx *c, int res)
{
    const struct tgt_bio *b = &c->bio;
    bool retry = res == -EINTR || res == -EAGAIN;
    int result;

    if (!retry && (res < 0 || b->op == TGT_BIO_FLUSH)) {
        result = res;
    } else if (!retry && res == 0) {
        result = -EIO; /* read past the end of a file that shrank */
    } else {
        c->done += retry ? 0 : (uint64_t)res;
        /* an interrupted flush, or a short transfer: go on with the rest */
        if (b->op == TGT_BIO_FLUSH || c->done < b->len) {
            struct io_uring_sqe *sqe = get_sqe(u);
            if (sqe) {
                prep(sqe, c);
                u->pending++;
                return;
            }
            bio_pool_submit(c); /* the worker continues from c->done */
            return;
        }
        result = (int)SLIO_MIN(b->len, (uint64_t)INT32_MAX);
    }
    bio_complete(c, result);
}

unsigned bio_uring_reap(struct bio_uring *u, bio_uring_event_fn on_event, void *arg)
{
    struct io_uring_cqe *cqe;
    unsigned n = 0;

    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        uint64_t ud = io_uring_cqe_get_data64(cqe);
        struct io_uring_cqe copy = *cqe;
        io_uring_cqe_seen(&u->ring, cqe);
        if (ud & UD_POLL_TAG) {
            n += on_poll_cqe(u, ud, &copy, on_event, arg);
        } else if ((ud & UD_TAG_MASK) == UD_NET_TAG) {
            conn_net_done((struct net_op *)(uintptr_t)(ud & ~UD_TAG_MASK), copy.res);
            n++;
        } else if (ud != UD_POLL_REMOVE) {
            on_cqe(u, (struct bio_ctx *)(uintptr_t)ud, copy.res);
            n++;
        }
    }
    return n;
}
