/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How a filter or a scorer plugs into the scheduler (docs/plugins.md).
 *
 * A placement evaluates, for one request, every pool: each filter of the
 * configured chain in order, the first that fails names the pool's reason;
 * then every scorer on the pools that passed. Each plugin is one file under
 * filters/ or scores/ defining one const struct, listed once in registry.c.
 *
 * Per request, prepare() (optional) looks at the request once: it may
 * return SCHED_INACTIVE to be skipped for this request (no selector, no
 * spread group...), or keep per-request state in ctx->state[slot]. check()
 * and score() run per pool and must be cheap: compare ids, not strings.
 * All callbacks run under the view's lock; they must not call sched_*().
 */
#ifndef SCHED_PLUGIN_H
#define SCHED_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched.h"

struct sched_pool;
struct sched_view;
struct sched_group;

/* Longest filter chain and scorer list. */
#define SCHED_MAX_CHAIN 16
/* What a scorer returns at best; the decision score is sum(weight * score). */
#define SCHED_SCORE_MAX 1000000
/* prepare(): this plugin has nothing to say about this request. */
#define SCHED_INACTIVE 1
/* Reason codes of one filter: 1..SCHED_MAX_REASONS (0 = pass). */
#define SCHED_MAX_REASONS 8

/* A label selector with its strings turned into interned ids (for check()). */
struct sched_prepared_term {
    uint32_t key; /* SCHED_ID_NONE: no pool has this key */
    enum sched_selector_op op;
    const uint32_t *values; /* known ids only: an unknown value matches no label */
    size_t n_values;
};

struct sched_prepared_selector {
    struct sched_prepared_term *terms;
    size_t n_terms;
};

/* One request being evaluated. */
struct sched_ctx {
    const struct sched_view *view;
    const struct sched_request *req;
    uint32_t consumer_id;             /* node id, SCHED_ID_NONE = unknown */
    const struct sched_group *group;  /* the request's spread group, NULL if none/new */
    const struct sched_pool *exclude; /* explain of a move: the volume's current pool */
    void *state[2 * SCHED_MAX_CHAIN]; /* filters then scorers, owned by the plugin */
};

struct sched_filter {
    const char *name;
    /* 0, SCHED_INACTIVE, or -errno (err says why; the request fails -EINVAL). Optional. */
    int (*prepare)(struct sched_ctx *ctx, void **state, struct slio_err *err);
    void (*release)(void *state); /* optional */
    /* 0 = pass, else a reason code 1..SCHED_MAX_REASONS */
    int (*check)(const struct sched_ctx *ctx, const void *state, const struct sched_pool *pool);
    /* The text of a reason, e.g. "same rack as spread group \"mysql-a\"". */
    void (*reason)(const struct sched_ctx *ctx, int code, char *buf, size_t len);
};

struct sched_scorer {
    const char *name;
    int (*prepare)(struct sched_ctx *ctx, void **state, struct slio_err *err); /* optional */
    void (*release)(void *state);                                              /* optional */
    /* 0..SCHED_SCORE_MAX, higher is better */
    int64_t (*score)(const struct sched_ctx *ctx, const void *state, const struct sched_pool *pool);
};

/* Helpers for plugins (view.c / place.c). */
/* What a new volume of this pool's kind could still take, in bytes. */
uint64_t sched_pool_available(const struct sched_pool *pool);
/* capacity - reserved, thin: capacity * overprovision - reserved. */
uint64_t sched_pool_effective_capacity(const struct sched_pool *pool);
bool sched_pool_is_local(const struct sched_ctx *ctx, const struct sched_pool *pool);
/* The pool's node's domain at a level (SCHED_ID_NONE: unknown rack/zone). */
uint32_t sched_pool_domain(const struct sched_ctx *ctx, const struct sched_pool *pool,
                           enum sched_spread_level level);
/* Members of ctx->group occupying a domain at a level. */
uint32_t sched_group_occupied(const struct sched_group *g, enum sched_spread_level level,
                              uint32_t domain);
/* Node selector / pool selector prepared on ctx (NULL when empty). */
int sched_selector_prepare(const struct sched_ctx *ctx, const struct sched_selector *sel,
                           struct sched_prepared_selector **ret);
void sched_selector_free(struct sched_prepared_selector *ps);
bool sched_selector_match_node(const struct sched_prepared_selector *ps,
                               const struct sched_pool *pool);
bool sched_selector_match_pool(const struct sched_prepared_selector *ps,
                               const struct sched_pool *pool);
const char *sched_level_name(enum sched_spread_level level);

#endif
