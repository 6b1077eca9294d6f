/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-perf: NVMe/TCP host tool and load generator.
 *   discover | identify | connect | load (remote) | local (file/blockdev)
 * Exit status: 0 success, 1 failure (connect refused, I/O error, data
 * mismatch, lost connection), 2 usage error.
 */
#include <endian.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "cli.h"
#include "report.h"

#define ERRLEN 512

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void fill_host_opts(const struct perf_cli *cli, const char *subnqn, struct slio_host_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->traddr = cli->traddr;
    o->trsvcid = cli->trsvcid;
    o->subnqn = subnqn;
    o->hostnqn = cli->hostnqn;
    o->hdgst = cli->hdgst;
    o->ddgst = cli->ddgst;
    o->kato_ms = cli->kato_ms;
    o->timeout_ms = cli->timeout_ms;
    o->keep_sqflow = cli->keep_sqflow;
    o->dhchap_secret = cli->dhchap_secret;
    o->dhchap_ctrl_secret = cli->dhchap_ctrl_secret;
}

static int need(const struct perf_cli *cli, bool subnqn)
{
    if (!cli->traddr || (subnqn && !cli->subnqn)) {
        fprintf(stderr, "slio-perf %s: -a ADDR%s required\n", cli->cmd,
                subnqn ? " and -n NQN" : "");
        return -EINVAL;
    }
    return 0;
}

static int connect_ctrl(const struct perf_cli *cli, const char *subnqn, struct slio_host_ctrl **ret)
{
    struct slio_host_opts o;
    char err[ERRLEN];

    fill_host_opts(cli, subnqn, &o);
    int r = slio_host_ctrl_connect(&o, ret, err, sizeof(err));
    if (r < 0)
        fprintf(stderr, "slio-perf: %s:%s \"%s\": %s\n", cli->traddr, cli->trsvcid, subnqn, err);
    return r;
}

static int cmd_discover(const struct perf_cli *cli)
{
    struct slio_host_ctrl *ctrl = NULL;
    struct nvmf_discovery_log *log = NULL;

    if (need(cli, false) < 0)
        return 2;
    if (connect_ctrl(cli, NVME_DISC_SUBSYS_NAME, &ctrl) < 0)
        return 1;
    int r = slio_host_get_discovery_log(ctrl, &log);
    if (r < 0) {
        fprintf(stderr, "slio-perf: discovery log: %s\n", slio_host_ctrl_error(ctrl));
        slio_host_ctrl_free(ctrl);
        return 1;
    }
    perf_report_discovery(log, cli->json);
    free(log);
    slio_host_ctrl_disconnect(ctrl);
    return 0;
}

static int cmd_identify(const struct perf_cli *cli)
{
    struct slio_host_ctrl *ctrl = NULL;
    struct nvme_id_ns ns;

    if (need(cli, true) < 0)
        return 2;
    if (connect_ctrl(cli, cli->subnqn, &ctrl) < 0)
        return 1;
    int r = slio_host_identify_ns(ctrl, cli->nsid, &ns);
    if (r < 0) {
        fprintf(stderr, "slio-perf: namespace %u: %s\n", cli->nsid, slio_host_ctrl_error(ctrl));
        slio_host_ctrl_free(ctrl);
        return 1;
    }
    perf_report_identify(slio_host_ctrl_get_info(ctrl), cli->nsid, &ns);
    slio_host_ctrl_disconnect(ctrl);
    return 0;
}

/* Hold the association, sending Keep Alive every KATO/2 and noticing a dead connection. */
static int cmd_connect(const struct perf_cli *cli)
{
    struct slio_host_ctrl *ctrl = NULL;

    if (need(cli, true) < 0)
        return 2;
    if (connect_ctrl(cli, cli->subnqn, &ctrl) < 0)
        return 1;
    printf("connected cntlid %u\n", slio_host_ctrl_get_info(ctrl)->cntlid);
    fflush(stdout);
    uint64_t end = now_us() + (uint64_t)(cli->hold_s * 1e6);
    uint32_t interval = cli->kato_ms ? SLIO_MAX(cli->kato_ms / 2, 1u) : 1000;
    uint64_t next_ka = now_us() + (uint64_t)interval * 1000u;
    for (;;) {
        uint64_t now = now_us();
        if (now >= end)
            break;
        /* waiting in poll() on the admin queue notices a close from the target at once */
        uint64_t until = SLIO_MIN(end, next_ka);
        int r = slio_host_queue_poll(slio_host_ctrl_admin_queue(ctrl),
                                     (int)SLIO_DIV_ROUND_UP(until - now, 1000u));
        if (r == 0 && cli->kato_ms && now_us() >= next_ka) {
            r = slio_host_keep_alive(ctrl);
            next_ka = now_us() + (uint64_t)interval * 1000u;
        }
        if (r < 0) {
            fprintf(stderr, "slio-perf: association lost: %s\n", slio_host_ctrl_error(ctrl));
            slio_host_ctrl_free(ctrl);
            return 1;
        }
    }
    slio_host_ctrl_disconnect(ctrl);
    printf("disconnected\n");
    return 0;
}

