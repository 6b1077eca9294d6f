/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scorer "least_allocated": spread the load. The pool whose allocated share
 * of its effective capacity (virtual for thin pools) would be lowest after
 * placing the volume scores highest: SCHED_SCORE_MAX * (1 - share after).
 * The fine scale (0..1,000,000) keeps pools a few GiB apart distinguishable.
 */
#include "../sched_internal.h"

/* Allocated share after placing the request, in millionths (capped at 1,000,000). */
int64_t sched_allocated_after_ppm(const struct sched_ctx *ctx, const struct sched_pool *p)
{
    if (p->effective_capacity == 0)
        return SCHED_SCORE_MAX;
    double share = ((double)p->allocated + (double)ctx->req->size) * p->inv_effective;
    return share >= 1.0 ? SCHED_SCORE_MAX : (int64_t)(share * SCHED_SCORE_MAX);
}

static int64_t least_allocated_score(const struct sched_ctx *ctx, const void *state,
                                     const struct sched_pool *p)
{
    return SCHED_SCORE_MAX - sched_allocated_after_ppm(ctx, p);
}

const struct sched_scorer sched_scorer_least_allocated = {
    .name = "least_allocated",
    .score = least_allocated_score,
};
