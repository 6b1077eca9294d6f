/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STOPGAP, built only while libslio has no workq.c (branch libslio-net brings
 * the real one; csi/meson.build stops compiling this file the moment
 * libslio/workq.c exists). Implements include/slio/workq.h exactly: a fixed
 * pool of threads, one FIFO, keyed items serialised by skipping an item
 * whose key is running.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "slio/workq.h"

struct work {
    struct work *next;
    char *key;
    slio_work_fn fn;
    void *arg;
};

struct running_key {
    struct running_key *next;
    char *key;
};

struct slio_workq {
    pthread_mutex_t lock;
    pthread_cond_t wake, idle;
    struct work *head, **tail;
    size_t queued, max_queued, active;
    struct running_key *running;
    bool stopping;
    unsigned n_threads;
    pthread_t *threads;
};

static bool key_running(struct slio_workq *q, const char *key)
{
    for (struct running_key *r = q->running; r; r = r->next)
        if (strcmp(r->key, key) == 0)
            return true;
    return false;
}

/* First queued item whose key is not running (keys run one at a time, in order). */
static struct work *take_runnable(struct slio_workq *q)
{
    for (struct work **pp = &q->head; *pp; pp = &(*pp)->next) {
        struct work *w = *pp;
        bool blocked = w->key && key_running(q, w->key);
        for (struct work *e = q->head; !blocked && e != w; e = e->next)
            blocked = w->key && e->key && strcmp(e->key, w->key) == 0;
        if (blocked)
            continue;
        *pp = w->next;
        if (!*pp)
            q->tail = pp;
        q->queued--;
        return w;
    }
    return NULL;
}

static void mark_running(struct slio_workq *q, struct work *w, struct running_key *rk)
{
    if (!w->key)
        return;
    rk->key = w->key;
    rk->next = q->running;
    q->running = rk;
}

static void unmark_running(struct slio_workq *q, struct running_key *rk)
{
    for (struct running_key **pp = &q->running; *pp; pp = &(*pp)->next)
        if (*pp == rk) {
            *pp = rk->next;
            return;
        }
}

static void *worker(void *arg)
{
    struct slio_workq *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        struct work *w = take_runnable(q);
        if (!w) {
            if (q->stopping && !q->head)
                break;
            pthread_cond_wait(&q->wake, &q->lock);
            continue;
        }
        struct running_key rk = {0};
        mark_running(q, w, &rk);
        q->active++;
        pthread_mutex_unlock(&q->lock);
        w->fn(w->arg);
        pthread_mutex_lock(&q->lock);
        q->active--;
        if (w->key)
            unmark_running(q, &rk);
        free(w->key);
        free(w);
        pthread_cond_broadcast(&q->wake);
        if (!q->head && !q->active)
            pthread_cond_broadcast(&q->idle);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

int slio_workq_new(unsigned n_threads, size_t max_queued, struct slio_workq **ret)
{
    if (n_threads == 0)
        return -EINVAL;
    struct slio_workq *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->threads = calloc(n_threads, sizeof(*q->threads));
    if (!q->threads) {
        free(q);
        return -ENOMEM;
    }
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    pthread_cond_init(&q->idle, NULL);
    q->tail = &q->head;
    q->max_queued = max_queued;
    for (; q->n_threads < n_threads; q->n_threads++)
        if (pthread_create(&q->threads[q->n_threads], NULL, worker, q) != 0) {
            slio_workq_free(q);
            return -EAGAIN;
        }
    *ret = q;
    return 0;
}

int slio_workq_submit_keyed(struct slio_workq *q, const char *key, slio_work_fn fn, void *arg)
{
    struct work *w = calloc(1, sizeof(*w));
    if (!w || (key && !(w->key = strdup(key)))) {
        free(w);
        return -ENOMEM;
    }
    w->fn = fn;
    w->arg = arg;
    pthread_mutex_lock(&q->lock);
    int r = q->stopping ? -ESHUTDOWN : q->queued >= q->max_queued ? -EAGAIN : 0;
    if (r == 0) {
        *q->tail = w;
        q->tail = &w->next;
        q->queued++;
        pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->lock);
    if (r < 0) {
        free(w->key);
        free(w);
    }
    return r;
}

int slio_workq_submit(struct slio_workq *q, slio_work_fn fn, void *arg)
{
    return slio_workq_submit_keyed(q, NULL, fn, arg);
}

bool slio_workq_busy(struct slio_workq *q, const char *key)
{
    if (!key)
        return false;
    pthread_mutex_lock(&q->lock);
    bool busy = key_running(q, key);
    for (struct work *w = q->head; !busy && w; w = w->next)
        busy = w->key && strcmp(w->key, key) == 0;
    pthread_mutex_unlock(&q->lock);
    return busy;
}

void slio_workq_drain(struct slio_workq *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->head || q->active)
        pthread_cond_wait(&q->idle, &q->lock);
    pthread_mutex_unlock(&q->lock);
}

void slio_workq_free(struct slio_workq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
    for (unsigned i = 0; i < q->n_threads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->wake);
    pthread_cond_destroy(&q->idle);
    free(q->threads);
    free(q);
}
