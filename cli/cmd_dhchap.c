/* SPDX-License-Identifier: Apache-2.0 */
/*
 * set / show / delete dhchap NODE: a consumer node's NVMe DH-HMAC-CHAP
 * secrets on the controller (/v1/nodes/{node}/dhchap). The secrets are read
 * from files, never from the command line: argv is visible to every user of
 * the machine (ps, /proc) and lands in shell histories. The controller never
 * answers them back; show prints key ids only.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/fileio.h"
#include "slio/json.h"
#include "slio/nqn.h"

static const struct cli_column status_cols[] = {
    {"NODE", "node", FMT_STR, false},
    {"CONFIGURED", "configured", FMT_BOOL, false},
    {"BIDIRECTIONAL", "bidirectional", FMT_BOOL, false},
    {"HOST-KEY-ID", "host_key_id", FMT_STR, false},
    {"CTRL-KEY-ID", "ctrl_key_id", FMT_STR, false},
    {"UPDATED", "updated_at", FMT_AGE, true},
};

static int dhchap_path(struct cli *c, char path[static 512])
{
    _cleanup_free_ char *en = slio_http_escape(c->o->args[0]);
    if (!en || snprintf(path, 512, "/v1/nodes/%s/dhchap", en) >= 512)
        return cli_usage(c, "node name \"%s\" is too long", c->o->args[0]);
    return CLI_OK;
}

/* The secret in file, trailing newline dropped, checked before it leaves this process.
 * The file's text is never printed: an error names the file only. */
static int read_secret(struct cli *c, const char *file, char **ret)
{
    char *buf = NULL;
    size_t len = 0;

    if (slio_read_file(file, SLIO_DHCHAP_SECRET_MAX + 2, &buf, &len) < 0)
        return cli_usage(c, "key file \"%s\": unreadable or longer than a DH-HMAC-CHAP secret",
                         file);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    if (!slio_dhchap_secret_valid(buf)) {
        free(buf);
        return cli_usage(c,
                         "key file \"%s\": not a DH-HMAC-CHAP secret (DHHC-1:<hh>:<base64>: as "
                         "`nvme gen-dhchap-key` prints it, CRC-32 checked)",
                         file);
    }
    *ret = buf;
    return CLI_OK;
}

static int print_status(struct cli *c, const json_t *st)
{
    if (c->o->output == CLI_OUT_JSON)
        return cli_print_json(c->out, st) < 0 ? CLI_FAILED : CLI_OK;
    if (c->o->output == CLI_OUT_YAML)
        return cli_print_yaml(c->out, st) < 0 ? CLI_FAILED : CLI_OK;
    _cleanup_json_ json_t *items = json_pack("[O]", st);
    if (!items)
        return CLI_FAILED;
    return cli_print_table(c->out, items, status_cols, SLIO_ARRAY_SIZE(status_cols),
                           c->o->output == CLI_OUT_WIDE, c->now) < 0
               ? CLI_FAILED
               : CLI_OK;
}

static int run_set(struct cli *c)
{
    char path[512], what[300];
    _cleanup_free_ char *host = NULL, *ctrl = NULL;
    _cleanup_json_ json_t *body = NULL, *st = NULL;
    int rc = dhchap_path(c, path);

    if (rc == CLI_OK)
        rc = read_secret(c, c->o->args[1], &host);
    if (rc == CLI_OK && c->o->n_args > 2)
        rc = read_secret(c, c->o->args[2], &ctrl);
    if (rc != CLI_OK)
        return rc;
    body = ctrl ? json_pack("{s:s, s:s}", "host_key", host, "ctrl_key", ctrl)
                : json_pack("{s:s}", "host_key", host);
    if (!body)
        return CLI_FAILED;
    snprintf(what, sizeof(what), "set dhchap of node \"%s\"", c->o->args[0]);
    rc = cli_call(c, what, "PUT", path, body, &st);
    return rc != CLI_OK ? rc : print_status(c, st);
}

static int run_show(struct cli *c)
{
    char path[512], what[300];
    _cleanup_json_ json_t *st = NULL;
    int rc = dhchap_path(c, path);

    if (rc != CLI_OK)
        return rc;
    snprintf(what, sizeof(what), "show dhchap of node \"%s\"", c->o->args[0]);
    rc = cli_call(c, what, "GET", path, NULL, &st);
    return rc != CLI_OK ? rc : print_status(c, st);
}

static int run_delete(struct cli *c)
{
    char path[512], what[300];
    int rc = dhchap_path(c, path);

    if (rc != CLI_OK)
        return rc;
    snprintf(what, sizeof(what), "delete dhchap of node \"%s\"", c->o->args[0]);
    rc = cli_call(c, what, "DELETE", path, NULL, NULL);
    if (rc == CLI_OK)
        fprintf(c->out, "node \"%s\": DH-HMAC-CHAP secrets removed\n", c->o->args[0]);
    return rc;
}

const struct cli_command cli_cmd_dhchap_set = {
    .words = "set dhchap",
    .flags = F_OUTPUT,
    .min_args = 2,
    .max_args = 3,
    .run = run_set,
    .usage = "set dhchap NODE HOST_KEY_FILE [CTRL_KEY_FILE]",
    .help = "Set or rotate the node's NVMe DH-HMAC-CHAP secrets (admin token). Each file holds\n"
            "one secret as `nvme gen-dhchap-key` prints it; CTRL_KEY_FILE makes it\n"
            "bidirectional. Agents exporting volumes to the node update their targets at\n"
            "once, without dropping connected hosts. Prints the key ids, never the keys.\n",
};
const struct cli_command cli_cmd_dhchap_show = {
    .words = "show dhchap",
    .flags = F_OUTPUT,
    .min_args = 1,
    .max_args = 1,
    .run = run_show,
    .usage = "show dhchap NODE",
    .help = "Whether the node has DH-HMAC-CHAP secrets, and their key ids (first 16 hex\n"
            "digits of each secret's SHA-256).\n",
};
const struct cli_command cli_cmd_dhchap_delete = {
    .words = "delete dhchap",
    .flags = 0,
    .min_args = 1,
    .max_args = 1,
    .run = run_delete,
    .usage = "delete dhchap NODE",
    .help = "Remove the node's DH-HMAC-CHAP secrets (admin token): its volumes are exported\n"
            "without authentication again.\n",
};
