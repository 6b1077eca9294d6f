/* SPDX-License-Identifier: Apache-2.0 */
/* Built when liburing is disabled or missing: the epoll engine with worker threads is used. */
#include <errno.h>

#include "transport/transport_internal.h"

int bio_uring_create(unsigned entries, struct bio_uring **ret)
{
    return -ENOSYS;
}

void bio_uring_destroy(struct bio_uring *u) {}

bool bio_uring_handles(const struct tgt_bio *b)
{
    return false;
}

int bio_uring_submit(struct bio_uring *u, struct bio_ctx *c)
{
    return -ENOSYS;
}

void bio_uring_flush(struct bio_uring *u) {}

void bio_uring_set_batch(struct bio_uring *u, unsigned max_batch) {}

unsigned bio_uring_unsubmitted(const struct bio_uring *u)
{
    return 0;
}

int bio_uring_poll_in(struct bio_uring *u, int fd, struct net_op *op)
{
    return -ENOSYS;
}

int bio_uring_wait(struct bio_uring *u, int64_t timeout_us)
{
    return -ENOSYS;
}

int bio_uring_poll_add(struct bio_uring *u, int fd, struct ev_source *src, uint32_t events)
{
    return -ENOSYS;
}

void bio_uring_poll_del(struct bio_uring *u, struct ev_source *src) {}

int bio_uring_recv(struct bio_uring *u, int fd, void *buf, size_t len, struct net_op *op)
{
    return -ENOSYS;
}

int bio_uring_sendmsg(struct bio_uring *u, int fd, const struct msghdr *mh, struct net_op *op)
{
    return -ENOSYS;
}

unsigned bio_uring_reap(struct bio_uring *u, bio_uring_event_fn on_event, void *arg)
{
    return 0;
}
