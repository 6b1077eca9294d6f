/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scorer "most_allocated": bin-pack. The pool that would be fullest after
 * placing the volume scores highest (the mirror of least_allocated), which
 * keeps whole pools empty for large volumes or for switching nodes off.
 */
#include "../sched_internal.h"

static int64_t most_allocated_score(const struct sched_ctx *ctx, const void *state,
                                    const struct sched_pool *p)
{
    return sched_allocated_after_ppm(ctx, p);
}

const struct sched_scorer sched_scorer_most_allocated = {
    .name = "most_allocated",
    .score = most_allocated_score,
};
