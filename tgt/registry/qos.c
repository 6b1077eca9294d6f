/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-bdev QoS: token buckets for IOPS and bandwidth (read+write, read,
 * write), refilled by the time elapsed since the last admission.
 *
 * Tokens are kept in millionths of a unit so that a refill of `rate` units
 * per second adds exactly `rate` scaled tokens per microsecond, without
 * losing fractions at low rates. A bucket holds at most QOS_BURST_US worth
 * of tokens, which bounds the burst after an idle period (10 ms of the rate:
 * 1 % over a 1 s window). An I/O is admitted while every relevant bucket is
 * positive and may drive it negative (a 1 MiB write under a 1 MiB/s limit
 * must pass at some point); the debt then delays the following I/Os, so the
 * average rate holds.
 *
 * The fast path for an unlimited bdev is one relaxed atomic load. Limited
 * bdevs take a spinlock held for a few dozen instructions.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "registry/registry_internal.h"

#define QOS_SCALE    1000000ll /* tokens per unit */
#define QOS_BURST_US 10000ll   /* bucket depth in microseconds of the rate */
#define QOS_MIB      (1024ull * 1024ull)

struct qos_bucket {
    int64_t rate; /* units per second; 0 = unlimited */
    int64_t tokens;
    int64_t cap;
};

enum { B_IOS, B_RW_BYTES, B_R_BYTES, B_W_BYTES, B_COUNT };

struct tgt_qos {
    _Atomic bool enabled;
    pthread_spinlock_t lock;
    uint64_t last_us;
    bool started;
    struct qos_bucket b[B_COUNT];
    struct tgt_qos_limits limits;
};

struct tgt_qos *qos_new(void)
{
    struct tgt_qos *q = calloc(1, sizeof(*q));

    if (q && pthread_spin_init(&q->lock, PTHREAD_PROCESS_PRIVATE) != 0) {
        free(q);
        return NULL;
    }
    return q;
}

void qos_free(struct tgt_qos *q)
{
    if (!q)
        return;
    pthread_spin_destroy(&q->lock);
    free(q);
}

static void bucket_set(struct qos_bucket *bk, uint64_t rate)
{
    /* 2^40 units/s (1 TiB/s) is beyond any device; keeps the arithmetic in int64 */
    bool was_off = bk->rate == 0;

    if (rate > (1ull << 40))
        rate = 1ull << 40;
    bk->rate = (int64_t)rate;
    bk->cap = bk->rate * QOS_BURST_US;
    if (bk->cap < QOS_SCALE)
        bk->cap = QOS_SCALE; /* at least one unit, or a slow bucket never fills */
    /* a new limit starts with a full bucket; a changed one keeps its debt */
    if (was_off || bk->tokens > bk->cap)
        bk->tokens = bk->cap;
}

int tgt_bdev_set_qos(struct tgt_bdev *b, uint64_t rw_ios_per_sec, uint64_t rw_mbytes_per_sec,
                     uint64_t r_mbytes_per_sec, uint64_t w_mbytes_per_sec)
{
    struct tgt_qos *q = b->qos;
    const uint64_t mb_max = UINT64_MAX / QOS_MIB;

    if (!q)
        return -ENOMEM;
    if (rw_mbytes_per_sec > mb_max || r_mbytes_per_sec > mb_max || w_mbytes_per_sec > mb_max)
        return -ERANGE;
    pthread_spin_lock(&q->lock);
    q->limits = (struct tgt_qos_limits){rw_ios_per_sec, rw_mbytes_per_sec, r_mbytes_per_sec,
                                        w_mbytes_per_sec};
    bucket_set(&q->b[B_IOS], rw_ios_per_sec);
    bucket_set(&q->b[B_RW_BYTES], rw_mbytes_per_sec * QOS_MIB);
    bucket_set(&q->b[B_R_BYTES], r_mbytes_per_sec * QOS_MIB);
    bucket_set(&q->b[B_W_BYTES], w_mbytes_per_sec * QOS_MIB);
    bool on = rw_ios_per_sec || rw_mbytes_per_sec || r_mbytes_per_sec || w_mbytes_per_sec;
    atomic_store_explicit(&q->enabled, on, memory_order_release);
    pthread_spin_unlock(&q->lock);
    return 0;
}

void tgt_bdev_get_qos(const struct tgt_bdev *b, struct tgt_qos_limits *ret)
{
    struct tgt_qos *q = b->qos;

    if (!q) {
        *ret = (struct tgt_qos_limits){0};
        return;
    }
    pthread_spin_lock(&q->lock);
    *ret = q->limits;
    pthread_spin_unlock(&q->lock);
}

static void refill(struct tgt_qos *q, uint64_t now_us)
{
    if (!q->started) {
        q->started = true;
        q->last_us = now_us;
        return;
    }
    if (now_us <= q->last_us)
        return;
    uint64_t dt = now_us - q->last_us;
    q->last_us = now_us;
    if (dt > 1000000)
        dt = 1000000; /* a full bucket is reached long before; avoids overflow */
    for (int i = 0; i < B_COUNT; i++) {
        struct qos_bucket *bk = &q->b[i];
        if (!bk->rate)
            continue;
        bk->tokens += bk->rate * (int64_t)dt;
        if (bk->tokens > bk->cap)
            bk->tokens = bk->cap;
    }
}

/* Microseconds until bucket bk is positive again (0 if it is). */
static uint64_t bucket_wait(const struct qos_bucket *bk)
{
    if (!bk->rate || bk->tokens > 0)
        return 0;
    return (uint64_t)((-bk->tokens) / bk->rate) + 1;
}

uint64_t tgt_bdev_qos_admit(struct tgt_bdev *b, bool is_write, uint64_t bytes, uint64_t now_us)
{
    struct tgt_qos *q = b->qos;

    if (!q || !atomic_load_explicit(&q->enabled, memory_order_acquire))
        return 0;
    if (bytes > (1ull << 32))
        bytes = 1ull << 32; /* no single I/O is larger; keeps bytes * QOS_SCALE in range */

    struct qos_bucket *dir = &q->b[is_write ? B_W_BYTES : B_R_BYTES];
    struct qos_bucket *use[3] = {&q->b[B_IOS], &q->b[B_RW_BYTES], dir};
    int64_t cost[3] = {QOS_SCALE, (int64_t)bytes * QOS_SCALE, (int64_t)bytes * QOS_SCALE};
    uint64_t wait = 0;

    pthread_spin_lock(&q->lock);
    refill(q, now_us);
    for (int i = 0; i < 3; i++) {
        uint64_t w = bucket_wait(use[i]);
        if (w > wait)
            wait = w;
    }
    if (wait == 0)
        for (int i = 0; i < 3; i++)
            if (use[i]->rate)
                use[i]->tokens -= cost[i];
    pthread_spin_unlock(&q->lock);
    return wait;
}
