/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scorer "spread": for a request in a spread group (soft or hard), the
 * fewer members already occupy the pool's domain at the group's level, the
 * higher the score; a tenth of the scale also prefers fewer members on the
 * pool's node, so a zone-spread group still spreads over nodes inside a zone.
 * A pool with an unknown domain counts as one already there.
 */
#include "../sched_internal.h"

static int spread_prepare(struct sched_ctx *ctx, void **state, struct slio_err *err)
{
    return ctx->group && ctx->group->n_members > 0 ? 0 : SCHED_INACTIVE;
}

static int64_t inverse(uint32_t members, int64_t scale)
{
    return scale / (1 + (int64_t)members);
}

static int64_t spread_score(const struct sched_ctx *ctx, const void *state,
                            const struct sched_pool *p)
{
    enum sched_spread_level level = ctx->req->spread_level;
    uint32_t d = sched_pool_domain(ctx, p, level);
    uint32_t at_level = d == SCHED_ID_NONE ? 1 : sched_group_occupied(ctx->group, level, d);
    uint32_t at_node = sched_group_occupied(ctx->group, SCHED_SPREAD_NODE, p->node_id);
    return inverse(at_level, SCHED_SCORE_MAX / 10 * 9) + inverse(at_node, SCHED_SCORE_MAX / 10);
}

const struct sched_scorer sched_scorer_spread = {
    .name = "spread",
    .prepare = spread_prepare,
    .score = spread_score,
};
