/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-tgt's command line and life cycle, modelled on SPDK's nvmf_tgt:
 * parse options, open the RPC socket (fails early if another target owns
 * it), start the reactors, load -c/--json, serve JSON-RPC until SIGINT or
 * SIGTERM, then take everything down in reverse order.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "app.h"
#include "registry/registry_mgmt.h"
#include "rpc/rpc.h"
#include "slio/log.h"
#include "slio/parse.h"
#include "transport/reactor.h"

struct app_opts {
    const char *rpc_socket;
    const char *json_config;
    const char *save_config;
    struct tgt_reactor_opts reactor;
    struct tgt_conn_limits limits;
    struct tgt_rpc_server_opts rpc;
};

enum {
    OPT_SAVE_CONFIG = 0x100,
    OPT_REACTORS,
    OPT_ENGINE,
    OPT_POLL_US,
    OPT_DISK_BATCH,
    /* connection caps and deadlines (issue 17): parse_limit_opt() */
    OPT_MAX_CONNS,
    OPT_MAX_CONNS_PER_HOST,
    OPT_ICREQ_TIMEOUT, /* the four deadlines, then their -ms spellings in the same order */
    OPT_CONNECT_TIMEOUT,
    OPT_PDU_TIMEOUT,
    OPT_IDLE_RELEASE,
    OPT_ICREQ_TIMEOUT_MS,
    OPT_CONNECT_TIMEOUT_MS,
    OPT_PDU_TIMEOUT_MS,
    OPT_IDLE_RELEASE_MS,
    OPT_LOG_LEVEL,
    OPT_RPC_MAX_CLIENTS,
    OPT_RPC_IDLE_TIMEOUT,
    OPT_RPC_MAX_QUEUED,
    OPT_SPDK_COMPAT,
};

static const struct option long_opts[] = {
    {"rpc-socket", required_argument, NULL, 'r'},
    {"json", required_argument, NULL, 'c'},
    {"save-config", required_argument, NULL, OPT_SAVE_CONFIG},
    {"cpumask", required_argument, NULL, 'm'},
    {"reactors", required_argument, NULL, OPT_REACTORS},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"max-conns-per-host", required_argument, NULL, OPT_MAX_CONNS_PER_HOST},
    {"icreq-timeout", required_argument, NULL, OPT_ICREQ_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"pdu-timeout", required_argument, NULL, OPT_PDU_TIMEOUT},
    {"idle-release", required_argument, NULL, OPT_IDLE_RELEASE},
    /* the first spellings: a bare number is milliseconds (a unit is taken too) */
    {"icreq-timeout-ms", required_argument, NULL, OPT_ICREQ_TIMEOUT_MS},
    {"connect-timeout-ms", required_argument, NULL, OPT_CONNECT_TIMEOUT_MS},
    {"pdu-timeout-ms", required_argument, NULL, OPT_PDU_TIMEOUT_MS},
    {"idle-release-ms", required_argument, NULL, OPT_IDLE_RELEASE_MS},
    {"engine", required_argument, NULL, OPT_ENGINE},
    {"poll-us", required_argument, NULL, OPT_POLL_US},
    {"disk-batch", required_argument, NULL, OPT_DISK_BATCH},
    {"logflag", required_argument, NULL, 'L'},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"rpc-max-clients", required_argument, NULL, OPT_RPC_MAX_CLIENTS},
    {"rpc-idle-timeout", required_argument, NULL, OPT_RPC_IDLE_TIMEOUT},
    {"rpc-max-queued", required_argument, NULL, OPT_RPC_MAX_QUEUED},
    {"spdk-compat", required_argument, NULL, OPT_SPDK_COMPAT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'v'},
    {0},
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: slio-tgt [OPTIONS]\n"
            "User-space NVMe/TCP target with SPDK-compatible JSON-RPC.\n\n"
            "  -r, --rpc-socket PATH   JSON-RPC unix socket (default %s)\n"
            "      --rpc-max-clients N RPC clients served at once; one more evicts the one\n"
            "                          silent the longest (default 64)\n"
            "      --rpc-idle-timeout T\n"
            "                          drop an RPC client silent for T (default 10s; 0: never)\n"
            "      --rpc-max-queued SIZE\n"
            "                          unsent response bytes per RPC client before its next\n"
            "                          requests wait (default 4Mi)\n"
            "      --spdk-compat VER   save_config writes what SPDK release VER loads\n"
            "                          (default " TGT_CONFIG_SPDK_DEFAULT ")\n"
            "  -c, --json FILE         load this configuration (save_config format) at start\n"
            "      --save-config FILE  rewrite FILE atomically after every state change\n"
            "  -m, --cpumask MASK      CPUs for the reactors, hex (e.g. 0x3)\n"
            "      --reactors N        number of reactor threads (default: one per CPU)\n"
            "      --engine E          I/O engine: auto, io_uring or epoll (default auto)\n"
            "      --poll-us T         spin T while I/O is in flight (default 50us; a bare\n"
            "                          number is us; 0 never, -1 always: a core per reactor)\n"
            "      --disk-batch N      io_uring: submit disk I/O every N requests (default 2;\n"
            "                          0: once per loop iteration)\n"
            "  -L, --logflag COMP      enable debug logs of a component (tgt, rpc, nvmf, all)\n"
            "      --log-level LEVEL   err, warn, info or debug (default info)\n"
            "      --max-conns N       NVMe/TCP connections in total (default 4096)\n"
            "      --max-conns-per-host N  ...from one source address (default 256)\n"
            "      --icreq-timeout T   close a connection without ICReq (default 10s)\n"
            "      --connect-timeout T ...without a Connect after ICResp (default 10s)\n"
            "      --pdu-timeout T     ...that leaves a PDU half-sent (default 30s)\n"
            "      --idle-release T    idle this long: data buffers released (default 5s)\n"
            "                          (durations as 10s, 500ms, 1m, at most 1h; 0 disables;\n"
            "                          --icreq-timeout-ms, --connect-timeout-ms,\n"
            "                          --pdu-timeout-ms, --idle-release-ms: the same, a bare\n"
            "                          number in ms)\n"
            "  -h, --help              this text\n"
            "  -v, --version           print the version\n",
            TGT_RPC_DEFAULT_SOCKET);
}

