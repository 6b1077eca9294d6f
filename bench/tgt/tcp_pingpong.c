/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp-pingpong: the loopback TCP floor under an NVMe/TCP round trip.
 *
 * A 4K read at queue depth 1 is one TCP round trip (a 72-byte command
 * capsule out, a 24-byte C2HData header + 4 KiB + a 24-byte response
 * capsule back) plus the work of host and target. How long the round trip alone takes
 * depends on the day's machine more than on anything we write: the issue
 * measured 5.6 µs with both sides spinning on separate cores; the same test
 * here on 2026-11-30 took 8.5 µs. bench/tgt runs this tool with the same
 * sizes and pinning as slio-perf -> slio-tgt, so a QD1 latency can be read as
 * floor + stack, and compared with another day's or another target's.
 *
 *   tcp-pingpong [--count N] [--req BYTES] [--resp BYTES] [--server-cpu C]
 *                [--client-cpu C] [--block]
 *
 * Prints one JSON object: {"req":..,"resp":..,"count":..,"p50_us":..,
 * "p99_us":..,"mean_us":..}. Both sides busy-poll with MSG_DONTWAIT unless
 * --block is given. The server is a forked child on 127.0.0.1, ephemeral port.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slio/cleanup.h"
#include "slio/parse.h"

#define MSG_MAX (1u << 20)

struct pp_opts {
    uint32_t count, req, resp;
    int64_t server_cpu, client_cpu; /* -1: not pinned */
    bool block;
};

static uint8_t g_buf[MSG_MAX];

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int pin_to(int64_t cpu)
{
    cpu_set_t set;

    if (cpu < 0)
        return 0;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

/* Exactly len bytes, spinning (MSG_DONTWAIT) or blocking; -EPIPE on EOF. */
static int recv_all(int fd, size_t len, bool block)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = recv(fd, g_buf + got, len - got, block ? 0 : MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0)
            return -EPIPE;
        else if (errno != EAGAIN && errno != EINTR)
            return -errno;
    }
    return 0;
}

static int send_all(int fd, size_t len)
{
    size_t sent = 0;

    while (sent < len) {
        ssize_t n = send(fd, g_buf + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        if (n > 0)
            sent += (size_t)n;
    }
    return 0;
}

static void set_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The child: answer every request of o->req bytes with o->resp bytes until EOF. */
static _Noreturn void serve(int lfd, const struct pp_opts *o)
{
    if (pin_to(o->server_cpu) < 0)
        _exit(2);
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        _exit(3);
    set_nodelay(fd);
    while (recv_all(fd, o->req, o->block) == 0)
        if (send_all(fd, o->resp) < 0)
            _exit(4);
    _exit(0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int run_client(uint16_t port, const struct pp_opts *o, double *lat)
{
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -errno;
    set_nodelay(fd);
    for (uint32_t i = 0; i < o->count; i++) {
        double t0 = now_us();
        int err = send_all(fd, o->req);
        if (err == 0)
            err = recv_all(fd, o->resp, o->block);
        if (err < 0)
            return err;
        lat[i] = now_us() - t0;
    }
    return 0;
}

static int listen_loopback(uint16_t *ret_port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    *ret_port = ntohs(sa.sin_port);
    return fd;
}

static int parse_opts(int argc, char **argv, struct pp_opts *o)
{
    static const struct option longopts[] = {{"count", required_argument, NULL, 'n'},
                                             {"req", required_argument, NULL, 'q'},
                                             {"resp", required_argument, NULL, 'r'},
                                             {"server-cpu", required_argument, NULL, 's'},
                                             {"client-cpu", required_argument, NULL, 'c'},
                                             {"block", no_argument, NULL, 'b'},
                                             {0}};
    int opt, idx = 0, err = 0;

    *o = (struct pp_opts){
        .count = 100000, .req = 72, .resp = 4096 + 24 + 24, .server_cpu = -1, .client_cpu = -1};
    while (err == 0 && (opt = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        switch (opt) {
        case 'n':
            err = slio_parse_u32(optarg, 1, 10000000, &o->count);
            break;
        case 'q':
            err = slio_parse_u32(optarg, 1, MSG_MAX, &o->req);
            break;
        case 'r':
            err = slio_parse_u32(optarg, 1, MSG_MAX, &o->resp);
            break;
        case 's':
            err = slio_parse_i64(optarg, 0, CPU_SETSIZE - 1, &o->server_cpu);
            break;
        case 'c':
            err = slio_parse_i64(optarg, 0, CPU_SETSIZE - 1, &o->client_cpu);
            break;
        case 'b':
            o->block = true;
            break;
        default:
            return -EINVAL;
        }
        if (err < 0)
            fprintf(stderr, "tcp-pingpong: --%s \"%s\": %s\n", longopts[idx].name, optarg,
                    strerror(-err));
    }
    return err;
}

int main(int argc, char **argv)
{
    struct pp_opts o;
    uint16_t port = 0;

    if (parse_opts(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: tcp-pingpong [--count N] [--req BYTES] [--resp BYTES] "
                        "[--server-cpu C] [--client-cpu C] [--block]\n");
        return 2;
    }
    int lfd = listen_loopback(&port);
    if (lfd < 0) {
        fprintf(stderr, "tcp-pingpong: listen on 127.0.0.1: %s\n", strerror(-lfd));
        return 1;
    }
    pid_t child = fork();
    if (child == 0)
        serve(lfd, &o);
    close(lfd);
    _cleanup_free_ double *lat = calloc(o.count, sizeof(*lat));
    int err = child < 0 ? -errno : !lat ? -ENOMEM : pin_to(o.client_cpu);
    if (err == 0)
        err = run_client(port, &o, lat);
    if (child > 0) {
        kill(child, SIGTERM); /* it ends on EOF anyway; this covers an early client error */
        (void)waitpid(child, NULL, 0);
    }
    if (err < 0) {
        fprintf(stderr, "tcp-pingpong: round trip over 127.0.0.1:%u: %s\n", port, strerror(-err));
        return 1;
    }
    double sum = 0;
    for (uint32_t i = 0; i < o.count; i++)
        sum += lat[i];
    qsort(lat, o.count, sizeof(*lat), cmp_double);
    printf("{\"req\": %u, \"resp\": %u, \"count\": %u, \"block\": %s, \"p50_us\": %.2f, "
           "\"p99_us\": %.2f, \"mean_us\": %.2f}\n",
           o.req, o.resp, o.count, o.block ? "true" : "false", lat[o.count / 2],
           lat[(size_t)o.count * 99 / 100], sum / o.count);
    return 0;
}
