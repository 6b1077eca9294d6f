/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller/sched/scores/: what each scorer prefers, table-driven, and the
 * decision's score and local flag. Default weights: least_allocated 30,
 * position_advice 1, spread 30: a PreferLocal pool wins while at most 3 1/3
 * points fuller than the best other one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

struct row {
    const char *name;
    const char *config; /* NULL: defaults */
    void (*setup)(struct sched_view *v, struct sched_request *req);
    const char *want;
};

/* p1 on n1 with `used` GiB, p2 on n2 empty; both 100 GiB, same rack. */
static void two(struct sched_view *v, uint64_t used_p1, uint64_t used_p2)
{
    struct sched_pool_info a = fx_pool("p1", "n1", "r1", "z1"), b = fx_pool("p2", "n2", "r1", "z1");
    fx_add_pool(v, &a);
    fx_add_pool(v, &b);
    if (used_p1)
        fx_add_volume(v, "u1", "p1", used_p1 * GiB, NULL, NULL);
    if (used_p2)
        fx_add_volume(v, "u2", "p2", used_p2 * GiB, NULL, NULL);
}

static void la_emptier(struct sched_view *v, struct sched_request *req)
{
    two(v, 30, 20);
}

static void la_relative(struct sched_view *v, struct sched_request *req)
{
    /* 30 GiB of 300 is emptier than 20 GiB of 100 */
    struct sched_pool_info a = fx_pool("p1", "n1", "r1", "z1"), b = fx_pool("p2", "n2", "r1", "z1");
    a.capacity = a.free = 300 * GiB;
    fx_add_pool(v, &a);
    fx_add_pool(v, &b);
    fx_add_volume(v, "u1", "p1", 30 * GiB, NULL, NULL);
    fx_add_volume(v, "u2", "p2", 20 * GiB, NULL, NULL);
}

static void la_thin_virtual(struct sched_view *v, struct sched_request *req)
{
    /* thin pools are judged on virtual capacity: 60 of 200 beats 40 of 100 */
    struct sched_pool_info a = fx_pool("p1", "n1", "r1", "z1"), b = fx_pool("p2", "n2", "r1", "z1");
    a.thin = b.thin = true;
    a.overprovision = 2.0;
    b.overprovision = 1.0;
    fx_add_pool(v, &a);
    fx_add_pool(v, &b);
    fx_add_volume(v, "u1", "p1", 60 * GiB, NULL, NULL);
    fx_add_volume(v, "u2", "p2", 40 * GiB, NULL, NULL);
    req->thin = true;
}

/* p1 local and `fuller` GiB (= points of 100 GiB) fuller than p2, PreferLocal from n1 */
static void prefer_local_by(struct sched_view *v, struct sched_request *req, uint64_t fuller)
{
    two(v, fuller, 0);
    req->consumer_node = "n1";
    req->position = SCHED_POS_PREFER_LOCAL;
}

static void prefer_local_0(struct sched_view *v, struct sched_request *req)
{
    prefer_local_by(v, req, 0);
}

static void prefer_local_3(struct sched_view *v, struct sched_request *req)
{
    prefer_local_by(v, req, 3); /* 3 points fuller: within 3 1/3, locality wins */
}

static void prefer_local_4(struct sched_view *v, struct sched_request *req)
{
    prefer_local_by(v, req, 4); /* 4 points fuller: balance wins */
}

static void prefer_local_far(struct sched_view *v, struct sched_request *req)
{
    prefer_local_by(v, req, 20);
}

/* p2, the remote pool, `fuller` points fuller than the local p1; PreferRemote from n1 */
static void prefer_remote_by(struct sched_view *v, struct sched_request *req, uint64_t fuller)
{
    two(v, 0, fuller);
    req->consumer_node = "n1";
    req->position = SCHED_POS_PREFER_REMOTE;
}

static void prefer_remote(struct sched_view *v, struct sched_request *req)
{
    prefer_remote_by(v, req, 3);
}

static void prefer_remote_4(struct sched_view *v, struct sched_request *req)
{
    prefer_remote_by(v, req, 4);
}

static void any_ignores_consumer(struct sched_view *v, struct sched_request *req)
{
    two(v, 5, 0);
    req->consumer_node = "n1";
}

static void soft_rack(struct sched_view *v, struct sched_request *req)
{
    two(v, 0, 0);
    struct sched_pool_info c = fx_pool("p3", "n3", "r2", "z1");
    fx_add_pool(v, &c);
    fx_add_volume(v, "m1", "p1", GiB, "g", NULL);
    fx_add_volume(v, "u3", "p3", 30 * GiB, NULL, NULL); /* p3 fuller, but the other rack */
    req->spread_group = "g";
    req->spread_level = SCHED_SPREAD_RACK;
}