static int parse_engine(const char *s, enum tgt_engine_kind *ret)
{
    if (strcmp(s, "auto") == 0)
        *ret = TGT_ENGINE_AUTO;
    else if (strcmp(s, "io_uring") == 0)
        *ret = TGT_ENGINE_URING;
    else if (strcmp(s, "epoll") == 0)
        *ret = TGT_ENGINE_EPOLL;
    else
        return -EINVAL;
    return 0;
}

/* A whole-number option within [min, max]; the error names the option and the range. */
static int parse_u32_opt(const char *name, const char *arg, uint32_t min, uint32_t max,
                         unsigned *ret)
{
    uint32_t v;

    if (slio_parse_u32(arg, min, max, &v) < 0) {
        fprintf(stderr, "slio-tgt: %s \"%s\": expected %u to %u\n", name, arg, min, max);
        return -EINVAL;
    }
    *ret = v;
    return 0;
}

/*
 * A duration option in whole milliseconds, 0 (off) to max_ms (whole hours); a nonzero one under
 * 1 ms counts as 1 ms, never as off. bare_ms: the spellings ending in -ms, where a
 * bare number is milliseconds; the others want units ("10s") like --rpc-idle-timeout.
 */
static int parse_ms_opt(const char *name, const char *arg, bool bare_ms, uint32_t max_ms,
                        unsigned *ret)
{
    uint64_t us;
    int r =
        bare_ms ? slio_parse_duration_unit_us(arg, 1000, &us) : slio_parse_duration_us(arg, &us);

    if (r < 0 || us / 1000 > max_ms) {
        fprintf(stderr,
                "slio-tgt: %s \"%s\": expected a duration (10s, 500ms%s) of at most %uh, "
                "0 for none\n",
                name, arg, bare_ms ? ", or a number of ms" : "", max_ms / 3600000);
        return -EINVAL;
    }
    *ret = us && us < 1000 ? 1 : (unsigned)(us / 1000);
    return 0;
}

/* --poll-us: -1 (spin always), or a duration up to 10 s; a bare number is microseconds. */
static int parse_poll(const char *arg, int64_t *ret_us)
{
    uint64_t us;

    if (strcmp(arg, "-1") == 0) {
        *ret_us = -1;
        return 0;
    }
    if (slio_parse_duration_unit_us(arg, 1, &us) < 0 || us > 10000000) {
        fprintf(stderr,
                "slio-tgt: --poll-us \"%s\": expected -1 to 10000000 (us), or a "
                "duration up to 10s\n",
                arg);
        return -EINVAL;
    }
    *ret_us = (int64_t)us;
    return 0;
}

