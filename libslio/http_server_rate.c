/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-client request rate limit: one token bucket per peer address.
 *
 * Keyed by the peer address, not by the bearer token, on purpose: a token
 * names a scope that many clients share (every agent holds the agent token,
 * every CSI node the csi token), so a per-token bucket would let one busy node
 * starve the others; and the server cannot tell a valid token from a made-up
 * one before routing, so keying on tokens would hand every guessed token a
 * fresh bucket — the very requests a limit must slow down. A peer address is
 * what a client cannot change at will (behind NAT many clients share one:
 * size the limit for that).
 *
 * The table is bounded: BUCKETS slots, open addressing with a PROBE-slot
 * window. A new peer takes an empty slot of its window, else one whose bucket
 * is full again (the peer has been quiet long enough that forgetting it
 * changes nothing), else the least recently used one — so a flood of new
 * addresses costs memory never, and at worst gives an old peer a full bucket.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "http_server_int.h"

#define BUCKETS 4096
#define PROBE   16

struct bucket {
    char peer[INET6_ADDRSTRLEN]; /* "" = free */
    double tokens;
    double last_s; /* CLOCK_MONOTONIC seconds of the last refill */
    double used_s; /* ... of the last request (least recently used goes first) */
};

struct http_rate {
    pthread_mutex_t lock;
    double rate, burst;
    uint64_t limited;
    struct bucket slots[BUCKETS];
};

struct http_rate *http_rate_new(double rate_per_s, unsigned burst, bool *ret_enomem)
{
    struct http_rate *r;

    *ret_enomem = false;
    if (!(rate_per_s > 0))
        return NULL;
    r = calloc(1, sizeof(*r));
    if (!r) {
        *ret_enomem = true;
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->rate = rate_per_s;
    r->burst = burst ? burst : 2 * rate_per_s < 1 ? 1 : (double)(unsigned)(2 * rate_per_s);
    return r;
}

void http_rate_free(struct http_rate *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void refill(const struct http_rate *r, struct bucket *b, double now)
{
    double t = b->tokens + (now - b->last_s) * r->rate;

    b->tokens = t < r->burst ? t : r->burst;
    b->last_s = now;
}

/* The peer's bucket, refilled to now; a new one (full) when the peer is not in the table. */
static struct bucket *find_bucket(struct http_rate *r, const char *peer, double now)
{
    uint32_t h = hash(peer);
    struct bucket *empty = NULL, *idle = NULL, *lru = NULL, *b;

    for (unsigned i = 0; i < PROBE; i++) {
        b = &r->slots[(h + i) % BUCKETS];
        if (!b->peer[0]) {
            empty = empty ? empty : b;
            continue;
        }
        refill(r, b, now);
        if (strcmp(b->peer, peer) == 0)
            return b;
        if (!idle && b->tokens >= r->burst)
            idle = b;
        if (!lru || b->used_s < lru->used_s)
            lru = b;
    }
    b = empty ? empty : idle ? idle : lru;
    snprintf(b->peer, sizeof(b->peer), "%s", peer);
    b->tokens = r->burst;
    b->last_s = b->used_s = now;
    return b;
}

unsigned http_rate_take(struct http_rate *r, const char *peer)
{
    double now = now_s(), wait;
    struct bucket *b;

    pthread_mutex_lock(&r->lock);
    b = find_bucket(r, peer, now);
    b->used_s = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        pthread_mutex_unlock(&r->lock);
        return 0;
    }
    wait = (1.0 - b->tokens) / r->rate;
    r->limited++;
    pthread_mutex_unlock(&r->lock);
    if (wait > 86400)
        wait = 86400;
    return wait <= 1.0 ? 1 : (unsigned)wait + ((double)(unsigned)wait < wait);
}

uint64_t http_rate_limited(struct http_rate *r)
{
    uint64_t n;

    pthread_mutex_lock(&r->lock);
    n = r->limited;
    pthread_mutex_unlock(&r->lock);
    return n;
}
