/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One decision: every pool through the filter chain (the first failing
 * filter's reason is counted), the survivors through the weighted scorers,
 * the best kept; under the view's lock, so choosing and reserving are one
 * step and concurrent placements can never both take the last bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

/* Pseudo-reasons counted by the core itself, after the filters' slots. */
enum { CORE_NOT_PINNED, CORE_CURRENT_POOL, CORE_KIND, CORE_REASONS };

struct eval {
    struct sched_ctx ctx;
    const struct sched_config *cfg;
    bool filter_on[SCHED_MAX_CHAIN], scorer_on[SCHED_MAX_CHAIN];
    /* the chain slots active for this request, so the per-pool loops do not test the rest */
    uint8_t filters[SCHED_MAX_CHAIN], scorers[SCHED_MAX_CHAIN];
    size_t n_filters, n_scorers;
    uint32_t counts[SCHED_MAX_CHAIN][SCHED_MAX_REASONS + 1];
    uint32_t core_counts[CORE_REASONS];
    uint32_t n_pools;
    const struct sched_pool *best;
    int64_t best_score;
};

/* Callbacks for sched_explain_pools() */
struct verdict_sink {
    void (*cb)(const struct sched_pool_verdict *verdict, void *userdata);
    void *userdata;
};

static int request_check(const struct sched_request *req, struct slio_err *err)
{
    const char *uuid = req->uuid && sched_name_ok(req->uuid, true) ? req->uuid : "?";
    if (!sched_name_ok(req->uuid, true)) {
        slio_err_set(err, "request: uuid missing or longer than %d bytes", SCHED_NAME_MAX);
        return -EINVAL;
    }
    if (req->size == 0 || (unsigned)req->position > SCHED_POS_MUST_REMOTE ||
        (unsigned)req->spread_level > SCHED_SPREAD_ZONE ||
        !sched_name_ok(req->consumer_node, false) || !sched_name_ok(req->spread_group, false) ||
        !sched_name_ok(req->pinned_pool, false)) {
        slio_err_set(err, "volume \"%s\": bad request (size 0, unknown enum or too long a name)",
                     uuid);
        return -EINVAL;
    }
    bool must = req->position == SCHED_POS_MUST_LOCAL || req->position == SCHED_POS_MUST_REMOTE;
    if (must && !(req->consumer_node && *req->consumer_node)) {
        slio_err_set(err, "volume \"%s\": position %s needs a consumer node", uuid,
                     req->position == SCHED_POS_MUST_LOCAL ? "MustLocal" : "MustRemote");
        return -EINVAL;
    }
    return 0;
}

static void eval_release(struct eval *e)
{
    for (size_t i = 0; i < e->cfg->n_filters; i++)
        if (e->filter_on[i] && e->cfg->filters[i]->release)
            e->cfg->filters[i]->release(e->ctx.state[i]);
    for (size_t i = 0; i < e->cfg->n_scorers; i++)
        if (e->scorer_on[i] && e->cfg->scorers[i]->release)
            e->cfg->scorers[i]->release(e->ctx.state[SCHED_MAX_CHAIN + i]);
}

static int plugin_prepare(struct eval *e,
                          int (*prepare)(struct sched_ctx *, void **, struct slio_err *),
                          size_t slot, bool *ret_on, struct slio_err *err)
{
    int r = prepare ? prepare(&e->ctx, &e->ctx.state[slot], err) : 0;
    if (r < 0)
        return r;
    *ret_on = r != SCHED_INACTIVE;
    return 0;
}

static int eval_init(struct eval *e, const struct sched_view *v, const struct sched_request *req,
                     struct slio_err *err)
{
    *e = (struct eval){.cfg = &v->cfg, .n_pools = v->n_pools, .best_score = INT64_MIN};
    e->ctx.view = v;
    e->ctx.req = req;
    e->ctx.consumer_id = sched_intern_find(&v->nodes, req->consumer_node);
    if (e->ctx.consumer_id == SCHED_ID_NONE && req->consumer_node && *req->consumer_node)
        e->ctx.consumer_id = SCHED_ID_FOREIGN;
    e->ctx.group = req->spread_group && *req->spread_group
                       ? sched_smap_get(&v->group_by_name, req->spread_group)
                       : NULL;
    int r = 0;
    for (size_t i = 0; i < e->cfg->n_filters && r == 0; i++)
        r = plugin_prepare(e, e->cfg->filters[i]->prepare, i, &e->filter_on[i], err);
    for (size_t i = 0; i < e->cfg->n_scorers && r == 0; i++)
        r = plugin_prepare(e, e->cfg->scorers[i]->prepare, SCHED_MAX_CHAIN + i, &e->scorer_on[i],
                           err);
    for (size_t i = 0; i < e->cfg->n_filters && r == 0; i++)
        if (e->filter_on[i])
            e->filters[e->n_filters++] = (uint8_t)i;
    for (size_t i = 0; i < e->cfg->n_scorers && r == 0; i++)
        if (e->scorer_on[i])
            e->scorers[e->n_scorers++] = (uint8_t)i;
    if (r < 0) {
        eval_release(e);
        slio_err_prefix(err, "volume \"%s\"", req->uuid);
        return r == -ENOMEM ? r : -EINVAL;
    }
    return 0;
}

/* Filters: -1 = passed, else the failing chain slot (code in *ret_code). */
static int run_filters(struct eval *e, const struct sched_pool *p, int *ret_code)
{
    for (size_t k = 0; k < e->n_filters; k++) {
        size_t i = e->filters[k];
        int code = e->cfg->filters[i]->check(&e->ctx, e->ctx.state[i], p);
        if (code != 0) {
            *ret_code = code < 1 || code > SCHED_MAX_REASONS ? SCHED_MAX_REASONS : code;
            return (int)i;
        }
    }
    return -1;
}

static int64_t run_scorers(struct eval *e, const struct sched_pool *p)
{
    int64_t total = 0;
    for (size_t k = 0; k < e->n_scorers; k++) {
        size_t i = e->scorers[k];
        total += (int64_t)e->cfg->weights[i] *
                 e->cfg->scorers[i]->score(&e->ctx, e->ctx.state[SCHED_MAX_CHAIN + i], p);
    }
    return total;
}

static void report(struct eval *e, const struct verdict_sink *sink, const struct sched_pool *p,
                   int slot, int code, int64_t score)
{
    char text[160] = "";
    struct sched_pool_verdict verdict = {.pool_id = p->id, .passed = slot < 0, .score = score};
    if (slot >= 0) {
        const struct sched_filter *f = e->cfg->filters[slot];
        f->reason(&e->ctx, code, text, sizeof(text));
        verdict.filter = f->name;
        verdict.reason = text;
    }
    sink->cb(&verdict, sink->userdata);
}

static void report_core(const struct verdict_sink *sink, const struct sched_pool *p,
                        const char *reason)
{
    if (sink)
        sink->cb(&(struct sched_pool_verdict){.pool_id = p->id, .filter = "core", .reason = reason},
                 sink->userdata);
}

static const char *kind_reason(const struct sched_request *req)
{
    return req->thin ? "thick pool for a thin volume" : "thin pool for a thick volume";
}

static void eval_pool(struct eval *e, const struct sched_pool *p, const struct verdict_sink *sink)
{
    if (p == e->ctx.exclude) {
        e->core_counts[CORE_CURRENT_POOL]++;
        if (sink)
            sink->cb(&(struct sched_pool_verdict){.pool_id = p->id,
                                                  .filter = "core",
                                                  .reason = "current pool of the volume"},
                     sink->userdata);
        return;
    }
    int code = 0, slot = run_filters(e, p, &code);
    if (slot >= 0) {
        e->counts[slot][code]++;
        if (sink)
            report(e, sink, p, slot, code, 0);
        return;
    }
    int64_t score = run_scorers(e, p);
    if (score > e->best_score) {
        e->best = p;
        e->best_score = score;
    }
    if (sink)
        report(e, sink, p, -1, 0, score);
}

static void eval_run(struct eval *e, const struct sched_view *v, const struct verdict_sink *sink)
{
    const struct sched_request *req = e->ctx.req;
    if (req->pinned_pool && *req->pinned_pool) {
        /* a clone/restore source: only one pool is a candidate, the others are counted as such */
        const struct sched_pool *p = sched_smap_get(&v->pool_by_id, req->pinned_pool);
        for (int k = 0; sink && k < 2; k++)
            for (uint32_t i = 0; i < v->kinds[k].n; i++)
                if (v->kinds[k].pools[i] != p)
                    report_core(sink, v->kinds[k].pools[i], "not the pinned pool");
        e->core_counts[CORE_NOT_PINNED] = v->n_pools - (p ? 1 : 0);
        if (p)
            eval_pool(e, p, sink);
        return;
    }
    /* pools of the other kind (thin/thick) are never candidates: counted without a look */
    const struct sched_pool_list *other = &v->kinds[!req->thin], *same = &v->kinds[req->thin];
    e->core_counts[CORE_KIND] = other->n;
    for (uint32_t i = 0; sink && i < other->n; i++)
        report_core(sink, other->pools[i], kind_reason(req));
    for (uint32_t i = 0; i < same->n; i++)
        eval_pool(e, same->pools[i], sink);
}

struct reason_count {
    uint32_t count;
    uint32_t order; /* chain order, for a stable sort */
    char text[160];
};

static int reason_cmp(const void *a, const void *b)
{
    const struct reason_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* "0/12 pools: 7 insufficient space, 5 same rack as spread group \"mysql-a\"" */
static void explain_failure(struct eval *e, struct slio_err *err)
{
    struct reason_count rs[SCHED_MAX_CHAIN * SCHED_MAX_REASONS + CORE_REASONS];
    size_t n = 0;
    if (e->core_counts[CORE_NOT_PINNED]) {
        rs[n] = (struct reason_count){.count = e->core_counts[CORE_NOT_PINNED], .order = 0};
        snprintf(rs[n++].text, sizeof(rs[0].text), "not the pinned pool \"%s\"",
                 e->ctx.req->pinned_pool);
    }
    if (e->core_counts[CORE_KIND]) {
        rs[n] = (struct reason_count){.count = e->core_counts[CORE_KIND], .order = 2};
        snprintf(rs[n++].text, sizeof(rs[0].text), "%s", kind_reason(e->ctx.req));
    }
    if (e->core_counts[CORE_CURRENT_POOL]) {
        rs[n] = (struct reason_count){.count = e->core_counts[CORE_CURRENT_POOL], .order = 1};
        snprintf(rs[n++].text, sizeof(rs[0].text), "current pool of the volume");
    }
    for (size_t f = 0; f < e->cfg->n_filters; f++)
        for (int code = 1; code <= SCHED_MAX_REASONS; code++) {
            if (!e->counts[f][code])
                continue;
            rs[n] = (struct reason_count){.count = e->counts[f][code],
                                          .order = (uint32_t)(3 + f * SCHED_MAX_REASONS + code)};
            e->cfg->filters[f]->reason(&e->ctx, code, rs[n].text, sizeof(rs[n].text));
            n++;
        }
    qsort(rs, n, sizeof(rs[0]), reason_cmp);

    char buf[SLIO_ERR_TEXT_MAX];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "0/%u pools%s", e->n_pools, n ? ":" : "");
    for (size_t i = 0; i < n && len < sizeof(buf); i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s %u %s", i ? "," : "", rs[i].count,
                                rs[i].text);
    slio_err_set(err, "volume \"%s\": %s", e->ctx.req->uuid, buf);
}

static void decision_fill(const struct eval *e, struct sched_decision *ret)
{
    const struct sched_pool *p = e->best;
    *ret =
        (struct sched_decision){.local = sched_pool_is_local(&e->ctx, p), .score = e->best_score};
    snprintf(ret->pool_id, sizeof(ret->pool_id), "%s", p->id);
    snprintf(ret->node, sizeof(ret->node), "%s",
             sched_intern_name(&e->ctx.view->nodes, p->node_id));
}

/*
 * Evaluate req on the locked view. For a volume the view already holds (a
 * move), its own counts are taken out for the time of the evaluation.
 */
static int decide_locked(struct sched_view *v, const struct sched_request *req,
                         const struct verdict_sink *sink, struct eval *e, struct slio_err *err)
{
    int r = request_check(req, err);
    if (r < 0)
        return r;
    struct sched_vol *self = sched_smap_get(&v->vol_by_uuid, req->uuid);
    if (self)
        sched_vol_unlink(v, self);
    r = eval_init(e, v, req, err);
    if (r == 0) {
        e->ctx.exclude = self ? self->pool : NULL;
        eval_run(e, v, sink);
        eval_release(e);
    }
    if (self) {
        /* its group's map slots are still allocated: linking back cannot fail */
        int relinked = sched_vol_link(v, self);
        (void)relinked;
    }
    if (r == 0 && !e->best) {
        explain_failure(e, err);
        r = -ENOSPC;
    }
    return r;
}

static int reserve_locked(struct sched_view *v, const struct sched_request *req,
                          const struct eval *e, struct slio_err *err)
{
    struct sched_vol *vol;
    int r = sched_vol_new(v, req->uuid, (struct sched_pool *)e->best, req->size, req->thin,
                          req->spread_group, req->consumer_node, &vol);
    if (r == 0 && (r = sched_vol_insert(v, vol)) < 0)
        sched_vol_free(vol);
    if (r < 0)
        slio_err_set(err, "volume \"%s\": out of memory reserving it", req->uuid);
    return r;
}

int sched_place(struct sched_view *v, const struct sched_request *req, struct sched_decision *ret,
                struct slio_err *err)
{
    struct eval e;
    pthread_mutex_lock(&v->lock);
    int r = req->uuid && sched_smap_get(&v->vol_by_uuid, req->uuid) ? -EEXIST : 0;
    if (r < 0)
        slio_err_set(err, "volume \"%s\" is already placed", req->uuid);
    if (r == 0)
        r = decide_locked(v, req, NULL, &e, err);
    if (r == 0)
        r = reserve_locked(v, req, &e, err);
    if (r == 0)
        decision_fill(&e, ret);
    pthread_mutex_unlock(&v->lock);
    return r;
}

int sched_explain(struct sched_view *v, const struct sched_request *req, struct sched_decision *ret,
                  struct slio_err *err)
{
    struct eval e;
    pthread_mutex_lock(&v->lock);
    int r = decide_locked(v, req, NULL, &e, err);
    if (r == 0)
        decision_fill(&e, ret);
    pthread_mutex_unlock(&v->lock);
    return r;
}

int sched_explain_pools(struct sched_view *v, const struct sched_request *req,
                        void (*cb)(const struct sched_pool_verdict *verdict, void *userdata),
                        void *userdata, struct slio_err *err)
{
    struct eval e;
    struct verdict_sink sink = {.cb = cb, .userdata = userdata};
    pthread_mutex_lock(&v->lock);
    int r = decide_locked(v, req, &sink, &e, err);
    pthread_mutex_unlock(&v->lock);
    return r;
}

/* ---- helpers for plugins */

bool sched_pool_is_local(const struct sched_ctx *ctx, const struct sched_pool *pool)
{
    return ctx->consumer_id != SCHED_ID_NONE && pool->node_id == ctx->consumer_id;
}

uint32_t sched_pool_domain(const struct sched_ctx *ctx, const struct sched_pool *pool,
                           enum sched_spread_level level)
{
    return sched_node_domain(ctx->view, pool->node_id, level);
}

uint32_t sched_group_occupied(const struct sched_group *g, enum sched_spread_level level,
                              uint32_t domain)
{
    return g && domain != SCHED_ID_NONE ? sched_cmap_get(&g->occupied[level], domain) : 0;
}
