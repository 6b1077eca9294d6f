/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter "affinity": the request's node selector matches the pool's node
 * labels (which include topology.sliteio.io/node|rack|zone) and its pool
 * selector the pool's own labels; Kubernetes semantics (In, NotIn, Exists,
 * DoesNotExist; NotIn and DoesNotExist match a pool without the key).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../sched_internal.h"

enum { NODE_SELECTOR = 1, POOL_SELECTOR };

struct affinity_state {
    struct sched_prepared_selector *node, *pool;
};

static void affinity_release(void *state)
{
    struct affinity_state *s = state;
    if (!s)
        return;
    sched_selector_free(s->node);
    sched_selector_free(s->pool);
    free(s);
}

static int affinity_prepare(struct sched_ctx *ctx, void **ret_state, struct slio_err *err)
{
    const struct sched_request *req = ctx->req;
    if (req->node_selector.n_terms == 0 && req->pool_selector.n_terms == 0)
        return SCHED_INACTIVE;
    struct affinity_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    int r = sched_selector_prepare(ctx, &req->node_selector, &s->node);
    if (r == 0)
        r = sched_selector_prepare(ctx, &req->pool_selector, &s->pool);
    if (r < 0) {
        affinity_release(s);
        if (r == -EINVAL)
            slio_err_set(err, "bad selector (key missing, too many terms/values, unknown "
                              "operator or too long a string)");
        return r;
    }
    *ret_state = s;
    return 0;
}

static int affinity_check(const struct sched_ctx *ctx, const void *state,
                          const struct sched_pool *p)
{
    const struct affinity_state *s = state;
    if (!sched_selector_match_node(s->node, p))
        return NODE_SELECTOR;
    if (!sched_selector_match_pool(s->pool, p))
        return POOL_SELECTOR;
    return 0;
}

static void affinity_reason(const struct sched_ctx *ctx, int code, char *buf, size_t len)
{
    snprintf(buf, len, "%s",
             code == NODE_SELECTOR ? "node labels do not match the node selector"
                                   : "pool labels do not match the pool selector");
}

const struct sched_filter sched_filter_affinity = {
    .name = "affinity",
    .prepare = affinity_prepare,
    .release = affinity_release,
    .check = affinity_check,
    .reason = affinity_reason,
};
