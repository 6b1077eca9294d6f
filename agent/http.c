/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's HTTP endpoint: /metrics (Prometheus text) and /healthz. Both
 * answer from memory on libmicrohttpd's threads — the target's I/O counters
 * too, which the housekeeper fetches every few seconds — so neither a slow
 * LVM command nor a hung target delays a scrape.
 *
 * Security (docs/security.md): HTTPS when listen.tls_cert_file/tls_key_file
 * are set (reloaded when they change), /metrics behind a bearer token when
 * listen.token_file is set (compared in constant time; /healthz stays open
 * for probes: it says nothing but liveness), and a per-peer rate limit.
 */
#define SLIO_LOG_COMPONENT "agent"

#include <string.h>

#include "agent.h"
#include "slio/log.h"
#include "slio/prom.h"

#define METRICS_MAX (64u << 20)

/* The HTTP server's own counters (rate limit, TLS reloads). */
static int render_http_counters(struct agent *a, struct slio_strbuf *sb)
{
    struct slio_http_server_stats st;
    int r;

    slio_http_server_stats(a->server, &st);
    r = slio_prom_counter(sb, "sliteio_agent_http_rate_limited",
                          "Requests to this endpoint answered 429 by the per-client rate limit.",
                          (double)st.rate_limited);
    if (r == 0)
        r = slio_prom_counter(sb, "sliteio_agent_tls_reloads",
                              "TLS certificate pairs loaded again after their files changed.",
                              (double)st.tls_reloads);
    if (r == 0)
        r = slio_prom_counter(sb, "sliteio_agent_tls_reload_failures",
                              "Changed TLS files that did not load (the previous pair kept).",
                              (double)st.tls_reload_failures);
    return r;
}

static void get_metrics(const struct slio_http_request *req, struct slio_http_response *resp,
                        void *ctx)
{
    struct agent *a = ctx;
    struct agent_metrics_view v = {.pool = a->cfg->pool.name};
    struct agent_iostat_list remote = {0};
    struct agent_volume_list local = {0};
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(METRICS_MAX);
    char *text;
    size_t len;
    int r;

    if (a->metrics_token && !slio_http_bearer_is(req, a->metrics_token)) {
        slio_http_respond_error(resp, 401, "unauthenticated",
                                "/metrics needs the bearer token of listen.token_file");
        return;
    }
    pthread_mutex_lock(&a->lock);
    remote.items = calloc(a->iostat.n + 1, sizeof(*remote.items));
    if (remote.items && a->iostat_valid) {
        if (a->iostat.n)
            memcpy(remote.items, a->iostat.items, a->iostat.n * sizeof(*remote.items));
        remote.n = a->iostat.n;
        v.remote = &remote;
    }
    v.pool_valid = a->pool_valid;
    v.ps = a->pool;
    v.volumes = a->n_volumes;
    v.snapshots = a->n_snapshots;
    v.exported = a->n_exported;
    v.orphans = a->n_orphans;
    v.thin_level = a->thin_level;
    v.controller_ok = a->controller_ok;
    local.items = calloc(a->local.n + 1, sizeof(*local.items));
    if (local.items && a->local.n) {
        memcpy(local.items, a->local.items, a->local.n * sizeof(*local.items));
        local.n = a->local.n;
    }
    pthread_mutex_unlock(&a->lock);
    v.local = local.items;
    v.n_local = local.n;
    r = agent_metrics_render(&a->metrics, &v, &sb);
    if (r == 0)
        r = render_http_counters(a, &sb);
    free(local.items);
    agent_iostat_list_free(&remote);
    if (r < 0) {
        slio_http_respond_error(resp, 500, "internal", "cannot render metrics: %s", strerror(-r));
        return;
    }
    text = slio_strbuf_steal(&sb, &len);
    if (!text) {
        slio_http_respond_error(resp, 500, "internal", "out of memory");
        return;
    }
    slio_http_respond_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static void get_healthz(const struct slio_http_request *req, struct slio_http_response *resp,
                        void *ctx)
{
    struct agent *a = ctx;
    json_t *body;

    pthread_mutex_lock(&a->lock);
    body = json_pack("{s:s, s:s, s:s, s:b, s:b, s:I}", "status", "ok", "node", a->cfg->node.name,
                     "pool", a->cfg->pool.name, "registered", a->registered, "controller",
                     a->controller_ok, "revision", (json_int_t)a->applied_revision);
    pthread_mutex_unlock(&a->lock);
    slio_http_respond_json(resp, 200, body);
}

static const struct slio_http_route routes[] = {
    {"GET", "/metrics", get_metrics},
    {"GET", "/healthz", get_healthz},
};

void agent_http_forget_token(struct agent *a)
{
    if (a->metrics_token)
        explicit_bzero(a->metrics_token, strlen(a->metrics_token));
    free(a->metrics_token);
    a->metrics_token = NULL;
}

/* Scrapes come every few seconds; the limit only stops a peer hammering the endpoint. */
#define RATE_PER_S 50
#define RATE_BURST 100

int agent_http_start(struct agent *a, struct slio_err *err)
{
    struct slio_http_server_opts o = {
        .address = a->cfg->listen.address,
        .port = a->cfg->listen.port,
        .threads = 2,
        .max_body = 4096,
        .max_connections = 64,
        .max_connections_per_ip = 16,
        .tls_cert_file = a->cfg->listen.tls_cert_file,
        .tls_key_file = a->cfg->listen.tls_key_file,
        .rate_per_s = RATE_PER_S,
        .rate_burst = RATE_BURST,
        .routes = routes,
        .n_routes = SLIO_ARRAY_SIZE(routes),
        .ctx = a,
    };
    bool v6 = strchr(a->cfg->listen.address, ':') != NULL;
    const char *scheme = a->cfg->listen.tls_cert_file ? "https" : "http";
    int r;

    r = agent_config_read_metrics_token(a->cfg, &a->metrics_token, err);
    if (r < 0)
        return r;
    r = slio_http_server_start(&o, &a->server, err);
    if (r < 0) {
        agent_http_forget_token(a);
        slio_err_prefix(err, "listen %s port %u", a->cfg->listen.address,
                        (unsigned)a->cfg->listen.port);
        return r;
    }
    snprintf(a->agent_url, sizeof(a->agent_url), v6 ? "%s://[%s]:%u" : "%s://%s:%u", scheme,
             a->cfg->listen.address, (unsigned)slio_http_server_port(a->server));
    log_info("serving /metrics and /healthz on %s", a->agent_url);
    return 0;
}
