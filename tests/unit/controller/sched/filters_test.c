/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller/sched/filters/: every filter, every reason text, table-driven.
 * Each row builds a small view and a request, places it and checks either
 * the chosen pool or the exact explanation.
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
    void (*setup)(struct sched_view *v, struct sched_request *req);
    int want_r;
    const char *want; /* the pool chosen, or the error text */
};

/* ---- basic */

static void one_pool(struct sched_view *v, struct sched_pool_info p)
{
    fx_add_pool(v, &p);
}

static void not_ready(struct sched_view *v, struct sched_request *req)
{
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    p.ready = false;
    one_pool(v, p);
}

static void cordoned(struct sched_view *v, struct sched_request *req)
{
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    p.cordoned = true;
    one_pool(v, p);
}

static void thin_req_thick_pool(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, fx_pool("p1", "n1", "r1", "z1"));
    req->thin = true;
}

static void thick_req_thin_pool(struct sched_view *v, struct sched_request *req)
{
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    p.thin = true;
    p.overprovision = 2.0;
    one_pool(v, p);
}

static void full(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, fx_pool("p1", "n1", "r1", "z1"));
    fx_add_volume(v, "old", "p1", 91 * GiB, NULL, NULL);
}

static void exact_fit(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, fx_pool("p1", "n1", "r1", "z1"));
    fx_add_volume(v, "old", "p1", 90 * GiB, NULL, NULL);
}

static void reserved(struct sched_view *v, struct sched_request *req)
{
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    p.reserved = 91 * GiB;
    one_pool(v, p);
}

static void agent_free_low(struct sched_view *v, struct sched_request *req)
{
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    p.free = 9 * GiB; /* space the view does not know about is gone */
    one_pool(v, p);
}

static struct sched_pool_info thin_pool(double op)
{
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    p.thin = true;
    p.overprovision = op;
    return p;
}

static void thin_virtual_fit(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, thin_pool(2.0));
    fx_add_volume(v, "old", "p1", 190 * GiB, NULL, NULL);
    req->thin = true;
}

static void thin_virtual_full(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, thin_pool(2.0));
    fx_add_volume(v, "old", "p1", 191 * GiB, NULL, NULL);
    req->thin = true;
}

static void thin_real_full(struct sched_view *v, struct sched_request *req)
{
    struct sched_pool_info p = thin_pool(3.0);
    p.free = 9 * GiB; /* data written fills the pool: virtual room is not enough */
    one_pool(v, p);
    req->thin = true;
}

static void remote_cap(struct sched_view *v, struct sched_request *req)
{
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    p.max_remote_volumes = 1;
    one_pool(v, p);
    fx_add_volume(v, "old", "p1", GiB, NULL, "n2");
    req->consumer_node = "n2";
}

static void remote_cap_local_ok(struct sched_view *v, struct sched_request *req)
{
    remote_cap(v, req);
    req->consumer_node = "n1";
}

static void remote_cap_unknown_consumer_ok(struct sched_view *v, struct sched_request *req)
{
    remote_cap(v, req);
    req->consumer_node = NULL;
}

static void local_share(struct sched_view *v, struct sched_request *req)
{
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    p.min_local_share = 0.5;
    one_pool(v, p);
    fx_add_volume(v, "old", "p1", 45 * GiB, NULL, "n2");
    req->consumer_node = "n3";
}

static void local_share_fits(struct sched_view *v, struct sched_request *req)
{
    local_share(v, req);
    req->size = 5 * GiB;
}

static void local_share_first_remote(struct sched_view *v, struct sched_request *req)
{
    struct sched_pool_info p = fx_pool("p1", "n1", "r1", "z1");
    p.min_local_share = 0.9;
    one_pool(v, p);
    req->consumer_node = "n3";
}

/* ---- affinity */

static const char *const z1[] = {"z1"};
static const char *const z9[] = {"z9"};
static const char *const ssd_v[] = {"ssd"};
static const char *const a_v[] = {"a", "b"};
static const struct sched_selector_term zone_in_z1[] = {{SCHED_LABEL_ZONE, SCHED_OP_IN, z1, 1}};
static const struct sched_selector_term zone_in_z9[] = {{SCHED_LABEL_ZONE, SCHED_OP_IN, z9, 1}};
static const struct sched_selector_term zone_not_z1[] = {
    {SCHED_LABEL_ZONE, SCHED_OP_NOT_IN, z1, 1}};
