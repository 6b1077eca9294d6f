/* SPDX-License-Identifier: Apache-2.0 */
/* Built when liburing is disabled or missing: the epoll engine with worker threads is used. */
#include <errno.h>

#include "transport/transport_internal.h"

int bio_uring_create(unsigned entries, struct bio_uring **ret)
{
    return -ENOSYS;
}

void bio_uring_destroy(struct bio_uring *u) {}

int bio_uring_fd(const struct bio_uring *u)
{
    return -1;
}

bool bio_uring_handles(const struct tgt_bio *b)
{
    return false;
}

int bio_uring_submit(struct bio_uring *u, struct bio_ctx *c)
{
    return -ENOSYS;
}

void bio_uring_flush(struct bio_uring *u) {}

unsigned bio_uring_reap(struct bio_uring *u)
{
    return 0;
}
