/* SPDX-License-Identifier: Apache-2.0 */
/* Command line of slio-perf: one option table shared by every subcommand. */
#ifndef SLIO_PERF_CLI_H
#define SLIO_PERF_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "host.h"

struct perf_cli {
    const char *cmd;
    const char *traddr, *trsvcid, *subnqn, *hostnqn, *file, *journal;
    const char *dhchap_secret, *dhchap_ctrl_secret; /* DHHC-1 secrets (nvme-cli's options) */
    uint32_t nsid;
    bool hdgst, ddgst, json, fua, keep_sqflow;
    uint32_t kato_ms;
    double hold_s;
    uint32_t timeout_ms;
    struct slio_host_poll_opts poll;
    struct perf_job job;
};

/* Parse argv (argv[0] is the subcommand). Returns 0, or -EINVAL after printing why. */
int perf_cli_parse(int argc, char **argv, struct perf_cli *cli);
void perf_cli_usage(void);
/* "4096", "4k", "128KiB", "1G" → bytes. */
int perf_parse_size(const char *s, uint64_t *ret);

#endif