static const struct sched_selector_term team_exists[] = {{"team", SCHED_OP_EXISTS, NULL, 0}};
static const struct sched_selector_term team_in[] = {{"team", SCHED_OP_IN, a_v, 2}};
static const struct sched_selector_term disk_ssd[] = {{"disk", SCHED_OP_IN, ssd_v, 1}};
static const struct sched_selector_term no_disk[] = {{"disk", SCHED_OP_DOES_NOT_EXIST, NULL, 0}};
static const struct sched_selector_term disk_not_ssd[] = {{"disk", SCHED_OP_NOT_IN, ssd_v, 1}};
static const struct sched_selector_term bad_key[] = {{NULL, SCHED_OP_EXISTS, NULL, 0}};

static void pools_ab(struct sched_view *v, struct sched_request *req)
{
    static const struct sched_label ssd[] = {{"disk", "ssd"}};
    static const struct sched_label fake_zone[] = {{SCHED_LABEL_ZONE, "z9"}, {"team", "a"}};
    struct sched_pool_info a = fx_pool("pa", "na", "ra", "z1");
    a.pool_labels = ssd;
    a.n_pool_labels = 1;
    a.node_labels = fake_zone;
    a.n_node_labels = 2;
    fx_add_pool(v, &a);
    struct sched_pool_info b = fx_pool("pb", "nb", "rb", "z2");
    fx_add_pool(v, &b);
    /* pa is fuller, so least_allocated alone would pick pb */
    fx_add_volume(v, "old", "pa", 20 * GiB, NULL, NULL);
}

#define SEL(terms) ((struct sched_selector){(terms), SLIO_ARRAY_SIZE(terms)})

static void node_in_z1(struct sched_view *v, struct sched_request *req)
{
    pools_ab(v, req);
    req->node_selector = SEL(zone_in_z1);
}

static void node_in_z9(struct sched_view *v, struct sched_request *req)
{
    pools_ab(v, req);
    req->node_selector = SEL(zone_in_z9);
}

static void node_not_in_z1(struct sched_view *v, struct sched_request *req)
{
    pools_ab(v, req);
    fx_add_volume(v, "old2", "pb", 50 * GiB, NULL, NULL); /* pb fuller now */
    req->node_selector = SEL(zone_not_z1);
}

static void node_exists(struct sched_view *v, struct sched_request *req)
{
    pools_ab(v, req);
    req->node_selector = SEL(team_exists);
}

static void node_in_values(struct sched_view *v, struct sched_request *req)
{
    pools_ab(v, req);
    req->node_selector = SEL(team_in);
}

static void pool_in(struct sched_view *v, struct sched_request *req)
{
    pools_ab(v, req);
    req->pool_selector = SEL(disk_ssd);
}

static void pool_does_not_exist(struct sched_view *v, struct sched_request *req)
{
    pools_ab(v, req);
    fx_add_volume(v, "old2", "pb", 50 * GiB, NULL, NULL);
    req->pool_selector = SEL(no_disk);
}

static void pool_not_in(struct sched_view *v, struct sched_request *req)
{
    pools_ab(v, req);
    fx_add_volume(v, "old2", "pb", 50 * GiB, NULL, NULL);
    req->pool_selector = SEL(disk_not_ssd);
}

static void pool_in_mismatch(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, fx_pool("p1", "n1", "r1", "z1"));
    req->pool_selector = SEL(disk_ssd);
}

static void node_selector_on_pool_label(struct sched_view *v, struct sched_request *req)
{
    pools_ab(v, req);
    req->node_selector = SEL(disk_ssd); /* disk is a pool label, not a node label */
}

static void bad_selector(struct sched_view *v, struct sched_request *req)
{
    pools_ab(v, req);
    req->node_selector = SEL(bad_key);
}

/* ---- position */

