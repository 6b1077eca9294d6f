/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker threads with per-key serialisation.
 *
 * One mutex guards everything; work items are few and long (an LVM command,
 * a store transaction), so contention on it is irrelevant next to the work.
 *
 * An item without a key goes straight to the run queue. An item with a key
 * looks up the key's record: when none exists the key is idle, a record is
 * made and the item goes to the run queue; otherwise the item waits on the
 * record's own list. When a keyed item finishes, the next item of its key
 * (if any) moves to the tail of the run queue — so a key never has two items
 * running and a busy key cannot starve the others. The record lives exactly
 * while an item of its key is queued or running, which is what busy() asks.
 *
 * drain() needs "everything submitted before me finished", not "the queue is
 * empty" (which other threads' submissions could postpone forever): every
 * item also sits on an `outstanding` list in submission order, so the oldest
 * unfinished item is the list head and drain waits until that head is newer
 * than its own starting point.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slio/workq.h"

#define KEY_BUCKETS 256

struct work_key;

struct work_item {
    slio_work_fn fn;
    void *arg;
    struct work_key *key; /* NULL for unkeyed work */
    uint64_t seq;
    struct work_item *next;          /* run queue or the key's waiting list */
    struct work_item *older, *newer; /* the outstanding list */
};

struct work_key {
    char *name;
    struct work_key *hash_next;
    struct work_item *wait_head, *wait_tail; /* items behind the one queued or running */
};

struct slio_workq {
    pthread_mutex_t lock;
    pthread_cond_t work_ready; /* workers wait for items or shutdown */
    pthread_cond_t finished;   /* drain() waits for items to finish */
    struct work_item *run_head, *run_tail;
    struct work_item *oldest, *newest; /* outstanding: queued, waiting or running */
    struct work_key *keys[KEY_BUCKETS];
    size_t n_waiting; /* not running: run queue + key waiting lists */
    size_t max_queued;
    uint64_t next_seq;
    bool shutting_down;
    unsigned n_threads;
    pthread_t *threads;
};

static unsigned key_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % KEY_BUCKETS;
}

static struct work_key *key_find(struct slio_workq *q, const char *name)
{
    for (struct work_key *k = q->keys[key_hash(name)]; k; k = k->hash_next)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static struct work_key *key_add(struct slio_workq *q, const char *name)
{
    struct work_key *k = calloc(1, sizeof(*k));
    unsigned h = key_hash(name);

    if (!k)
        return NULL;
    k->name = strdup(name);
    if (!k->name) {
        free(k);
        return NULL;
    }
    k->hash_next = q->keys[h];
    q->keys[h] = k;
    return k;
}

static void key_remove(struct slio_workq *q, struct work_key *k)
{
    struct work_key **pp = &q->keys[key_hash(k->name)];

    while (*pp != k)
        pp = &(*pp)->hash_next;
    *pp = k->hash_next;
    free(k->name);
    free(k);
}

static void run_push(struct slio_workq *q, struct work_item *it)
{
    it->next = NULL;
    if (q->run_tail)
        q->run_tail->next = it;
    else
        q->run_head = it;
    q->run_tail = it;
    pthread_cond_signal(&q->work_ready);
}

static struct work_item *run_pop(struct slio_workq *q)
{
    struct work_item *it = q->run_head;

