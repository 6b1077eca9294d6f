/* SPDX-License-Identifier: Apache-2.0 */
/*
 * create volume / delete volume / expand volume. The controller validates
 * every field (its message names the field); slioctl only builds the body,
 * resolves names to ids, and reports what happened in one line (or the
 * object itself with -o json/yaml).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/json.h"

/* The answer of a call that returns an object: one line, or the object. */
static int report(struct cli *c, const char *kind, const json_t *obj, const char *verb)
{
    if (c->o->output == CLI_OUT_JSON)
        return cli_print_json(c->out, obj) < 0 ? CLI_FAILED : CLI_OK;
    if (c->o->output == CLI_OUT_YAML)
        return cli_print_yaml(c->out, obj) < 0 ? CLI_FAILED : CLI_OK;
    fprintf(c->out, "%s \"%s\" %s (id %s, phase %s)\n", kind,
            json_string_value(json_object_get(obj, "name")) ?: "?", verb,
            json_string_value(json_object_get(obj, "id")) ?: "?",
            json_string_value(json_object_get(obj, "phase")) ?: "?");
    return CLI_OK;
}

static json_t *qos_body(const struct cli_opts *o)
{
    return json_pack("{s:I,s:I,s:I,s:I}", "rw_ios_per_sec", (json_int_t)o->qos_iops,
                     "rw_mbytes_per_sec", (json_int_t)o->qos_mbps, "r_mbytes_per_sec",
                     (json_int_t)o->qos_read_mbps, "w_mbytes_per_sec",
                     (json_int_t)o->qos_write_mbps);
}

static int add_source(struct cli *c, json_t *body)
{
    char id[37] = "";
    const struct cli_opts *o = c->o;
    if (o->from_snapshot && o->from_volume)
        return cli_usage(c, "create volume: --from-snapshot and --from-volume exclude each other");
    bool snap = o->from_snapshot != NULL;
    int rc = cli_resolve_id(c, snap ? "snapshot" : "volume", snap ? "/v1/snapshots" : "/v1/volumes",
                            snap ? o->from_snapshot : o->from_volume, id);
    if (rc == CLI_OK &&
        json_object_set_new(body, "source", json_pack("{s:s}", snap ? "snapshot" : "volume", id)))
        rc = CLI_FAILED;
    return rc;
}

static int build_create(struct cli *c, json_t **ret)
{
    const struct cli_opts *o = c->o;
    _cleanup_json_ json_t *b = json_pack("{s:s,s:I,s:b}", "name", o->args[0], "size",
                                         (json_int_t)o->size, "thin", o->thin);
    int bad = !b;
    if (!(o->flags & F_SIZE))
        return cli_usage(c, "create volume \"%s\": --size is required", o->args[0]);
    if (o->spread_level && !o->spread_group)
        return cli_usage(c, "create volume \"%s\": --spread-level needs --spread-group",
                         o->args[0]);
    if (!bad && o->position)
        bad = json_object_set_new(b, "position", json_string(o->position));
    if (!bad && o->consumer_node)
        bad = json_object_set_new(b, "consumer_node", json_string(o->consumer_node));
    if (!bad && o->fs_type)
        bad = json_object_set_new(b, "fs_type", json_string(o->fs_type));
    if (!bad && o->spread_group)
        bad = json_object_set_new(b, "spread",
                                  json_pack("{s:s,s:s,s:b}", "group", o->spread_group, "level",
                                            o->spread_level ?: "node", "hard", !o->soft_spread));
    if (!bad && (o->flags & F_QOS))
        bad = json_object_set_new(b, "qos", qos_body(o));
    if (bad)
        return CLI_FAILED;
    if (o->flags & F_SOURCE) {
        int rc = add_source(c, b);
        if (rc != CLI_OK)
            return rc;
    }
    *ret = TAKE_PTR(b);
    return CLI_OK;
}

static int run_create(struct cli *c)
{
    char what[300];
    _cleanup_json_ json_t *body = NULL, *vol = NULL;
    snprintf(what, sizeof(what), "create volume \"%s\"", c->o->args[0]);
    int rc = build_create(c, &body);
    if (rc == CLI_OK)
        rc = cli_call(c, what, "POST", "/v1/volumes", body, &vol);
    return rc == CLI_OK ? report(c, "volume", vol, "created") : rc;
}