static void nodes_12(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, fx_pool("p1", "n1", "r1", "z1"));
    one_pool(v, fx_pool("p2", "n2", "r1", "z1"));
    fx_add_volume(v, "old", "p2", 30 * GiB, NULL, NULL);
}

static void must_local(struct sched_view *v, struct sched_request *req)
{
    nodes_12(v, req);
    req->position = SCHED_POS_MUST_LOCAL;
    req->consumer_node = "n2";
}

static void must_local_elsewhere(struct sched_view *v, struct sched_request *req)
{
    nodes_12(v, req);
    req->position = SCHED_POS_MUST_LOCAL;
    req->consumer_node = "n3";
}

static void must_remote(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, fx_pool("p1", "n1", "r1", "z1"));
    req->position = SCHED_POS_MUST_REMOTE;
    req->consumer_node = "n1";
}

static void must_local_no_consumer(struct sched_view *v, struct sched_request *req)
{
    nodes_12(v, req);
    req->position = SCHED_POS_MUST_LOCAL;
}

/* ---- spread */

static void racks_12(struct sched_view *v)
{
    one_pool(v, fx_pool("p1", "n1", "r1", "z1"));
    one_pool(v, fx_pool("p2", "n2", "r2", "z1"));
    one_pool(v, fx_pool("p3", "n3", "r3", "z2"));
}

static void group_req(struct sched_request *req, enum sched_spread_level level, bool hard)
{
    req->spread_group = "g";
    req->spread_level = level;
    req->spread_hard = hard;
}

static void hard_rack(struct sched_view *v, struct sched_request *req)
{
    racks_12(v);
    fx_add_volume(v, "m1", "p2", GiB, "g", NULL);
    fx_add_volume(v, "other", "p3", 60 * GiB, NULL, NULL); /* p3 fuller, p2 emptiest */
    fx_add_volume(v, "other2", "p1", 30 * GiB, NULL, NULL);
    group_req(req, SCHED_SPREAD_RACK, true);
}

static void hard_rack_counts_consumer(struct sched_view *v, struct sched_request *req)
{
    racks_12(v);
    /* member stored on p2 (r2) but consumed from n1 (r1): both racks taken */
    fx_add_volume(v, "m1", "p2", GiB, "g", "n1");
    fx_add_volume(v, "other", "p3", 60 * GiB, NULL, NULL);
    group_req(req, SCHED_SPREAD_RACK, true);
}

static void hard_rack_consumer_only_node(struct sched_view *v, struct sched_request *req)
{
    racks_12(v);
    struct sched_node_info n = {.node = "c9", .rack = "r1", .zone = "z1"};
    assert_int_equal(sched_view_upsert_node(v, &n), 0);
    fx_add_volume(v, "m1", "p3", GiB, "g", "c9"); /* occupies r3 (storage) and r1 (consumer) */
    group_req(req, SCHED_SPREAD_RACK, true);
}

static void hard_rack_consumer_taken(struct sched_view *v, struct sched_request *req)
{
    racks_12(v);
    fx_add_volume(v, "m1", "p1", GiB, "g", NULL);
    group_req(req, SCHED_SPREAD_RACK, true);
    req->consumer_node = "n1"; /* rack r1 already holds member m1 */
}

static void hard_rack_full(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, fx_pool("p1", "n1", "r1", "z1"));
    fx_add_volume(v, "m1", "p1", GiB, "g", NULL);
    group_req(req, SCHED_SPREAD_RACK, true);
}

static void hard_no_rack(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, fx_pool("p1", "n1", NULL, "z1"));
    group_req(req, SCHED_SPREAD_RACK, true);
}

static void hard_zone(struct sched_view *v, struct sched_request *req)
{
    racks_12(v);
    fx_add_volume(v, "m1", "p1", GiB, "g", NULL);
    fx_add_volume(v, "other", "p3", 60 * GiB, NULL, NULL);
    group_req(req, SCHED_SPREAD_ZONE, true);
}

static void hard_zone_full(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, fx_pool("p1", "n1", "r1", "z1"));
    one_pool(v, fx_pool("p2", "n2", "r2", "z1"));
    fx_add_volume(v, "m1", "p1", GiB, "g", NULL);
    group_req(req, SCHED_SPREAD_ZONE, true);
}

