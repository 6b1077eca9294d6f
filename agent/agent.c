/* SPDX-License-Identifier: Apache-2.0 */
/* slio-agent: setting up, starting and stopping the threads (see agent.h). */
#define SLIO_LOG_COMPONENT "agent"

#include <string.h>
#include <time.h>

#include "agent.h"
#include "slio/log.h"

/* The observers have no context argument; one agent runs per process. */
static struct agent_metrics *observed_metrics;

void agent_observe_engine(const char *op, double seconds)
{
    agent_metrics_observe_engine(observed_metrics, op, seconds);
}

static void observe_target(const char *method, double seconds)
{
    agent_metrics_observe_target(observed_metrics, method, seconds);
}

/* Every lvm/losetup/... command an engine runs (the engine's exec observer). */
static void observe_command(void *ctx, const char *command, uint64_t usec, bool ok)
{
    agent_metrics_observe_command(ctx, command, (double)usec / 1e6, ok);
}

bool agent_wait_locked(struct agent *a, uint64_t us)
{
    struct timespec ts;

    if (a->stopping)
        return true;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(us / 1000000);
    ts.tv_nsec += (long)(us % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&a->wake, &a->lock, &ts);
    return a->stopping;
}

void agent_refresh_pool(struct agent *a)
{
    struct agent_pool_status ps;
    struct slio_err err = {{0}};
    struct timespec t0, t1;
    int r;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = agent_engine_pool_status(a->engine, &ps, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    agent_metrics_observe_engine(&a->metrics, "pool_status",
                                 (double)(t1.tv_sec - t0.tv_sec) +
                                     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (r < 0) {
        log_warn("pool \"%s\": cannot read its figures: %s", a->cfg->pool.name, err.text);
        return;
    }
    pthread_mutex_lock(&a->lock);
    ps.thin_level = a->thin_level; /* the housekeeper's, kept across refreshes */
    a->pool = ps;
    a->pool_valid = true;
    pthread_mutex_unlock(&a->lock);
}

static int open_exporter(struct agent *a, struct slio_err *err)
{
    const struct agent_config *c = a->cfg;
    struct agent_exporter_opts o = {
        .socket = c->target.socket,
        .spdk = c->target.kind == AGENT_TARGET_SPDK,
        .timeout_ms = (int)(c->target.timeout_us / 1000),
        .addr = {.ipv6 = c->export_.adrfam == AGENT_ADRFAM_IPV6},
        .observe = observe_target,
        .keys_dir = c->target.keys_dir,
    };
    int r;

    snprintf(o.addr.traddr, sizeof(o.addr.traddr), "%s", c->export_.traddr);
    snprintf(o.addr.trsvcid, sizeof(o.addr.trsvcid), "%u", (unsigned)c->export_.trsvcid);
    r = agent_exporter_slio_tgt_new(&o, &a->exporter);
    if (r < 0)
        slio_err_set(err, "target \"%s\": %s", c->target.socket, strerror(-r));
    return r;
}

static int open_client(struct agent *a, struct slio_err *err)
{
    const struct agent_config *c = a->cfg;
    _cleanup_free_ char *token = NULL;
    struct slio_http_client_opts o = {
        .urls = (const char *const *)c->controller.urls,
        .n_urls = c->controller.n_urls,
        /* the long-poll waits up to long_poll on the server: allow for it */
        .timeout_ms = (uint32_t)((c->controller.timeout_us + c->controller.long_poll_us) / 1000),
    };
    int r;

    r = agent_config_read_token(c, &token, err);
    if (r < 0)
        return r;
    o.token = token;
    o.ca_file = c->controller.ca_file;
    return slio_http_client_new(&o, &a->http, err);
}

static int start_threads(struct agent *a, struct slio_err *err)
{
    struct {
        pthread_t *t;
        void *(*fn)(void *);
        const char *name;
    } threads[] = {
        {&a->heartbeat_thread, agent_heartbeat_main, "heartbeat"},
        {&a->poll_thread, agent_poll_main, "poller"},
        {&a->reconcile_thread, agent_reconcile_main, "reconciler"},
        {&a->housekeeping_thread, agent_housekeeping_main, "housekeeper"},
    };

    for (size_t i = 0; i < SLIO_ARRAY_SIZE(threads); i++) {
        int r = -pthread_create(threads[i].t, NULL, threads[i].fn, a);
        if (r < 0) {
            slio_err_set(err, "cannot start the %s thread: %s", threads[i].name, strerror(-r));
            return r;
        }
    }
    return 0;
}

static int setup(struct agent *a, struct slio_err *err)
{
    int r;

    r = agent_config_host_nqn(a->cfg, a->host_nqn, err);
    if (r == 0)
        r = agent_engine_open(&a->cfg->pool, &a->engine, err);
    if (r == 0)
        r = open_exporter(a, err);
    if (r == 0)
        r = open_client(a, err);
    if (r == 0)
        r = slio_workq_new(a->cfg->reconcile.workers, 100000, &a->wq);
    if (r == 0)
        r = agent_http_start(a, err);
    return r;
}

int agent_start(struct agent *a, const struct agent_config *cfg, struct slio_err *err)
{
    pthread_condattr_t ca;
    int r;

    *a = (struct agent){.cfg = cfg, .heartbeat_interval_us = 5000000, .applied_revision = -1};
    agent_metrics_init(&a->metrics);
    observed_metrics = &a->metrics;
    agent_engine_set_exec_observer(observe_command, &a->metrics);
    pthread_mutex_init(&a->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->wake, &ca);
    pthread_condattr_destroy(&ca);
    r = setup(a, err);
    if (r == 0) {
        agent_refresh_pool(a); /* figures for the registration */
        r = start_threads(a, err);
    }
    if (r < 0)
        agent_stop(a);
    return r;
}

static void join(pthread_t *t)
{
    if (*t) {
        pthread_join(*t, NULL);
        *t = 0;
    }
}

void agent_stop(struct agent *a)
{
    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    pthread_cond_broadcast(&a->wake);
    pthread_mutex_unlock(&a->lock);
    join(&a->heartbeat_thread);
    join(&a->poll_thread); /* returns when its long-poll does: at most controller.long_poll */
    join(&a->reconcile_thread);
    join(&a->housekeeping_thread);
    slio_http_server_stop(a->server);
    a->server = NULL;
    agent_http_forget_token(a);
    slio_workq_free(a->wq);
    a->wq = NULL;
    slio_http_client_free(a->http);
    a->http = NULL;
    agent_exporter_close(&a->exporter);
    agent_engine_close(&a->engine);
    agent_engine_set_exec_observer(NULL, NULL); /* it points at a->metrics */
    agent_volume_list_free(&a->local);
    agent_iostat_list_free(&a->iostat);
    agent_desired_free(a->pending);
    free(a->pending);
    a->pending = NULL;
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->lock);
}