static int run_delete(struct cli *c)
{
    char what[300], id[37] = "", path[128];
    _cleanup_json_ json_t *vol = NULL;
    snprintf(what, sizeof(what), "delete volume \"%s\"", c->o->args[0]);
    int rc = cli_resolve_id(c, "volume", "/v1/volumes", c->o->args[0], id);
    snprintf(path, sizeof(path), "/v1/volumes/%s", id);
    if (rc == CLI_OK)
        rc = cli_call(c, what, "DELETE", path, NULL, &vol);
    return rc == CLI_OK ? report(c, "volume", vol, "deleting") : rc;
}

static int run_expand(struct cli *c)
{
    char what[300], id[37] = "", path[128];
    _cleanup_json_ json_t *vol = NULL, *body = NULL;
    if (!(c->o->flags & F_SIZE))
        return cli_usage(c, "expand volume \"%s\": --size is required", c->o->args[0]);
    snprintf(what, sizeof(what), "expand volume \"%s\"", c->o->args[0]);
    int rc = cli_resolve_id(c, "volume", "/v1/volumes", c->o->args[0], id);
    snprintf(path, sizeof(path), "/v1/volumes/%s/expand", id);
    if (rc == CLI_OK && !(body = json_pack("{s:I}", "size", (json_int_t)c->o->size)))
        rc = CLI_FAILED;
    if (rc == CLI_OK)
        rc = cli_call(c, what, "POST", path, body, &vol);
    return rc == CLI_OK ? report(c, "volume", vol, "expanding") : rc;
}

const struct cli_command cli_cmd_create_volume = {
    .words = "create volume",
    .flags = F_OUTPUT | F_SIZE | F_THIN | F_POSITION | F_CONSUMER | F_SPREAD_GROUP |
             F_SPREAD_LEVEL | F_SOFT_SPREAD | F_QOS | F_FS_TYPE | F_SOURCE,
    .min_args = 1,
    .max_args = 1,
    .run = run_create,
    .usage = "create volume NAME --size SIZE [--thin] [--position P] [--consumer-node N] ...",
    .help =
        "Create a volume (idempotent by name: the same parameters answer the existing one).\n\n"
        "      --size SIZE            10Gi, 500M, bytes (required)\n"
        "      --thin                 thin-provisioned\n"
        "      --position P           any, must_local, prefer_local, prefer_remote, must_remote\n"
        "      --consumer-node N      the node that will use it (position is relative to it)\n"
        "      --spread-group G       keep apart from the group's other volumes\n"
        "      --spread-level L       node (default), rack or zone\n"
        "      --soft-spread          spread if possible, place anyway otherwise\n"
        "      --qos-iops N           read+write I/O per second (0 = unlimited)\n"
        "      --qos-mbps N           read+write MB/s\n"
        "      --qos-read-mbps N      read MB/s\n"
        "      --qos-write-mbps N     write MB/s\n"
        "      --fs-type T            ext4 or xfs (a hint kept for the consumer)\n"
        "      --from-snapshot S      content from a snapshot (name or id)\n"
        "      --from-volume V        a clone of a volume (name or id)\n"
        "  -o, --output FORMAT        json or yaml prints the volume\n",
};
const struct cli_command cli_cmd_delete_volume = {
    .words = "delete volume",
    .flags = F_OUTPUT,
    .min_args = 1,
    .max_args = 1,
    .run = run_delete,
    .usage = "delete volume ID|NAME",
    .help = "Start deleting a volume; it is gone once its agent removed it. Refused (exit 3)\n"
            "while it is attached or has snapshots.\n",
};
const struct cli_command cli_cmd_expand_volume = {
    .words = "expand volume",
    .flags = F_OUTPUT | F_SIZE,
    .min_args = 1,
    .max_args = 1,
    .run = run_expand,
    .usage = "expand volume ID|NAME --size SIZE",
    .help = "Grow a volume to SIZE (never shrinks). Exit 5 when its pool has no room.\n",
};
