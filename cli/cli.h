/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slioctl: a REST client of slio-controller (api/openapi.yaml).
 *
 * main.c parses every flag into one struct cli_opts (flags may come anywhere,
 * kubectl-like), picks the command from the first words and calls its run
 * function with a struct cli. Each command group lives in its own file
 * (cmd_*.c); they share the API helpers (api.c), the printers (output.c) and
 * the connection settings (config.c). Everything is single-threaded.
 *
 * Exit codes are part of the interface (docs/slioctl.md): one table maps an
 * API error code or a transport error to them (cli_exit_for_status()).
 */
#ifndef SLIO_CLI_H
#define SLIO_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "slio/error.h"
#include "slio/http_client.h"

enum cli_exit {
    CLI_OK = 0,
    CLI_USAGE = 1,         /* bad command line, or the server refused a value (400) */
    CLI_NOT_FOUND = 2,     /* 404 or no object of that name */
    CLI_CONFLICT = 3,      /* 409: name taken with other parameters, state forbids it */
    CLI_UNAVAILABLE = 4,   /* no controller reachable, 503, 401/403 (token) */
    CLI_UNSCHEDULABLE = 5, /* 422: no pool fits; 413 */
    CLI_FAILED = 6,        /* anything else: 5xx, an answer that makes no sense, out of memory */
};

enum cli_output { CLI_OUT_TABLE, CLI_OUT_WIDE, CLI_OUT_JSON, CLI_OUT_YAML };

/* One bit per flag, so a command can refuse the flags it does not take. */
enum cli_flag {
    F_OUTPUT = 1u << 0,
    F_NODE = 1u << 1,
    F_LIMIT = 1u << 2,
    F_ALL = 1u << 3,
    F_CHUNK = 1u << 4,
    F_SIZE = 1u << 5,
    F_THIN = 1u << 6,
    F_POSITION = 1u << 7,
    F_CONSUMER = 1u << 8,
    F_SPREAD_GROUP = 1u << 9,
    F_SPREAD_LEVEL = 1u << 10,
    F_QOS = 1u << 11, /* any --qos-* */
    F_VOLUME = 1u << 12,
    F_FS_TYPE = 1u << 13,
    F_INTERVAL = 1u << 14,
    F_SOFT_SPREAD = 1u << 15,
    F_SOURCE = 1u << 16, /* --from-snapshot / --from-volume */
};

struct cli_opts {
    /* connection (every command) */
    const char *server;             /* --server URL[,URL] */
    const char *token_file;         /* --token-file */
    const char *ca_file;            /* --ca-file */
    const char *metrics_token_file; /* --metrics-token-file (the agents' /metrics) */
    const char *config;             /* --config */
    bool help;
    bool version;   /* --version: print it and exit, whatever else is on the line */
    unsigned flags; /* enum cli_flag bits seen */
    /* output and lists */
    enum cli_output output;
    const char *node;
    uint64_t limit;      /* 0 = no cap */
    uint32_t chunk_size; /* page size asked of the server */
    bool all;
    /* create/expand volume, snapshot */
    uint64_t size;
    bool thin;
    const char *position, *consumer_node, *spread_group, *spread_level, *fs_type;
    bool soft_spread;
    uint64_t qos_iops, qos_mbps, qos_read_mbps, qos_write_mbps;
    const char *volume;
    const char *from_snapshot, *from_volume;
    uint64_t interval_ms; /* top */
    /* positional words after the command's own (e.g. "get volumes NAME") */
    char **args;
    int n_args;
    char **args_mem; /* what args pointed to first (to free) */
};

struct cli {
    struct slio_http_client *http;
    const struct cli_opts *o;
    FILE *out, *err;
    const char *prog;            /* "slioctl" or "kubectl sliteio" */
    time_t now;                  /* for AGE columns (fixed in tests) */
    const struct cli_conn *conn; /* the resolved settings (top reads ca_file, metrics_token) */
};

/* ---- config.c: where the controller is and which token to send ---------------------- */

struct cli_conn {
    char **urls;
    size_t n_urls;
    char *token;         /* NULL = none */
    char *metrics_token; /* for the agents' /metrics (top); NULL = none */
    char *ca_file;       /* CA bundle for https:// (controller and agents); NULL = the system's */
    char source[128];    /* where the servers came from, for error messages */
};
/* Flags, then $SLIOCTL_SERVER/$SLIOCTL_TOKEN_FILE/$SLIOCTL_METRICS_TOKEN_FILE/$SLIOCTL_CA_FILE,
 * then the config file, then the default http://127.0.0.1:8360.
 * -EINVAL/-errno with the file or variable named in err. */
int cli_conn_resolve(const struct cli_opts *o, struct cli_conn *ret, struct slio_err *err);
void cli_conn_clear(struct cli_conn *c);
/* Split "a,b,c" into a NULL-terminated list; -EINVAL for an empty element. */
int cli_split_urls(const char *s, char ***ret, size_t *ret_n);

/* ---- api.c ---------------------------------------------------------------------------- */

