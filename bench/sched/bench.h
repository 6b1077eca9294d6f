/* SPDX-License-Identifier: Apache-2.0 */
/* bench/sched: the synthetic cluster, the request mix and the independent checker. */
#ifndef SCHED_BENCH_H
#define SCHED_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sched/sched.h"

#define BENCH_ZONES 10
#define BENCH_RACKS 100
#define GiB         (1ull << 30)
#define TiB         (1ull << 40)
#define NONE        UINT32_MAX

struct bench_pool {
    char id[32];
    uint32_t node;
    bool thin, ready, cordoned;
    uint64_t capacity, reserved;
    double overprovision, min_local_share;
    uint32_t max_remote;
    /* labels, in the bench's own terms */
    bool ssd, maintenance; /* node labels disk=ssd|hdd, maintenance=true */
    int tier;              /* pool label tier: 0 gold, 1 silver, 2 bronze */
    /* what the bench placed there */
    uint64_t allocated, remote_bytes;
    uint32_t n_remote;
    /* of allocated: volumes that had to go here (MustLocal, pinned clones), and PreferLocal
     * volumes that did, i.e. bytes the scorers' balance did not choose freely */
    uint64_t forced, pref_local;
};

enum bench_affinity {
    AFF_NONE,
    AFF_SSD,         /* node disk In [ssd] */
    AFF_ZONES,       /* node zone In [zone-3, zone-4] */
    AFF_NOT_BRONZE,  /* pool tier NotIn [bronze] */
    AFF_NO_MAINT,    /* node maintenance DoesNotExist */
    AFF_TIER_NOT_R0, /* pool tier Exists, node rack NotIn [rack-0..rack-9] */
};

struct bench_req {
    struct sched_request req;
    char uuid[24], consumer[24], group[24], pinned[32];
    enum bench_affinity affinity;
    struct sched_selector_term node_terms[2], pool_terms[2];
    uint32_t consumer_node; /* NONE */
    uint32_t pinned_pool;   /* NONE */
    bool placed;
    uint32_t pool;
};

struct bench {
    uint32_t n_pools, n_vols;
    uint64_t seed, rng;
    bool free_only; /* no MustLocal/PreferLocal/pinned: every placement is the scorers' choice */
    json_t *config; /* the scheduler section (--config), NULL = defaults; borrowed */
    struct sched_view *view;
    struct bench_pool *pools;
    struct bench_req *reqs;
    uint32_t n_placed, n_refused, n_refused_pinned;
    uint32_t n_prefer_local, n_prefer_local_kept; /* PreferLocal placed, and placed locally */
};

int bench_setup(struct bench *b);
struct bench_req *bench_make_request(struct bench *b, uint32_t i);
int bench_record(struct bench *b, struct bench_req *br, int r, const struct sched_decision *d,
                 const struct slio_err *err);
uint32_t bench_verify(const struct bench *b);
/* max - min used share over the ready pools of each kind (unforced_only: of those holding no
 * MustLocal or pinned volume, i.e. least_allocated's own balance), in points */
void bench_spread(const struct bench *b, bool unforced_only, double *ret_thick, double *ret_thin,
                  double *ret_all);
/* spread.c: the used-capacity spread over subsets of the pools, and what forced it */
void bench_spread_report(const struct bench *b);
void bench_free(struct bench *b);

/* topology of node n */
static inline uint32_t bench_rack(const struct bench *b, uint32_t node)
{
    uint32_t nodes = b->n_pools / 2, per_rack = nodes / BENCH_RACKS ? nodes / BENCH_RACKS : 1;
    uint32_t r = node / per_rack;
    return r < BENCH_RACKS ? r : BENCH_RACKS - 1;
}

static inline uint32_t bench_zone(const struct bench *b, uint32_t node)
{
    return bench_rack(b, node) / (BENCH_RACKS / BENCH_ZONES);
}

#endif
