/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Register, then heartbeat, on a thread of their own: the body is built from
 * the cached pool figures, so a slow LVM command on a worker never delays a
 * heartbeat (a node silent for `unknown_after` is flagged by the controller).
 * A 404 answer (the controller forgot the node) registers again.
 */
#define SLIO_LOG_COMPONENT "agent"

#include <string.h>

#include "agent.h"
#include "reconcile/report.h"
#include "slio/log.h"

static int do_register(struct agent *a, struct slio_err *err)
{
    struct agent_pool_status ps;
    _cleanup_json_ json_t *body = NULL, *reply = NULL;
    int r;

    pthread_mutex_lock(&a->lock);
    ps = a->pool;
    pthread_mutex_unlock(&a->lock);
    body = agent_report_register(a->cfg, a->host_nqn, a->agent_url, &ps);
    if (!body)
        return -ENOMEM;
    r = slio_http_call_ok(a->http, "POST", "/v1/agent/register", body, &reply, err);
    if (r < 0)
        return r;
    pthread_mutex_lock(&a->lock);
    a->heartbeat_interval_us = agent_report_interval_us(reply, a->heartbeat_interval_us);
    a->registered = true;
    pthread_mutex_unlock(&a->lock);
    log_info("node \"%s\": registered with the controller at %s", a->cfg->node.name,
             slio_http_client_current_url(a->http));
    return 0;
}

static int do_heartbeat(struct agent *a, struct slio_err *err)
{
    struct agent_pool_status ps;
    _cleanup_json_ json_t *body = NULL;
    bool valid;
    int r;

    pthread_mutex_lock(&a->lock);
    ps = a->pool;
    valid = a->pool_valid;
    pthread_mutex_unlock(&a->lock);
    body = agent_report_heartbeat(a->cfg, valid ? &ps : NULL);
    if (!body)
        return -ENOMEM;
    r = slio_http_call_ok(a->http, "POST", "/v1/agent/heartbeat", body, NULL, err);
    if (r == -ENOENT) {
        pthread_mutex_lock(&a->lock);
        a->registered = false;
        pthread_mutex_unlock(&a->lock);
    }
    return r;
}

void *agent_heartbeat_main(void *arg)
{
    struct agent *a = arg;
    struct slio_ratelimit rl = SLIO_RATELIMIT_INIT(60000000, 3);
    uint64_t wait_us;
    bool registered;

    pthread_mutex_lock(&a->lock);
    while (!a->stopping) {
        struct slio_err err = {{0}};
        int r;
        registered = a->registered;
        pthread_mutex_unlock(&a->lock);
        r = registered ? do_heartbeat(a, &err) : do_register(a, &err);
        if (r < 0) {
            atomic_fetch_add(&a->metrics.heartbeat_errors, 1);
            log_ratelimited(&rl, SLIO_LOG_WARN, "node \"%s\": %s failed: %s", a->cfg->node.name,
                            registered ? "heartbeat" : "registration", err.text);
        } else if (registered) {
            atomic_fetch_add(&a->metrics.heartbeats, 1);
        }
        pthread_mutex_lock(&a->lock);
        a->controller_ok = r == 0;
        wait_us = r < 0 && !a->registered ? a->cfg->controller.retry_us : a->heartbeat_interval_us;
        if (r == -ENOENT)
            wait_us = 0; /* register again at once */
        if (wait_us)
            agent_wait_locked(a, wait_us);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}
