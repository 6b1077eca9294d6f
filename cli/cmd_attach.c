/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attach / detach volume and set qos: what slio-csi does for a kubelet, by
 * hand — to reach a volume from a host outside Kubernetes or to debug an
 * export. attach prints the attachment and, once it is ready on a remote
 * node, the exact `nvme connect` line that host would run.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/json.h"

static int structured(struct cli *c, const json_t *v)
{
    int r = c->o->output == CLI_OUT_JSON ? cli_print_json(c->out, v) : cli_print_yaml(c->out, v);
    return r < 0 ? CLI_FAILED : CLI_OK;
}

static void print_attachment(struct cli *c, const char *ref, const json_t *a)
{
    const char *node = json_string_value(json_object_get(a, "node")) ?: "?";
    const char *phase = json_string_value(json_object_get(a, "phase")) ?: "?";
    const json_t *addr = json_object_get(a, "address");
    const char *traddr = json_string_value(json_object_get(addr, "traddr"));
    const char *port = json_string_value(json_object_get(addr, "trsvcid"));
    const char *nqn = json_string_value(json_object_get(a, "nqn"));
    const char *host = json_string_value(json_object_get(a, "host_nqn"));
    fprintf(c->out, "volume \"%s\" attached to node \"%s\" (%s, phase %s)\n", ref, node,
            json_is_true(json_object_get(a, "local")) ? "local" : "remote", phase);
    if (json_is_true(json_object_get(a, "local")))
        fprintf(c->out, "device: %s\n", json_string_value(json_object_get(a, "device")) ?: "?");
    else if (strcmp(phase, "ready") == 0 && traddr && port && nqn)
        fprintf(c->out, "nvme connect -t tcp -a %s -s %s -n %s%s%s\n", traddr, port, nqn,
                host ? " --hostnqn " : "", host ?: "");
}

static int attachment_path(struct cli *c, const char *suffix, char *path, size_t len)
{
    char id[37] = "";
    int rc = cli_resolve_id(c, "volume", "/v1/volumes", c->o->args[0], id);
    snprintf(path, len, "/v1/volumes/%s/attachments%s", id, suffix);
    return rc;
}

static int run_attach(struct cli *c)
{
    char what[300], path[512];
    _cleanup_json_ json_t *body = NULL, *att = NULL;
    if (!c->o->node)
        return cli_usage(c, "attach volume \"%s\": --node is required", c->o->args[0]);
    snprintf(what, sizeof(what), "attach volume \"%s\"", c->o->args[0]);
    int rc = attachment_path(c, "", path, sizeof(path));
    if (rc == CLI_OK && !(body = json_pack("{s:s}", "node", c->o->node)))
        rc = CLI_FAILED;
    if (rc == CLI_OK)
        rc = cli_call(c, what, "POST", path, body, &att);
    if (rc != CLI_OK)
        return rc;
    if (c->o->output == CLI_OUT_JSON || c->o->output == CLI_OUT_YAML)
        return structured(c, att);
    print_attachment(c, c->o->args[0], att);
    return CLI_OK;
}

static int run_detach(struct cli *c)
{
    char what[300], path[512], suffix[300];
    _cleanup_free_ char *en = c->o->node ? slio_http_escape(c->o->node) : NULL;
    if (!c->o->node)
        return cli_usage(c, "detach volume \"%s\": --node is required", c->o->args[0]);
    if (!en)
        return CLI_FAILED;
    snprintf(what, sizeof(what), "detach volume \"%s\"", c->o->args[0]);
    snprintf(suffix, sizeof(suffix), "/%s", en);
    int rc = attachment_path(c, suffix, path, sizeof(path));
    if (rc == CLI_OK)
        rc = cli_call(c, what, "DELETE", path, NULL, NULL);
    if (rc == CLI_OK)
        fprintf(c->out, "volume \"%s\" detaching from node \"%s\"\n", c->o->args[0], c->o->node);
    return rc;
}

static int run_qos(struct cli *c)
{
    char what[300], id[37] = "", path[128];
    const struct cli_opts *o = c->o;
    _cleanup_json_ json_t *body = NULL, *vol = NULL;
    snprintf(what, sizeof(what), "set qos volume \"%s\"", o->args[0]);
    int rc = cli_resolve_id(c, "volume", "/v1/volumes", o->args[0], id);
    snprintf(path, sizeof(path), "/v1/volumes/%s/qos", id);
    body =
        json_pack("{s:I,s:I,s:I,s:I}", "rw_ios_per_sec", (json_int_t)o->qos_iops,
                  "rw_mbytes_per_sec", (json_int_t)o->qos_mbps, "r_mbytes_per_sec",
                  (json_int_t)o->qos_read_mbps, "w_mbytes_per_sec", (json_int_t)o->qos_write_mbps);
    if (rc == CLI_OK && !body)
        rc = CLI_FAILED;
    if (rc == CLI_OK)
        rc = cli_call(c, what, "PUT", path, body, &vol);
    if (rc != CLI_OK)
        return rc;
    if (o->output == CLI_OUT_JSON || o->output == CLI_OUT_YAML)
        return structured(c, vol);
    _cleanup_free_ char *q = slio_json_dump(json_object_get(vol, "qos"), 0);
    fprintf(c->out, "volume \"%s\" qos %s\n", o->args[0], q ?: "{}");
    return CLI_OK;
}

const struct cli_command cli_cmd_attach = {
    .words = "attach volume",
    .flags = F_OUTPUT | F_NODE,
    .min_args = 1,
    .max_args = 1,
    .run = run_attach,
    .usage = "attach volume ID|NAME --node NODE [-o json|yaml]",
    .help = "Ask for the volume on NODE (what slio-csi's NodeStage does): on its own node the\n"
            "device path, elsewhere an NVMe/TCP export to NODE's host NQN only. Once ready, a\n"
            "remote attachment prints the `nvme connect` line NODE would run. Idempotent; a\n"
            "volume is attached to one node at a time (another node: exit 3).\n\n"
            "      --node NODE          the consumer node (required)\n",
};
const struct cli_command cli_cmd_detach = {
    .words = "detach volume",
    .flags = F_NODE,
    .min_args = 1,
    .max_args = 1,
    .run = run_detach,
    .usage = "detach volume ID|NAME --node NODE",
    .help = "The consumer NODE is done with the volume; its export is removed. Idempotent.\n",
};
const struct cli_command cli_cmd_set_qos = {
    .words = "set qos volume",
    .flags = F_OUTPUT | F_QOS,
    .min_args = 1,
    .max_args = 1,
    .run = run_qos,
    .usage = "set qos volume ID|NAME [--qos-iops N] [--qos-mbps N] [--qos-read-mbps N] "
             "[--qos-write-mbps N]",
    .help = "Replace the volume's QoS limits (applied online by its agent); a limit not given\n"
            "is 0, unlimited.\n",
};