static int keep_alive_tick(void *arg)
{
    return slio_host_keep_alive(arg);
}

static int run_and_report(const struct perf_cli *cli, struct perf_job *job,
                          const struct perf_backend *be, const char *target)
{
    struct perf_result res;
    char err[ERRLEN];
    int r = perf_run(job, be, &res, err, sizeof(err));

    if (r == -EINVAL || (r < 0 && res.ios == 0 && !res.errors && !res.mismatches)) {
        fprintf(stderr, "slio-perf %s: %s\n", cli->cmd, err[0] ? err : strerror(-r));
        return 1;
    }
    perf_report_result(cli, be, target, &res, cli->json);
    if (r < 0) {
        fprintf(stderr, "slio-perf %s: %s\n", cli->cmd, err[0] ? err : strerror(-r));
        return 1;
    }
    return 0;
}

static int cmd_load(const struct perf_cli *cli)
{
    struct slio_host_ctrl *ctrl = NULL;
    struct perf_backend be;
    struct perf_job job = cli->job;
    char err[ERRLEN], target[600];

    if (need(cli, true) < 0)
        return 2;
    if (connect_ctrl(cli, cli->subnqn, &ctrl) < 0)
        return 1;
    if (perf_backend_tcp_open(ctrl, cli->nsid, job.workers, &cli->poll, &be, err, sizeof(err)) <
        0) {
        fprintf(stderr, "slio-perf load: \"%s\": %s\n", cli->subnqn, err);
        slio_host_ctrl_free(ctrl);
        return 1;
    }
    if (cli->kato_ms) {
        job.tick = keep_alive_tick;
        job.tick_arg = ctrl;
        job.tick_ms = SLIO_MAX(cli->kato_ms / 2, 1u);
    }
    snprintf(target, sizeof(target), "nvme-tcp %s:%s %s ns %u", cli->traddr, cli->trsvcid,
             cli->subnqn, cli->nsid);
    int rc = run_and_report(cli, &job, &be, target);
    perf_backend_tcp_close(&be);
    slio_host_ctrl_disconnect(ctrl);
    return rc;
}

static int cmd_local(const struct perf_cli *cli)
{
    struct perf_backend be;
    bool direct = false;
    char err[ERRLEN], target[600];
    enum perf_workload wl = cli->job.wl;
    bool write =
        wl != PERF_WL_READ && wl != PERF_WL_RANDREAD && !(wl == PERF_WL_VERIFY && cli->job.journal);

    if (!cli->file) {
        fprintf(stderr, "slio-perf local: -f FILE required\n");
        return 2;
    }
    if (perf_backend_local_open(cli->file, write, &be, &direct, err, sizeof(err)) < 0) {
        fprintf(stderr, "slio-perf local: %s\n", err);
        return 1;
    }
    snprintf(target, sizeof(target), "local %s%s", cli->file, direct ? " (O_DIRECT)" : "");
    int rc = run_and_report(cli, (struct perf_job *)&cli->job, &be, target);
    perf_backend_local_close(&be);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(const struct perf_cli *cli);
    } cmds[] = {
        {"discover", cmd_discover}, {"identify", cmd_identify}, {"connect", cmd_connect},
        {"load", cmd_load},         {"local", cmd_local},
    };
    struct perf_cli cli;

    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        perf_cli_usage();
        return 2;
    }
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(cmds); i++) {
        if (strcmp(argv[1], cmds[i].name) != 0)
            continue;
        if (perf_cli_parse(argc - 1, argv + 1, &cli) < 0)
            return 2;
        return cmds[i].fn(&cli);
    }
    fprintf(stderr, "slio-perf: unknown command \"%s\"\n", argv[1]);
    perf_cli_usage();
    return 2;
}
