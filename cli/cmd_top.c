/* SPDX-License-Identifier: Apache-2.0 */
/*
 * top volumes / top pools: I/O rates from the agents' /metrics. Each node's
 * agent_url comes from GET /v1/nodes; every agent is scraped twice, --interval
 * apart (default 1 s), and the rates are the counters' differences over the
 * measured time. Volumes are named from GET /v1/volumes; pools add up their
 * volumes. An agent that cannot be scraped is named on stderr and skipped.
 * The agents are verified with the same CA bundle as the controller and get
 * the metrics token (never the controller token: their URLs are the
 * controller's word, not the operator's).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "scrape.h"
#include "slio/cleanup.h"
#include "slio/json.h"

static const struct cli_column top_vol_cols[] = {
    {"NAME", "name", FMT_STR},
    {"POOL", "", FMT_NODEPOOL},
    {"READ-IOPS", "read_iops", FMT_STR},
    {"WRITE-IOPS", "write_iops", FMT_STR},
    {"READ-MB/S", "read_mbps", FMT_STR},
    {"WRITE-MB/S", "write_mbps", FMT_STR},
    {"READ-LAT-MS", "read_lat_ms", FMT_STR},
    {"WRITE-LAT-MS", "write_lat_ms", FMT_STR},
    {"ID", "id", FMT_STR, true},
};
static const struct cli_column top_pool_cols[] = {
    {"POOL", "", FMT_NODEPOOL},          {"VOLUMES", "volumes", FMT_STR},
    {"READ-IOPS", "read_iops", FMT_STR}, {"WRITE-IOPS", "write_iops", FMT_STR},
    {"READ-MB/S", "read_mbps", FMT_STR}, {"WRITE-MB/S", "write_mbps", FMT_STR},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Scrape every agent once: {"<volume>": {...counters}}; *ret_t is the time taken. */
static int scrape_all(struct cli *c, const json_t *nodes, json_t **ret, int *ret_ok)
{
    json_t *all = json_object();
    size_t i;
    const json_t *n;
    const struct scrape_auth auth = {
        .ca_file = c->conn ? c->conn->ca_file : NULL,
        .token = c->conn ? c->conn->metrics_token : NULL,
    };
    *ret_ok = 0;
    if (!all)
        return CLI_FAILED;
    json_array_foreach (nodes, i, n) {
        const char *url = json_string_value(json_object_get(n, "agent_url"));
        const char *name = json_string_value(json_object_get(n, "name")) ?: "?";
        struct slio_err err = {{0}};
        _cleanup_json_ json_t *one = NULL;
        if (!url || !*url)
            continue;
        if (scrape_fetch(url, &auth, &one, &err) < 0) {
            fprintf(c->err, "%s: warning: node \"%s\": metrics: %s\n", c->prog, name, err.text);
            continue;
        }
        (*ret_ok)++;
        json_object_update(all, one);
    }
    *ret = all;
    return CLI_OK;
}

static double counter(const json_t *vol, int k)
{
    return json_number_value(json_object_get(vol, scrape_names[k]));
}

static json_t *fmt1(double v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%.1f", v < 0 ? 0 : v);
    return json_string(buf);
}

/* One volume's rates between two scrapes. */
static json_t *volume_rates(const json_t *a, const json_t *b, double dt)
{
    double d[SCRAPE_N];
    for (int k = 0; k < SCRAPE_N; k++)
        d[k] = counter(b, k) - counter(a, k);
    double rl = d[SCRAPE_READ_OPS] > 0 ? d[SCRAPE_READ_SECONDS] / d[SCRAPE_READ_OPS] * 1e3 : 0;
    double wl = d[SCRAPE_WRITE_OPS] > 0 ? d[SCRAPE_WRITE_SECONDS] / d[SCRAPE_WRITE_OPS] * 1e3 : 0;
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "read_iops", fmt1(d[SCRAPE_READ_OPS] / dt),
                     "write_iops", fmt1(d[SCRAPE_WRITE_OPS] / dt), "read_mbps",
                     fmt1(d[SCRAPE_READ_BYTES] / dt / 1e6), "write_mbps",
                     fmt1(d[SCRAPE_WRITE_BYTES] / dt / 1e6), "read_lat_ms", fmt1(rl),
                     "write_lat_ms", fmt1(wl));
}

