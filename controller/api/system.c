/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/health and /metrics: no token, cheap, and /metrics clean under promtool. */
#include <string.h>

#include "api.h"
#include "slio/prom.h"
#include "slio/strbuf.h"

#define METRICS_MAX (16u << 20)

static int health(struct api_call *call)
{
    char leader[256];
    int64_t rev;
    struct store *s = call->ctl->store;
    bool has_election = s->ops->is_leader != NULL;
    bool leading = store_is_leader(s, leader, sizeof(leader));
    bool store_ok = store_revision(s, &rev, NULL) == 0;
    const char *status = !store_ok ? "unavailable" : leading ? "ok" : "standby";
    call->status = store_ok && leading ? 200 : 503;
    call->out = json_pack("{s:s,s:s,s:s?,s:s,s:s}", "status", status, "role",
                          !has_election ? "single"
                          : leading     ? "leader"
                                        : "standby",
                          "leader", leader[0] ? leader : NULL, "store", s->ops->name, "version",
                          SLIO_VERSION);
    return call->out ? 0 : -ENOMEM;
}

struct metric_counter {
    enum ctl_counter id;
    const char *name, *help;
};
static const struct metric_counter counters[] = {
    {CTR_VOLUMES_CREATED, "sliteio_controller_volumes_created", "Volumes placed and recorded."},
    {CTR_VOLUMES_DELETED, "sliteio_controller_volumes_deleted",
     "Volumes whose deletion an agent confirmed."},
    {CTR_PLACEMENT_FAILURES, "sliteio_controller_placement_failures",
     "Creates no pool could take (422)."},
    {CTR_TXN_CONFLICTS, "sliteio_controller_store_conflicts",
     "Store transactions lost to a concurrent change (retried)."},
    {CTR_HEARTBEATS, "sliteio_controller_heartbeats", "Agent heartbeats received."},
};

static int write_counters(struct ctl *c, struct slio_strbuf *sb)
{
    char total[128];
    int r = 0;
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(counters) && r == 0; i++) {
        snprintf(total, sizeof(total), "%s_total", counters[i].name);
        r = slio_prom_family(sb, counters[i].name, SLIO_PROM_COUNTER, counters[i].help);
        if (r == 0)
            r = slio_prom_sample(sb, total, NULL,
                                 (double)atomic_load(&c->counters[counters[i].id]));
    }
    return r;
}

struct pool_gauge {
    const char *name, *help;
};
static const struct pool_gauge pool_gauges[] = {
    {"sliteio_pool_capacity_bytes", "Pool capacity as its agent reports it."},
    {"sliteio_pool_free_bytes", "Pool free bytes as its agent reports it."},
    {"sliteio_pool_allocated_bytes", "Bytes of the volumes the scheduler placed on the pool."},
    {"sliteio_pool_available_bytes", "Bytes a new volume could still get on the pool."},
    {"sliteio_pool_volumes", "Volumes placed on the pool."},
    {"sliteio_pool_up", "1 when the pool's node is ready and the pool not cordoned."},
};

static double pool_value(size_t g, const json_t *fig, const json_t *pool, const char *status,
                         const struct sched_pool_usage *u)
{
    switch (g) {
    case 0:
        return (double)model_u64(fig, "capacity");
    case 1:
        return (double)model_u64(fig, "free");
    case 2:
        return (double)u->allocated;
    case 3:
        return (double)u->available;
    case 4:
        return (double)u->n_volumes;
    default:
        return strcmp(status, "ready") == 0 && !json_is_true(json_object_get(pool, "cordoned"));
    }
}

/* One gauge family at a time (the format wants a family's samples together). */
static int write_pool_family(struct ctl *c, struct slio_strbuf *sb, size_t g, const json_t *nodes)
{
    size_t i, j;
    json_t *n, *p;
    int r = slio_prom_family(sb, pool_gauges[g].name, SLIO_PROM_GAUGE, pool_gauges[g].help);
    json_array_foreach (nodes, i, n) {
        const char *node = model_str(n, "name");
        json_array_foreach (json_object_get(n, "pools"), j, p) {
            char id[MODEL_KEY_MAX];
            struct sched_pool_usage u = {0};
            const char *pool = model_str(p, "name");
            _cleanup_json_ json_t *live = ctl_live_pool(c, node, pool);
            if (sched_view_pool_usage(ctl_view(c), model_pool_id(id, node, pool), &u) < 0)
                u = (struct sched_pool_usage){0};
            const char *labels[] = {"node", node, "pool", pool, NULL};
            if (r == 0)
                r = slio_prom_sample(sb, pool_gauges[g].name, labels,
                                     pool_value(g, live ? live : p, p, ctl_node_status(n), &u));
        }
    }
    return r;
}

