/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slioctl get KIND[,KIND...] [NAME]: kubectl-like lists. Every page of a list
 * is followed (--chunk-size items per call) up to --limit items, or all of
 * them with --all. Several kinds print one table each; with -o json/yaml they
 * print one object {"<kind>": [items...], ...}.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/json.h"

const struct cli_column cli_node_cols[] = {
    {"NAME", "name", FMT_STR, false},
    {"STATUS", "status", FMT_STR, false},
    {"POOLS", "pools", FMT_COUNT, false},
    {"RACK", "topology.rack", FMT_STR, false},
    {"ZONE", "topology.zone", FMT_STR, false},
    {"HEARTBEAT", "last_heartbeat", FMT_AGE, false},
    {"ADDRESS", "export_address", FMT_ADDR, true},
    {"AGENT", "agent_url", FMT_STR, true},
    {"HOST-NQN", "host_nqn", FMT_STR, true},
};
const struct cli_column cli_pool_cols[] = {
    {"NODE", "node", FMT_STR, false},
    {"NAME", "name", FMT_STR, false},
    {"STATUS", "status", FMT_STR, false},
    {"ENGINE", "engine", FMT_STR, false},
    {"THIN", "thin", FMT_BOOL, false},
    {"CAPACITY", "capacity", FMT_SIZE, false},
    {"FREE", "free", FMT_SIZE, false},
    {"RESERVED", "reserved", FMT_SIZE, false},
    {"VOLUMES", "volumes", FMT_STR, false},
    {"CORDONED", "cordoned", FMT_BOOL, false},
    {"ALLOCATED", "allocated", FMT_SIZE, true},
    {"REMOTE", "remote_volumes", FMT_STR, true},
    {"DATA%", "thin_data_percent", FMT_PERCENT, true},
    {"META%", "thin_metadata_percent", FMT_PERCENT, true},
};
const struct cli_column cli_volume_cols[] = {
    {"NAME", "name", FMT_STR, false},
    {"SIZE", "size", FMT_SIZE, false},
    {"PHASE", "phase", FMT_STR, false},
    {"POOL", "", FMT_NODEPOOL, false},
    {"POSITION", "position", FMT_STR, false},
    {"AGE", "created_at", FMT_AGE, false},
    {"ID", "id", FMT_STR, true},
    {"THIN", "thin", FMT_BOOL, true},
    {"CONSUMER", "consumer_node", FMT_STR, true},
    {"ATTACHMENTS", "attachments", FMT_COUNT, true},
    {"DEGRADED", "degraded", FMT_BOOL, true},
    {"MESSAGE", "message", FMT_STR, true},
};
const struct cli_column cli_snapshot_cols[] = {
    {"NAME", "name", FMT_STR, false},           {"VOLUME", "volume", FMT_STR, false},
    {"SIZE", "size", FMT_SIZE, false},          {"PHASE", "phase", FMT_STR, false},
    {"READY", "ready_to_use", FMT_BOOL, false}, {"POOL", "", FMT_NODEPOOL, false},
    {"AGE", "created_at", FMT_AGE, false},      {"ID", "id", FMT_STR, true},
    {"MESSAGE", "message", FMT_STR, true},
};
const struct cli_column cli_event_cols[] = {
    {"AGE", "time", FMT_AGE, false},      {"TYPE", "type", FMT_STR, false},
    {"KIND", "kind", FMT_STR, false},     {"OBJECT", "object", FMT_STR, false},
    {"REASON", "reason", FMT_STR, false}, {"MESSAGE", "message", FMT_STR, false},
    {"SEQ", "seq", FMT_STR, true},        {"TIME", "time", FMT_STR, true},
};
const struct cli_column cli_attachment_cols[] = {
    {"NODE", "node", FMT_STR, false},        {"LOCAL", "local", FMT_BOOL, false},
    {"PHASE", "phase", FMT_STR, false},      {"ADDRESS", "address", FMT_ADDR, false},
    {"DEVICE", "device", FMT_STR, false},    {"NQN", "nqn", FMT_STR, true},
    {"HOST-NQN", "host_nqn", FMT_STR, true}, {"MESSAGE", "message", FMT_STR, true},
};
static const struct cli_column orphan_cols[] = {
    {"NODE", "node", FMT_STR, false},    {"POOL", "pool", FMT_STR, false},
    {"UUID", "uuid", FMT_STR, false},    {"KIND", "kind", FMT_STR, false},
    {"SIZE", "size", FMT_SIZE, false},   {"AGE", "reported_at", FMT_AGE, false},
    {"DEVICE", "device", FMT_STR, true},
};
#define N(a) SLIO_ARRAY_SIZE(a)
const size_t cli_n_node_cols = N(cli_node_cols), cli_n_pool_cols = N(cli_pool_cols),
             cli_n_volume_cols = N(cli_volume_cols), cli_n_snapshot_cols = N(cli_snapshot_cols),
             cli_n_event_cols = N(cli_event_cols), cli_n_attachment_cols = N(cli_attachment_cols);

