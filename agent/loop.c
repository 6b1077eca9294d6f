/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The poller (long-polls the desired state by revision), the reconciler (one
 * pass per new desired state, resync tick or retry) and the housekeeper
 * (the target's I/O counters every few seconds; thin-pool auto-extend and pool
 * figures every autoextend_interval).
 *
 * While the controller cannot be reached the reconciler only looks (so
 * /metrics stays current) and changes nothing: no create, no export change,
 * no delete — volumes keep serving as they are.
 */
#define SLIO_LOG_COMPONENT "agent"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "reconcile/apply.h"
#include "reconcile/plan.h"
#include "reconcile/report.h"
#include "slio/log.h"

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- poller ---------------------------------------------------------------------- */

static int fetch_desired(struct agent *a, int64_t rev, struct agent_desired *ret,
                         struct slio_err *err)
{
    _cleanup_json_ json_t *body = NULL;
    char path[256];
    int r;

    if (rev < 0)
        snprintf(path, sizeof(path), "/v1/agent/nodes/%s/desired", a->cfg->node.name);
    else
        snprintf(path, sizeof(path),
                 "/v1/agent/nodes/%s/desired?revision=%" PRId64 "&wait=%" PRIu64 "s",
                 a->cfg->node.name, rev, a->cfg->controller.long_poll_us / 1000000);
    r = slio_http_call_ok(a->http, "GET", path, NULL, &body, err);
    if (r == 0)
        r = agent_desired_decode(body, ret, err);
    return r;
}

static void hand_over(struct agent *a, struct agent_desired *d)
{
    struct agent_desired *copy = malloc(sizeof(*copy));

    if (!copy) {
        agent_desired_free(d);
        return;
    }
    *copy = *d;
    pthread_mutex_lock(&a->lock);
    if (a->pending) {
        agent_desired_free(a->pending);
        free(a->pending);
    }
    a->pending = copy;
    a->controller_ok = true;
    pthread_cond_broadcast(&a->wake);
    pthread_mutex_unlock(&a->lock);
}

void *agent_poll_main(void *arg)
{
    struct agent *a = arg;
    struct slio_ratelimit rl = SLIO_RATELIMIT_INIT(60000000, 3);
    int64_t rev = -1;
    bool stop = false;

    while (!stop) {
        struct slio_err err = {{0}};
        struct agent_desired d;
        int r = fetch_desired(a, rev, &d, &err);
        if (r < 0) {
            atomic_fetch_add(&a->metrics.desired_fetch_errors, 1);
            log_ratelimited(&rl, SLIO_LOG_WARN, "node \"%s\": desired state: %s", a->cfg->node.name,
                            err.text);
        } else if (d.revision != rev) {
            log_debug("node \"%s\": desired state revision %" PRId64, a->cfg->node.name,
                      d.revision);
            rev = d.revision;
            hand_over(a, &d);
        } else {
            agent_desired_free(&d);
        }
        pthread_mutex_lock(&a->lock);
        if (r == 0 && !a->controller_ok) {
            a->kick = true; /* back in touch: act on the state we hold */
            pthread_cond_broadcast(&a->wake);
        }
        a->controller_ok = r == 0;
        stop = r < 0 ? agent_wait_locked(a, a->cfg->controller.retry_us) : a->stopping;
        pthread_mutex_unlock(&a->lock);
    }
    return NULL;
}

/* ---- reconciler ------------------------------------------------------------------ */

struct pass {
    struct agent_volume_list actual;
    struct agent_export_list exports;
    bool exports_known;
    struct agent_plan plan;
};

static int discover(struct agent *a, struct pass *p)
{
    struct slio_err err = {{0}};
    uint64_t t0 = now_us();
    int r;

    r = agent_engine_list_volumes(a->engine, &p->actual, &err);
    agent_metrics_observe_engine(&a->metrics, "list_volumes", (double)(now_us() - t0) / 1e6);
    if (r < 0) {
        log_warn("pool \"%s\": cannot list volumes: %s", a->cfg->pool.name, err.text);
        return r;
    }
    r = agent_exporter_discover(a->exporter, &p->exports, &err);
    if (r < 0)
        log_warn("%s (exports not judged this pass)", err.text);
    p->exports_known = r == 0;
    return 0;
}

