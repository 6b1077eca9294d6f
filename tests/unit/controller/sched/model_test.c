/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The view's incremental accounting against a plain model: thousands of
 * random operations (place, add, remove, resize, consumer moves), and after
 * each one every pool's allocation, volume and remote counts must equal the
 * model's, recomputed from scratch. Hard spread placements are checked
 * against the model's own view of the group.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define POOLS 6
#define VOLS  300
#define OPS   20000
#define NONE  (-1)

static const char *const pool_ids[POOLS] = {"p0", "p1", "p2", "p3", "p4", "p5"};
static const char *const nodes[POOLS + 2] = {"n0", "n1", "n2", "n3", "n4", "n5", "c6", "c7"};
static const char *const racks[POOLS + 2] = {"r0", "r0", "r1", "r1", "r2", "r2", "r3", "r0"};
static const char *const groups[3] = {"g0", "g1", "g2"};

struct mvol {
    bool live;
    int pool, consumer, group; /* indexes, NONE */
    uint64_t size;
};

static struct mvol model[VOLS];
static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void uuid_of(int i, char buf[16])
{
    snprintf(buf, 16, "v%d", i);
}

static int pool_index(const char *id)
{
    for (int i = 0; i < POOLS; i++)
        if (strcmp(pool_ids[i], id) == 0)
            return i;
    fail_msg("unknown pool %s", id);
    return NONE;
}

static void check_pools(struct sched_view *v)
{
    for (int p = 0; p < POOLS; p++) {
        uint64_t alloc = 0;
        uint32_t n = 0, remote = 0;
        for (int i = 0; i < VOLS; i++) {
            if (!model[i].live || model[i].pool != p)
                continue;
            alloc += model[i].size;
            n++;
            remote += model[i].consumer != NONE && model[i].consumer != p;
        }
        struct sched_pool_usage u;
        assert_int_equal(sched_view_pool_usage(v, pool_ids[p], &u), 0);
        assert_int_equal(u.allocated, alloc);
        assert_int_equal(u.n_volumes, n);
        assert_int_equal(u.n_remote_volumes, remote);
        uint64_t left = u.effective_capacity > alloc ? u.effective_capacity - alloc : 0;
        assert_int_equal(u.available, left);
    }
}

/* The model's answer: is rack `r` occupied by a member of group g (storage or consumer side)? */
static bool rack_taken(int g, const char *rack)
{
    for (int i = 0; i < VOLS; i++) {
        if (!model[i].live || model[i].group != g)
            continue;
        if (strcmp(racks[model[i].pool], rack) == 0)
            return true;
        if (model[i].consumer != NONE && strcmp(racks[model[i].consumer], rack) == 0)
            return true;
    }
    return false;
}

static void op_place(struct sched_view *v, int i)
{
    char uuid[16];
    uuid_of(i, uuid);
    int consumer = rnd(3) ? (int)rnd(POOLS + 2) : NONE, group = rnd(2) ? (int)rnd(3) : NONE;
    struct sched_request req = fx_request(uuid);
    req.size = (1 + rnd(30)) * GiB;
    req.consumer_node = consumer == NONE ? NULL : nodes[consumer];
    if (group != NONE) {
        req.spread_group = groups[group];
        req.spread_level = SCHED_SPREAD_RACK;
        req.spread_hard = group == 0; /* g0 hard, the others soft */
    }
    char pool[SCHED_NAME_MAX + 1];
    struct slio_err err;
    int r = fx_place(v, &req, pool, &err);
    if (r == -ENOSPC)
        return;
    assert_int_equal(r, 0);
    int p = pool_index(pool);
    if (group == 0) {
        assert_false(rack_taken(0, racks[p]));
        if (consumer != NONE)
            assert_false(rack_taken(0, racks[consumer]));
    }
    model[i] = (struct mvol){true, p, consumer, group, req.size};
}

static void op_add(struct sched_view *v, int i)
{
    char uuid[16];
    uuid_of(i, uuid);
    int p = (int)rnd(POOLS), consumer = rnd(2) ? (int)rnd(POOLS + 2) : NONE;
    uint64_t size = (1 + rnd(10)) * GiB;
    fx_add_volume(v, uuid, pool_ids[p], size, NULL, consumer == NONE ? NULL : nodes[consumer]);
    model[i] = (struct mvol){true, p, consumer, NONE, size};
}

static void op_change(struct sched_view *v, int i)
{
    char uuid[16];
    uuid_of(i, uuid);
    struct slio_err err;
    switch (rnd(3)) {
    case 0:
        assert_int_equal(sched_view_remove_volume(v, uuid), 0);
        model[i].live = false;
        break;
    case 1: {
        uint64_t size = (1 + rnd(40)) * GiB;
        int r = sched_view_resize_volume(v, uuid, size, &err);
        assert_true(r == 0 || (r == -ENOSPC && size > model[i].size));
        if (r == 0)
            model[i].size = size;
        break;
    }
    default: {
        int consumer = rnd(3) ? (int)rnd(POOLS + 2) : NONE;
        assert_int_equal(
            sched_view_set_consumer(v, uuid, consumer == NONE ? NULL : nodes[consumer]), 0);
        model[i].consumer = consumer;
    }
    }
}

static void test_random_ops(void **state)
{
    struct sched_view *v = fx_view(NULL);
    for (int p = 0; p < POOLS; p++) {
        struct sched_pool_info info = fx_pool(pool_ids[p], nodes[p], racks[p], "z1");
        info.capacity = info.free = 400 * GiB;
        fx_add_pool(v, &info);
    }
    for (int n = POOLS; n < POOLS + 2; n++) {
        struct sched_node_info c = {.node = nodes[n], .rack = racks[n], .zone = "z1"};
        assert_int_equal(sched_view_upsert_node(v, &c), 0);
    }
    for (int op = 0; op < OPS; op++) {
        int i = (int)rnd(VOLS);
        if (model[i].live)
            op_change(v, i);
        else if (rnd(4))
            op_place(v, i);
        else
            op_add(v, i);
        check_pools(v);
    }
    sched_view_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