struct kind {
    const char *names[4]; /* plural first: the key in -o json with several kinds */
    const char *list_path;
    const struct cli_column *cols;
    size_t n_cols;
    bool node_filter;
};

static const struct kind kinds[] = {
    {{"nodes", "node", "no"}, "/v1/nodes", cli_node_cols, N(cli_node_cols), false},
    {{"pools", "pool"}, "/v1/pools", cli_pool_cols, N(cli_pool_cols), true},
    {{"volumes", "volume", "vol", "vols"},
     "/v1/volumes",
     cli_volume_cols,
     N(cli_volume_cols),
     true},
    {{"snapshots", "snapshot", "snap", "snaps"},
     "/v1/snapshots",
     cli_snapshot_cols,
     N(cli_snapshot_cols),
     false},
    {{"events", "event", "ev"}, "/v1/events", cli_event_cols, N(cli_event_cols), false},
    {{"orphans", "orphan"}, "/v1/orphans", orphan_cols, N(orphan_cols), false},
};

static const struct kind *find_kind(const char *name)
{
    for (size_t i = 0; i < N(kinds); i++)
        for (size_t k = 0; k < N(kinds[i].names) && kinds[i].names[k]; k++)
            if (strcmp(name, kinds[i].names[k]) == 0)
                return &kinds[i];
    return NULL;
}

/* One object of the kind by its name: *ret is a one-item array. */
static int get_one(struct cli *c, const struct kind *k, const char *name, json_t **ret)
{
    char what[300], path[1024], id[37] = "";
    _cleanup_free_ char *ref = strdup(name);
    const char *node, *pool;
    json_t *obj = NULL;
    int rc = CLI_OK;
    if (!ref)
        return CLI_FAILED;
    if (k == &kinds[5])
        return cli_usage(c, "get orphans: takes no NAME (they are listed whole)");
    snprintf(what, sizeof(what), "%s \"%s\"", k->names[1], name);
    if (k == &kinds[0] || k == &kinds[1]) {
        rc = k == &kinds[1] ? cli_split_pool(c, ref, &node, &pool) : CLI_OK;
        _cleanup_free_ char *en = slio_http_escape(k == &kinds[1] ? node : name);
        _cleanup_free_ char *ep = k == &kinds[1] ? slio_http_escape(pool) : NULL;
        if (rc != CLI_OK || !en || (k == &kinds[1] && !ep))
            return rc ?: CLI_FAILED;
        if (ep)
            snprintf(path, sizeof(path), "/v1/nodes/%s/pools/%s", en, ep);
        else
            snprintf(path, sizeof(path), "/v1/nodes/%s", en);
    } else if (k == &kinds[4]) {
        _cleanup_free_ char *eo = slio_http_escape(name), *q = NULL;
        if (!eo || asprintf(&q, "&object=%s", eo) < 0)
            return CLI_FAILED;
        return cli_list(c, what, k->list_path, q, ret);
    } else {
        rc = cli_resolve_id(c, k->names[1], k->list_path, name, id);
        snprintf(path, sizeof(path), "%s/%s", k->list_path, id);
    }
    if (rc == CLI_OK)
        rc = cli_call(c, what, "GET", path, NULL, &obj);
    if (rc == CLI_OK && !(*ret = json_pack("[o]", obj)))
        rc = CLI_FAILED;
    return rc;
}

