/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command table and the command line: flags may come anywhere (like
 * kubectl), the leading words pick the command, each command says which
 * flags and how many arguments it takes, and --help prints its text.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/parse.h"

static const struct cli_command *const commands[] = {
    &cli_cmd_get,
    &cli_cmd_describe,
    &cli_cmd_create_volume,
    &cli_cmd_delete_volume,
    &cli_cmd_expand_volume,
    &cli_cmd_snapshot_create,
    &cli_cmd_snapshot_delete,
    &cli_cmd_cordon,
    &cli_cmd_uncordon,
    &cli_cmd_drain,
    &cli_cmd_top,
    &cli_cmd_completion,
    &cli_cmd_attach,
    &cli_cmd_detach,
    &cli_cmd_set_qos,
    &cli_cmd_health,
    &cli_cmd_dhchap_set,
    &cli_cmd_dhchap_show,
    &cli_cmd_dhchap_delete,
};

const struct cli_command *const *cli_commands(size_t *ret_n)
{
    *ret_n = SLIO_ARRAY_SIZE(commands);
    return commands;
}

enum {
    O_TOKEN_FILE = 256,
    O_CONFIG,
    O_NODE,
    O_LIMIT,
    O_ALL,
    O_CHUNK,
    O_SIZE,
    O_THIN,
    O_POSITION,
    O_CONSUMER,
    O_SPREAD_GROUP,
    O_SPREAD_LEVEL,
    O_SOFT_SPREAD,
    O_QOS_IOPS,
    O_QOS_MBPS,
    O_QOS_RMBPS,
    O_QOS_WMBPS,
    O_VOLUME,
    O_FS_TYPE,
    O_INTERVAL,
    O_FROM_SNAP,
    O_FROM_VOL,
    O_CA_FILE,
    O_METRICS_TOKEN_FILE,
    O_VERSION,
};

static const struct option long_opts[] = {
    {"server", required_argument, NULL, 's'},
    {"token-file", required_argument, NULL, O_TOKEN_FILE},
    {"config", required_argument, NULL, O_CONFIG},
    {"ca-file", required_argument, NULL, O_CA_FILE},
    {"metrics-token-file", required_argument, NULL, O_METRICS_TOKEN_FILE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, O_VERSION},
    {"output", required_argument, NULL, 'o'},
    {"node", required_argument, NULL, O_NODE},
    {"limit", required_argument, NULL, O_LIMIT},
    {"all", no_argument, NULL, O_ALL},
    {"chunk-size", required_argument, NULL, O_CHUNK},
    {"size", required_argument, NULL, O_SIZE},
    {"thin", no_argument, NULL, O_THIN},
    {"position", required_argument, NULL, O_POSITION},
    {"consumer-node", required_argument, NULL, O_CONSUMER},
    {"spread-group", required_argument, NULL, O_SPREAD_GROUP},
    {"spread-level", required_argument, NULL, O_SPREAD_LEVEL},
    {"soft-spread", no_argument, NULL, O_SOFT_SPREAD},
    {"qos-iops", required_argument, NULL, O_QOS_IOPS},
    {"qos-mbps", required_argument, NULL, O_QOS_MBPS},
    {"qos-read-mbps", required_argument, NULL, O_QOS_RMBPS},
    {"qos-write-mbps", required_argument, NULL, O_QOS_WMBPS},
    {"volume", required_argument, NULL, O_VOLUME},
    {"fs-type", required_argument, NULL, O_FS_TYPE},
    {"interval", required_argument, NULL, O_INTERVAL},
    {"from-snapshot", required_argument, NULL, O_FROM_SNAP},
    {"from-volume", required_argument, NULL, O_FROM_VOL},
    {},
};

static int parse_output(const char *v, enum cli_output *ret)
{
    static const char *const names[] = {"table", "wide", "json", "yaml"};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(names); i++)
        if (strcmp(v, names[i]) == 0) {
            *ret = (enum cli_output)i;
            return 0;
        }
    return -EINVAL;
}

static int parse_number(const char *flag, const char *v, uint64_t min, uint64_t max, uint64_t *ret,
                        struct slio_err *err)
{
    if (slio_parse_u64(v, min, max, ret) < 0) {
        slio_err_set(err, "--%s: \"%s\" is not an integer in [%llu, %llu]", flag, v,
                     (unsigned long long)min, (unsigned long long)max);
        return -EINVAL;
    }
    return 0;
}

