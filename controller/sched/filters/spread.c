/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter "spread" (hard spread groups only; soft ones are the scorer
 * "spread"): the members of one group sit in distinct domains (node, rack
 * or zone). A member occupies the domain of its pool's node AND the domain
 * of its consumer node, since losing either loses that member; so the new
 * volume's pool must be in a free domain, and so must its consumer node
 * (when that is already taken no pool can help: every pool fails with the
 * reason saying so). A pool with no rack/zone label cannot be shown to be
 * apart from the others and is refused when spreading by rack/zone.
 * Counts come from the group's per-level index (volumes.c): O(1) per pool.
 */
#include <stdint.h>
#include <stdio.h>

#include "../sched_internal.h"

enum { SAME_DOMAIN = 1, NO_DOMAIN, CONSUMER_TAKEN };

static int spread_prepare(struct sched_ctx *ctx, void **state, struct slio_err *err)
{
    const struct sched_request *req = ctx->req;
    if (!req->spread_group || !*req->spread_group || !req->spread_hard)
        return SCHED_INACTIVE;
    bool taken = false;
    if (ctx->consumer_id != SCHED_ID_NONE) {
        uint32_t d = sched_node_domain(ctx->view, ctx->consumer_id, req->spread_level);
        taken = sched_group_occupied(ctx->group, req->spread_level, d) > 0;
    }
    *state = (void *)(uintptr_t)taken;
    return 0;
}

static int spread_check(const struct sched_ctx *ctx, const void *state, const struct sched_pool *p)
{
    if ((uintptr_t)state)
        return CONSUMER_TAKEN;
    enum sched_spread_level level = ctx->req->spread_level;
    uint32_t d = sched_pool_domain(ctx, p, level);
    if (d == SCHED_ID_NONE)
        return NO_DOMAIN;
    return sched_group_occupied(ctx->group, level, d) > 0 ? SAME_DOMAIN : 0;
}

static void spread_reason(const struct sched_ctx *ctx, int code, char *buf, size_t len)
{
    const char *level = sched_level_name(ctx->req->spread_level);
    const char *group = ctx->req->spread_group;
    switch (code) {
    case SAME_DOMAIN:
        snprintf(buf, len, "same %s as spread group \"%s\"", level, group);
        break;
    case NO_DOMAIN:
        snprintf(buf, len, "no %s label (spread group \"%s\")", level, group);
        break;
    default:
        if (ctx->req->spread_level == SCHED_SPREAD_NODE)
            snprintf(buf, len, "consumer node \"%s\" already used by spread group \"%s\"",
                     ctx->req->consumer_node, group);
        else
            snprintf(buf, len, "consumer node's %s already used by spread group \"%s\"", level,
                     group);
    }
}

const struct sched_filter sched_filter_spread = {
    .name = "spread",
    .prepare = spread_prepare,
    .check = spread_check,
    .reason = spread_reason,
};