static void hard_node_full(struct sched_view *v, struct sched_request *req)
{
    one_pool(v, fx_pool("p1", "n1", "r1", "z1"));
    one_pool(v, fx_pool("p1b", "n1", "r1", "z1"));
    fx_add_volume(v, "m1", "p1", GiB, "g", NULL);
    group_req(req, SCHED_SPREAD_NODE, true);
}

static void hard_node_consumer_unknown_topology(struct sched_view *v, struct sched_request *req)
{
    racks_12(v);
    /* consumer "cx" was never described (no rack, no zone): it still is a node */
    fx_add_volume(v, "m1", "p1", GiB, "g", "cx");
    group_req(req, SCHED_SPREAD_NODE, true);
    req->consumer_node = "cx";
}

static void soft_rack_only_choice(struct sched_view *v, struct sched_request *req)
{
    hard_rack_full(v, req);
    req->spread_hard = false;
}

static void twelve_pools(struct sched_view *v, struct sched_request *req)
{
    static const char *const ids[] = {"p0", "p1", "p2", "p3", "p4",  "p5",
                                      "p6", "p7", "p8", "p9", "p10", "p11"};
    static const char *const nodes[] = {"n0", "n1", "n2", "n3", "n4",  "n5",
                                        "n6", "n7", "n8", "n9", "n10", "n11"};
    for (int i = 0; i < 12; i++) {
        one_pool(v, fx_pool(ids[i], nodes[i], i < 5 ? "r1" : "r2", "z1"));
        if (i >= 5)
            fx_add_volume(v, nodes[i], ids[i], 95 * GiB, NULL, NULL);
    }
    fx_add_volume(v, "m1", "p0", GiB, "mysql-a", NULL);
    req->spread_group = "mysql-a";
    req->spread_level = SCHED_SPREAD_RACK;
    req->spread_hard = true;
}

/* ---- pinned (core) */

static void pinned(struct sched_view *v, struct sched_request *req)
{
    nodes_12(v, req);
    req->pinned_pool = "p2"; /* fuller, but the source is there */
}

static void pinned_unknown(struct sched_view *v, struct sched_request *req)
{
    nodes_12(v, req);
    req->pinned_pool = "nope";
}

static void pinned_full(struct sched_view *v, struct sched_request *req)
{
    nodes_12(v, req);
    fx_add_volume(v, "big", "p2", 65 * GiB, NULL, NULL);
    req->pinned_pool = "p2";
}

#define NO(text) "volume \"v\": 0/1 pools: 1 " text

