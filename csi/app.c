/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-csi --mode controller|node|all --endpoint unix:///csi/csi.sock
 *          --controller URL[,URL] --node-id N --token-file F --state-dir D
 *          [--rack R] [--zone Z] [--max-volumes N] [--host-nqn-dir D]
 *          [--sysfs-root P] [--mountinfo P] [--workers N]
 *          [--ctrl-loss-tmo S] [--reconnect-delay S] [--attach-timeout DURATION]
 * Runs the gRPC server until SIGTERM/SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLIO_LOG_COMPONENT "csi"
#include "csi.h"
#include "grpc/server.h"
#include "services.h"
#include "slio/fileio.h"
#include "slio/http_client.h"
#include "slio/log.h"
#include "slio/parse.h"

int csi_app_main(int argc, char **argv);

#define MAX_URLS  8
#define TOKEN_MAX 4096

struct args {
    const char *mode, *endpoint, *controller, *token_file, *ca_file, *host_nqn_dir, *exec_replay;
    unsigned workers;
};

static void usage(FILE *f)
{
    fputs("usage: slio-csi --mode controller|node|all --endpoint unix:///path\n"
          "                [--controller URL[,URL...]] [--token-file F] [--ca-file F]\n"
          "                [--node-id N]\n"
          "                [--state-dir D] [--rack R] [--zone Z] [--max-volumes N]\n"
          "                [--host-nqn-dir D] [--sysfs-root P] [--mountinfo P] [--workers N]\n"
          "                [--ctrl-loss-tmo S] [--reconnect-delay S] [--attach-timeout 60s]\n"
          "       slio-csi --help | --version\n",
          f);
}

