/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scorer "position_advice": PreferLocal gives the consumer node's pools the
 * full score and the others none, PreferRemote the reverse. Any other advice
 * (or no consumer node) leaves it out of the decision. Its weight against
 * least_allocated decides how strong the preference is: with equal weights
 * a local pool wins unless it is fuller by more than the whole scale, i.e.
 * the preference is strict among pools that pass the filters.
 */
#include "../sched_internal.h"

static int position_advice_prepare(struct sched_ctx *ctx, void **state, struct slio_err *err)
{
    enum sched_position pos = ctx->req->position;
    if (ctx->req->consumer_node == NULL ||
        (pos != SCHED_POS_PREFER_LOCAL && pos != SCHED_POS_PREFER_REMOTE))
        return SCHED_INACTIVE;
    return 0;
}

static int64_t position_advice_score(const struct sched_ctx *ctx, const void *state,
                                     const struct sched_pool *p)
{
    bool local = sched_pool_is_local(ctx, p);
    bool want_local = ctx->req->position == SCHED_POS_PREFER_LOCAL;
    return local == want_local ? SCHED_SCORE_MAX : 0;
}

const struct sched_scorer sched_scorer_position_advice = {
    .name = "position_advice",
    .prepare = position_advice_prepare,
    .score = position_advice_score,
};
