/* SPDX-License-Identifier: Apache-2.0 */
/* controller/sched/view.c, volumes.c: keeping the view in sync, and its accounting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

static struct sched_pool_usage usage(struct sched_view *v, const char *pool)
{
    struct sched_pool_usage u;
    assert_int_equal(sched_view_pool_usage(v, pool, &u), 0);
    return u;
}

static void test_pool_lifecycle(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    fx_add_pool(v, &p);
    fx_add_volume(v, "v1", "p1", 10 * GiB, NULL, NULL);
    assert_int_equal(sched_view_remove_pool(v, "p1"), -EBUSY);
    assert_int_equal(sched_view_remove_pool(v, "p9"), -ENOENT);

    /* a heartbeat replaces the pool's facts and keeps its volumes */
    p.capacity = 200 * GiB;
    p.free = 150 * GiB;
    p.reserved = 10 * GiB;
    fx_add_pool(v, &p);
    struct sched_pool_usage u = usage(v, "p1");
    assert_int_equal(u.allocated, 10 * GiB);
    assert_int_equal(u.effective_capacity, 190 * GiB);
    assert_int_equal(u.available, 150 * GiB); /* the agent's free is the tighter bound */
    assert_int_equal(u.n_volumes, 1);

    assert_int_equal(sched_view_remove_volume(v, "v1"), 0);
    assert_int_equal(sched_view_remove_volume(v, "v1"), -ENOENT);
    assert_int_equal(sched_view_remove_pool(v, "p1"), 0);
    struct sched_pool_usage untouched = {.allocated = 7};
    assert_int_equal(sched_view_pool_usage(v, "p1", &untouched), -ENOENT);
    assert_int_equal(untouched.allocated, 7);
    sched_view_free(v);
}

static void test_pool_refused(void **state)
{
    struct sched_view *v = fx_view(NULL);
    char long_name[SCHED_NAME_MAX + 2];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    struct sched_label many[65], null_key[1] = {{NULL, "v"}};
    for (size_t i = 0; i < 65; i++)
        many[i] = (struct sched_label){"k", "v"};

    struct sched_pool_info p = fx_pool(NULL, "n1", "r1", "z1");
    assert_int_equal(sched_view_upsert_pool(v, &p), -EINVAL);
    p = fx_pool("p1", NULL, NULL, NULL);
    assert_int_equal(sched_view_upsert_pool(v, &p), -EINVAL);
    p = fx_pool(long_name, "n1", "r1", "z1");
    assert_int_equal(sched_view_upsert_pool(v, &p), -EINVAL);
    p = fx_pool("p1", "n1", long_name, "z1");
    assert_int_equal(sched_view_upsert_pool(v, &p), -EINVAL);
    p = fx_pool("p1", "n1", "r1", "z1");
    p.thin = true;
    p.overprovision = 0.5;
    assert_int_equal(sched_view_upsert_pool(v, &p), -EINVAL);
    p = fx_pool("p1", "n1", "r1", "z1");
    p.min_local_share = 1.5;
    assert_int_equal(sched_view_upsert_pool(v, &p), -EINVAL);
    p = fx_pool("p1", "n1", "r1", "z1");
    p.node_labels = many;
    p.n_node_labels = 65;
    assert_int_equal(sched_view_upsert_pool(v, &p), -EINVAL);
    p = fx_pool("p1", "n1", "r1", "z1");
    p.pool_labels = null_key;
    p.n_pool_labels = 1;
    assert_int_equal(sched_view_upsert_pool(v, &p), -EINVAL);
    struct sched_pool_usage u;
    assert_int_equal(sched_view_pool_usage(v, "p1", &u), -ENOENT);
    sched_view_free(v);
}

static void test_volume_refused(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    fx_add_pool(v, &p);
    struct sched_volume_info vol = {.uuid = "v1", .pool_id = "p1", .size = GiB};
    assert_int_equal(sched_view_add_volume(v, &vol), 0);
    assert_int_equal(sched_view_add_volume(v, &vol), -EEXIST);
    vol = (struct sched_volume_info){.uuid = "v2", .pool_id = "p9", .size = GiB};
    assert_int_equal(sched_view_add_volume(v, &vol), -ENOENT);
    vol = (struct sched_volume_info){.uuid = NULL, .pool_id = "p1", .size = GiB};
    assert_int_equal(sched_view_add_volume(v, &vol), -EINVAL);
    /* what exists, exists: no space check on add */
    vol = (struct sched_volume_info){.uuid = "huge", .pool_id = "p1", .size = 500 * GiB};
    assert_int_equal(sched_view_add_volume(v, &vol), 0);
    assert_int_equal(usage(v, "p1").available, 0);
    sched_view_free(v);
}

