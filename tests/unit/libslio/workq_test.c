/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libslio/workq.c: keyed items run one at a time in order, other keys in
 * parallel, busy() follows a key's life, a full queue says -EAGAIN, drain
 * waits for what was submitted, free runs what is queued and refuses more.
 * Waits are on events (a gate, a condition with a deadline), never sleeps.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "slio/workq.h"

/* A one-shot event with a deadline, so a broken queue fails the test instead of hanging it. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool open;
};
#define GATE_INIT                                                                                  \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false                                 \
    }

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static bool gate_wait(struct gate *g, int seconds)
{
    struct timespec deadline;
    bool open;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&g->lock);
    while (!g->open)
        if (pthread_cond_timedwait(&g->cond, &g->lock, &deadline) != 0)
            break;
    open = g->open;
    pthread_mutex_unlock(&g->lock);
    return open;
}

/* --- keyed ordering ------------------------------------------------------------------ */

#define N_ORDERED 300
static atomic_int running_of_key;
static atomic_int max_running_of_key;
static int order[N_ORDERED];
static atomic_int n_order;

static void ordered_item(void *arg)
{
    int now = atomic_fetch_add(&running_of_key, 1) + 1;
    int seen = atomic_load(&max_running_of_key);
    while (now > seen && !atomic_compare_exchange_weak(&max_running_of_key, &seen, now))
        ;
    for (volatile int spin = 0; spin < 1000; spin++)
        ; /* widen the window in which a second item of the key could overlap */
    order[atomic_fetch_add(&n_order, 1)] = (int)(intptr_t)arg;
    atomic_fetch_sub(&running_of_key, 1);
}

static void test_keyed_items_run_in_order_one_at_a_time(void **state)
{
    struct slio_workq *q = NULL;

    (void)state;
    assert_int_equal(slio_workq_new(4, N_ORDERED, &q), 0);
    for (int i = 0; i < N_ORDERED; i++)
        assert_int_equal(slio_workq_submit_keyed(q, "vol-1", ordered_item, (void *)(intptr_t)i), 0);
    slio_workq_drain(q);
    assert_int_equal(atomic_load(&n_order), N_ORDERED);
    assert_int_equal(atomic_load(&max_running_of_key), 1);
    for (int i = 0; i < N_ORDERED; i++)
        assert_int_equal(order[i], i);
    assert_false(slio_workq_busy(q, "vol-1"));
    slio_workq_free(q);
}

/* --- parallelism across keys ------------------------------------------------------- */

static struct gate a_started = GATE_INIT, b_started = GATE_INIT;
static atomic_bool a_saw_b, b_saw_a;

static void item_a(void *arg)
{
    (void)arg;
    gate_open(&a_started);
    atomic_store(&a_saw_b, gate_wait(&b_started, 10));
}

static void item_b(void *arg)
{
    (void)arg;
    gate_open(&b_started);
    atomic_store(&b_saw_a, gate_wait(&a_started, 10));
}

static void test_other_keys_run_in_parallel(void **state)
{
    struct slio_workq *q = NULL;

    (void)state;
    assert_int_equal(slio_workq_new(2, 8, &q), 0);
    /* each waits until the other has started: only possible when both run at once */
    assert_int_equal(slio_workq_submit_keyed(q, "a", item_a, NULL), 0);
    assert_int_equal(slio_workq_submit_keyed(q, "b", item_b, NULL), 0);
    slio_workq_drain(q);
    assert_true(atomic_load(&a_saw_b));
    assert_true(atomic_load(&b_saw_a));
    slio_workq_free(q);
}

/* --- busy, full queue, drain ----------------------------------------------------------- */

struct blocker {
    struct gate started;
    struct gate release;
};

static void blocking_item(void *arg)
{
    struct blocker *b = arg;

    gate_open(&b->started);
    (void)gate_wait(&b->release, 10); /* no cmocka asserts off the main thread */
}

static atomic_int n_counted;

static void count_item(void *arg)
{
    (void)arg;
    atomic_fetch_add(&n_counted, 1);
}

static void test_busy_follows_the_key(void **state)
{
    struct blocker b = {GATE_INIT, GATE_INIT};
    struct slio_workq *q = NULL;

    (void)state;
    atomic_store(&n_counted, 0);
    assert_int_equal(slio_workq_new(2, 8, &q), 0);
    assert_false(slio_workq_busy(q, "v"));
    assert_int_equal(slio_workq_submit_keyed(q, "v", blocking_item, &b), 0);
    assert_true(slio_workq_busy(q, "v")); /* queued or running: busy either way */
    assert_true(gate_wait(&b.started, 10));
    assert_int_equal(slio_workq_submit_keyed(q, "v", count_item, NULL), 0);
    assert_true(slio_workq_busy(q, "v"));
    assert_false(slio_workq_busy(q, "w"));
    assert_false(slio_workq_busy(q, NULL));
    assert_int_equal(atomic_load(&n_counted), 0); /* waits behind the running item of "v" */
    gate_open(&b.release);
    slio_workq_drain(q);
    assert_int_equal(atomic_load(&n_counted), 1);
    assert_false(slio_workq_busy(q, "v"));
    slio_workq_free(q);
}

