/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-agent's running state and its threads:
 *   heartbeat   register, then heartbeat every interval; reads only cached
 *               pool figures, so LVM work never delays it (heartbeat.c);
 *   poller      long-polls the desired state by revision (loop.c);
 *   reconciler  one pass per new desired state or resync tick: discover
 *               (engine + target), plan, apply on the worker queue, report
 *               (loop.c);
 *   housekeeper the target's I/O counters every AGENT_IOSTAT_PERIOD_US, thin-pool
 *               auto-extend and pool figures every autoextend_interval (loop.c);
 *   HTTP        /metrics and /healthz from memory on libmicrohttpd's threads (http.c):
 *               a hung target or a slow LVM command never delays them.
 * Shared fields below `lock` are read and written under it only.
 */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "engine/engine.h"
#include "export/export.h"
#include "metrics.h"
#include "reconcile/desired.h"
#include "slio/http_client.h"
#include "slio/http_server.h"
#include "slio/workq.h"

#define AGENT_IOSTAT_PERIOD_US 5000000ull

struct agent {
    const struct agent_config *cfg;
    char host_nqn[SLIO_NQN_BUF];
    char agent_url[128];
    struct agent_engine *engine;
    struct agent_exporter *exporter;
    struct slio_workq *wq;
    struct slio_http_client *http;
    struct slio_http_server *server;
    char *metrics_token; /* listen.token_file's token guarding /metrics, or NULL (http.c) */
    struct agent_metrics metrics;
    pthread_t heartbeat_thread, poll_thread, reconcile_thread, housekeeping_thread;

    pthread_mutex_t lock;
    pthread_cond_t wake; /* stop, a new desired state */
    bool stopping;
    bool registered;
    bool controller_ok;
    bool kick;                      /* the controller is reachable again: run a pass */
    uint64_t heartbeat_interval_us; /* the controller's answer at registration */
    struct agent_desired *pending;  /* fetched, not yet taken by the reconciler (owned) */
    struct agent_pool_status pool;
    bool pool_valid;
    enum agent_thin_level thin_level;
    /* the last pass's view, for /metrics */
    struct agent_volume_list local;
    uint64_t n_volumes, n_snapshots, n_exported, n_orphans;
    int64_t applied_revision;        /* -1 before the first pass with a desired state */
    struct agent_iostat_list iostat; /* the target's counters, refreshed by the housekeeper */
    bool iostat_valid;
};

/* Set up everything from the config (engine open, exporter, HTTP server), start the
 * threads. err says what failed. */
int agent_start(struct agent *a, const struct agent_config *cfg, struct slio_err *err) _must_check_;
/* Stop the threads, free everything (nothing in the pool or the target is touched).
 * Takes up to controller.long_poll: the poller's HTTP call cannot be interrupted. */
void agent_stop(struct agent *a);

/* Thread bodies and helpers shared between the agent's files. */
void *agent_heartbeat_main(void *arg);
void *agent_poll_main(void *arg);
void *agent_reconcile_main(void *arg);
void *agent_housekeeping_main(void *arg);
int agent_http_start(struct agent *a, struct slio_err *err) _must_check_;
/* Wipe and free a->metrics_token (after the server stopped). */
void agent_http_forget_token(struct agent *a);
/* Refresh the cached pool figures (blocking engine call: not from heartbeat/HTTP). */
void agent_refresh_pool(struct agent *a);
/* The engine-duration observer for apply (metrics of the running agent). */
void agent_observe_engine(const char *op, double seconds);
/* Wait on a->wake for up to us microseconds; returns true when stopping. Lock held. */
bool agent_wait_locked(struct agent *a, uint64_t us);

#endif