static void test_resize(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    fx_add_pool(v, &p);
    fx_add_volume(v, "v1", "p1", 30 * GiB, NULL, "n2");
    fx_add_volume(v, "v2", "p1", 10 * GiB, NULL, NULL);
    struct slio_err err = {{0}};
    assert_int_equal(sched_view_resize_volume(v, "v1", 90 * GiB, &err), 0);
    assert_int_equal(usage(v, "p1").allocated, 100 * GiB);
    assert_int_equal(sched_view_resize_volume(v, "v1", 20 * GiB, &err), 0);
    assert_int_equal(sched_view_resize_volume(v, "v1", 91 * GiB, &err), -ENOSPC);
    assert_string_equal(err.text, "volume \"v1\": pool \"p1\" has 70Gi free, 71Gi more asked");
    assert_int_equal(usage(v, "p1").allocated, 30 * GiB);
    assert_int_equal(sched_view_resize_volume(v, "nope", GiB, &err), -ENOENT);
    assert_string_equal(err.text, "volume \"nope\" is unknown");

    /* the remote bytes follow: v1 (remote, 20 GiB) against a 50% local share */
    p.min_local_share = 0.5;
    fx_add_pool(v, &p);
    struct sched_request req = fx_request("v3");
    req.consumer_node = "n3";
    req.size = 31 * GiB;
    char pool[SCHED_NAME_MAX + 1];
    assert_int_equal(fx_place(v, &req, pool, &err), -ENOSPC);
    req.size = 30 * GiB;
    assert_int_equal(fx_place(v, &req, pool, &err), 0);
    sched_view_free(v);
}

static void test_consumer_changes(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    p.max_remote_volumes = 1;
    fx_add_pool(v, &p);
    fx_add_volume(v, "v1", "p1", GiB, NULL, NULL);
    assert_int_equal(usage(v, "p1").n_remote_volumes, 0);
    assert_int_equal(sched_view_set_consumer(v, "v1", "n2"), 0);
    assert_int_equal(usage(v, "p1").n_remote_volumes, 1);
    struct sched_request req = fx_request("v2");
    req.consumer_node = "n3";
    char pool[SCHED_NAME_MAX + 1];
    struct slio_err err;
    assert_int_equal(fx_place(v, &req, pool, &err), -ENOSPC);
    assert_int_equal(sched_view_set_consumer(v, "v1", "n1"), 0); /* now local */
    assert_int_equal(usage(v, "p1").n_remote_volumes, 0);
    assert_int_equal(fx_place(v, &req, pool, &err), 0);
    assert_int_equal(sched_view_set_consumer(v, "nope", NULL), -ENOENT);
    sched_view_free(v);
}

static void hard_rack_req(struct sched_request *req)
{
    req->spread_group = "g";
    req->spread_level = SCHED_SPREAD_RACK;
    req->spread_hard = true;
}

static void test_consumer_changes_spread(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info a = fx_pool("p1", "n1", "r1", "z1"), b = fx_pool("p2", "n2", "r2", "z1");
    fx_add_pool(v, &a);
    fx_add_pool(v, &b);
    fx_add_volume(v, "m1", "p1", GiB, "g", NULL);
    struct sched_request req = fx_request("v");
    hard_rack_req(&req);
    struct sched_decision d;
    struct slio_err err;
    assert_int_equal(sched_explain(v, &req, &d, &err), 0);
    assert_string_equal(d.pool_id, "p2");
    /* m1's pod moves to n2: rack r2 is taken as well */
    assert_int_equal(sched_view_set_consumer(v, "m1", "n2"), 0);
    assert_int_equal(sched_explain(v, &req, &d, &err), -ENOSPC);
    assert_string_equal(err.text, "volume \"v\": 0/2 pools: 2 same rack as spread group \"g\"");
    sched_view_free(v);
}