static void test_full_queue_says_eagain(void **state)
{
    struct blocker b = {GATE_INIT, GATE_INIT};
    struct slio_workq *q = NULL;

    (void)state;
    atomic_store(&n_counted, 0);
    assert_int_equal(slio_workq_new(1, 2, &q), 0);
    assert_int_equal(slio_workq_submit(q, blocking_item, &b), 0);
    assert_true(gate_wait(&b.started, 10)); /* running: no longer counts as queued */
    assert_int_equal(slio_workq_submit(q, count_item, NULL), 0);
    assert_int_equal(slio_workq_submit_keyed(q, "k", count_item, NULL), 0);
    assert_int_equal(slio_workq_submit(q, count_item, NULL), -EAGAIN);
    assert_int_equal(slio_workq_submit_keyed(q, "k", count_item, NULL), -EAGAIN);
    assert_int_equal(slio_workq_submit_keyed(q, "new", count_item, NULL), -EAGAIN);
    assert_false(slio_workq_busy(q, "new")); /* a refused item leaves no trace */
    gate_open(&b.release);
    slio_workq_drain(q);
    assert_int_equal(atomic_load(&n_counted), 2);                /* the refused ones never ran */
    assert_int_equal(slio_workq_submit(q, count_item, NULL), 0); /* room again */
    slio_workq_drain(q);
    assert_int_equal(atomic_load(&n_counted), 3);
    slio_workq_free(q);
}

static void test_drain_waits_for_every_item(void **state)
{
    struct slio_workq *q = NULL;
    char key[16];

    (void)state;
    atomic_store(&n_counted, 0);
    assert_int_equal(slio_workq_new(3, 1000, &q), 0);
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "k%d", i % 7);
        assert_int_equal(i % 3 ? slio_workq_submit_keyed(q, key, count_item, NULL)
                               : slio_workq_submit(q, count_item, NULL),
                         0);
    }
    slio_workq_drain(q);
    assert_int_equal(atomic_load(&n_counted), 500);
    slio_workq_drain(q); /* nothing outstanding: returns at once */
    slio_workq_free(q);
}

/* --- free with queued work ------------------------------------------------------------ */

struct shutdown_probe {
    struct slio_workq *q;
    struct gate started;
    atomic_int accepted;
    int last;
};

/* Runs first; keeps submitting until free() has begun, which it sees as -ESHUTDOWN. */
static void shutdown_probe_item(void *arg)
{
    struct shutdown_probe *p = arg;
    struct timespec ms = {0, 1000000};

    gate_open(&p->started);
    for (;;) {
        p->last = slio_workq_submit_keyed(p->q, "k", count_item, NULL);
        if (p->last != 0)
            break;
        atomic_fetch_add(&p->accepted, 1);
        nanosleep(&ms, NULL);
    }
}

static void test_free_runs_queued_work_and_refuses_more(void **state)
{
    struct shutdown_probe p = {.started = GATE_INIT};

    (void)state;
    atomic_store(&n_counted, 0);
    assert_int_equal(slio_workq_new(1, 100000, &p.q), 0);
    assert_int_equal(slio_workq_submit_keyed(p.q, "k", shutdown_probe_item, &p), 0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(slio_workq_submit_keyed(p.q, "k", count_item, NULL), 0);
        assert_int_equal(slio_workq_submit(p.q, count_item, NULL), 0);
    }
    assert_true(gate_wait(&p.started, 10));
    slio_workq_free(p.q);
    assert_int_equal(p.last, -ESHUTDOWN);
    assert_int_equal(atomic_load(&n_counted), 20 + atomic_load(&p.accepted));
}

static void test_bad_arguments(void **state)
{
    struct slio_workq *q = NULL;

    (void)state;
    assert_int_equal(slio_workq_new(0, 8, &q), -EINVAL);
    assert_int_equal(slio_workq_new(1, 0, &q), -EINVAL);
    assert_null(q);
    assert_int_equal(slio_workq_new(1, 8, &q), 0);
    assert_int_equal(slio_workq_submit(q, NULL, NULL), -EINVAL);
    slio_workq_free(q);
    slio_workq_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyed_items_run_in_order_one_at_a_time),
        cmocka_unit_test(test_other_keys_run_in_parallel),
        cmocka_unit_test(test_busy_follows_the_key),
        cmocka_unit_test(test_full_queue_says_eagain),
        cmocka_unit_test(test_drain_waits_for_every_item),
        cmocka_unit_test(test_free_runs_queued_work_and_refuses_more),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
