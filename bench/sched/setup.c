/* SPDX-License-Identifier: Apache-2.0 */
/* The synthetic cluster and the request mix (deterministic for a seed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static uint64_t rnd(struct bench *b)
{
    /* xorshift64* */
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return b->rng * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd_below(struct bench *b, uint32_t n)
{
    return (uint32_t)(rnd(b) % n);
}

static void pool_describe(struct bench *b, uint32_t i)
{
    struct bench_pool *p = &b->pools[i];
    uint32_t n = i / 2;
    static const uint64_t thick_caps[] = {2 * TiB, 3 * TiB, 4 * TiB};
    *p = (struct bench_pool){
        .node = n,
        .thin = i % 2 == 1,
        .ready = n % 97 != 1,
        .cordoned = n % 89 == 2,
        .capacity = i % 2 ? 2 * TiB : thick_caps[n % 3],
        .reserved = n % 11 == 0 ? 16 * GiB : 0,
        .overprovision = i % 2 ? 2.0 : 1.0,
        .min_local_share = n % 7 == 0 ? 0.3 : 0.0,
        .max_remote = n % 5 == 0 ? 20 : 0,
        .ssd = n % 2 == 0,
        .maintenance = n % 13 == 0,
        .tier = (int)((n / 2) % 3),
    };
    snprintf(p->id, sizeof(p->id), "node-%u/%s", n, p->thin ? "thin0" : "vg0");
}

static int pool_upsert(struct bench *b, uint32_t i)
{
    static const char *const tiers[] = {"gold", "silver", "bronze"};
    const struct bench_pool *p = &b->pools[i];
    char node[24], rack[24], zone[24];
    snprintf(node, sizeof(node), "node-%u", p->node);
    snprintf(rack, sizeof(rack), "rack-%u", bench_rack(b, p->node));
    snprintf(zone, sizeof(zone), "zone-%u", bench_zone(b, p->node));
    struct sched_label node_labels[2] = {{"disk", p->ssd ? "ssd" : "hdd"}, {"maintenance", "true"}};
    struct sched_label pool_labels[1] = {{"tier", tiers[p->tier]}};
    struct sched_pool_info info = {
        .id = p->id,
        .node = node,
        .rack = rack,
        .zone = zone,
        .node_labels = node_labels,
        .n_node_labels = p->maintenance ? 2 : 1,
        .pool_labels = pool_labels,
        .n_pool_labels = 1,
        .ready = p->ready,
        .cordoned = p->cordoned,
        .thin = p->thin,
        .capacity = p->capacity,
        .free = p->capacity,
        .reserved = p->reserved,
        .overprovision = p->overprovision,
        .max_remote_volumes = p->max_remote,
        .min_local_share = p->min_local_share,
    };
    return sched_view_upsert_pool(b->view, &info);
}

int bench_setup(struct bench *b)
{
    b->rng = b->seed * 0x9e3779b97f4a7c15ull + 1;
    struct sched_config *cfg;
    struct slio_err err = {{0}};
    int r = sched_config_from_json(b->config, &cfg, &err);
    if (r < 0) {
        fprintf(stderr, "sched-bench: config: %s\n", err.text);
        return r;
    }
    r = sched_view_new(cfg, &b->view);
    sched_config_free(cfg);
    if (r < 0)
        return r;
    b->pools = calloc(b->n_pools, sizeof(*b->pools));
    b->reqs = calloc(b->n_vols, sizeof(*b->reqs));
    if (!b->pools || !b->reqs)
        return -ENOMEM;
    for (uint32_t i = 0; i < b->n_pools && r == 0; i++) {
        pool_describe(b, i);
        r = pool_upsert(b, i);
    }
    return r;
}

static const char *const ssd[] = {"ssd"};
static const char *const zones34[] = {"zone-3", "zone-4"};
static const char *const bronze[] = {"bronze"};
static const char *const racks0_9[] = {"rack-0", "rack-1", "rack-2", "rack-3", "rack-4",
                                       "rack-5", "rack-6", "rack-7", "rack-8", "rack-9"};

static void set_affinity(struct bench *b, struct bench_req *br)
{
    uint32_t x = rnd_below(b, 100);
    struct sched_request *req = &br->req;
    br->affinity = x < 20   ? AFF_SSD
                   : x < 30 ? AFF_ZONES
                   : x < 40 ? AFF_NOT_BRONZE
                   : x < 45 ? AFF_NO_MAINT
                   : x < 48 ? AFF_TIER_NOT_R0
                            : AFF_NONE;
    struct sched_selector_term *n = br->node_terms, *p = br->pool_terms;
    switch (br->affinity) {
    case AFF_SSD:
        n[0] = (struct sched_selector_term){"disk", SCHED_OP_IN, ssd, 1};
        req->node_selector = (struct sched_selector){n, 1};
        break;
    case AFF_ZONES:
        n[0] = (struct sched_selector_term){SCHED_LABEL_ZONE, SCHED_OP_IN, zones34, 2};
        req->node_selector = (struct sched_selector){n, 1};
        break;
    case AFF_NOT_BRONZE:
        p[0] = (struct sched_selector_term){"tier", SCHED_OP_NOT_IN, bronze, 1};
        req->pool_selector = (struct sched_selector){p, 1};
        break;
    case AFF_NO_MAINT:
        n[0] = (struct sched_selector_term){"maintenance", SCHED_OP_DOES_NOT_EXIST, NULL, 0};
        req->node_selector = (struct sched_selector){n, 1};
        break;
    case AFF_TIER_NOT_R0:
        p[0] = (struct sched_selector_term){"tier", SCHED_OP_EXISTS, NULL, 0};
        n[0] = (struct sched_selector_term){SCHED_LABEL_RACK, SCHED_OP_NOT_IN, racks0_9, 10};
        req->pool_selector = (struct sched_selector){p, 1};
        req->node_selector = (struct sched_selector){n, 1};
        break;
    case AFF_NONE:
        break;
    }
}

