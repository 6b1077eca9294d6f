/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bench's own record of every placement and an independent check of
 * every constraint against it: the scheduler's counters are not trusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "slio/parse.h"

/* "node-17/thin0" -> its index in b->pools */
static uint32_t pool_index(const char *id)
{
    char digits[16] = "";
    const char *slash = strchr(id, '/');
    size_t len = slash && strncmp(id, "node-", 5) == 0 ? (size_t)(slash - id - 5) : 0;
    if (len == 0 || len >= sizeof(digits))
        return NONE;
    memcpy(digits, id + 5, len);
    uint32_t n;
    if (slio_parse_u32(digits, 0, UINT32_MAX / 2 - 1, &n) < 0)
        return NONE;
    return n * 2 + (strcmp(slash + 1, "thin0") == 0 ? 1 : 0);
}

int bench_record(struct bench *b, struct bench_req *br, int r, const struct sched_decision *d,
                 const struct slio_err *err)
{
    if (r == -ENOSPC) {
        if (getenv("BENCH_DEBUG") && b->n_refused % 50 == 0)
            fprintf(stderr, "%s\n", err->text);
        b->n_refused++;
        b->n_refused_pinned += br->pinned_pool != NONE;
        if (strstr(err->text, " pools: ") == NULL) {
            fprintf(stderr, "%s: refused without a counted reason: %s\n", br->uuid, err->text);
            return -1;
        }
        return 0;
    }
    uint32_t p = r == 0 ? pool_index(d->pool_id) : NONE;
    if (p == NONE || p >= b->n_pools) {
        fprintf(stderr, "%s: r=%d pool \"%s\": %s\n", br->uuid, r, r ? "" : d->pool_id, err->text);
        return -1;
    }
    struct bench_pool *bp = &b->pools[p];
    br->placed = true;
    br->pool = p;
    b->n_placed++;
    bp->allocated += br->req.size;
    if (br->consumer_node != NONE && br->consumer_node != bp->node) {
        bp->n_remote++;
        bp->remote_bytes += br->req.size;
    }
    if (br->req.position == SCHED_POS_MUST_LOCAL || br->pinned_pool != NONE)
        bp->forced += br->req.size;
    else if (br->req.position == SCHED_POS_PREFER_LOCAL && br->consumer_node == bp->node)
        bp->pref_local += br->req.size;
    if (br->req.position == SCHED_POS_PREFER_LOCAL) {
        b->n_prefer_local++;
        b->n_prefer_local_kept += br->consumer_node == bp->node;
    }
    return 0;
}

static uint64_t effective(const struct bench_pool *p)
{
    return (uint64_t)((double)p->capacity * p->overprovision) - p->reserved;
}

static bool affinity_ok(const struct bench *b, const struct bench_req *br,
                        const struct bench_pool *p)
{
    uint32_t zone = bench_zone(b, p->node), rack = bench_rack(b, p->node);
    switch (br->affinity) {
    case AFF_SSD:
        return p->ssd;
    case AFF_ZONES:
        return zone == 3 || zone == 4;
    case AFF_NOT_BRONZE:
        return p->tier != 2;
    case AFF_NO_MAINT:
        return !p->maintenance;
    case AFF_TIER_NOT_R0:
        return rack >= 10;
    case AFF_NONE:
        return true;
    }
    return false;
}

static const char *volume_violation(const struct bench *b, const struct bench_req *br)
{
    const struct bench_pool *p = &b->pools[br->pool];
    const struct sched_request *req = &br->req;
    if (!p->ready || p->cordoned)
        return "pool not ready or cordoned";
    if (req->thin != p->thin)
        return "thin/thick mismatch";
    if (!affinity_ok(b, br, p))
        return "selector not satisfied";
    if (req->position == SCHED_POS_MUST_LOCAL && br->consumer_node != p->node)
        return "MustLocal not local";
    if (req->position == SCHED_POS_MUST_REMOTE && br->consumer_node == p->node)
        return "MustRemote local";
    if (br->pinned_pool != NONE && br->pinned_pool != br->pool)
        return "not on the pinned pool";
    return NULL;
}

static const char *pool_violation(const struct bench_pool *p)
{
    uint64_t eff = effective(p);
    if (p->allocated > eff || (!p->thin && p->allocated > p->capacity))
        return "overbooked";
    if (p->max_remote && p->n_remote > p->max_remote)
        return "too many remote volumes";
    if (p->min_local_share > 0 &&
        (double)p->remote_bytes > (1.0 - p->min_local_share) * (double)eff + 1.0)
        return "local share cut";
    return NULL;
}

static uint32_t domain(const struct bench *b, uint32_t node, enum sched_spread_level level)
{
    return level == SCHED_SPREAD_NODE   ? node
           : level == SCHED_SPREAD_RACK ? bench_rack(b, node)
                                        : bench_zone(b, node);
}

/* Hard groups: the domains (storage and consumer side) of two members never meet. */
static bool group_ok(const struct bench *b, const struct bench_req *m)
{
    enum sched_spread_level level = m[0].req.spread_level;
    uint32_t d[3][2];
    for (int i = 0; i < 3; i++) {
        const struct bench_req *br = &m[i];
        d[i][0] = br->placed ? domain(b, b->pools[br->pool].node, level) : NONE;
        d[i][1] =
            br->placed && br->consumer_node != NONE ? domain(b, br->consumer_node, level) : NONE;
    }
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            for (int x = 0; x < 2; x++)
                for (int y = 0; y < 2; y++)
                    if (d[i][x] != NONE && d[i][x] == d[j][y])
                        return false;
    return true;
}

uint32_t bench_verify(const struct bench *b)
{
    uint32_t violations = 0;
    for (uint32_t i = 0; i < b->n_vols; i++) {
        const char *why = b->reqs[i].placed ? volume_violation(b, &b->reqs[i]) : NULL;
        if (why && violations++ < 10)
            fprintf(stderr, "violation: %s: %s\n", b->reqs[i].uuid, why);
    }
    for (uint32_t i = 0; i < b->n_pools; i++) {
        const char *why = pool_violation(&b->pools[i]);
        if (why && violations++ < 10)
            fprintf(stderr, "violation: pool %s: %s\n", b->pools[i].id, why);
    }
    for (uint32_t i = 0; i + 2 < b->n_vols; i += 3) {
        const struct bench_req *m = &b->reqs[i];
        if (m->req.spread_group && m->req.spread_hard && !group_ok(b, m) && violations++ < 10)
            fprintf(stderr, "violation: spread group %s\n", m->group);
    }
    return violations;
}

void bench_spread(const struct bench *b, bool unforced_only, double *ret_thick, double *ret_thin,
                  double *ret_all)
{
    double lo[2] = {1e9, 1e9}, hi[2] = {-1e9, -1e9};
    for (uint32_t i = 0; i < b->n_pools; i++) {
        const struct bench_pool *p = &b->pools[i];
        if (!p->ready || p->cordoned || (unforced_only && p->forced))
            continue; /* they take nothing by design */
        double used = 100.0 * (double)p->allocated / (double)effective(p);
        lo[p->thin] = used < lo[p->thin] ? used : lo[p->thin];
        hi[p->thin] = used > hi[p->thin] ? used : hi[p->thin];
    }
    *ret_thick = hi[0] - lo[0];
    *ret_thin = hi[1] - lo[1];
    *ret_all = *ret_thick > *ret_thin ? *ret_thick : *ret_thin;
}
