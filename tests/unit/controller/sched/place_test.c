/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller/sched/place.c: sched_place under concurrency (never overbooks,
 * never breaks a hard spread), sched_explain and sched_explain_pools, and
 * refused requests.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define THREADS 8

struct race {
    struct sched_view *v;
    int thread, attempts;
    uint64_t size;
    const char *group; /* hard node spread when set */
    int placed;
    int wrong_errors;
};

static void *racer(void *arg)
{
    struct race *r = arg;
    for (int i = 0; i < r->attempts; i++) {
        char uuid[32];
        snprintf(uuid, sizeof(uuid), "t%d-v%d", r->thread, i);
        struct sched_request req = fx_request(uuid);
        req.size = r->size;
        if (r->group) {
            req.spread_group = r->group;
            req.spread_level = SCHED_SPREAD_NODE;
            req.spread_hard = true;
        }
        struct sched_decision d;
        struct slio_err err;
        int rc = sched_place(r->v, &req, &d, &err);
        if (rc == 0)
            r->placed++;
        else if (rc != -ENOSPC || !strstr(err.text, " pools: "))
            r->wrong_errors++;
    }
    return NULL;
}

static int race(struct sched_view *v, int attempts, uint64_t size, const char *group)
{
    pthread_t t[THREADS];
    struct race r[THREADS];
    for (int i = 0; i < THREADS; i++) {
        r[i] =
            (struct race){.v = v, .thread = i, .attempts = attempts, .size = size, .group = group};
        assert_int_equal(pthread_create(&t[i], NULL, racer, &r[i]), 0);
    }
    int placed = 0;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(r[i].wrong_errors, 0);
        placed += r[i].placed;
    }
    return placed;
}

static void test_concurrent_exact(void **state)
{
    /* 4 pools of 25 GiB: exactly 100 volumes of 1 GiB fit; 8 threads try 400 */
    struct sched_view *v = fx_view(NULL);
    static const char *const ids[] = {"p0", "p1", "p2", "p3"}, *const nodes[] = {"n0", "n1", "n2",
                                                                                 "n3"};
    for (int i = 0; i < 4; i++) {
        struct sched_pool_info p = fx_pool(ids[i], nodes[i], "r1", "z1");
        p.capacity = p.free = 25 * GiB;
        fx_add_pool(v, &p);
    }
    assert_int_equal(race(v, 50, GiB, NULL), 100);
    for (int i = 0; i < 4; i++) {
        struct sched_pool_usage u;
        assert_int_equal(sched_view_pool_usage(v, ids[i], &u), 0);
        assert_int_equal(u.allocated, 25 * GiB);
        assert_int_equal(u.n_volumes, 25);
    }
    sched_view_free(v);
}

static void test_concurrent_200_for_150(void **state)
{
    /* 3 pools fit 50 volumes of 2 GiB each; 200 creates race for them */
    struct sched_view *v = fx_view(NULL);
    static const char *const ids[] = {"p0", "p1", "p2"};
    for (int i = 0; i < 3; i++) {
        struct sched_pool_info p = fx_pool(ids[i], ids[i], "r1", "z1");
        p.capacity = p.free = 101 * GiB; /* 50 fit, a 51st does not */
        fx_add_pool(v, &p);
    }
    assert_int_equal(race(v, 25, 2 * GiB, NULL), 150);
    sched_view_free(v);
}

static void test_concurrent_hard_spread(void **state)
{
    /* 20 nodes, one hard node-spread group: exactly one member per node */
    struct sched_view *v = fx_view(NULL);
    char ids[20][8];
    for (int i = 0; i < 20; i++) {
        snprintf(ids[i], sizeof(ids[i]), "n%d", i);
        struct sched_pool_info p = fx_pool(ids[i], ids[i], "r1", "z1");
        fx_add_pool(v, &p);
    }
    assert_int_equal(race(v, 10, GiB, "g"), 20);
    for (int i = 0; i < 20; i++) {
        struct sched_pool_usage u;
        assert_int_equal(sched_view_pool_usage(v, ids[i], &u), 0);
        assert_int_equal(u.n_volumes, 1);
    }
    sched_view_free(v);
}