static int add_to_pool(json_t *pools, const json_t *row)
{
    char key[300];
    snprintf(key, sizeof(key), "%s/%s", json_string_value(json_object_get(row, "node")) ?: "",
             json_string_value(json_object_get(row, "pool")) ?: "");
    json_t *p = json_object_get(pools, key);
    if (!p) {
        p = json_pack("{s:O,s:O,s:i}", "node", json_object_get(row, "node") ?: json_null(), "pool",
                      json_object_get(row, "pool") ?: json_null(), "volumes", 0);
        if (!p || json_object_set_new(pools, key, p) < 0)
            return -1;
    }
    static const char *const sums[] = {"read_iops", "write_iops", "read_mbps", "write_mbps"};
    json_object_set_new(p, "volumes",
                        json_integer(json_integer_value(json_object_get(p, "volumes")) + 1));
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(sums); i++) {
        double old = strtod(json_string_value(json_object_get(p, sums[i])) ?: "0", NULL);
        double add = strtod(json_string_value(json_object_get(row, sums[i])) ?: "0", NULL);
        json_object_set_new(p, sums[i], fmt1(old + add));
    }
    return 0;
}

static int rows_from(const json_t *vols, const json_t *s0, const json_t *s1, double dt, bool pools,
                     json_t *out)
{
    _cleanup_json_ json_t *by_pool = json_object();
    size_t i;
    const json_t *v;
    json_array_foreach (vols, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        const json_t *a = id ? json_object_get(s0, id) : NULL,
                     *b = id ? json_object_get(s1, id) : NULL;
        if (!b)
            continue;
        _cleanup_json_ json_t *row = volume_rates(a, b, dt);
        if (!row || json_object_set(row, "id", json_object_get(v, "id")) < 0)
            return -1;
        json_object_set(row, "name", json_object_get(v, "name") ?: json_null());
        json_object_set(row, "node", json_object_get(v, "node") ?: json_null());
        json_object_set(row, "pool", json_object_get(v, "pool") ?: json_null());
        if (pools ? add_to_pool(by_pool, row) < 0 : json_array_append(out, row) < 0)
            return -1;
    }
    const char *k;
    json_t *p;
    json_object_foreach (by_pool, k, p)
        if (pools && json_array_append(out, p) < 0)
            return -1;
    return 0;
}

static int run_top(struct cli *c)
{
    const char *what = c->o->args[0];
    bool pools = strcmp(what, "pools") == 0;
    if (!pools && strcmp(what, "volumes") != 0)
        return cli_usage(c, "top: \"%s\" is not one of volumes, pools", what);
    _cleanup_json_ json_t *nodes = NULL, *vols = NULL, *s0 = NULL, *s1 = NULL, *rows = json_array();
    int ok0, ok1;
    int rc = cli_list(c, "nodes", "/v1/nodes", "", &nodes);
    if (rc == CLI_OK)
        rc = cli_list(c, "volumes", "/v1/volumes", "", &vols);
    double t0 = now_s();
    if (rc == CLI_OK)
        rc = scrape_all(c, nodes, &s0, &ok0);
    if (rc != CLI_OK)
        return rc;
    struct timespec ts = {(time_t)(c->o->interval_ms / 1000),
                          (long)(c->o->interval_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* the measuring interval itself */
    double t1 = now_s();
    rc = scrape_all(c, nodes, &s1, &ok1);
    if (rc != CLI_OK)
        return rc;
    if (ok1 == 0) {
        fprintf(c->err, "%s: error: top %s: no agent's metrics could be read\n", c->prog, what);
        return CLI_UNAVAILABLE;
    }
    if (!rows || rows_from(vols, s0, s1, t1 - t0, pools, rows) < 0)
        return CLI_FAILED;
    return cli_print_items(c, rows, false, pools ? top_pool_cols : top_vol_cols,
                           pools ? SLIO_ARRAY_SIZE(top_pool_cols) : SLIO_ARRAY_SIZE(top_vol_cols));
}

const struct cli_command cli_cmd_top = {
    .words = "top",
    .flags = F_OUTPUT | F_INTERVAL,
    .min_args = 1,
    .max_args = 1,
    .run = run_top,
    .usage = "top volumes|pools [--interval 1s] [-o wide|json|yaml]",
    .help = "I/O rates measured now: every agent's /metrics read twice, --interval apart\n"
            "(default 1s, 100ms..60s); IOPS, MB/s (10^6 bytes) and average latency.\n",
};
