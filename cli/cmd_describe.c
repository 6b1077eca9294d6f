/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slioctl describe node|pool|volume|snapshot NAME: the object's fields, its
 * parts (a node's pools, a volume's attachments), then its events — what an
 * operator reads first when something is wrong. -o json/yaml prints
 * {"object": ..., "events": [...]}.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/json.h"

static const struct cli_column node_fields[] = {
    {"Name", "name", FMT_STR},
    {"Status", "status", FMT_STR},
    {"Rack", "topology.rack", FMT_STR},
    {"Zone", "topology.zone", FMT_STR},
    {"Labels", "labels", FMT_STR},
    {"Host NQN", "host_nqn", FMT_STR},
    {"Export", "export_address", FMT_ADDR},
    {"Agent", "agent_url", FMT_STR},
    {"Last heartbeat", "last_heartbeat", FMT_STR},
};
static const struct cli_column pool_fields[] = {
    {"Node", "node", FMT_STR},
    {"Name", "name", FMT_STR},
    {"Status", "status", FMT_STR},
    {"Cordoned", "cordoned", FMT_BOOL},
    {"Engine", "engine", FMT_STR},
    {"Thin", "thin", FMT_BOOL},
    {"Capacity", "capacity", FMT_SIZE},
    {"Free", "free", FMT_SIZE},
    {"Allocated", "allocated", FMT_SIZE},
    {"Reserved", "reserved", FMT_SIZE},
    {"Volumes", "volumes", FMT_STR},
    {"Remote volumes", "remote_volumes", FMT_STR},
    {"Max remote", "max_remote_volumes", FMT_STR},
    {"Thin data", "thin_data_percent", FMT_PERCENT},
    {"Thin metadata", "thin_metadata_percent", FMT_PERCENT},
    {"Overprovision", "overprovision", FMT_STR},
    {"Labels", "labels", FMT_STR},
};
static const struct cli_column volume_fields[] = {
    {"Name", "name", FMT_STR},
    {"ID", "id", FMT_STR},
    {"Size", "size", FMT_SIZE},
    {"Phase", "phase", FMT_STR},
    {"Message", "message", FMT_STR},
    {"Pool", "", FMT_NODEPOOL},
    {"Degraded", "degraded", FMT_BOOL},
    {"Thin", "thin", FMT_BOOL},
    {"Position", "position", FMT_STR},
    {"Consumer node", "consumer_node", FMT_STR},
    {"Spread", "spread", FMT_STR},
    {"Source", "source", FMT_STR},
    {"QoS", "qos", FMT_STR},
    {"Labels", "labels", FMT_STR},
    {"Device", "device", FMT_STR},
    {"NQN", "nqn", FMT_STR},
    {"Created", "created_at", FMT_STR},
    {"Revision", "revision", FMT_STR},
};
static const struct cli_column snapshot_fields[] = {
    {"Name", "name", FMT_STR},          {"ID", "id", FMT_STR},
    {"Volume", "volume", FMT_STR},      {"Size", "size", FMT_SIZE},
    {"Phase", "phase", FMT_STR},        {"Ready", "ready_to_use", FMT_BOOL},
    {"Message", "message", FMT_STR},    {"Pool", "", FMT_NODEPOOL},
    {"Created", "created_at", FMT_STR},
};

struct describe_kind {
    const char *name, *event_kind;
    const struct cli_column *fields;
    size_t n_fields;
    const char *part_key, *part_title; /* an array member printed as a table */
};
static const struct describe_kind dkinds[] = {
    {"node", "node", node_fields, SLIO_ARRAY_SIZE(node_fields), "pools", "Pools"},
    {"pool", "pool", pool_fields, SLIO_ARRAY_SIZE(pool_fields), NULL, NULL},
    {"volume", "volume", volume_fields, SLIO_ARRAY_SIZE(volume_fields), "attachments",
     "Attachments"},
    {"snapshot", "snapshot", snapshot_fields, SLIO_ARRAY_SIZE(snapshot_fields), NULL, NULL},
};

static int print_fields(struct cli *c, const struct describe_kind *k, const json_t *obj)
{
    for (size_t i = 0; i < k->n_fields; i++) {
        _cleanup_free_ char *s = cli_cell(obj, &k->fields[i], c->now);
        if (!s)
            return CLI_FAILED;
        fprintf(c->out, "%-16s %s\n", k->fields[i].header, s);
    }
    return CLI_OK;
}