/* --rpc-*: the JSON-RPC server's limits (docs/tgt-rpc.md, "RPC limits"); --spdk-compat. */
static int parse_rpc_opt(int c, const char *arg, struct tgt_rpc_server_opts *o)
{
    uint64_t v;

    switch (c) {
    case OPT_RPC_MAX_CLIENTS:
        return parse_u32_opt("--rpc-max-clients", arg, 1, 4096, &o->max_clients);
    case OPT_RPC_IDLE_TIMEOUT:
        return parse_ms_opt("--rpc-idle-timeout", arg, false, 86400000, &o->idle_timeout_ms);
    case OPT_SPDK_COMPAT:
        if (tgt_config_set_spdk_compat(arg) < 0) {
            fprintf(stderr, "slio-tgt: --spdk-compat \"%s\": expected an SPDK release (v23.05)\n",
                    arg);
            return -EINVAL;
        }
        return 0;
    default:
        if (slio_parse_size(arg, &v) < 0 || v < 4096 || v > TGT_RPC_MAX_RESPONSE) {
            fprintf(stderr, "slio-tgt: --rpc-max-queued \"%s\": expected 4Ki to 64Mi\n", arg);
            return -EINVAL;
        }
        o->max_queued = v;
        return 0;
    }
}

/* The connection deadlines, both spellings of each; -ENOENT when c is not one of them. */
static int parse_deadline_opt(int c, const char *arg, struct tgt_conn_limits *l)
{
    static const char *const names[] = {"--icreq-timeout", "--connect-timeout", "--pdu-timeout",
                                        "--idle-release"};
    uint32_t *const fields[] = {&l->icreq_timeout_ms, &l->connect_timeout_ms, &l->pdu_timeout_ms,
                                &l->idle_release_ms};
    bool ms = c >= OPT_ICREQ_TIMEOUT_MS && c <= OPT_IDLE_RELEASE_MS;
    int i = c - (ms ? OPT_ICREQ_TIMEOUT_MS : OPT_ICREQ_TIMEOUT);
    char name[32];

    if (i < 0 || i >= (int)SLIO_ARRAY_SIZE(names))
        return -ENOENT;
    snprintf(name, sizeof(name), "%s%s", names[i], ms ? "-ms" : "");
    return parse_ms_opt(name, arg, ms, 3600000, fields[i]);
}

/* The connection caps and deadlines; -ENOENT when c is not one of them. */
static int parse_limit_opt(int c, const char *arg, struct tgt_conn_limits *l)
{
    switch (c) {
    case OPT_MAX_CONNS:
        return parse_u32_opt("--max-conns", arg, 1, 1000000, &l->max_conns);
    case OPT_MAX_CONNS_PER_HOST:
        return parse_u32_opt("--max-conns-per-host", arg, 1, 1000000, &l->max_conns_per_host);
    default:
        return parse_deadline_opt(c, arg, l);
    }
}

