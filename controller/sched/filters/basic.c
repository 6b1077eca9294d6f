/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter "basic": the pool can take the volume at all. Still reported by
 * its agent, ready (fresh heartbeat) and not cordoned; of the volume's kind (a thin volume needs a
 * thin pool, a thick one a thick pool); enough space after the volumes the
 * view holds on it, placed and reserved, and its reserve — thin pools
 * judged by min(real free, virtual free under over-provisioning); and, for
 * a volume that would be remote on it, the pool's cap on remote volumes and
 * the share of capacity it keeps for local ones.
 */
#include <stdio.h>

#include "../sched_internal.h"

enum {
    UNREPORTED = 1,
    NOT_READY,
    CORDONED,
    THICK_POOL,
    THIN_POOL,
    NO_SPACE,
    REMOTE_LIMIT,
    LOCAL_SHARE,
};

static bool would_be_remote(const struct sched_ctx *ctx, const struct sched_pool *p)
{
    return ctx->consumer_id != SCHED_ID_NONE && p->node_id != ctx->consumer_id;
}

static int basic_check(const struct sched_ctx *ctx, const void *state, const struct sched_pool *p)
{
    const struct sched_request *req = ctx->req;
    if (p->unreported)
        return UNREPORTED;
    if (!p->ready)
        return NOT_READY;
    if (p->cordoned)
        return CORDONED;
    if (req->thin != p->thin)
        return req->thin ? THICK_POOL : THIN_POOL;
    if (req->size > sched_pool_available(p))
        return NO_SPACE;
    if (!would_be_remote(ctx, p))
        return 0;
    if (p->max_remote_volumes && p->n_remote >= p->max_remote_volumes)
        return REMOTE_LIMIT;
    if (p->min_local_share > 0.0) {
        uint64_t eff = sched_pool_effective_capacity(p);
        uint64_t kept = (uint64_t)(p->min_local_share * (double)eff);
        if (p->remote_bytes + req->size > eff - SLIO_MIN(kept, eff))
            return LOCAL_SHARE;
    }
    return 0;
}

static void basic_reason(const struct sched_ctx *ctx, int code, char *buf, size_t len)
{
    static const char *const texts[] = {
        [UNREPORTED] = "no longer reported by its agent",
        [NOT_READY] = "not ready",
        [CORDONED] = "cordoned",
        [THICK_POOL] = "thick pool for a thin volume",
        [THIN_POOL] = "thin pool for a thick volume",
        [NO_SPACE] = "insufficient space",
        [REMOTE_LIMIT] = "remote volume limit reached",
        [LOCAL_SHARE] = "would cut the share kept for local volumes",
    };
    snprintf(buf, len, "%s",
             code > 0 && code < (int)SLIO_ARRAY_SIZE(texts) ? texts[code] : "basic: unknown");
}

const struct sched_filter sched_filter_basic = {
    .name = "basic",
    .check = basic_check,
    .reason = basic_reason,
};