static int print_section(struct cli *c, const char *title, const json_t *items,
                         const struct cli_column *cols, size_t n)
{
    fprintf(c->out, "%s:", title);
    if (json_array_size(items) == 0) {
        fprintf(c->out, " <none>\n");
        return CLI_OK;
    }
    fputc('\n', c->out);
    return cli_print_table(c->out, items, cols, n, c->o->output == CLI_OUT_WIDE, c->now) < 0
               ? CLI_FAILED
               : CLI_OK;
}

/* The object's path and the id its events are filed under. */
static int locate(struct cli *c, const struct describe_kind *k, char *ref, char *path, size_t len,
                  char *event_obj, size_t elen)
{
    char id[37] = "";
    const char *node, *pool;
    int rc = CLI_OK;
    if (k == &dkinds[0]) {
        _cleanup_free_ char *e = slio_http_escape(ref);
        snprintf(path, len, "/v1/nodes/%s", e ?: "");
        snprintf(event_obj, elen, "%s", ref);
    } else if (k == &dkinds[1]) {
        snprintf(event_obj, elen, "%s", ref);
        if ((rc = cli_split_pool(c, ref, &node, &pool)) != CLI_OK)
            return rc;
        _cleanup_free_ char *en = slio_http_escape(node), *ep = slio_http_escape(pool);
        snprintf(path, len, "/v1/nodes/%s/pools/%s", en ?: "", ep ?: "");
    } else {
        const char *list = k == &dkinds[2] ? "/v1/volumes" : "/v1/snapshots";
        if ((rc = cli_resolve_id(c, k->name, list, ref, id)) != CLI_OK)
            return rc;
        snprintf(path, len, "%s/%s", list, id);
        snprintf(event_obj, elen, "%s", id);
    }
    return rc;
}

static int run_describe(struct cli *c)
{
    const struct describe_kind *k = NULL;
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(dkinds); i++)
        if (strcmp(c->o->args[0], dkinds[i].name) == 0)
            k = &dkinds[i];
    if (!k)
        return cli_usage(c, "describe: \"%s\" is not one of node, pool, volume, snapshot",
                         c->o->args[0]);
    char path[1024], eobj[300], what[300], q[1024];
    _cleanup_free_ char *ref = strdup(c->o->args[1]);
    if (!ref)
        return CLI_FAILED;
    snprintf(what, sizeof(what), "%s \"%s\"", k->name, c->o->args[1]);
    int rc = locate(c, k, ref, path, sizeof(path), eobj, sizeof(eobj));
    _cleanup_json_ json_t *obj = NULL, *events = NULL;
    if (rc == CLI_OK)
        rc = cli_call(c, what, "GET", path, NULL, &obj);
    _cleanup_free_ char *eo = slio_http_escape(eobj);
    snprintf(q, sizeof(q), "&kind=%s&object=%s", k->event_kind, eo ?: "");
    if (rc == CLI_OK)
        rc = cli_list(c, what, "/v1/events", q, &events);
    if (rc != CLI_OK)
        return rc;
    if (c->o->output == CLI_OUT_JSON || c->o->output == CLI_OUT_YAML) {
        _cleanup_json_ json_t *doc = json_pack("{s:O,s:O}", "object", obj, "events", events);
        if (!doc)
            return CLI_FAILED;
        return (c->o->output == CLI_OUT_JSON ? cli_print_json(c->out, doc)
                                             : cli_print_yaml(c->out, doc)) < 0
                   ? CLI_FAILED
                   : CLI_OK;
    }
    rc = print_fields(c, k, obj);
    if (rc == CLI_OK && k->part_key)
        rc = print_section(c, k->part_title, json_object_get(obj, k->part_key),
                           k == &dkinds[0] ? cli_pool_cols : cli_attachment_cols,
                           k == &dkinds[0] ? cli_n_pool_cols : cli_n_attachment_cols);
    if (rc == CLI_OK)
        rc = print_section(c, "Events", events, cli_event_cols, cli_n_event_cols);
    return rc;
}

const struct cli_command cli_cmd_describe = {
    .words = "describe",
    .flags = F_OUTPUT | F_LIMIT | F_ALL | F_CHUNK,
    .min_args = 2,
    .max_args = 2,
    .run = run_describe,
    .usage = "describe node|pool|volume|snapshot NAME",
    .help = "Show one object in full: its fields and messages, a node's pools or a\n"
            "volume's attachments, and the events filed under it (oldest first).\n"
            "NAME is a node name, NODE/POOL, or a volume's or snapshot's name or id.\n\n"
            "  -o, --output FORMAT  table (default), wide, json, yaml\n"
            "      --limit N        at most N events\n",
};
