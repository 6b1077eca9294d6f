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

#define OPT_MAX_QUEUE_DEPTH 1024u
#define OPT_MAX_AQ_DEPTH    4096u
#define OPT_MAX_IO_QPAIRS   1024u
#define OPT_MAX_IO_SIZE     (4u << 20) /* 4 MiB */
#define OPT_MAX_ICD         (128u << 10)

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

static int check_range(const char *name, uint32_t v, uint32_t min, uint32_t max)
{
    if (v >= min && v <= max)
        return 0;
    log_error("transport TCP: %s %u out of range [%u, %u]", name, v, min, max);
    return -EINVAL;
}

static int validate(struct tgt_transport_opts *o)
{
    int err = 0;

    err |= check_range("max_queue_depth", o->max_queue_depth, 2, OPT_MAX_QUEUE_DEPTH);
    err |= check_range("max_aq_depth", o->max_aq_depth, 2, OPT_MAX_AQ_DEPTH);
    err |= check_range("max_io_qpairs_per_ctrlr", o->max_io_qpairs_per_ctrlr, 1, OPT_MAX_IO_QPAIRS);
    err |= check_range("max_io_size", o->max_io_size, 4096, OPT_MAX_IO_SIZE);
    err |= check_range("in_capsule_data_size", o->in_capsule_data_size, 0, OPT_MAX_ICD);
    err |= check_range("io_unit_size", o->io_unit_size, 4096, UINT32_MAX);
    if (err)
        return -EINVAL;
    if (o->max_io_size % 4096 || o->io_unit_size % 4096) {
        log_error("transport TCP: max_io_size %u and io_unit_size %u must be multiples of 4096",
                  o->max_io_size, o->io_unit_size);
        return -EINVAL;
    }
    /* IOCCSZ is in 16-byte units */
    if (o->in_capsule_data_size % 16) {
        log_error("transport TCP: in_capsule_data_size %u is not a multiple of 16",
                  o->in_capsule_data_size);
        return -EINVAL;
    }
    /* SPDK clamps the data unit to the I/O size, so clients passing only one of them work */
    if (o->io_unit_size > o->max_io_size)
        o->io_unit_size = o->max_io_size;
    return 0;
}

int tgt_transport_create(const struct tgt_transport_opts *in)
{
    struct tgt_transport_opts o = *in;
    int err = validate(&o);

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