static void set_consumer(struct bench_req *br, uint32_t node)
{
    br->consumer_node = node;
    snprintf(br->consumer, sizeof(br->consumer), "node-%u", node);
    br->req.consumer_node = br->consumer;
}

/*
 * Groups of 3 consecutive requests: 30% of the volumes. Kind by group
 * number: hard by rack, hard by zone, soft by node. Every other group has
 * consumer nodes, chosen in distinct racks/zones like a StatefulSet with
 * pod anti-affinity would get.
 */
static void set_group(struct bench *b, struct bench_req *br, uint32_t i)
{
    uint32_t g = i / 3, member = i % 3, kind = g % 10;
    if (kind >= 3)
        return;
    struct sched_request *req = &br->req;
    snprintf(br->group, sizeof(br->group), "g-%u", g);
    req->spread_group = br->group;
    req->spread_hard = kind < 2;
    req->spread_level = kind == 0   ? SCHED_SPREAD_RACK
                        : kind == 1 ? SCHED_SPREAD_ZONE
                                    : SCHED_SPREAD_NODE;
    if (g % 2 == 0)
        return;
    uint32_t nodes = b->n_pools / 2, per_zone = nodes / BENCH_ZONES;
    uint32_t base = (uint32_t)((g * 2654435761u) % nodes);
    uint32_t step = kind == 1 ? per_zone * 3 : nodes / BENCH_RACKS * 7 + 1;
    set_consumer(br, (base + member * step) % nodes);
}

static void set_position(struct bench *b, struct bench_req *br)
{
    uint32_t x = rnd_below(b, 100);
    if (x >= 30 && !br->req.consumer_node)
        return;
    if (!br->req.consumer_node)
        set_consumer(br, rnd_below(b, b->n_pools / 2));
    static const enum sched_position mix[] = {
        SCHED_POS_ANY,           SCHED_POS_PREFER_LOCAL, SCHED_POS_PREFER_LOCAL,
        SCHED_POS_PREFER_LOCAL,  SCHED_POS_MUST_LOCAL,   SCHED_POS_MUST_REMOTE,
        SCHED_POS_PREFER_REMOTE, SCHED_POS_ANY,
    };
    br->req.position = mix[rnd_below(b, SLIO_ARRAY_SIZE(mix))];
    if (b->free_only &&
        (br->req.position == SCHED_POS_MUST_LOCAL || br->req.position == SCHED_POS_PREFER_LOCAL))
        br->req.position = SCHED_POS_ANY;
    if (br->req.spread_group && br->req.spread_hard && br->req.position == SCHED_POS_MUST_LOCAL)
        br->req.position = SCHED_POS_PREFER_LOCAL;
}

static uint64_t pick_size(struct bench *b)
{
    uint32_t x = rnd_below(b, 100);
    uint64_t lo = x < 60 ? 1 : x < 90 ? 60 : 160, hi = x < 60 ? 60 : x < 90 ? 160 : 256;
    return (lo + rnd_below(b, (uint32_t)(hi - lo))) * GiB;
}

struct bench_req *bench_make_request(struct bench *b, uint32_t i)
{
    struct bench_req *br = &b->reqs[i];
    *br = (struct bench_req){.consumer_node = NONE, .pinned_pool = NONE, .pool = NONE};
    snprintf(br->uuid, sizeof(br->uuid), "vol-%u", i);
    br->req.uuid = br->uuid;
    br->req.size = pick_size(b);
    br->req.thin = rnd_below(b, 5) < 2;
    set_affinity(b, br);
    set_group(b, br, i);
    set_position(b, br);
    if (!br->req.spread_group && rnd_below(b, 100) == 0 && !b->free_only) {
        /* a clone: its source volume's pool, of the same kind */
        uint32_t p = rnd_below(b, b->n_pools / 2) * 2 + (br->req.thin ? 1 : 0);
        br->pinned_pool = p;
        snprintf(br->pinned, sizeof(br->pinned), "%s", b->pools[p].id);
        br->req.pinned_pool = br->pinned;
    }
    return br;
}

void bench_free(struct bench *b)
{
    sched_view_free(b->view);
    free(b->pools);
    free(b->reqs);
}