static int copy_opt(char *dst, size_t len, const char *src, const char *name)
{
    if (strlen(src) >= len) {
        log_error("--%s: longer than %zu bytes", name, len - 1);
        return -EINVAL;
    }
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

static int number_opt(const char *s, const char *name, uint32_t min, uint32_t max, uint32_t *ret)
{
    int r = slio_parse_u32(s, min, max, ret);
    if (r < 0)
        log_error("--%s \"%s\": a number of seconds in [%u, %u]", name, s, min, max);
    return r;
}

static int duration_opt(const char *s, const char *name, uint32_t *ret_ms)
{
    uint64_t us;
    int r = slio_parse_duration_us(s, &us);
    if (r < 0 || us < 1000 || us / 1000 > 3600 * 1000) {
        log_error("--%s \"%s\": a duration between 1ms and 1h (\"30s\")", name, s);
        return -EINVAL;
    }
    *ret_ms = (uint32_t)(us / 1000);
    return 0;
}

static void defaults(struct csi_ctx *ctx)
{
    struct csi_node_config *n = &ctx->node;
    snprintf(n->sysfs_root, sizeof(n->sysfs_root), "/sys");
    snprintf(n->mountinfo, sizeof(n->mountinfo), "/proc/self/mountinfo");
    snprintf(n->dev_root, sizeof(n->dev_root), "/dev");
    snprintf(ctx->state_dir, sizeof(ctx->state_dir), "/var/lib/slio-csi");
    n->attach_timeout_ms = 60000;
    n->namespace_timeout_ms = 30000;
    n->ctrl_loss_tmo_s = 60;
    n->reconnect_delay_s = 2;
}

/* The node half's settings; -EINVAL for an unknown option character. */
static int node_opt(int c, const char *arg, struct csi_ctx *ctx)
{
    struct csi_node_config *n = &ctx->node;
    switch (c) {
    case 'n':
        return copy_opt(n->node_id, sizeof(n->node_id), arg, "node-id");
    case 's':
        return copy_opt(ctx->state_dir, sizeof(ctx->state_dir), arg, "state-dir");
    case 'R':
        return copy_opt(n->rack, sizeof(n->rack), arg, "rack");
    case 'Z':
        return copy_opt(n->zone, sizeof(n->zone), arg, "zone");
    case 'S':
        return copy_opt(n->sysfs_root, sizeof(n->sysfs_root), arg, "sysfs-root");
    case 'I':
        return copy_opt(n->mountinfo, sizeof(n->mountinfo), arg, "mountinfo");
    case 'L':
        return number_opt(arg, "ctrl-loss-tmo", 1, 86400, &n->ctrl_loss_tmo_s);
    case 'D':
        return number_opt(arg, "reconnect-delay", 1, 3600, &n->reconnect_delay_s);
    case 'A':
        return duration_opt(arg, "attach-timeout", &n->attach_timeout_ms);
    default:
        return -EINVAL;
    }
}

static int parse_args(int argc, char **argv, struct args *a, struct csi_ctx *ctx)
{
    static const struct option opts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"endpoint", required_argument, NULL, 'e'},
        {"controller", required_argument, NULL, 'c'},
        {"token-file", required_argument, NULL, 't'},
        {"ca-file", required_argument, NULL, 'C'},
        {"node-id", required_argument, NULL, 'n'},
        {"state-dir", required_argument, NULL, 's'},
        {"rack", required_argument, NULL, 'R'},
        {"zone", required_argument, NULL, 'Z'},
        {"max-volumes", required_argument, NULL, 'M'},
        {"host-nqn-dir", required_argument, NULL, 'H'},
        {"sysfs-root", required_argument, NULL, 'S'},
        {"mountinfo", required_argument, NULL, 'I'},
        {"workers", required_argument, NULL, 'w'},
        {"ctrl-loss-tmo", required_argument, NULL, 'L'},
        {"reconnect-delay", required_argument, NULL, 'D'},
        {"attach-timeout", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    int c, r = 0;
    uint64_t u;
    while (r == 0 && (c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            a->mode = optarg;
            break;
        case 'e':
            a->endpoint = optarg;
            break;
        case 'c':
            a->controller = optarg;
            break;
        case 't':
            a->token_file = optarg;
            break;
        case 'C':
            a->ca_file = optarg;
            break;
        case 'H':
            a->host_nqn_dir = optarg;
            break;
        case 'M':
            r = slio_parse_u64(optarg, 0, INT64_MAX, &u);
            ctx->node.max_volumes = (int64_t)u;
            break;
        case 'w':
            r = slio_parse_u64(optarg, 1, 256, &u);
            a->workers = (unsigned)u;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'v':
            puts("slio-csi " SLIO_VERSION);
            exit(0);
        default:
            r = node_opt(c, optarg, ctx);
        }
        if (r < 0 && (c == 'M' || c == 'w'))
            log_error("--%s \"%s\": not a valid number", c == 'M' ? "max-volumes" : "workers",
                      optarg);
    }
    if (r < 0)
        return r;
    if (optind != argc || !a->mode || !a->endpoint) {
        usage(stderr);
        return -EINVAL;
    }
    return 0;
}

static int parse_mode(const char *s, unsigned *ret)
{
    if (strcmp(s, "controller") == 0)
        *ret = CSI_MODE_CONTROLLER;
    else if (strcmp(s, "node") == 0)
        *ret = CSI_MODE_NODE;
    else if (strcmp(s, "all") == 0)
        *ret = CSI_MODE_ALL;
    else
        return -EINVAL;
    return 0;
}

/* --controller a,b,c → the REST client (with the token from --token-file). */
static int make_client(const struct args *a, struct csi_ctx *ctx)
{
    _cleanup_free_ char *list = strdup(a->controller);
    _cleanup_free_ char *token = NULL;
    const char *urls[MAX_URLS];
    size_t n = 0, len;
    if (!list)
        return -ENOMEM;
    char *save = NULL;
    for (char *u = strtok_r(list, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
        if (n == MAX_URLS) {
            log_error("--controller: more than %d URLs", MAX_URLS);
            return -EINVAL;
        }
        urls[n++] = u;
    }
    if (a->token_file) {
        int r = slio_read_file(a->token_file, TOKEN_MAX, &token, &len);
        if (r < 0) {
            log_error("--token-file \"%s\": %s", a->token_file, strerror(-r));
            return r;
        }
        while (len > 0 &&
               (token[len - 1] == '\n' || token[len - 1] == '\r' || token[len - 1] == ' '))
            token[--len] = '\0';
    }
    struct slio_http_client_opts o = {
        .urls = urls,
        .n_urls = n,
        .token = token,
        .ca_file = a->ca_file, /* verifies https:// controllers; NULL: the system's CAs */
        .timeout_ms = 15000,
        .max_response = 64u << 20};
    struct slio_err err = {0};
    int r = slio_http_client_new(&o, &ctx->rest, &err);
    if (r < 0)
        log_error("--controller \"%s\": %s", a->controller, err.text);
    return r;
}

static int node_identity(const struct args *a, struct csi_ctx *ctx)
{
    if (!ctx->node.node_id[0]) {
        log_error("--mode node needs --node-id");
        return -EINVAL;
    }
    uuid_t hostid;
    int r = slio_host_identity_load(a->host_nqn_dir, ctx->node.host_nqn, hostid);
    if (r < 0)
        log_warn("no NVMe host NQN in \"%s\" (%s): remote volumes use the controller's record",
                 a->host_nqn_dir ? a->host_nqn_dir : "/etc/nvme", strerror(-r));
    return 0;
}

static void *signal_thread(void *arg)
{
    sigset_t set;
    int sig;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigwait(&set, &sig);
    log_info("signal %d: stopping", sig);
    csi_server_stop(arg);
    return NULL;
}

static int serve(struct csi_ctx *ctx, const struct args *a)
{
    size_t n_methods;
    const struct csi_method *methods = csi_methods(ctx->mode, &n_methods);
    struct csi_server_opts o = {.endpoint = a->endpoint,
                                .workers = a->workers,
                                .methods = methods,
                                .n_methods = n_methods,
                                .ctx = ctx};
    struct csi_server *srv;
    struct slio_err err = {0};
    int r = csi_server_start(&o, &srv, &err);
    if (r < 0) {
        log_error("%s", err.text);
        return r;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, signal_thread, srv) != 0) {
        csi_server_free(srv);
        return -EAGAIN;
    }
    log_info("serving %s (%s) on %s", CSI_PLUGIN_NAME, a->mode, a->endpoint);
    csi_server_run(srv);
    pthread_join(t, NULL);
    csi_server_free(srv);
    return 0;
}

int csi_app_main(int argc, char **argv)
{
    struct args a = {0};
    struct csi_ctx ctx = {0};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread; the signal thread waits for them */
    signal(SIGPIPE, SIG_IGN);
    defaults(&ctx);
    if (parse_args(argc, argv, &a, &ctx) < 0)
        return 2;
    if (parse_mode(a.mode, &ctx.mode) < 0) {
        log_error("--mode \"%s\": controller, node or all", a.mode);
        return 2;
    }
    if ((ctx.mode & CSI_MODE_CONTROLLER) && !a.controller) {
        log_error("--mode controller needs --controller URL");
        return 2;
    }
    if (a.controller && make_client(&a, &ctx) < 0)
        return 1;
    if ((ctx.mode & CSI_MODE_NODE) && node_identity(&a, &ctx) < 0)
        return 2;
    int r = serve(&ctx, &a);
    slio_http_client_free(ctx.rest);
    return r < 0 ? 1 : 0;
}