struct churn {
    struct sched_view *v;
    atomic_bool stop;
    int cycles;
};

static void *churner(void *arg)
{
    struct churn *c = arg;
    struct sched_pool_info p = fx_pool("p0", "n0", "r1", "z1");
    p.capacity = p.free = 1000 * GiB;
    while (!atomic_load(&c->stop)) {
        struct sched_volume_info vol = {.uuid = "churn", .pool_id = "p0", .size = 5 * GiB};
        assert_int_equal(sched_view_add_volume(c->v, &vol), 0);
        p.ready = !p.ready;
        assert_int_equal(sched_view_upsert_pool(c->v, &p), 0);
        assert_int_equal(sched_view_remove_volume(c->v, "churn"), 0);
        c->cycles++;
    }
    return NULL;
}

static void test_concurrent_with_updates(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info p = fx_pool("p0", "n0", "r1", "z1");
    p.capacity = p.free = 1000 * GiB;
    fx_add_pool(v, &p);
    struct sched_pool_info q = fx_pool("p1", "n1", "r1", "z1");
    q.capacity = q.free = 1000 * GiB;
    fx_add_pool(v, &q);
    struct churn c = {.v = v};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, churner, &c), 0);
    int placed = race(v, 40, GiB, NULL);
    atomic_store(&c.stop, true);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(placed, THREADS * 40);
    struct sched_pool_usage a, b;
    assert_int_equal(sched_view_pool_usage(v, "p0", &a), 0);
    assert_int_equal(sched_view_pool_usage(v, "p1", &b), 0);
    assert_int_equal(a.n_volumes + b.n_volumes, THREADS * 40);
    assert_int_equal(a.allocated + b.allocated, THREADS * 40 * GiB);
    sched_view_free(v);
}

static void test_explain(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info a = fx_pool("p1", "n1", "r1", "z1"), b = fx_pool("p2", "n2", "r2", "z1");
    fx_add_pool(v, &a);
    fx_add_pool(v, &b);
    fx_add_volume(v, "m1", "p1", 50 * GiB, "g", NULL);
    struct sched_request req = fx_request("new");
    struct sched_decision d;
    struct slio_err err;
    /* explain reserves nothing */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sched_explain(v, &req, &d, &err), 0);
        assert_string_equal(d.pool_id, "p2");
    }
    struct sched_pool_usage u;
    assert_int_equal(sched_view_pool_usage(v, "p2", &u), 0);
    assert_int_equal(u.n_volumes, 0);

    /* a held volume: where would it move? not its pool, and not counted against its group */
    req = fx_request("m1");
    req.size = 50 * GiB;
    req.spread_group = "g";
    req.spread_level = SCHED_SPREAD_RACK;
    req.spread_hard = true;
    assert_int_equal(sched_explain(v, &req, &d, &err), 0);
    assert_string_equal(d.pool_id, "p2");
    b.cordoned = true;
    fx_add_pool(v, &b);
    assert_int_equal(sched_explain(v, &req, &d, &err), -ENOSPC);
    assert_string_equal(err.text,
                        "volume \"m1\": 0/2 pools: 1 current pool of the volume, 1 cordoned");
    /* the view is as before */
    assert_int_equal(sched_view_pool_usage(v, "p1", &u), 0);
    assert_int_equal(u.allocated, 50 * GiB);
    req = fx_request("other");
    req.spread_group = "g";
    req.spread_level = SCHED_SPREAD_RACK;
    req.spread_hard = true;
    assert_int_equal(sched_explain(v, &req, &d, &err), -ENOSPC);
    assert_string_equal(
        err.text, "volume \"other\": 0/2 pools: 1 cordoned, 1 same rack as spread group \"g\"");
    sched_view_free(v);
}

struct verdicts {
    char lines[8][200];
    int n;
};