    q->run_head = it->next;
    if (!q->run_head)
        q->run_tail = NULL;
    q->n_waiting--;
    return it;
}

static void outstanding_add(struct slio_workq *q, struct work_item *it)
{
    it->seq = q->next_seq++;
    it->older = q->newest;
    it->newer = NULL;
    if (q->newest)
        q->newest->newer = it;
    else
        q->oldest = it;
    q->newest = it;
}

static void outstanding_remove(struct slio_workq *q, struct work_item *it)
{
    if (it->older)
        it->older->newer = it->newer;
    else
        q->oldest = it->newer;
    if (it->newer)
        it->newer->older = it->older;
    else
        q->newest = it->older;
}

/* Called with the lock held once fn returned: hand the key to its next item or drop it. */
static void finish_item(struct slio_workq *q, struct work_item *it)
{
    struct work_key *k = it->key;

    if (k) {
        struct work_item *next = k->wait_head;
        if (next) {
            k->wait_head = next->next;
            if (!k->wait_head)
                k->wait_tail = NULL;
            run_push(q, next); /* still counted in n_waiting until a worker pops it */
        } else {
            key_remove(q, k);
        }
    }
    outstanding_remove(q, it);
    free(it);
    pthread_cond_broadcast(&q->finished);
}

static void *worker_main(void *arg)
{
    struct slio_workq *q = arg;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->run_head && !q->shutting_down)
            pthread_cond_wait(&q->work_ready, &q->lock);
        /* At shutdown a keyed item may still wait behind a running one: only the
         * last worker standing with nothing queued and nothing outstanding leaves. */
        if (!q->run_head) {
            if (!q->oldest)
                break;
            pthread_cond_wait(&q->work_ready, &q->lock);
            continue;
        }
        struct work_item *it = run_pop(q);
        pthread_mutex_unlock(&q->lock);
        it->fn(it->arg);
        pthread_mutex_lock(&q->lock);
        finish_item(q, it);
        if (q->shutting_down)
            pthread_cond_broadcast(&q->work_ready); /* idle workers re-check for the end */
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

int slio_workq_new(unsigned n_threads, size_t max_queued, struct slio_workq **ret)
{
    struct slio_workq *q;
    int r;

    if (n_threads < 1 || max_queued < 1 || !ret)
        return -EINVAL;
    q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->threads = calloc(n_threads, sizeof(*q->threads));
    if (!q->threads) {
        free(q);
        return -ENOMEM;
    }
    q->max_queued = max_queued;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->work_ready, NULL);
    pthread_cond_init(&q->finished, NULL);
    for (; q->n_threads < n_threads; q->n_threads++) {
        r = pthread_create(&q->threads[q->n_threads], NULL, worker_main, q);
        if (r != 0) {
            slio_workq_free(q); /* joins the ones started */
            return -r;
        }
    }
    *ret = q;
    return 0;
}

int slio_workq_submit(struct slio_workq *q, slio_work_fn fn, void *arg)
{
    return slio_workq_submit_keyed(q, NULL, fn, arg);
}

int slio_workq_submit_keyed(struct slio_workq *q, const char *key, slio_work_fn fn, void *arg)
{
    struct work_item *it;
    struct work_key *k = NULL;
    int r = 0;

    if (!q || !fn)
        return -EINVAL;
    it = calloc(1, sizeof(*it));
    if (!it)
        return -ENOMEM;
    it->fn = fn;
    it->arg = arg;

    pthread_mutex_lock(&q->lock);
    if (q->shutting_down) {
        r = -ESHUTDOWN;
        goto out_unlock;
    }
    if (q->n_waiting >= q->max_queued) {
        r = -EAGAIN;
        goto out_unlock;
    }
    if (key) {
        k = key_find(q, key);
        if (k) {
            /* the key is busy: wait behind its queued or running item */
            it->key = k;
            if (k->wait_tail)
                k->wait_tail->next = it;
            else
                k->wait_head = it;
            k->wait_tail = it;
            goto out_queued;
        }
        k = key_add(q, key);
        if (!k) {
            r = -ENOMEM;
            goto out_unlock;
        }
        it->key = k;
    }
    run_push(q, it);
out_queued:
    q->n_waiting++;
    outstanding_add(q, it);
    it = NULL;
out_unlock:
    pthread_mutex_unlock(&q->lock);
    free(it);
    return r;
}

bool slio_workq_busy(struct slio_workq *q, const char *key)
{
    bool busy;

    if (!q || !key)
        return false;
    pthread_mutex_lock(&q->lock);
    busy = key_find(q, key) != NULL;
    pthread_mutex_unlock(&q->lock);
    return busy;
}

void slio_workq_drain(struct slio_workq *q)
{
    uint64_t target;

    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    target = q->next_seq;
    while (q->oldest && q->oldest->seq < target)
        pthread_cond_wait(&q->finished, &q->lock);
    pthread_mutex_unlock(&q->lock);
}

void slio_workq_free(struct slio_workq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->shutting_down = true;
    pthread_cond_broadcast(&q->work_ready);
    pthread_mutex_unlock(&q->lock);
    for (unsigned i = 0; i < q->n_threads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_cond_destroy(&q->finished);
    pthread_cond_destroy(&q->work_ready);
    pthread_mutex_destroy(&q->lock);
    free(q->threads);
    free(q);
}
