/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter "position": the two hard position advices. MustLocal keeps only
 * pools on the consumer node, MustRemote only pools elsewhere. (PreferLocal
 * and PreferRemote are the scorer position_advice's business; a request
 * with a Must* advice and no consumer node is refused before any pool is
 * looked at.)
 */
#include <stdio.h>

#include "../sched_internal.h"

enum { NOT_LOCAL = 1, LOCAL };

static int position_prepare(struct sched_ctx *ctx, void **state, struct slio_err *err)
{
    enum sched_position pos = ctx->req->position;
    return pos == SCHED_POS_MUST_LOCAL || pos == SCHED_POS_MUST_REMOTE ? 0 : SCHED_INACTIVE;
}

static int position_check(const struct sched_ctx *ctx, const void *state,
                          const struct sched_pool *p)
{
    bool local = sched_pool_is_local(ctx, p);
    if (ctx->req->position == SCHED_POS_MUST_LOCAL)
        return local ? 0 : NOT_LOCAL;
    return local ? LOCAL : 0;
}

static void position_reason(const struct sched_ctx *ctx, int code, char *buf, size_t len)
{
    if (code == NOT_LOCAL)
        snprintf(buf, len, "not on consumer node \"%s\" (MustLocal)", ctx->req->consumer_node);
    else
        snprintf(buf, len, "on consumer node \"%s\" (MustRemote)", ctx->req->consumer_node);
}

const struct sched_filter sched_filter_position = {
    .name = "position",
    .prepare = position_prepare,
    .check = position_check,
    .reason = position_reason,
};
