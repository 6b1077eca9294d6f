/* SPDX-License-Identifier: Apache-2.0 */
/* slio-agent: the node daemon (docs/agent.md). */
#define SLIO_LOG_COMPONENT "agent"

#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "agent.h"
#include "slio/log.h"

static void usage(FILE *f)
{
    fputs("usage: slio-agent -c CONFIG [--check-config]\n"
          "  -c, --config FILE   the agent's YAML (or JSON) configuration (docs/agent.md)\n"
          "      --check-config  load and validate the configuration, then exit\n"
          "  -h, --help          this text\n"
          "  -v, --version       print the version\n",
          f);
}

/*
 * systemd's stop sends SIGTERM to the whole unit, so a stop during start-up also kills the
 * lvm/nvme command the agent is waiting for and start-up fails on it. That is the stop the
 * operator asked for, not a failure: exit 0 instead of leaving the unit "failed".
 */
static bool stopped_during_start(const sigset_t *stop_sigs)
{
    sigset_t pending;

    if (sigpending(&pending) != 0)
        return false;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGPIPE && sigismember(stop_sigs, sig) && sigismember(&pending, sig)) {
            log_info("signal %d during start-up: stopping", sig);
            return true;
        }
    }
    return false;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bool check = false;
    struct agent_config cfg;
    struct slio_err err = {{0}};
    struct agent agent;
    sigset_t sigs;
    int c, sig;

    while ((c = getopt_long(argc, argv, "c:hv", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'k':
            check = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'v':
            puts("slio-agent " SLIO_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!path || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (agent_config_load(path, &cfg, &err) < 0) {
        log_error("%s", err.text);
        return 1;
    }
    if (check) {
        agent_config_release(&cfg);
        puts("configuration OK");
        return 0;
    }
    /* Every thread inherits the mask; only sigwait below sees these. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if (agent_start(&agent, &cfg, &err) < 0) {
        bool stopped = stopped_during_start(&sigs);

        if (stopped)
            log_info("start-up interrupted: %s", err.text);
        else
            log_error("cannot start: %s", err.text);
        agent_config_release(&cfg);
        return stopped ? 0 : 1;
    }
    log_info("node \"%s\", pool \"%s\" (%s): started", cfg.node.name, cfg.pool.name,
             cfg.pool.engine);
    do {
        if (sigwait(&sigs, &sig) != 0)
            break;
    } while (sig == SIGPIPE);
    log_info("signal %d: stopping", sig);
    agent_stop(&agent);
    agent_config_release(&cfg);
    return 0;
}
