/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The used-capacity spread taken apart: over subsets of the pools (kind,
 * size, what they hold, the labels selectors aim at), with the share of each
 * pool that was forced on it (MustLocal, pinned clones) or preferred
 * (PreferLocal honoured), and how the forcing requests fell on the nodes.
 * The headline figure stays max - min over every ready pool of a kind.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

struct subset {
    const char *name;
    bool (*in)(const struct bench *b, const struct bench_pool *p);
};

static bool all(const struct bench *b, const struct bench_pool *p)
{
    return true;
}

static bool choices_only(const struct bench *b, const struct bench_pool *p)
{
    return p->forced == 0 && p->pref_local == 0;
}

static bool not_forced(const struct bench *b, const struct bench_pool *p)
{
    return p->forced == 0;
}

static bool with_forced(const struct bench *b, const struct bench_pool *p)
{
    return p->forced > 0;
}

static bool pref_not_forced(const struct bench *b, const struct bench_pool *p)
{
    return p->forced == 0 && p->pref_local > 0;
}

static bool cap2(const struct bench *b, const struct bench_pool *p)
{
    return p->capacity == 2 * TiB;
}

static bool cap3(const struct bench *b, const struct bench_pool *p)
{
    return p->capacity == 3 * TiB;
}

static bool cap4(const struct bench *b, const struct bench_pool *p)
{
    return p->capacity == 4 * TiB;
}

static bool zones34(const struct bench *b, const struct bench_pool *p)
{
    uint32_t z = bench_zone(b, p->node);
    return z == 3 || z == 4;
}

static bool ssd(const struct bench *b, const struct bench_pool *p)
{
    return p->ssd;
}

static bool bronze(const struct bench *b, const struct bench_pool *p)
{
    return p->tier == 2;
}

static bool capped(const struct bench *b, const struct bench_pool *p)
{
    return p->max_remote > 0 || p->min_local_share > 0;
}

static const struct subset subsets[] = {
    {"every ready pool (the requirement's figure)", all},
    {"pools with nothing forced on them", not_forced},
    {"pools holding only the scorers' free choices", choices_only},
    {"pools holding MustLocal or pinned volumes", with_forced},
    {"pools holding PreferLocal, nothing forced", pref_not_forced},
    {"2 TiB pools", cap2},
    {"3 TiB pools", cap3},
    {"4 TiB pools", cap4},
    {"zone-3/4 pools (a selector's target)", zones34},
    {"ssd nodes' pools (a selector's target)", ssd},
    {"bronze pools (excluded by a selector)", bronze},
    {"pools with a remote cap or local share", capped},
};

static uint64_t effective(const struct bench_pool *p)
{
    return (uint64_t)((double)p->capacity * p->overprovision) - p->reserved;
}

static double pct(const struct bench_pool *p, uint64_t bytes)
{
    return 100.0 * (double)bytes / (double)effective(p);
}

static bool counted(const struct bench_pool *p, bool thin)
{
    return p->ready && !p->cordoned && p->thin == thin; /* the others take nothing by design */
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void subset_line(const struct bench *b, const struct subset *s, bool thin, double *used)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->n_pools; i++)
        if (counted(&b->pools[i], thin) && s->in(b, &b->pools[i]))
            used[n++] = pct(&b->pools[i], b->pools[i].allocated);
    if (n == 0)
        return;
    qsort(used, n, sizeof(*used), cmp_double);
    printf("    %-5s %-46s %5u  %5.1f %5.1f %5.1f %5.1f  %5.2f\n", thin ? "thin" : "thick", s->name,
           n, used[0], used[n / 2], used[(uint64_t)n * 99 / 100], used[n - 1],
           used[n - 1] - used[0]);
}

