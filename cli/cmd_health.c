/* SPDX-License-Identifier: Apache-2.0 */
/* slioctl health: every configured controller's /v1/health (role, store, version). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/json.h"

static int run_health(struct cli *c)
{
    struct slio_err err = {{0}};
    unsigned status = 0;
    _cleanup_json_ json_t *h = NULL;
    int r = slio_http_call(c->http, "GET", "/v1/health", NULL, &status, &h, &err);
    if (r < 0)
        return cli_fail_transport(c, "health", r, &err);
    if (c->o->output == CLI_OUT_JSON || c->o->output == CLI_OUT_YAML) {
        if (!h)
            h = json_object();
        r = c->o->output == CLI_OUT_JSON ? cli_print_json(c->out, h) : cli_print_yaml(c->out, h);
        if (r < 0)
            return CLI_FAILED;
    } else {
        fprintf(c->out, "%s: status %s, role %s, store %s, version %s%s%s\n",
                slio_http_client_current_url(c->http),
                json_string_value(json_object_get(h, "status")) ?: "?",
                json_string_value(json_object_get(h, "role")) ?: "?",
                json_string_value(json_object_get(h, "store")) ?: "?",
                json_string_value(json_object_get(h, "version")) ?: "?",
                json_object_get(h, "leader") ? ", leader " : "",
                json_string_value(json_object_get(h, "leader")) ?: "");
    }
    return status == 200 ? CLI_OK : CLI_UNAVAILABLE;
}

const struct cli_command cli_cmd_health = {
    .words = "health",
    .flags = F_OUTPUT,
    .min_args = 0,
    .max_args = 0,
    .run = run_health,
    .usage = "health [-o json|yaml]",
    .help = "The controller's health: status, role (leader, standby, single), store and\n"
            "version. Exit 0 when it serves, 4 otherwise. Needs no token.\n",
};