/* One flag with its value into o. */
static int parse_flag(int c, const char *arg, struct cli_opts *o, struct slio_err *err)
{
    uint64_t v = 0;
    int r = 0;

    switch (c) {
    case 's':
        o->server = arg;
        break;
    case O_TOKEN_FILE:
        o->token_file = arg;
        break;
    case O_CONFIG:
        o->config = arg;
        break;
    case O_CA_FILE:
        o->ca_file = arg;
        break;
    case O_METRICS_TOKEN_FILE:
        o->metrics_token_file = arg;
        break;
    case 'h':
        o->help = true;
        break;
    case O_VERSION:
        o->version = true;
        break;
    case 'o':
        o->flags |= F_OUTPUT;
        if (parse_output(arg, &o->output) < 0) {
            slio_err_set(err, "-o: \"%s\" is not one of table, wide, json, yaml", arg);
            return -EINVAL;
        }
        break;
    case O_NODE:
        o->flags |= F_NODE;
        o->node = arg;
        break;
    case O_LIMIT:
        o->flags |= F_LIMIT;
        r = parse_number("limit", arg, 1, UINT32_MAX, &o->limit, err);
        break;
    case O_ALL:
        o->flags |= F_ALL;
        o->all = true;
        break;
    case O_CHUNK:
        o->flags |= F_CHUNK;
        r = parse_number("chunk-size", arg, 1, 1000, &v, err);
        o->chunk_size = (uint32_t)v;
        break;
    case O_SIZE:
        o->flags |= F_SIZE;
        if (slio_parse_size(arg, &o->size) < 0 || o->size == 0) {
            slio_err_set(err, "--size: \"%s\" is not a size (\"10Gi\", \"500M\")", arg);
            return -EINVAL;
        }
        break;
    case O_THIN:
        o->flags |= F_THIN;
        o->thin = true;
        break;
    case O_POSITION:
        o->flags |= F_POSITION;
        o->position = arg;
        break;
    case O_CONSUMER:
        o->flags |= F_CONSUMER;
        o->consumer_node = arg;
        break;
    case O_SPREAD_GROUP:
        o->flags |= F_SPREAD_GROUP;
        o->spread_group = arg;
        break;
    case O_SPREAD_LEVEL:
        o->flags |= F_SPREAD_LEVEL;
        o->spread_level = arg;
        break;
    case O_SOFT_SPREAD:
        o->flags |= F_SOFT_SPREAD;
        o->soft_spread = true;
        break;
    case O_QOS_IOPS:
        o->flags |= F_QOS;
        r = parse_number("qos-iops", arg, 0, INT64_MAX, &o->qos_iops, err);
        break;
    case O_QOS_MBPS:
        o->flags |= F_QOS;
        r = parse_number("qos-mbps", arg, 0, INT64_MAX, &o->qos_mbps, err);
        break;
    case O_QOS_RMBPS:
        o->flags |= F_QOS;
        r = parse_number("qos-read-mbps", arg, 0, INT64_MAX, &o->qos_read_mbps, err);
        break;
    case O_QOS_WMBPS:
        o->flags |= F_QOS;
        r = parse_number("qos-write-mbps", arg, 0, INT64_MAX, &o->qos_write_mbps, err);
        break;
    case O_VOLUME:
        o->flags |= F_VOLUME;
        o->volume = arg;
        break;
    case O_FS_TYPE:
        o->flags |= F_FS_TYPE;
        o->fs_type = arg;
        break;
    case O_INTERVAL:
        o->flags |= F_INTERVAL;
        if (slio_parse_duration_us(arg, &v) < 0 || v < 100000 || v > 60000000) {
            slio_err_set(err, "--interval: \"%s\" is not a duration in [100ms, 60s]", arg);
            return -EINVAL;
        }
        o->interval_ms = v / 1000;
        break;
    case O_FROM_SNAP:
        o->flags |= F_SOURCE;
        o->from_snapshot = arg;
        break;
    case O_FROM_VOL:
        o->flags |= F_SOURCE;
        o->from_volume = arg;
        break;
    default:
        return -EINVAL;
    }
    return r;
}

static const char *flag_name(unsigned bit)
{
    static const char *const names[] = {
        "-o",
        "--node",
        "--limit",
        "--all",
        "--chunk-size",
        "--size",
        "--thin",
        "--position",
        "--consumer-node",
        "--spread-group",
        "--spread-level",
        "--qos-*",
        "--volume",
        "--fs-type",
        "--interval",
        "--soft-spread",
        "--from-snapshot/--from-volume",
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(names); i++)
        if (bit == 1u << i)
            return names[i];
    return "?";
}