/* The fullest pools of a kind and what their share is made of. */
static void fullest(const struct bench *b, bool thin, uint32_t top)
{
    uint32_t shown[8];
    for (uint32_t k = 0; k < top && k < SLIO_ARRAY_SIZE(shown); k++) {
        uint32_t best = NONE;
        for (uint32_t i = 0; i < b->n_pools; i++) {
            const struct bench_pool *p = &b->pools[i];
            bool seen = false;
            for (uint32_t j = 0; j < k; j++)
                seen = seen || shown[j] == i;
            if (!seen && counted(p, thin) &&
                (best == NONE ||
                 pct(p, p->allocated) > pct(&b->pools[best], b->pools[best].allocated)))
                best = i;
        }
        if (best == NONE)
            return;
        shown[k] = best;
        const struct bench_pool *p = &b->pools[best];
        printf("    %-14s %.0f TiB: used %5.1f = forced %5.1f + PreferLocal %5.1f + free %5.1f\n",
               p->id, (double)p->capacity / (double)TiB, pct(p, p->allocated), pct(p, p->forced),
               pct(p, p->pref_local), pct(p, p->allocated - p->forced - p->pref_local));
    }
}

/* The pools more than 10 points above the emptiest of their kind, and what was forced there. */
static void over_band(const struct bench *b, bool thin)
{
    double lo = 1e9, f_lo = 1e9, f_hi = 0;
    uint32_t n = 0, n_forced = 0;
    for (uint32_t i = 0; i < b->n_pools; i++)
        if (counted(&b->pools[i], thin) && pct(&b->pools[i], b->pools[i].allocated) < lo)
            lo = pct(&b->pools[i], b->pools[i].allocated);
    for (uint32_t i = 0; i < b->n_pools; i++) {
        const struct bench_pool *p = &b->pools[i];
        if (!counted(p, thin) || pct(p, p->allocated) <= lo + 10.0)
            continue;
        n++;
        n_forced += p->forced > 0;
        f_lo = pct(p, p->forced) < f_lo ? pct(p, p->forced) : f_lo;
        f_hi = pct(p, p->forced) > f_hi ? pct(p, p->forced) : f_hi;
    }
    printf("  %s pools more than 10 points above the emptiest: %u, %u of them holding MustLocal or "
           "pinned volumes (%.1f..%.1f points of them)\n",
           thin ? "thin" : "thick", n, n_forced, n ? f_lo : 0.0, n ? f_hi : 0.0);
}

/* How the MustLocal requests' consumer nodes fell: per node, and the largest forced share. */
static void consumers(const struct bench *b)
{
    uint32_t nodes = b->n_pools / 2, hist[5] = {0}, *per = calloc(nodes, sizeof(*per));
    double max_forced = 0, mean = 0;
    uint32_t n_counted = 0;
    if (!per)
        return;
    for (uint32_t i = 0; i < b->n_vols; i++) {
        const struct bench_req *br = &b->reqs[i];
        if (br->req.position == SCHED_POS_MUST_LOCAL && br->consumer_node < nodes)
            per[br->consumer_node]++;
    }
    for (uint32_t n = 0; n < nodes; n++)
        hist[per[n] < 4 ? per[n] : 4]++;
    for (uint32_t i = 0; i < b->n_pools; i++) {
        const struct bench_pool *p = &b->pools[i];
        if (!counted(p, false))
            continue;
        max_forced = pct(p, p->forced) > max_forced ? pct(p, p->forced) : max_forced;
        mean += pct(p, p->allocated);
        n_counted++;
    }
    printf("  MustLocal requests per consumer node (uniform over %u nodes): 0: %u, 1: %u, 2: %u, "
           "3: %u, 4+: %u\n",
           nodes, hist[0], hist[1], hist[2], hist[3], hist[4]);
    printf("  thick pools: mean used %.1f, largest share forced on one pool %.1f\n",
           n_counted ? mean / n_counted : 0.0, max_forced);
    free(per);
}

void bench_spread_report(const struct bench *b)
{
    double *used = calloc(b->n_pools, sizeof(*used));
    if (!used)
        return;
    printf("  used share (%% of effective capacity) by subset:\n");
    printf("    %-5s %-46s %5s  %5s %5s %5s %5s  %5s\n", "kind", "subset", "pools", "min", "p50",
           "p99", "max", "spread");
    for (int thin = 0; thin < 2; thin++)
        for (size_t s = 0; s < SLIO_ARRAY_SIZE(subsets); s++)
            if (!thin || s < 5) /* thin pools are all 2 TiB x 2 */
                subset_line(b, &subsets[s], thin, used);
    over_band(b, false);
    over_band(b, true);
    printf("  the fullest thick pools:\n");
    fullest(b, false, 5);
    consumers(b);
    free(used);
}
