/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slioctl's entry point: parse, --help, connect, run. Installed also as
 * kubectl-sliteio (kubectl runs plugins by that name); messages then say
 * "kubectl sliteio".
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"

static const char *program_name(const char *argv0)
{
    _cleanup_free_ char *copy = strdup(argv0 ? argv0 : "slioctl");
    if (copy && strncmp(basename(copy), "kubectl-sliteio", 15) == 0)
        return "kubectl sliteio";
    return "slioctl";
}

static int connect_and_run(struct cli *c, const struct cli_command *cmd)
{
    struct cli_conn conn = {0};
    struct slio_err err = {{0}};
    int r = cli_conn_resolve(c->o, &conn, &err);
    if (r < 0) {
        fprintf(c->err, "%s: error: %s\n", c->prog, err.text);
        return r == -EINVAL ? CLI_USAGE : CLI_UNAVAILABLE;
    }
    struct slio_http_client_opts ho = {
        .urls = (const char *const *)conn.urls,
        .n_urls = conn.n_urls,
        .token = conn.token,
        .ca_file = conn.ca_file,
        .timeout_ms = 30000,
    };
    r = slio_http_client_new(&ho, &c->http, &err);
    if (r < 0) {
        fprintf(c->err, "%s: error: %s\n", c->prog, err.text);
        cli_conn_clear(&conn);
        return CLI_USAGE;
    }
    c->conn = &conn;
    int rc = cmd->run(c);
    c->conn = NULL;
    slio_http_client_free(c->http);
    cli_conn_clear(&conn);
    return rc;
}

int main(int argc, char **argv)
{
    struct cli_opts o;
    const struct cli_command *cmd = NULL;
    struct slio_err err = {{0}};
    struct cli c = {
        .o = &o, .out = stdout, .err = stderr, .prog = program_name(argv[0]), .now = time(NULL)};

    int rc = cli_parse(argc, argv, &o, &cmd, &err);
    if (o.version && (rc == CLI_OK || !cmd)) {
        puts("slioctl " SLIO_VERSION);
        rc = CLI_OK;
    } else if (o.help && (rc == CLI_OK || !cmd)) {
        cli_print_help(stdout, c.prog, rc == CLI_OK ? cmd : NULL);
        rc = CLI_OK;
    } else if (rc != CLI_OK) {
        fprintf(stderr, "%s: error: %s\nRun \"%s --help\" for the commands.\n", c.prog, err.text,
                c.prog);
    } else {
        rc = cmd->no_server ? cmd->run(&c) : connect_and_run(&c, cmd);
    }
    free(o.args_mem);
    if (fflush(stdout) != 0 && rc == CLI_OK)
        rc = CLI_FAILED;
    return rc;
}
