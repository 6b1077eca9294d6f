/* SPDX-License-Identifier: Apache-2.0 */
/* snapshot create / snapshot delete. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/json.h"

static int run_create(struct cli *c)
{
    char what[300], vol[37];
    const char *name = c->o->args[0];
    _cleanup_json_ json_t *body = NULL, *snap = NULL;
    if (!c->o->volume)
        return cli_usage(c, "snapshot create \"%s\": --volume is required", name);
    snprintf(what, sizeof(what), "snapshot create \"%s\"", name);
    int rc = cli_resolve_id(c, "volume", "/v1/volumes", c->o->volume, vol);
    if (rc == CLI_OK && !(body = json_pack("{s:s,s:s}", "name", name, "volume", vol)))
        rc = CLI_FAILED;
    if (rc == CLI_OK)
        rc = cli_call(c, what, "POST", "/v1/snapshots", body, &snap);
    if (rc != CLI_OK)
        return rc;
    if (c->o->output == CLI_OUT_JSON)
        return cli_print_json(c->out, snap) < 0 ? CLI_FAILED : CLI_OK;
    if (c->o->output == CLI_OUT_YAML)
        return cli_print_yaml(c->out, snap) < 0 ? CLI_FAILED : CLI_OK;
    fprintf(c->out, "snapshot \"%s\" created (id %s, phase %s)\n", name,
            json_string_value(json_object_get(snap, "id")) ?: "?",
            json_string_value(json_object_get(snap, "phase")) ?: "?");
    return CLI_OK;
}

static int run_delete(struct cli *c)
{
    char what[300], id[37] = "", path[128];
    snprintf(what, sizeof(what), "snapshot delete \"%s\"", c->o->args[0]);
    int rc = cli_resolve_id(c, "snapshot", "/v1/snapshots", c->o->args[0], id);
    snprintf(path, sizeof(path), "/v1/snapshots/%s", id);
    if (rc == CLI_OK)
        rc = cli_call(c, what, "DELETE", path, NULL, NULL);
    if (rc == CLI_OK)
        fprintf(c->out, "snapshot \"%s\" deleting (id %s)\n", c->o->args[0], id);
    return rc;
}

const struct cli_command cli_cmd_snapshot_create = {
    .words = "snapshot create",
    .flags = F_OUTPUT | F_VOLUME,
    .min_args = 1,
    .max_args = 1,
    .run = run_create,
    .usage = "snapshot create NAME --volume ID|NAME",
    .help = "Snapshot a volume on its pool (idempotent by name; another volume: exit 3).\n\n"
            "      --volume V           the volume (name or id, required)\n"
            "  -o, --output FORMAT      json or yaml prints the snapshot\n",
};
const struct cli_command cli_cmd_snapshot_delete = {
    .words = "snapshot delete",
    .flags = 0,
    .min_args = 1,
    .max_args = 1,
    .run = run_delete,
    .usage = "snapshot delete ID|NAME",
    .help = "Start deleting a snapshot; it is gone once its agent removed it.\n",
};