static void report(struct agent *a, const struct agent_desired *d, const struct pass *p)
{
    _cleanup_json_ json_t *body = agent_report_status(a->cfg, d->revision, &p->plan);
    struct slio_err err = {{0}};
    char path[256];

    snprintf(path, sizeof(path), "/v1/agent/nodes/%s/status", a->cfg->node.name);
    if (!body || slio_http_call_ok(a->http, "POST", path, body, NULL, &err) < 0) {
        atomic_fetch_add(&a->metrics.status_report_errors, 1);
        log_warn("node \"%s\": status report: %s", a->cfg->node.name,
                 body ? err.text : "out of memory");
    }
}

static void publish(struct agent *a, const struct agent_desired *d, struct pass *p)
{
    uint64_t snaps = 0, exported = 0;

    for (size_t i = 0; i < p->actual.n; i++)
        snaps += p->actual.items[i].kind == AGENT_VOL_SNAPSHOT;
    for (size_t i = 0; i < p->exports.n; i++)
        exported += agent_export_state_complete(&p->exports.items[i]);
    pthread_mutex_lock(&a->lock);
    agent_volume_list_free(&a->local);
    a->local = p->actual;
    p->actual = (struct agent_volume_list){0};
    a->n_volumes = a->local.n - snaps;
    a->n_snapshots = snaps;
    a->n_exported = exported;
    a->n_orphans = d ? p->plan.n_orphans : a->n_orphans;
    if (d)
        a->applied_revision = d->revision;
    pthread_mutex_unlock(&a->lock);
}

static void pass_free(struct pass *p)
{
    agent_plan_free(&p->plan);
    agent_export_list_free(&p->exports);
    agent_volume_list_free(&p->actual);
}

/* Look again after changes, so /metrics and the next plan see the result. */
static void rediscover(struct agent *a, struct pass *p)
{
    agent_export_list_free(&p->exports);
    agent_volume_list_free(&p->actual);
    if (discover(a, p) < 0)
        p->actual = (struct agent_volume_list){0};
}

/* One pass; d NULL: look only. Returns the number of failed actions (or 1 if blind). */
static size_t run_pass(struct agent *a, const struct agent_desired *d)
{
    struct agent_apply_ctx ctx = {
        .engine = a->engine,
        .exporter = a->exporter,
        .wq = a->wq,
        .discard_on_delete = a->cfg->reconcile.discard_on_delete,
        .observe = agent_observe_engine,
    };
    struct pass p = {0};
    size_t failed = 0;

    atomic_fetch_add(&a->metrics.reconcile_passes, 1);
    if (discover(a, &p) < 0 || (d && !p.exports_known) ||
        agent_plan_make(d, a->cfg->pool.name, &p.actual, &p.exports, &p.plan) < 0) {
        /* Without the full picture nothing is changed: an export that cannot be seen
         * must not be judged missing, a volume that cannot be listed not judged absent. */
        atomic_fetch_add(&a->metrics.reconcile_errors, 1);
        pass_free(&p);
        return 1;
    }
    if (p.plan.n_actions > 0) {
        uint64_t t0 = now_us();
        failed = agent_apply_plan(&ctx, &p.plan);
        slio_prom_hist_observe(&a->metrics.apply_seconds, (double)(now_us() - t0) / 1e6);
        atomic_fetch_add(&a->metrics.reconcile_actions, p.plan.n_actions);
        atomic_fetch_add(&a->metrics.reconcile_errors, failed);
    }
    if (d)
        report(a, d, &p);
    if (p.plan.n_actions > 0) {
        agent_plan_free(&p.plan);
        rediscover(a, &p);
        agent_refresh_pool(a);
    }
    publish(a, d, &p);
    pass_free(&p);
    return failed;
}

