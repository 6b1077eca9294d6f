/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-controller -c controller.yaml
 *
 * Start order: config, tokens, store, view rebuilt from the store, heartbeat
 * monitor, HTTP. Stop (SIGTERM/SIGINT): HTTP first (no new requests), then the
 * monitor, then the store. A SIGKILL at any point loses nothing acknowledged:
 * every answer that reported a change was sent after its transaction committed.
 */
#define SLIO_LOG_COMPONENT "controller"
#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "api/api.h"
#include "app.h"
#include "slio/log.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: slio-controller -c CONFIG\n"
               "  -c, --config FILE   YAML or JSON configuration (docs/controller.md)\n"
               "  -V, --version       print the version\n"
               "  -h, --help          this text\n");
}

static int parse_args(int argc, char **argv, const char **ret_config)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    int o;
    *ret_config = NULL;
    while ((o = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            *ret_config = optarg;
            break;
        case 'V':
            printf("slio-controller %s\n", SLIO_VERSION);
            return 1;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (!*ret_config || optind != argc) {
        usage(stderr);
        return -EINVAL;
    }
    return 0;
}

static int wait_for_signal(void)
{
    sigset_t set;
    int sig = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigwait(&set, &sig);
    return sig;
}

int ctl_app_main(int argc, char **argv)
{
    const char *config_path;
    struct ctl_config cfg = {0}; /* cleared below even when loading it failed */
    struct ctl *c = NULL;
    struct slio_http_server *srv = NULL;
    struct slio_err err = {{0}};
    int r = parse_args(argc, argv, &config_path);
    if (r != 0)
        return r > 0 ? 0 : 2;

    /* Block the stop signals in every thread; main waits for them with sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    uint64_t t0 = ctl_now_us();
    r = ctl_config_load(config_path, &cfg, &err);
    if (r == 0)
        r = ctl_open(&cfg, &c, &err);
    if (r == 0)
        r = ctl_monitor_start(c);
    if (r == 0)
        r = api_start(c, &srv, &err);
    if (r < 0) {
        log_error("cannot start: %s", err.text[0] ? err.text : strerror(-r));
        if (!c)
            ctl_config_clear(&cfg);
        ctl_free(c);
        return 1;
    }
    log_info("serving on %s:%u (store %s) %.3f s after start", c->cfg.address,
             slio_http_server_port(srv), c->store->ops->name, (double)(ctl_now_us() - t0) / 1e6);
    int sig = wait_for_signal();
    log_info("signal %d: stopping", sig);
    slio_http_server_stop(srv);
    ctl_free(c);
    return 0;
}