static void soft_node_within_rack(struct sched_view *v, struct sched_request *req)
{
    two(v, 0, 3); /* the node tenth of spread (5 points of balance) beats 2 points */
    fx_add_volume(v, "m1", "p1", GiB, "g", NULL);
    req->spread_group = "g";
    req->spread_level = SCHED_SPREAD_RACK; /* both in r1: the node tenth prefers n2 */
}

static void soft_counts_consumer(struct sched_view *v, struct sched_request *req)
{
    struct sched_pool_info a = fx_pool("p1", "n1", "r1", "z1"), c = fx_pool("p3", "n3", "r2", "z1"),
                           d = fx_pool("p4", "n4", "r3", "z1");
    fx_add_pool(v, &a);
    fx_add_pool(v, &c);
    fx_add_pool(v, &d);
    fx_add_volume(v, "u4", "p4", 30 * GiB, NULL, NULL);
    /* a member stored on r1 and consumed from n3 takes r2 too: only r3 (p4, fuller) is free */
    fx_add_volume(v, "m1", "p1", GiB, "g", "n3");
    req->spread_group = "g";
    req->spread_level = SCHED_SPREAD_RACK;
}

static void most_allocated(struct sched_view *v, struct sched_request *req)
{
    two(v, 30, 20);
}

#define MOST "{\"scorers\": [{\"name\": \"most_allocated\", \"weight\": 1}]}"

static const struct row rows[] = {
    {"least_allocated emptier", NULL, la_emptier, "p2"},
    {"least_allocated relative", NULL, la_relative, "p1"},
    {"least_allocated thin virtual", NULL, la_thin_virtual, "p1"},
    {"most_allocated", MOST, most_allocated, "p1"},
    {"PreferLocal equal", NULL, prefer_local_0, "p1"},
    {"PreferLocal 3 points fuller", NULL, prefer_local_3, "p1"},
    {"PreferLocal 4 points fuller", NULL, prefer_local_4, "p2"},
    {"PreferLocal 20 points fuller", NULL, prefer_local_far, "p2"},
    /* the old default (10 : 1): 10 points of allowance */
    {"PreferLocal 4 points, old weights",
     "{\"scorers\": [{\"name\": \"least_allocated\", \"weight\": 10},"
     " {\"name\": \"position_advice\", \"weight\": 1}]}",
     prefer_local_4, "p1"},
    {"PreferLocal strong weight",
     "{\"scorers\": [{\"name\": \"least_allocated\", \"weight\": 10},"
     " {\"name\": \"position_advice\", \"weight\": 10}]}",
     prefer_local_far, "p1"},
    /* least_allocated alone: locality counts for nothing */
    {"PreferLocal without position_advice",
     "{\"scorers\": [{\"name\": \"least_allocated\", \"weight\": 30}]}", prefer_local_3, "p2"},
    {"PreferRemote 3 points fuller", NULL, prefer_remote, "p2"},
    {"PreferRemote 4 points fuller", NULL, prefer_remote_4, "p1"},
    {"Any ignores the consumer", NULL, any_ignores_consumer, "p2"},
    {"soft spread other rack", NULL, soft_rack, "p3"},
    {"soft spread other node", NULL, soft_node_within_rack, "p2"},
    {"soft spread counts consumer", NULL, soft_counts_consumer, "p4"},
};

static void test_rows(void **state)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(rows); i++) {
        struct sched_view *v = fx_view(rows[i].config);
        struct sched_request req = fx_request("v");
        rows[i].setup(v, &req);
        char pool[SCHED_NAME_MAX + 1];
        struct slio_err err;
        int r = fx_place(v, &req, pool, &err);
        if (r != 0 || strcmp(pool, rows[i].want) != 0)
            fail_msg("row \"%s\": r=%d pool \"%s\" want \"%s\" (%s)", rows[i].name, r, pool,
                     rows[i].want, err.text);
        sched_view_free(v);
    }
}

static void test_decision_fields(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info a = fx_pool("p1", "n1", "r1", "z1");
    fx_add_pool(v, &a);
    struct sched_request req = fx_request("v");
    req.consumer_node = "n1";
    req.position = SCHED_POS_PREFER_LOCAL;
    struct sched_decision d;
    struct slio_err err;
    assert_int_equal(sched_place(v, &req, &d, &err), 0);
    assert_string_equal(d.pool_id, "p1");
    assert_string_equal(d.node, "n1");
    assert_true(d.local);
    /* least_allocated 30 * (1,000,000 - 100,000) + position_advice 1 * 1,000,000 */
    assert_int_equal(d.score, 30 * 900000 + 1000000);

    req = fx_request("w");
    req.consumer_node = "elsewhere";
    assert_int_equal(sched_place(v, &req, &d, &err), 0);
    assert_false(d.local);
    assert_int_equal(d.score, 30 * 800000);
    sched_view_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_decision_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