/* How many leading words of args name cmd (0 = not this command). */
static int match_words(const struct cli_command *cmd, char **args, int n)
{
    char buf[64];
    int k = 0;
    snprintf(buf, sizeof(buf), "%s", cmd->words);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (k >= n || strcmp(args[k], w) != 0)
            return 0;
        k++;
    }
    return k;
}

static const struct cli_command *find_command(char **args, int n, int *ret_words)
{
    const struct cli_command *best = NULL;
    int best_k = 0;
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(commands); i++) {
        int k = match_words(commands[i], args, n);
        if (k > best_k) {
            best = commands[i];
            best_k = k;
        }
    }
    *ret_words = best_k;
    return best;
}

static int collect_args(int argc, char **argv, struct cli_opts *o, struct slio_err *err)
{
    o->args = o->args_mem = calloc((size_t)argc + 1, sizeof(char *));
    if (!o->args)
        return -ENOMEM;
    opterr = 0;
    optind = 0; /* GNU: start over (cli_parse runs several times in tests) */
    for (;;) {
        int prev = optind ? optind : 1;
        int c = getopt_long(argc, argv, "-s:ho:", long_opts, NULL);
        if (c == -1)
            break;
        if (c == 1) {
            o->args[o->n_args++] = optarg;
            continue;
        }
        if (c == '?' || c == ':') {
            const char *bad = prev < argc ? argv[prev] : "?";
            slio_err_set(err, "%s: unknown flag or missing value", bad);
            return -EINVAL;
        }
        int r = parse_flag(c, optarg, o, err);
        if (r < 0)
            return r;
    }
    for (; optind < argc; optind++) /* after "--" */
        o->args[o->n_args++] = argv[optind];
    return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o, const struct cli_command **ret_cmd,
              struct slio_err *err)
{
    *o = (struct cli_opts){.chunk_size = 500, .interval_ms = 1000};
    int r = collect_args(argc, argv, o, err);
    if (r < 0)
        return CLI_USAGE;
    int words;
    const struct cli_command *cmd = find_command(o->args, o->n_args, &words);
    *ret_cmd = cmd;
    if (!cmd) {
        if (o->n_args == 0)
            slio_err_set(err, "no command given");
        else
            slio_err_set(err, "unknown command \"%s\"", o->args[0]);
        return CLI_USAGE;
    }
    o->args += words;
    o->n_args -= words;
    if (o->help)
        return CLI_OK;
    unsigned extra = o->flags & ~cmd->flags;
    if (extra) {
        slio_err_set(err, "%s: %s is not a flag of this command", cmd->words,
                     flag_name(extra & -extra));
        return CLI_USAGE;
    }
    if (o->n_args < cmd->min_args || o->n_args > cmd->max_args) {
        slio_err_set(err, "%s: expected %d to %d arguments, got %d (usage: %s)", cmd->words,
                     cmd->min_args, cmd->max_args, o->n_args, cmd->usage);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static const char global_help[] =
    "Connection (every command):\n"
    "  -s, --server URL[,URL]  controller URLs (HA: all of them); env SLIOCTL_SERVER\n"
    "      --token-file FILE   bearer token file; env SLIOCTL_TOKEN_FILE\n"
    "      --ca-file FILE      CA bundle (PEM) to verify https:// servers (controller and\n"
    "                          agents); env SLIOCTL_CA_FILE\n"
    "      --metrics-token-file FILE\n"
    "                          bearer token for the agents' /metrics (top); env\n"
    "                          SLIOCTL_METRICS_TOKEN_FILE\n"
    "      --config FILE       default ~/.config/slioctl/config.yaml; env SLIOCTL_CONFIG\n"
    "  -h, --help              help for the command\n"
    "      --version           print the version\n";

void cli_print_help(FILE *f, const char *prog, const struct cli_command *cmd)
{
    if (cmd) {
        fprintf(f, "Usage: %s %s\n\n%s\n%s", prog, cmd->usage, cmd->help, global_help);
        return;
    }
    fprintf(f,
            "%s: the SLiteIO command line (a client of slio-controller's REST API)\n\n"
            "Commands:\n",
            prog);
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(commands); i++)
        fprintf(f, "  %s %s\n", prog, commands[i]->usage);
    fprintf(f,
            "\n%s\nExit codes: 0 ok, 1 usage or invalid value, 2 not found, 3 conflict,\n"
            "4 unavailable or not authorised, 5 unschedulable, 6 other failure.\n"
            "\"%s COMMAND --help\" describes one command.\n",
            global_help, prog);
}