static void test_topology_change(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info a = fx_pool("p1", "n1", "r1", "z1"), b = fx_pool("p2", "n2", "r2", "z1");
    fx_add_pool(v, &a);
    fx_add_pool(v, &b);
    fx_add_volume(v, "m1", "p1", GiB, "g", NULL);
    struct sched_request req = fx_request("v");
    hard_rack_req(&req);
    struct sched_decision d;
    struct slio_err err;
    assert_int_equal(sched_explain(v, &req, &d, &err), 0);
    assert_string_equal(d.pool_id, "p2");
    /* n1 turns out to be in r2: the group's index follows */
    a.rack = "r2";
    fx_add_pool(v, &a);
    assert_int_equal(sched_explain(v, &req, &d, &err), -ENOSPC);
    assert_string_equal(err.text, "volume \"v\": 0/2 pools: 2 same rack as spread group \"g\"");
    /* a refused update changes nothing; a good one moves n1 back to r1 */
    struct sched_label bad_label[1] = {{NULL, "x"}};
    struct sched_pool_info a_bad = a;
    a_bad.rack = "r1";
    a_bad.node_labels = bad_label;
    a_bad.n_node_labels = 1;
    assert_int_equal(sched_view_upsert_pool(v, &a_bad), -EINVAL);
    assert_int_equal(sched_explain(v, &req, &d, &err), -ENOSPC);
    a.rack = "r1";
    fx_add_pool(v, &a);
    assert_int_equal(sched_explain(v, &req, &d, &err), 0);
    assert_string_equal(d.pool_id, "p2");
    /* and a consumer-only node's rack is learnt with upsert_node */
    struct sched_node_info c = {.node = "c1", .rack = "r7"};
    assert_int_equal(sched_view_upsert_node(v, &c), 0);
    c.node = NULL;
    assert_int_equal(sched_view_upsert_node(v, &c), -EINVAL);
    sched_view_free(v);
}

static void test_kind_change(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1"), q = fx_pool("p2", "n2", "r1", "z1");
    fx_add_pool(v, &p);
    fx_add_pool(v, &q);
    fx_add_volume(v, "v1", "p1", GiB, NULL, NULL);
    struct sched_request req = fx_request("t");
    req.thin = true;
    char pool[SCHED_NAME_MAX + 1];
    struct slio_err err;
    assert_int_equal(fx_place(v, &req, pool, &err), -ENOSPC);
    assert_string_equal(err.text, "volume \"t\": 0/2 pools: 2 thick pool for a thin volume");
    p.thin = true;
    p.overprovision = 2.0;
    fx_add_pool(v, &p);
    assert_int_equal(fx_place(v, &req, pool, &err), 0);
    assert_string_equal(pool, "p1");
    assert_int_equal(usage(v, "p1").n_volumes, 2);
    /* and back: the lists stay consistent when removing */
    p.thin = false;
    fx_add_pool(v, &p);
    assert_int_equal(sched_view_remove_pool(v, "p2"), 0);
    req.uuid = "t2";
    assert_int_equal(fx_place(v, &req, pool, &err), -ENOSPC);
    assert_string_equal(err.text, "volume \"t2\": 0/1 pools: 1 thick pool for a thin volume");
    sched_view_free(v);
}