static const struct row rows[] = {
    {"not ready", not_ready, -ENOSPC, NO("not ready")},
    {"cordoned", cordoned, -ENOSPC, NO("cordoned")},
    {"thin volume, thick pool", thin_req_thick_pool, -ENOSPC, NO("thick pool for a thin volume")},
    {"thick volume, thin pool", thick_req_thin_pool, -ENOSPC, NO("thin pool for a thick volume")},
    {"full", full, -ENOSPC, NO("insufficient space")},
    {"exact fit", exact_fit, 0, "p1"},
    {"reserved", reserved, -ENOSPC, NO("insufficient space")},
    {"agent free lower", agent_free_low, -ENOSPC, NO("insufficient space")},
    {"thin virtual fit", thin_virtual_fit, 0, "p1"},
    {"thin virtual full", thin_virtual_full, -ENOSPC, NO("insufficient space")},
    {"thin real free", thin_real_full, -ENOSPC, NO("insufficient space")},
    {"remote cap", remote_cap, -ENOSPC, NO("remote volume limit reached")},
    {"remote cap, local", remote_cap_local_ok, 0, "p1"},
    {"remote cap, no consumer", remote_cap_unknown_consumer_ok, 0, "p1"},
    {"local share", local_share, -ENOSPC, NO("would cut the share kept for local volumes")},
    {"local share fits", local_share_fits, 0, "p1"},
    {"local share first remote", local_share_first_remote, 0, "p1"},
    {"node In", node_in_z1, 0, "pa"},
    {"node In ignores hand-given topology", node_in_z9, -ENOSPC,
     "volume \"v\": 0/2 pools: 2 node labels do not match the node selector"},
    {"node NotIn", node_not_in_z1, 0, "pb"},
    {"node Exists", node_exists, 0, "pa"},
    {"node In values", node_in_values, 0, "pa"},
    {"pool In", pool_in, 0, "pa"},
    {"pool DoesNotExist", pool_does_not_exist, 0, "pb"},
    {"pool NotIn", pool_not_in, 0, "pb"},
    {"pool In mismatch", pool_in_mismatch, -ENOSPC,
     NO("pool labels do not match the pool selector")},
    {"node selector on a pool label", node_selector_on_pool_label, -ENOSPC,
     "volume \"v\": 0/2 pools: 2 node labels do not match the node selector"},
    {"bad selector", bad_selector, -EINVAL,
     "volume \"v\": bad selector (key missing, too many terms/values, unknown operator or too "
     "long a string)"},
    {"MustLocal", must_local, 0, "p2"},
    {"MustLocal elsewhere", must_local_elsewhere, -ENOSPC,
     "volume \"v\": 0/2 pools: 2 not on consumer node \"n3\" (MustLocal)"},
    {"MustRemote", must_remote, -ENOSPC, NO("on consumer node \"n1\" (MustRemote)")},
    {"MustLocal without consumer", must_local_no_consumer, -EINVAL,
     "volume \"v\": position MustLocal needs a consumer node"},
    {"hard rack", hard_rack, 0, "p1"},
    {"hard rack counts consumer", hard_rack_counts_consumer, 0, "p3"},
    {"hard rack consumer-only node", hard_rack_consumer_only_node, 0, "p2"},
    {"hard rack consumer taken", hard_rack_consumer_taken, -ENOSPC,
     "volume \"v\": 0/3 pools: 3 consumer node's rack already used by spread group \"g\""},
    {"hard rack full", hard_rack_full, -ENOSPC, NO("same rack as spread group \"g\"")},
    {"hard no rack label", hard_no_rack, -ENOSPC, NO("no rack label (spread group \"g\")")},
    {"hard zone", hard_zone, 0, "p3"},
    {"hard zone full", hard_zone_full, -ENOSPC,
     "volume \"v\": 0/2 pools: 2 same zone as spread group \"g\""},
    {"hard node full", hard_node_full, -ENOSPC,
     "volume \"v\": 0/2 pools: 2 same node as spread group \"g\""},
    {"hard node, consumer of unknown rack", hard_node_consumer_unknown_topology, -ENOSPC,
     "volume \"v\": 0/3 pools: 3 consumer node \"cx\" already used by spread group \"g\""},
    {"soft only choice", soft_rack_only_choice, 0, "p1"},
    {"counted per reason", twelve_pools, -ENOSPC,
     "volume \"v\": 0/12 pools: 7 insufficient space, 5 same rack as spread group \"mysql-a\""},
    {"pinned", pinned, 0, "p2"},
    {"pinned unknown", pinned_unknown, -ENOSPC,
     "volume \"v\": 0/2 pools: 2 not the pinned pool \"nope\""},
    {"pinned full", pinned_full, -ENOSPC,
     "volume \"v\": 0/2 pools: 1 not the pinned pool \"p2\", 1 insufficient space"},
};

static void test_rows(void **state)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(rows); i++) {
        const struct row *row = &rows[i];
        struct sched_view *v = fx_view(NULL);
        struct sched_request req = fx_request("v");
        row->setup(v, &req);
        char pool[SCHED_NAME_MAX + 1];
        struct slio_err err;
        int r = fx_place(v, &req, pool, &err);
        if (r != row->want_r)
            fail_msg("row \"%s\": r=%d want %d (%s)", row->name, r, row->want_r, err.text);
        const char *got = r == 0 ? pool : err.text;
        if (strcmp(got, row->want) != 0)
            fail_msg("row \"%s\": got \"%s\"\n want \"%s\"", row->name, got, row->want);
        /* a placed volume is in the view, a refused one is not */
        assert_int_equal(sched_view_remove_volume(v, "v"), r == 0 ? 0 : -ENOENT);
        sched_view_free(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