static void collect(const struct sched_pool_verdict *vd, void *userdata)
{
    struct verdicts *out = userdata;
    if (out->n < 8)
        snprintf(out->lines[out->n++], sizeof(out->lines[0]), "%s %s %s %lld", vd->pool_id,
                 vd->passed ? "pass" : vd->filter, vd->passed ? "-" : vd->reason,
                 (long long)vd->score);
}

static void test_explain_pools(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info a = fx_pool("p1", "n1", "r1", "z1"), b = fx_pool("p2", "n2", "r1", "z1"),
                           c = fx_pool("p3", "n3", "r1", "z1");
    c.thin = true;
    c.overprovision = 1.0;
    fx_add_pool(v, &a);
    fx_add_pool(v, &b);
    fx_add_pool(v, &c);
    fx_add_volume(v, "full", "p2", 95 * GiB, NULL, NULL);
    struct sched_request req = fx_request("v");
    struct verdicts out = {0};
    struct slio_err err;
    assert_int_equal(sched_explain_pools(v, &req, collect, &out, &err), 0);
    assert_int_equal(out.n, 3);
    assert_string_equal(out.lines[0], "p3 core thin pool for a thick volume 0");
    /* least_allocated 30 x (1,000,000 - 100,000): the default weight */
    assert_string_equal(out.lines[1], "p1 pass - 27000000");
    assert_string_equal(out.lines[2], "p2 basic insufficient space 0");
    sched_view_free(v);
}

static void test_refused_requests(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info a = fx_pool("p1", "n1", "r1", "z1");
    fx_add_pool(v, &a);
    char pool[SCHED_NAME_MAX + 1], long_name[SCHED_NAME_MAX + 2];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    struct slio_err err;
    struct sched_request req = fx_request("v1");
    assert_int_equal(fx_place(v, &req, pool, &err), 0);
    assert_int_equal(fx_place(v, &req, pool, &err), -EEXIST);
    assert_string_equal(err.text, "volume \"v1\" is already placed");
    req = fx_request("v2");
    req.size = 0;
    assert_int_equal(fx_place(v, &req, pool, &err), -EINVAL);
    assert_string_equal(err.text,
                        "volume \"v2\": bad request (size 0, unknown enum or too long a name)");
    req = fx_request(NULL);
    assert_int_equal(fx_place(v, &req, pool, &err), -EINVAL);
    req = fx_request(long_name);
    assert_int_equal(fx_place(v, &req, pool, &err), -EINVAL);
    req = fx_request("v3");
    req.position = (enum sched_position)9;
    assert_int_equal(fx_place(v, &req, pool, &err), -EINVAL);
    req = fx_request("v3");
    req.consumer_node = long_name;
    assert_int_equal(fx_place(v, &req, pool, &err), -EINVAL);
    req = fx_request("v3");
    req.position = SCHED_POS_MUST_REMOTE;
    assert_int_equal(fx_place(v, &req, pool, &err), -EINVAL);
    assert_string_equal(err.text, "volume \"v3\": position MustRemote needs a consumer node");
    /* nothing of the refused requests stayed */
    struct sched_pool_usage u;
    assert_int_equal(sched_view_pool_usage(v, "p1", &u), 0);
    assert_int_equal(u.n_volumes, 1);
    /* no pools at all */
    assert_int_equal(sched_view_remove_volume(v, "v1"), 0);
    assert_int_equal(sched_view_remove_pool(v, "p1"), 0);
    assert_int_equal(fx_place(v, &req, pool, &err), -EINVAL);
    req.position = SCHED_POS_ANY;
    assert_int_equal(fx_place(v, &req, pool, &err), -ENOSPC);
    assert_string_equal(err.text, "volume \"v3\": 0/0 pools");
    sched_view_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_exact),
        cmocka_unit_test(test_concurrent_200_for_150),
        cmocka_unit_test(test_concurrent_hard_spread),
        cmocka_unit_test(test_concurrent_with_updates),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_explain_pools),
        cmocka_unit_test(test_refused_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
