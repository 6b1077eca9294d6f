/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a connection may cost before it has proven to be a host: caps on the
 * number of connections (in total and per source address) and the deadlines
 * that close one which does not move on (ICReq, first Connect, a PDU left
 * half-sent). Without them any peer that can reach a listener holds a file
 * descriptor and ~100 KiB per connection forever (issue 17, finding 1).
 *
 * The per-source table is touched only when a connection is accepted (by
 * reactor 0) and freed (by its own reactor), never on the I/O path, so a
 * mutex is enough.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

#define SRC_BUCKETS 1024u

struct src_count {
    struct src_count *next;
    struct conn_src key;
    uint32_t n;
};

static struct tgt_conn_limits g_limits = TGT_CONN_LIMITS_DEFAULT;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct src_count *g_buckets[SRC_BUCKETS];
static uint32_t g_total;

void tgt_conn_limits_set(const struct tgt_conn_limits *l)
{
    pthread_mutex_lock(&g_lock);
    g_limits = *l;
    pthread_mutex_unlock(&g_lock);
}

const struct tgt_conn_limits *tgt_conn_limits_get(void)
{
    return &g_limits;
}

uint32_t conn_limits_total(void)
{
    pthread_mutex_lock(&g_lock);
    uint32_t n = g_total;
    pthread_mutex_unlock(&g_lock);
    return n;
}

void conn_src_from_sockaddr(const struct sockaddr *sa, struct conn_src *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        /* as an IPv4-mapped IPv6 address, so both families share one key space */
        ret->addr[10] = ret->addr[11] = 0xff;
        memcpy(ret->addr + 12, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        memcpy(ret->addr, &in6->sin6_addr, 16);
    }
}

static uint32_t src_hash(const struct conn_src *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < sizeof(s->addr); i++)
        h = (h ^ s->addr[i]) * 16777619u;
    return h % SRC_BUCKETS;
}

static struct src_count **src_find_locked(const struct conn_src *s)
{
    struct src_count **p = &g_buckets[src_hash(s)];

    while (*p && memcmp((*p)->key.addr, s->addr, sizeof(s->addr)) != 0)
        p = &(*p)->next;
    return p;
}

int conn_limits_acquire(const struct conn_src *s)
{
    int err = 0;

    pthread_mutex_lock(&g_lock);
    struct src_count **p = src_find_locked(s);
    if (g_total >= g_limits.max_conns) {
        err = -EMFILE;
    } else if (*p && (*p)->n >= g_limits.max_conns_per_host) {
        err = -EUSERS;
    } else if (!*p) {
        *p = calloc(1, sizeof(**p));
        if (!*p)
            err = -ENOMEM;
        else
            (*p)->key = *s;
    }
    if (err == 0) {
        (*p)->n++;
        g_total++;
    }
    pthread_mutex_unlock(&g_lock);
    return err;
}

void conn_limits_release(const struct conn_src *s)
{
    pthread_mutex_lock(&g_lock);
    struct src_count **p = src_find_locked(s);
    struct src_count *e = *p;
    if (e) {
        g_total--;
        if (--e->n == 0) {
            *p = e->next;
            free(e);
        }
    }
    pthread_mutex_unlock(&g_lock);
}

static bool expired(uint64_t since_us, uint32_t timeout_ms, uint64_t now_us)
{
    return timeout_ms && now_us > since_us && now_us - since_us > (uint64_t)timeout_ms * 1000u;
}

/*
 * No command outstanding for a while: give the data slots' pages back. They
 * are committed by the commands that used them, and an idle connection
 * should not keep queue depth × max_io_size resident.
 */
static void release_idle_slots(struct tgt_conn *c, uint64_t now_us)
{
    if (c->nfree != c->nreqs) {
        c->idle_since_us = 0;
        return;
    }
    if (c->idle_since_us == 0) {
        c->idle_since_us = now_us;
        return;
    }
    if (!c->bufs_dirty || now_us - c->idle_since_us < (uint64_t)g_limits.idle_release_ms * 1000u)
        return;
    if (madvise(c->bufs, c->bufs_len, MADV_DONTNEED) == 0)
        c->bufs_dirty = false;
}

bool conn_deadlines(struct tgt_conn *c, uint64_t now_us)
{
    const char *why = NULL;

    if (!c->params.ic_done) {
        if (expired(c->accepted_us, g_limits.icreq_timeout_ms, now_us))
            why = "no ICReq within the ICReq timeout";
    } else if (!c->qp.ctrlr && expired(c->ic_done_us, g_limits.connect_timeout_ms, now_us)) {
        why = "no successful Connect within the Connect timeout";
    }
    /* before the ICReq, its own deadline applies */
    if (!why && c->params.ic_done && !conn_rx_idle(c) &&
        expired(c->rx_pdu_start_us, g_limits.pdu_timeout_ms, now_us))
        why = "PDU not completed within the PDU timeout";
    if (why) {
        conn_close(c, why);
        return false;
    }
    release_idle_slots(c, now_us);
    return true;
}
