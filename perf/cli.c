/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
    OPT_HOSTNQN = 0x100,
    OPT_HDGST,
    OPT_DDGST,
    OPT_KATO,
    OPT_HOLD,
    OPT_NSID,
    OPT_QUEUES,
    OPT_SIZE,
    OPT_OFFSET,
    OPT_RWMIX,
    OPT_JSON,
    OPT_FUA,
    OPT_JOURNAL,
    OPT_SEED,
    OPT_TIMEOUT,
    OPT_SPIN,
    OPT_HYBRID,
    OPT_SQFLOW,
    OPT_DHCHAP_SECRET,
    OPT_DHCHAP_CTRL_SECRET,
};

static const struct option options[] = {
    {"traddr", required_argument, NULL, 'a'},
    {"trsvcid", required_argument, NULL, 's'},
    {"nqn", required_argument, NULL, 'n'},
    {"file", required_argument, NULL, 'f'},
    {"workload", required_argument, NULL, 'w'},
    {"bs", required_argument, NULL, 'o'},
    {"qd", required_argument, NULL, 'q'},
    {"time", required_argument, NULL, 't'},
    {"hostnqn", required_argument, NULL, OPT_HOSTNQN},
    {"hdgst", no_argument, NULL, OPT_HDGST},
    {"ddgst", no_argument, NULL, OPT_DDGST},
    {"kato", required_argument, NULL, OPT_KATO},
    {"hold", required_argument, NULL, OPT_HOLD},
    {"nsid", required_argument, NULL, OPT_NSID},
    {"queues", required_argument, NULL, OPT_QUEUES},
    {"size", required_argument, NULL, OPT_SIZE},
    {"offset", required_argument, NULL, OPT_OFFSET},
    {"rwmix", required_argument, NULL, OPT_RWMIX},
    {"json", no_argument, NULL, OPT_JSON},
    {"fua", no_argument, NULL, OPT_FUA},
    {"journal", required_argument, NULL, OPT_JOURNAL},
    {"seed", required_argument, NULL, OPT_SEED},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"spin", required_argument, NULL, OPT_SPIN},
    {"hybrid", no_argument, NULL, OPT_HYBRID},
    {"sqflow", no_argument, NULL, OPT_SQFLOW},
    {"dhchap-secret", required_argument, NULL, OPT_DHCHAP_SECRET},
    {"dhchap-ctrl-secret", required_argument, NULL, OPT_DHCHAP_CTRL_SECRET},
    {"help", no_argument, NULL, 'h'},
    {0},
};

void perf_cli_usage(void)
{
    fputs("usage:\n"
          "  slio-perf discover -a ADDR -s PORT [--hostnqn NQN] [--json]\n"
          "  slio-perf identify -a ADDR -s PORT -n SUBNQN [--nsid N] [--hostnqn NQN] [--hdgst] "
          "[--ddgst]\n"
          "  slio-perf connect  -a ADDR -s PORT -n SUBNQN [--kato MS] [--hold SECONDS]\n"
          "  slio-perf load     -a ADDR -s PORT -n SUBNQN [--nsid 1] LOAD-OPTIONS\n"
          "  slio-perf local    -f FILE|BLOCKDEV LOAD-OPTIONS\n"
          "load options:\n"
          "  -w read|write|randread|randwrite|randrw|verify   -o BLOCKSIZE  -q QD  --queues N\n"
          "  -t SECONDS  --size BYTES  --offset BYTES  --rwmix READ%  --json  --seed N\n"
          "  --fua  --journal FILE (write: record FUA-acknowledged writes; verify: check them)\n"
          "  --spin US (busy-poll before sleeping)  --hybrid (also sleep half the average\n"
          "  latency after submitting, then spin until the completion)\n"
          "  --timeout MS  --kato MS  --sqflow\n"
          "authentication (DH-HMAC-CHAP, as nvme connect): --dhchap-secret DHHC-1:...\n"
          "  [--dhchap-ctrl-secret DHHC-1:... (also authenticate the controller)]\n",
          stderr);
}

int perf_parse_size(const char *s, uint64_t *ret)
{
    char *end = NULL;
    uint64_t mult = 1;

    if (!s || !*s || *s == '-')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        return -EINVAL;
    switch (*end) {
    case 'k':
    case 'K':
        mult = 1ull << 10;
        break;
    case 'm':
    case 'M':
        mult = 1ull << 20;
        break;
    case 'g':
    case 'G':
        mult = 1ull << 30;
        break;
    case 't':
    case 'T':
        mult = 1ull << 40;
        break;
    case 0:
        break;
    default:
        return -EINVAL;
    }
    if (mult > 1) {
        end++;
        if (*end == 'i')
            end++;
        if (*end == 'B')
            end++;
    }
    if (*end || (v && mult > UINT64_MAX / v))
        return -EINVAL;
    *ret = v * mult;
    return 0;
}