/* Pools a node's agent stops reporting leave the choices; their volumes stay counted. */
static void test_unreported_pools(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info a = fx_pool("n1/a", "n1", "r1", "z1"),
                           b = fx_pool("n1/b", "n1", "r1", "z1"),
                           c = fx_pool("n1/c", "n1", "r1", "z1"),
                           other = fx_pool("n2/a", "n2", "r2", "z1");
    fx_add_pool(v, &a);
    fx_add_pool(v, &b);
    fx_add_pool(v, &c);
    fx_add_pool(v, &other);
    fx_add_volume(v, "on-b", "n1/b", 30 * GiB, NULL, NULL);
    other.ready = false;
    fx_add_pool(v, &other); /* another node's pools are left alone below */

    static const char *const only_a[] = {"n1/a"};
    assert_int_equal(sched_view_retain_node_pools(v, "n1", only_a, 1), 0);
    struct sched_pool_usage u = usage(v, "n1/b");
    assert_true(u.unreported);
    assert_int_equal(u.allocated, 30 * GiB);
    assert_int_equal(u.n_volumes, 1);
    assert_false(usage(v, "n1/a").unreported);
    assert_int_equal(sched_view_pool_usage(v, "n1/c", &u), -ENOENT); /* empty: gone */
    assert_int_equal(usage(v, "n2/a").n_volumes, 0);

    /* never placed on, and said so */
    char pool[SCHED_NAME_MAX + 1];
    struct slio_err err;
    struct sched_request req = fx_request("x1");
    req.size = 80 * GiB; /* fits only an empty pool: a is the one left */
    assert_int_equal(fx_place(v, &req, pool, &err), 0);
    assert_string_equal(pool, "n1/a");
    req.uuid = "x2";
    assert_int_equal(fx_place(v, &req, pool, &err), -ENOSPC);
    assert_string_equal(err.text, "volume \"x2\": 0/3 pools: 1 no longer reported by its agent, "
                                  "1 not ready, 1 insufficient space");

    /* reported again: a choice again, its volume still counted */
    fx_add_pool(v, &b);
    assert_false(usage(v, "n1/b").unreported);
    req.size = 70 * GiB;
    assert_int_equal(fx_place(v, &req, pool, &err), 0);
    assert_string_equal(pool, "n1/b");
    assert_int_equal(usage(v, "n1/b").allocated, 100 * GiB);

    /* no pools reported at all; unknown nodes and bad names */
    assert_int_equal(sched_view_retain_node_pools(v, "n1", NULL, 0), 0);
    assert_true(usage(v, "n1/a").unreported && usage(v, "n1/b").unreported);
    assert_int_equal(sched_view_retain_node_pools(v, "n9", NULL, 0), 0);
    assert_int_equal(sched_view_retain_node_pools(v, "", NULL, 0), -EINVAL);
    assert_int_equal(sched_view_retain_node_pools(v, "n1", NULL, 1), -EINVAL);
    sched_view_free(v);
}

/* Reserves (snapshots) are checked against the room and counted by later placements. */
static void test_reserve(void **state)
{
    struct sched_view *v = fx_view(NULL);
    struct sched_pool_info thick = fx_pool("p1", "n1", "r1", "z1"),
                           thin = fx_pool("t1", "n2", "r2", "z1");
    thin.thin = true;
    thin.overprovision = 3.0;
    thin.free = 50 * GiB; /* real free is not what a thin reserve is judged by */
    fx_add_pool(v, &thick);
    fx_add_pool(v, &thin);
    fx_add_volume(v, "v1", "p1", 60 * GiB, NULL, NULL);
    struct slio_err err;
    assert_int_equal(sched_view_reserve(v, "p1", 41 * GiB, false, &err), -ENOSPC);
    assert_string_equal(err.text, "pool \"p1\" has 40.00 GiB left for reserves, 41.00 GiB asked "
                                  "(60.00 GiB allocated, 0.00 GiB already reserved)");
    assert_int_equal(sched_view_reserve(v, "p1", 30 * GiB, false, &err), 0);
    assert_int_equal(usage(v, "p1").effective_capacity, 70 * GiB);
    char pool[SCHED_NAME_MAX + 1];
    struct sched_request req = fx_request("x");
    req.size = 11 * GiB; /* 10 GiB left after the reserve */
    assert_int_equal(fx_place(v, &req, pool, &err), -ENOSPC);
    assert_int_equal(sched_view_reserve(v, "p1", 11 * GiB, false, &err), -ENOSPC);
    req.size = 10 * GiB;
    assert_int_equal(fx_place(v, &req, pool, &err), 0);

    /* thin: virtual capacity 300 GiB, well beyond the 50 GiB really free */
    assert_int_equal(sched_view_reserve(v, "t1", 200 * GiB, true, &err), 0);
    assert_int_equal(sched_view_reserve(v, "t1", 101 * GiB, true, &err), -ENOSPC);
    assert_non_null(strstr(err.text, "of virtual capacity left"));
    assert_int_equal(sched_view_reserve(v, "t1", 100 * GiB, false, &err), -ENOSPC); /* real */
    assert_int_equal(sched_view_reserve(v, "t9", GiB, true, &err), -ENOENT);
    assert_int_equal(sched_view_reserve(v, "t1", 0, true, &err), -EINVAL);
    sched_view_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_lifecycle),   cmocka_unit_test(test_pool_refused),
        cmocka_unit_test(test_volume_refused),   cmocka_unit_test(test_resize),
        cmocka_unit_test(test_consumer_changes), cmocka_unit_test(test_consumer_changes_spread),
        cmocka_unit_test(test_topology_change),  cmocka_unit_test(test_kind_change),
        cmocka_unit_test(test_unreported_pools), cmocka_unit_test(test_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
