/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cordon / uncordon / drain pool NODE/POOL. Drain cordons the pool and prints
 * the controller's plan: every volume on it and where the scheduler would put
 * a replacement now. SLiteIO does not replicate; the plan is for the operator.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/json.h"

static const struct cli_column move_cols[] = {
    {"VOLUME", "name", FMT_STR, false},
    {"ID", "volume", FMT_STR, false},
    {"ATTACHED-TO", "attached_to", FMT_STR, false},
    {"TARGET", "target_pool", FMT_STR, false},
    {"REASON", "reason", FMT_STR, false},
};

static int pool_call(struct cli *c, const char *action, json_t **ret)
{
    char what[300], path[1024];
    const char *node, *pool;
    _cleanup_free_ char *ref = strdup(c->o->args[0]);
    if (!ref)
        return CLI_FAILED;
    snprintf(what, sizeof(what), "%s pool \"%s\"", action, c->o->args[0]);
    int rc = cli_split_pool(c, ref, &node, &pool);
    if (rc != CLI_OK)
        return rc;
    _cleanup_free_ char *en = slio_http_escape(node), *ep = slio_http_escape(pool);
    if (!en || !ep)
        return CLI_FAILED;
    snprintf(path, sizeof(path), "/v1/nodes/%s/pools/%s/%s", en, ep, action);
    return cli_call(c, what, "POST", path, NULL, ret);
}

static int structured(struct cli *c, const json_t *v)
{
    int r = c->o->output == CLI_OUT_JSON ? cli_print_json(c->out, v) : cli_print_yaml(c->out, v);
    return r < 0 ? CLI_FAILED : CLI_OK;
}

static int run_cordon_like(struct cli *c, const char *action, const char *done)
{
    _cleanup_json_ json_t *pool = NULL;
    int rc = pool_call(c, action, &pool);
    if (rc != CLI_OK)
        return rc;
    if (c->o->output == CLI_OUT_JSON || c->o->output == CLI_OUT_YAML)
        return structured(c, pool);
    fprintf(c->out, "pool \"%s\" %s\n", c->o->args[0], done);
    return CLI_OK;
}

static int run_cordon(struct cli *c)
{
    return run_cordon_like(c, "cordon", "cordoned");
}

static int run_uncordon(struct cli *c)
{
    return run_cordon_like(c, "uncordon", "uncordoned");
}

static int run_drain(struct cli *c)
{
    _cleanup_json_ json_t *plan = NULL;
    int rc = pool_call(c, "drain", &plan);
    if (rc != CLI_OK)
        return rc;
    if (c->o->output == CLI_OUT_JSON || c->o->output == CLI_OUT_YAML)
        return structured(c, plan);
    const json_t *moves = json_object_get(plan, "moves");
    fprintf(c->out, "pool \"%s\" cordoned; %zu volume(s) to move:\n", c->o->args[0],
            json_array_size(moves));
    if (json_array_size(moves) == 0)
        return CLI_OK;
    return cli_print_table(c->out, moves, move_cols, SLIO_ARRAY_SIZE(move_cols), true, c->now) < 0
               ? CLI_FAILED
               : CLI_OK;
}

const struct cli_command cli_cmd_cordon = {
    .words = "cordon pool",
    .flags = F_OUTPUT,
    .min_args = 1,
    .max_args = 1,
    .run = run_cordon,
    .usage = "cordon pool NODE/POOL",
    .help = "Stop placing new volumes on the pool (its volumes keep working). Idempotent.\n",
};
const struct cli_command cli_cmd_uncordon = {
    .words = "uncordon pool",
    .flags = F_OUTPUT,
    .min_args = 1,
    .max_args = 1,
    .run = run_uncordon,
    .usage = "uncordon pool NODE/POOL",
    .help = "Make the pool schedulable again. Idempotent.\n",
};
const struct cli_command cli_cmd_drain = {
    .words = "drain pool",
    .flags = F_OUTPUT,
    .min_args = 1,
    .max_args = 1,
    .run = run_drain,
    .usage = "drain pool NODE/POOL",
    .help = "Cordon the pool and print the plan: each volume on it and where the scheduler\n"
            "would place a replacement now (or why none fits). No data is moved.\n",
};