/* Returns 0 to run, 1 to exit successfully (help/version), -EINVAL on a bad option. */
static int parse_args(int argc, char **argv, struct app_opts *o)
{
    enum slio_log_level level;
    int64_t i;
    int c;

    while ((c = getopt_long(argc, argv, "r:c:m:L:hv", long_opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->rpc_socket = optarg;
            break;
        case 'c':
            o->json_config = optarg;
            break;
        case OPT_SAVE_CONFIG:
            o->save_config = optarg;
            break;
        case 'm':
            o->reactor.cpumask = optarg;
            break;
        case OPT_REACTORS:
            if (parse_u32_opt("--reactors", optarg, 1, 1024, &o->reactor.count) < 0)
                return -EINVAL;
            break;
        case OPT_ENGINE:
            if (parse_engine(optarg, &o->reactor.engine) < 0) {
                fprintf(stderr, "slio-tgt: --engine \"%s\": expected auto, io_uring or epoll\n",
                        optarg);
                return -EINVAL;
            }
            break;
        case OPT_POLL_US:
            if (parse_poll(optarg, &i) < 0)
                return -EINVAL;
            o->reactor.poll_us = i;
            break;
        case OPT_DISK_BATCH:
            if (parse_u32_opt("--disk-batch", optarg, 0, 4096, &o->reactor.disk_batch) < 0)
                return -EINVAL;
            break;
        case OPT_RPC_MAX_CLIENTS:
        case OPT_RPC_IDLE_TIMEOUT:
        case OPT_RPC_MAX_QUEUED:
        case OPT_SPDK_COMPAT:
            if (parse_rpc_opt(c, optarg, &o->rpc) < 0)
                return -EINVAL;
            break;
        case 'L':
            slio_log_enable_debug(optarg);
            break;
        case OPT_LOG_LEVEL:
            if (slio_log_level_from_string(optarg, &level) < 0) {
                fprintf(stderr, "slio-tgt: --log-level \"%s\": expected err, warn, info or debug\n",
                        optarg);
                return -EINVAL;
            }
            slio_log_set_level(level);
            break;
        case 'h':
            usage(stdout);
            return 1;
        case 'v':
            printf("slio-tgt %s\n", SLIO_VERSION);
            return 1;
        default: {
            int err = parse_limit_opt(c, optarg, &o->limits);
            if (err == 0)
                break;
            if (err == -ENOENT)
                usage(stderr);
            return -EINVAL;
        }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "slio-tgt: unexpected argument \"%s\"\n", argv[optind]);
        return -EINVAL;
    }
    return 0;
}

static void save_on_change(void *ctx)
{
    const char *path = ctx;
    struct slio_err e = {{0}};

    if (tgt_config_write_file(path, &e) < 0)
        log_error("--save-config: %s", e.text);
}

/* SIGINT/SIGTERM arrive on a descriptor the RPC loop polls; threads inherit the mask. */
static int signals_setup(int *ret_fd)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -EINVAL;
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return slio_neg_errno();
    *ret_fd = fd;
    return 0;
}

static int load_startup_config(const struct app_opts *o)
{
    struct tgt_rpc_err err = {0};

    if (o->json_config) {
        if (tgt_config_load_file(o->json_config, &err) < 0) {
            log_error("configuration \"%s\": %s", o->json_config, err.message);
            return -EINVAL;
        }
        log_info("configuration \"%s\" loaded", o->json_config);
    }
    if (o->save_config) {
        struct slio_err e = {{0}};
        /* write once now, so the file exists and matches the state from the start */
        if (tgt_config_write_file(o->save_config, &e) < 0) {
            log_error("--save-config: %s", e.text);
            return -EIO;
        }
        tgt_rpc_set_change_hook(save_on_change, (void *)o->save_config);
    }
    return 0;
}

int tgt_app_main(int argc, char **argv)
{
    /* --disk-batch 2: see "Submitting disk I/O in pairs" in docs/performance.md */
    struct app_opts o = {.rpc_socket = TGT_RPC_DEFAULT_SOCKET,
                         .reactor = {.poll_us = 50, .disk_batch = 2},
                         .rpc = TGT_RPC_SERVER_OPTS_DEFAULT,
                         .limits = TGT_CONN_LIMITS_DEFAULT};
    struct tgt_rpc_server *srv = NULL;
    struct slio_err e = {{0}};
    int sfd = -1, r;

    r = parse_args(argc, argv, &o);
    if (r != 0)
        return r > 0 ? 0 : 2;
    r = signals_setup(&sfd);
    if (r < 0) {
        log_error("cannot set up signal handling: %s", strerror(-r));
        return 1;
    }
    r = tgt_rpc_server_open(o.rpc_socket, &o.rpc, &e, &srv);
    if (r < 0) {
        log_error("%s", e.text);
        close(sfd);
        return 1;
    }
    tgt_conn_limits_set(&o.limits);
    r = tgt_reactors_start(&o.reactor);
    if (r < 0) {
        log_error("cannot start reactors: %s", strerror(-r));
        goto out_server;
    }
    log_info("slio-tgt %s: %u reactor(s), %s engine", SLIO_VERSION, tgt_reactor_count(),
             tgt_engine_name());
    r = load_startup_config(&o);
    if (r == 0) {
        r = tgt_rpc_server_run(srv, sfd);
        if (r < 0)
            log_error("RPC server: %s", strerror(-r));
        else
            log_info("shutting down");
    }
    tgt_rpc_set_change_hook(NULL, NULL);
    tgt_registry_clear();
    tgt_reactors_stop();
out_server:
    tgt_rpc_server_close(srv);
    close(sfd);
    return r < 0 ? 1 : 0;
}