static int parse_u32(const char *name, const char *s, uint32_t max, uint32_t *ret)
{
    uint64_t v;

    if (perf_parse_size(s, &v) < 0 || v > max) {
        fprintf(stderr, "slio-perf: %s \"%s\": expected a number up to %u\n", name, s, max);
        return -EINVAL;
    }
    *ret = (uint32_t)v;
    return 0;
}

static int parse_seconds(const char *name, const char *s, double *ret)
{
    char *end = NULL;
    double v = strtod(s, &end);

    if (end == s || *end || !isfinite(v) || v < 0 || v > 1e7) {
        fprintf(stderr, "slio-perf: %s \"%s\": expected seconds\n", name, s);
        return -EINVAL;
    }
    *ret = v;
    return 0;
}

static void set_defaults(struct perf_cli *cli)
{
    memset(cli, 0, sizeof(*cli));
    cli->nsid = 1;
    cli->kato_ms = 10000;
    cli->hold_s = 0;
    cli->timeout_ms = 10000;
    cli->job.wl = PERF_WL_RANDREAD;
    cli->job.bs = 4096;
    cli->job.qd = 32;
    cli->job.workers = 1;
    cli->job.seconds = 10;
    cli->job.rwmix = 70;
}

static int parse_one(int c, const char *arg, struct perf_cli *cli)
{
    struct perf_job *job = &cli->job;
    uint64_t v;

    switch (c) {
    case 'a':
        cli->traddr = arg;
        return 0;
    case 's':
        cli->trsvcid = arg;
        return 0;
    case 'n':
        cli->subnqn = arg;
        return 0;
    case 'f':
        cli->file = arg;
        return 0;
    case OPT_HOSTNQN:
        cli->hostnqn = arg;
        return 0;
    case OPT_DHCHAP_SECRET:
        cli->dhchap_secret = arg;
        return 0;
    case OPT_DHCHAP_CTRL_SECRET:
        cli->dhchap_ctrl_secret = arg;
        return 0;
    case OPT_HDGST:
        cli->hdgst = true;
        return 0;
    case OPT_DDGST:
        cli->ddgst = true;
        return 0;
    case OPT_JSON:
        cli->json = true;
        return 0;
    case OPT_FUA:
        job->fua = true;
        return 0;
    case OPT_SQFLOW:
        cli->keep_sqflow = true;
        return 0;
    case OPT_JOURNAL:
        job->journal = arg;
        return 0;
    case 'w':
        if (perf_workload_parse(arg, &job->wl) < 0) {
            fprintf(stderr, "slio-perf: -w \"%s\": unknown workload\n", arg);
            return -EINVAL;
        }
        return 0;
    case 'o':
        return parse_u32("-o", arg, 16u << 20, &job->bs);
    case 'q':
        return parse_u32("-q", arg, 65535, &job->qd);
    case 't':
        return parse_seconds("-t", arg, &job->seconds);
    case OPT_HOLD:
        return parse_seconds("--hold", arg, &cli->hold_s);
    case OPT_KATO:
        return parse_u32("--kato", arg, 3600000, &cli->kato_ms);
    case OPT_NSID:
        return parse_u32("--nsid", arg, 0xfffffffe, &cli->nsid);
    case OPT_QUEUES:
        return parse_u32("--queues", arg, 1024, &job->workers);
    case OPT_RWMIX:
        return parse_u32("--rwmix", arg, 100, &job->rwmix);
    case OPT_TIMEOUT:
        return parse_u32("--timeout", arg, 3600000, &cli->timeout_ms);
    case OPT_SPIN:
        return parse_u32("--spin", arg, 1000000, &cli->poll.spin_us);
    case OPT_HYBRID:
        cli->poll.hybrid = true;
        return 0;
    case OPT_SIZE:
    case OPT_OFFSET:
    case OPT_SEED:
        if (perf_parse_size(arg, &v) < 0) {
            fprintf(stderr, "slio-perf: \"%s\": expected a number\n", arg);
            return -EINVAL;
        }
        *(c == OPT_SIZE ? &job->size : c == OPT_OFFSET ? &job->offset : &job->seed) = v;
        return 0;
    default:
        perf_cli_usage();
        return -EINVAL;
    }
}

int perf_cli_parse(int argc, char **argv, struct perf_cli *cli)
{
    int c;

    set_defaults(cli);
    cli->cmd = argv[0];
    optind = 1;
    while ((c = getopt_long(argc, argv, "a:s:n:f:w:o:q:t:h", options, NULL)) != -1) {
        if (parse_one(c, optarg, cli) < 0)
            return -EINVAL;
    }
    if (optind < argc) {
        fprintf(stderr, "slio-perf %s: unexpected argument \"%s\"\n", cli->cmd, argv[optind]);
        return -EINVAL;
    }
    if (!cli->job.seed)
        cli->job.seed = perf_random_seed();
    if (!cli->trsvcid)
        cli->trsvcid = "4420";
    return 0;
}