static int get_kind(struct cli *c, const struct kind *k, const char *name, json_t **ret)
{
    if (name)
        return get_one(c, k, name, ret);
    _cleanup_free_ char *q = NULL, *en = NULL;
    if (c->o->node) {
        if (!k->node_filter)
            return cli_usage(c, "get %s: --node only filters pools and volumes", k->names[0]);
        if (!(en = slio_http_escape(c->o->node)) || asprintf(&q, "&node=%s", en) < 0)
            return CLI_FAILED;
    }
    return cli_list(c, k->names[0], k->list_path, q ?: "", ret);
}

static int parse_kinds(struct cli *c, const struct kind **ret, size_t *ret_n)
{
    _cleanup_free_ char *list = strdup(c->o->args[0]);
    size_t n = 0;
    if (!list)
        return CLI_FAILED;
    for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        const struct kind *k = find_kind(w);
        if (!k)
            return cli_usage(c,
                             "get: \"%s\" is not one of nodes, pools, volumes, snapshots, "
                             "events, orphans",
                             w);
        if (n == N(kinds))
            return cli_usage(c, "get: too many kinds");
        ret[n++] = k;
    }
    if (n == 0)
        return cli_usage(c, "get: no kind given");
    *ret_n = n;
    return CLI_OK;
}

static int run_get(struct cli *c)
{
    const struct kind *ks[N(kinds)];
    size_t n = 0;
    const char *name = c->o->n_args > 1 ? c->o->args[1] : NULL;
    int rc = parse_kinds(c, ks, &n);
    if (rc != CLI_OK)
        return rc;
    if (name && n > 1)
        return cli_usage(c, "get: a NAME needs a single kind");
    bool structured = c->o->output == CLI_OUT_JSON || c->o->output == CLI_OUT_YAML;
    _cleanup_json_ json_t *all = json_object();
    for (size_t i = 0; rc == CLI_OK && i < n; i++) {
        _cleanup_json_ json_t *items = NULL;
        rc = get_kind(c, ks[i], name, &items);
        if (rc != CLI_OK)
            break;
        if (structured && n > 1)
            rc = json_object_set(all, ks[i]->names[0], items) < 0 ? CLI_FAILED : CLI_OK;
        else {
            if (i > 0)
                fputc('\n', c->out);
            rc = cli_print_items(c, items, name && ks[i] != &kinds[4], ks[i]->cols, ks[i]->n_cols);
        }
    }
    if (rc == CLI_OK && structured && n > 1)
        rc = (c->o->output == CLI_OUT_JSON ? cli_print_json(c->out, all)
                                           : cli_print_yaml(c->out, all)) < 0
                 ? CLI_FAILED
                 : CLI_OK;
    return rc;
}

const struct cli_command cli_cmd_get = {
    .words = "get",
    .flags = F_OUTPUT | F_NODE | F_LIMIT | F_ALL | F_CHUNK,
    .min_args = 1,
    .max_args = 2,
    .run = run_get,
    .usage =
        "get nodes|pools|volumes|snapshots|events|orphans[,KIND...] [NAME] [-o wide|json|yaml]",
    .help = "List objects as a table (or one object by NAME: a node's name, NODE/POOL, a\n"
            "volume's or snapshot's name or id; for events, the object's id or name).\n"
            "Orphans are LVs carrying SLiteIO's tags that no record explains (never deleted).\n\n"
            "  -o, --output FORMAT  table (default), wide, json, yaml\n"
            "      --node NODE      only this node's pools or volumes\n"
            "      --limit N        at most N items\n"
            "      --all            every item, whatever --limit says\n"
            "      --chunk-size N   items asked per page (1..1000, default 500)\n",
};