static int write_pools(struct ctl *c, struct slio_strbuf *sb)
{
    struct store_kv_list l;
    int r = store_list(c->store, K_NODES, NULL, STORE_LIST_MAX, false, &l, NULL, NULL);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *nodes = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(nodes, json_loadb(l.items[i].value, l.items[i].value_len, 0, NULL));
    store_kv_list_clear(&l);
    for (size_t g = 0; g < SLIO_ARRAY_SIZE(pool_gauges) && r == 0; g++)
        r = write_pool_family(c, sb, g, nodes);
    return r;
}

static int write_gauges(struct ctl *c, struct slio_strbuf *sb)
{
    int64_t rev = 0;
    if (store_revision(c->store, &rev, NULL) < 0)
        rev = -1;
    int r = slio_prom_family(sb, "sliteio_controller_store_revision", SLIO_PROM_GAUGE,
                             "The store's global revision.");
    if (r == 0)
        r = slio_prom_sample(sb, "sliteio_controller_store_revision", NULL, (double)rev);
    if (r == 0)
        r = slio_prom_family(sb, "sliteio_controller_leader", SLIO_PROM_GAUGE,
                             "1 when this controller leads (or runs alone).");
    if (r == 0)
        r = slio_prom_sample(sb, "sliteio_controller_leader", NULL,
                             store_is_leader(c->store, NULL, 0) ? 1 : 0);
    if (r == 0)
        r = slio_prom_family(sb, "sliteio_controller_long_polls", SLIO_PROM_GAUGE,
                             "Agents waiting for their desired state now.");
    if (r == 0)
        r = slio_prom_sample(sb, "sliteio_controller_long_polls", NULL,
                             (double)atomic_load(&c->long_polls));
    if (r == 0)
        r = slio_prom_family(sb, "sliteio_controller_request_duration_seconds", SLIO_PROM_HISTOGRAM,
                             "REST request latency.");
    if (r == 0)
        r = slio_prom_hist_write(sb, "sliteio_controller_request_duration_seconds", NULL,
                                 &c->request_seconds);
    return r;
}

/* The HTTP server's own counters: requests refused by the rate limit, TLS reloads. */
static int write_http(struct ctl *c, struct slio_strbuf *sb)
{
    struct slio_http_server_stats st = {0};
    int r;

    if (c->server)
        slio_http_server_stats(c->server, &st);
    r = slio_prom_counter(sb, "sliteio_controller_rate_limited",
                          "Requests answered 429 by the per-client rate limit.",
                          (double)st.rate_limited);
    if (r == 0)
        r = slio_prom_counter(sb, "sliteio_controller_tls_reloads",
                              "TLS certificate pairs loaded again after their files changed.",
                              (double)st.tls_reloads);
    if (r == 0)
        r = slio_prom_counter(sb, "sliteio_controller_tls_reload_failures",
                              "Changed TLS files that did not load (the previous pair kept).",
                              (double)st.tls_reload_failures);
    return r;
}

static int metrics(struct api_call *call)
{
    struct slio_strbuf sb;
    slio_strbuf_init(&sb, METRICS_MAX);
    int r = write_counters(call->ctl, &sb);
    if (r == 0)
        r = write_gauges(call->ctl, &sb);
    if (r == 0)
        r = write_http(call->ctl, &sb);
    if (r == 0)
        r = write_pools(call->ctl, &sb);
    if (r < 0) {
        slio_strbuf_free(&sb);
        slio_err_set(&call->err, "metrics: %s", strerror(-r));
        return r == -EAGAIN ? r : -EIO;
    }
    call->text = slio_strbuf_steal(&sb, &call->text_len);
    call->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return call->text ? 0 : -ENOMEM;
}

API_HANDLER(health, NEED_PUBLIC, API_NO_BODY)
API_HANDLER(metrics, NEED_PUBLIC, API_NO_BODY)

static const struct slio_http_route routes[] = {
    {"GET", "/v1/health", health_http},
    {"GET", "/metrics", metrics_http},
};
const struct api_routes api_system_routes = {routes, SLIO_ARRAY_SIZE(routes)};