/* Map an HTTP status and the API's error code to an exit code. */
enum cli_exit cli_exit_for_status(unsigned status, const char *code);
/* Print "<prog>: error: <what>: <message> (<code>)" and return the exit code. */
int cli_fail_api(struct cli *c, const char *what, unsigned status, const json_t *body);
int cli_fail_transport(struct cli *c, const char *what, int r, const struct slio_err *err);
/*
 * One call; on a 2xx answer 0 with the body in *ret (may be NULL); otherwise the
 * error is printed ("<what>: ...") and the exit code returned (> 0).
 */
int cli_call(struct cli *c, const char *what, const char *method, const char *path,
             const json_t *body, json_t **ret);
/* Every item of a list (pages of o->chunk_size followed), capped at o->limit unless
 * --all. query is "" or "&node=x" (escaped). *ret is an array. Exit code as cli_call. */
int cli_list(struct cli *c, const char *what, const char *path, const char *query, json_t **ret);
/* A volume (or snapshot) by UUID or by name: its id into ret (37 bytes). */
int cli_resolve_id(struct cli *c, const char *kind, const char *list_path, const char *ref,
                   char ret[static 37]);
/* "node/pool" split in place into its two names; CLI_USAGE when malformed. */
int cli_split_pool(struct cli *c, char *ref, const char **ret_node, const char **ret_pool);
int cli_usage(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- output.c ------------------------------------------------------------------------- */

enum cli_fmt {
    FMT_STR,      /* string or any JSON value */
    FMT_SIZE,     /* bytes as "10Gi" */
    FMT_BOOL,     /* absent = false */
    FMT_AGE,      /* RFC 3339 time as "5m" */
    FMT_PERCENT,  /* number as "12.5%" */
    FMT_NODEPOOL, /* the item's node and pool as "node/pool" (path unused) */
    FMT_COUNT,    /* array length */
    FMT_ADDR,     /* TransportAddress as "traddr:trsvcid" */
};
struct cli_column {
    const char *header;
    const char *path; /* "a.b" into the item */
    enum cli_fmt fmt;
    bool wide; /* only with -o wide */
};
/* One cell's text (to free()); "<none>" style placeholders for absent values. */
char *cli_cell(const json_t *item, const struct cli_column *col, time_t now);
/* A table of items (an array) with the columns; header upper-case, 3 spaces between. */
int cli_print_table(FILE *f, const json_t *items, const struct cli_column *cols, size_t n_cols,
                    bool wide, time_t now);
/* A JSON value as YAML (block style; strings quoted when YAML would misread them). */
int cli_print_yaml(FILE *f, const json_t *v);
/* Pretty JSON, 2 spaces, newline. */
int cli_print_json(FILE *f, const json_t *v);
/* Items as table/wide, or {"items": [...]} (or the single object) as json/yaml. */
int cli_print_items(struct cli *c, const json_t *items, bool single, const struct cli_column *cols,
                    size_t n_cols);
const json_t *cli_path(const json_t *item, const char *path);
/* "5s", "3m", "2h", "4d" since an RFC 3339 time; "<unknown>" when unparsable. */
void cli_age(const char *rfc3339, time_t now, char buf[static 24]);

/* ---- commands -------------------------------------------------------------------------- */

struct cli_command {
    const char *words; /* "get", "describe", "create volume", ... */
    unsigned flags;    /* allowed enum cli_flag bits */
    int min_args, max_args;
    bool no_server; /* needs no controller (completion) */
    int (*run)(struct cli *c);
    const char *usage; /* one line after the program name */
    const char *help;  /* the rest of --help */
};
extern const struct cli_command cli_cmd_get, cli_cmd_describe, cli_cmd_create_volume,
    cli_cmd_delete_volume, cli_cmd_expand_volume, cli_cmd_snapshot_create, cli_cmd_snapshot_delete,
    cli_cmd_cordon, cli_cmd_uncordon, cli_cmd_drain, cli_cmd_top, cli_cmd_completion,
    cli_cmd_attach, cli_cmd_detach, cli_cmd_set_qos, cli_cmd_health, cli_cmd_dhchap_set,
    cli_cmd_dhchap_show, cli_cmd_dhchap_delete;

/* Column sets shared by get and describe. */
extern const struct cli_column cli_node_cols[], cli_pool_cols[], cli_volume_cols[],
    cli_snapshot_cols[], cli_event_cols[], cli_attachment_cols[];
extern const size_t cli_n_node_cols, cli_n_pool_cols, cli_n_volume_cols, cli_n_snapshot_cols,
    cli_n_event_cols, cli_n_attachment_cols;

/* main.c: the command table and argument parsing (unit-tested). */
const struct cli_command *const *cli_commands(size_t *ret_n);
/* Parse argv into o and pick the command; CLI_OK, or CLI_USAGE with the reason in err. */
int cli_parse(int argc, char **argv, struct cli_opts *o, const struct cli_command **ret_cmd,
              struct slio_err *err);
void cli_print_help(FILE *f, const char *prog, const struct cli_command *cmd);

#endif