/* Wait for a new desired state, the stop, or the deadline. Lock held. */
static void wait_for_work(struct agent *a, uint64_t us)
{
    uint64_t deadline = now_us() + us;

    while (!a->stopping && !a->pending && !a->kick) {
        uint64_t now = now_us();
        if (now >= deadline)
            break;
        agent_wait_locked(a, deadline - now);
    }
}

void *agent_reconcile_main(void *arg)
{
    struct agent *a = arg;
    struct agent_desired *cur = NULL;
    size_t failed;
    bool act;

    pthread_mutex_lock(&a->lock);
    while (!a->stopping) {
        if (a->pending) {
            agent_desired_free(cur);
            free(cur);
            cur = TAKE_PTR(a->pending);
        }
        a->kick = false;
        act = cur && a->controller_ok;
        pthread_mutex_unlock(&a->lock);
        failed = run_pass(a, act ? cur : NULL);
        pthread_mutex_lock(&a->lock);
        wait_for_work(a, failed ? a->cfg->controller.retry_us : a->cfg->reconcile.resync_us);
    }
    pthread_mutex_unlock(&a->lock);
    agent_desired_free(cur);
    free(cur);
    return NULL;
}

/* ---- housekeeper ------------------------------------------------------------------ */

static void autoextend(struct agent *a)
{
    struct agent_autoextend_result res;
    struct slio_err err = {{0}};
    uint64_t t0 = now_us();
    int r;

    r = agent_engine_thin_autoextend(a->engine, NULL, &res, &err);
    agent_metrics_observe_engine(&a->metrics, "thin_autoextend", (double)(now_us() - t0) / 1e6);
    if (r < 0) {
        log_warn("pool \"%s\": thin pool check failed: %s", a->cfg->pool.name, err.text);
        return;
    }
    if (res.extended) {
        atomic_fetch_add(&a->metrics.thin_extends, 1);
        log_info("pool \"%s\": thin pool extended from %" PRIu64 " to %" PRIu64 " bytes",
                 a->cfg->pool.name, res.old_size, res.new_size);
    }
    if (res.level >= AGENT_THIN_WARNING) {
        atomic_fetch_add(&a->metrics.thin_warnings, 1);
        log_warn("pool \"%s\": thin pool %s: %s", a->cfg->pool.name,
                 agent_thin_level_name(res.level), res.message);
    }
    pthread_mutex_lock(&a->lock);
    a->thin_level = res.level;
    a->pool.thin_level = res.level; /* reported with the next heartbeat */
    pthread_mutex_unlock(&a->lock);
}

/* The exported volumes' I/O counters, for /metrics to show without calling the target. */
static void refresh_iostat(struct agent *a)
{
    struct agent_iostat_list l = {0};
    struct slio_err err = {{0}};
    int r = agent_exporter_iostat(a->exporter, &l, &err);

    pthread_mutex_lock(&a->lock);
    agent_iostat_list_free(&a->iostat);
    a->iostat = l;
    a->iostat_valid = r == 0;
    pthread_mutex_unlock(&a->lock);
    if (r < 0)
        log_debug("target I/O counters: %s", err.text);
}

void *agent_housekeeping_main(void *arg)
{
    struct agent *a = arg;
    uint64_t next_extend = now_us() + a->cfg->reconcile.autoextend_interval_us;

    pthread_mutex_lock(&a->lock);
    while (!a->stopping) {
        uint64_t deadline = now_us() + SLIO_MIN(AGENT_IOSTAT_PERIOD_US,
                                                next_extend - SLIO_MIN(next_extend, now_us()));
        while (!a->stopping && now_us() < deadline)
            agent_wait_locked(a, deadline - now_us());
        if (a->stopping)
            break;
        pthread_mutex_unlock(&a->lock);
        refresh_iostat(a);
        if (now_us() >= next_extend) {
            autoextend(a);
            agent_refresh_pool(a);
            next_extend = now_us() + a->cfg->reconcile.autoextend_interval_us;
        }
        pthread_mutex_lock(&a->lock);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}
