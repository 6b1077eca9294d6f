/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP transport options (nvmf_create_transport) and handing a connected
 * socket to a reactor.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_created;
/* Readers on reactors see a stable copy: it only changes before the first listener. */
static struct tgt_transport_opts g_opts = {
    .max_queue_depth = 128,
    .max_aq_depth = 128,
    .max_io_qpairs_per_ctrlr = 127,
    .in_capsule_data_size = 8192,
    .max_io_size = 131072,
    .io_unit_size = 131072,
};

const struct tgt_transport_opts *tgt_transport_get_opts(void)
{
    return &g_opts;
}

bool tgt_transport_created(void)
{
    pthread_mutex_lock(&g_lock);
    bool c = g_created;
    pthread_mutex_unlock(&g_lock);
    return c;
}

int tgt_transport_create(const struct tgt_transport_opts *in)
{
    struct tgt_transport_opts o = *in;
    int err = tgt_transport_opts_check(&o);

    if (err < 0)
        return err;
    pthread_mutex_lock(&g_lock);
    if (g_created) {
        pthread_mutex_unlock(&g_lock);
        log_error("transport TCP: already exists");
        return -EEXIST;
    }
    g_opts = o;
    g_created = true;
    pthread_mutex_unlock(&g_lock);
    log_info("transport TCP: queue depth %u, admin queue depth %u, in-capsule %u, max I/O %u, "
             "I/O unit %u",
             o.max_queue_depth, o.max_aq_depth, o.in_capsule_data_size, o.max_io_size,
             o.io_unit_size);
    return 0;
}

struct adopt {
    struct tgt_msg msg;
    struct tgt_reactor *r;
    int fd;
    struct tgt_listen_addr local;
    struct conn_src src;
    bool src_held;
};

static void adopt_on_reactor(void *arg)
{
    struct adopt *a = arg;

    struct tgt_conn *c = a->r->stopping ? NULL : conn_create(a->r, a->fd, &a->local);

    if (c) {
        c->src = a->src;
        c->src_held = a->src_held; /* released when the connection is freed */
    } else {
        close(a->fd);
        if (a->src_held)
            conn_limits_release(&a->src);
    }
    free(a);
}

int transport_adopt_fd(struct tgt_reactor *r, int fd, const struct tgt_listen_addr *local,
                       const struct conn_src *src)
{
    struct adopt *a = calloc(1, sizeof(*a));

    if (!a)
        return -ENOMEM;
    a->r = r;
    a->fd = fd;
    if (local)
        a->local = *local;
    if (src) {
        a->src = *src;
        a->src_held = true;
    }
    a->msg = (struct tgt_msg){.fn = adopt_on_reactor, .arg = a};
    reactor_post_msg(r, &a->msg);
    return 0;
}
