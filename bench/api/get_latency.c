/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET-one-volume latency: CLIENTS keep-alive connections, each one client
 * with at most one request in flight, GET /v1/volumes/<id> for random ids
 * from a file.
 *
 *   slio-bench-get [--rate R] [--poisson] [--warmup S] [--server-pid PID] [--cpu N] [--json]
 *                  BASE_URL TOKEN IDS_FILE CLIENTS SECONDS
 *
 * Closed loop (no --rate): each client sends its next request as soon as
 * the previous answer arrived; the throughput and latency at saturation.
 * Open loop (--rate R requests/s in all): each client has its own schedule
 * of intended send times, R/CLIENTS a second, evenly spaced from a random
 * phase (--poisson: exponential gaps); a request is timed from its intended
 * send time, so one that had to wait behind a slow answer counts that wait
 * (no coordinated omission, as in wrk2).
 *
 * One thread on epoll with a minimal HTTP/1.1 reader (status line,
 * Content-Length, body) rather than a thread and a libcurl handle per client:
 * 200 client threads on a 2-core machine cost as much CPU and scheduling
 * as the server under test. Its own CPU and the server's (from
 * /proc/PID/stat, --server-pid) over the measured interval are printed, so a
 * saturated client shows. --cpu pins it to one CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "slio/cleanup.h"
#include "slio/fileio.h"
#include "slio/parse.h"

#define MAX_SAMPLES (32u << 20)
#define RESP_MAX    (256u << 10)
#define REQ_MAX     1024

struct conn {
    int fd;
    bool busy;        /* a request is in flight */
    uint64_t due_ns;  /* open loop: intended send time of the next request */
    uint64_t sent_ns; /* the in-flight request's start (intended time in open loop) */
    size_t got;       /* bytes of the answer read so far */
    char buf[RESP_MAX];
};

struct bench {
    const char *host, *port, *token;
    char **ids;
    size_t n_ids;
    unsigned clients, seconds, warmup;
    double rate; /* requests/s in all; 0 = closed loop */
    bool poisson, json;
    long server_pid;
    int cpu;
    struct conn *conns;
    int ep;
    uint64_t measure_from, measure_to;
    uint32_t *lat_us;
    size_t n, errors, late;
    int phase;                           /* 0 warming up, 1 measuring, 2 done */
    double cpu_client[2], cpu_server[2]; /* at the start and the end of the measured interval */
    unsigned seed;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_self_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* utime + stime of a process in seconds, or -1. */
static double cpu_pid_s(long pid)
{
    char path[64], *buf = NULL, *p;
    size_t len;
    unsigned long long ut = 0, st = 0;
    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (slio_read_file(path, 4096, &buf, &len) < 0)
        return -1;
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    for (int field = 2; p && field < 14; field++)
        p = strchr(p + 1, ' ');
    if (p)
        ut = strtoull(p + 1, &p, 10);
    if (p)
        st = strtoull(p + 1, NULL, 10);
    free(buf);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static uint64_t gap_ns(struct bench *b)
{
    double mean = 1e9 * b->clients / b->rate;
    if (!b->poisson)
        return (uint64_t)mean;
    double u = ((double)rand_r(&b->seed) + 1.0) / ((double)RAND_MAX + 2.0);
    return (uint64_t)(-log(u) * mean);
}

static void record(struct bench *b, uint64_t start, uint64_t end, bool ok)
{
    if (start < b->measure_from || start >= b->measure_to)
        return;
    if (!ok)
        b->errors++;
    else if (b->n < MAX_SAMPLES)
        b->lat_us[b->n++] = (uint32_t)((end - start + 500) / 1000);
}

static int conn_open(struct bench *b, struct conn *c)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai;
    int one = 1;
    if (getaddrinfo(b->host, b->port, &hints, &ai) != 0)
        return -EINVAL;
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        freeaddrinfo(ai);
        return -errno;
    }
    freeaddrinfo(ai);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0 ? -errno : 0;
}

static void conn_send(struct bench *b, struct conn *c, uint64_t start_ns);

/* After an error: a new connection; a closed-loop client goes on at once. */
static void conn_reopen(struct bench *b, struct conn *c)
{
    int r;
    close(c->fd);
    c->busy = false;
    c->got = 0;
    r = conn_open(b, c);
    if (r < 0) {
        fprintf(stderr, "slio-bench-get: cannot reconnect: %s\n", strerror(-r));
        exit(1);
    }
    uint64_t t = now_ns();
    if (b->rate == 0 && t < b->measure_to)
        conn_send(b, c, t);
}

static void conn_send(struct bench *b, struct conn *c, uint64_t start_ns)
{
    char req[REQ_MAX];
    const char *id = b->ids[rand_r(&b->seed) % b->n_ids];
    int len = snprintf(req, sizeof(req),
                       "GET /v1/volumes/%s HTTP/1.1\r\nHost: %s:%s\r\n"
                       "Authorization: Bearer %s\r\n\r\n",
                       id, b->host, b->port, b->token);
    c->busy = true;
    c->sent_ns = start_ns;
    c->got = 0;
    /* A request is far smaller than the socket buffer of an idle keep-alive connection. */
    if (len <= 0 || len >= REQ_MAX || send(c->fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
        record(b, start_ns, now_ns(), false);
        conn_reopen(b, c);
    }
}

/* The status (or -1) and the full length of the answer in buf (0: incomplete). */
static size_t parse_answer(const char *buf, size_t got, int *ret_status)
{
    const char *end = memmem(buf, got, "\r\n\r\n", 4);
    size_t body = 0;
    if (!end)
        return 0;
    *ret_status =
        got > 12 && memcmp(buf, "HTTP/1.1 ", 9) == 0 ? (int)strtol(buf + 9, NULL, 10) : -1;
    for (const char *p = buf; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
        p += *p == '\n';
        if (strncasecmp(p, "content-length:", 15) == 0)
            body = strtoul(p + 15, NULL, 10);
    }
    size_t total = (size_t)(end + 4 - buf) + body;
    return total <= got ? total : 0;
}

static void conn_readable(struct bench *b, struct conn *c)
{
    ssize_t n = recv(c->fd, c->buf + c->got, sizeof(c->buf) - c->got - 1, 0);
    int status = -1;
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        if (c->busy)
            record(b, c->sent_ns, now_ns(), false);
        conn_reopen(b, c);
        return;
    }
    c->got += (size_t)n;
    size_t total = parse_answer(c->buf, c->got, &status);
    if (!total) {
        if (c->got + 1 >= sizeof(c->buf)) {
            record(b, c->sent_ns, now_ns(), false);
            conn_reopen(b, c);
        }
        return;
    }
    uint64_t t = now_ns();
    record(b, c->sent_ns, t, status == 200 && total == c->got);
    c->busy = false;
    if (b->rate == 0) {
        if (t < b->measure_to)
            conn_send(b, c, t);
    } else if (c->due_ns <= t && c->due_ns < b->measure_to) {
        b->late++; /* its next request was due while this one was in flight */
        conn_send(b, c, c->due_ns);
        c->due_ns += gap_ns(b);
    }
}

/* Open loop: send what is due; the time until the next due request (ns), or 10 ms. */
static uint64_t send_due(struct bench *b, uint64_t t)
{
    uint64_t wait = 10000000;
    for (unsigned i = 0; i < b->clients; i++) {
        struct conn *c = &b->conns[i];
        if (c->due_ns >= b->measure_to)
            continue;
        if (!c->busy && c->due_ns <= t) {
            conn_send(b, c, c->due_ns);
            c->due_ns += gap_ns(b);
        }
        if (!c->busy && c->due_ns > t && c->due_ns - t < wait)
            wait = c->due_ns - t;
    }
    return wait;
}

static bool all_idle(const struct bench *b)
{
    for (unsigned i = 0; i < b->clients; i++)
        if (b->conns[i].busy)
            return false;
    return true;
}

static void run(struct bench *b)
{
    struct epoll_event evs[256];
    uint64_t t = now_ns(), drain_until = 0;
    b->measure_from = t + (uint64_t)b->warmup * 1000000000u;
    b->measure_to = b->measure_from + (uint64_t)b->seconds * 1000000000u;
    for (unsigned i = 0; i < b->clients; i++) {
        struct conn *c = &b->conns[i];
        if (b->rate == 0)
            conn_send(b, c, t);
        else
            c->due_ns = t + (uint64_t)((double)gap_ns(b) * rand_r(&b->seed) / RAND_MAX);
    }
    for (;;) {
        t = now_ns();
        if (b->phase < 2 && t >= (b->phase ? b->measure_to : b->measure_from)) {
            b->cpu_client[b->phase] = cpu_self_s();
            b->cpu_server[b->phase] = cpu_pid_s(b->server_pid);
            b->phase++;
        }
        uint64_t wait = b->rate > 0 ? send_due(b, t) : 10000000;
        if (t >= b->measure_to) {
            /* let the answers to requests sent in time arrive (at most 10 s) */
            if (!drain_until)
                drain_until = t + 10000000000u;
            if (all_idle(b) || t >= drain_until)
                break;
        }
        struct timespec ts = {.tv_nsec = (long)wait};
        int n = epoll_pwait2(b->ep, evs, SLIO_ARRAY_SIZE(evs), &ts, NULL);
        for (int i = 0; i < n; i++)
            conn_readable(b, evs[i].data.ptr);
    }
    for (unsigned i = 0; i < b->clients; i++)
        if (b->conns[i].busy && b->conns[i].sent_ns < b->measure_to)
            record(b, b->conns[i].sent_ns, now_ns(), false); /* never answered */
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static double pct_ms(const struct bench *b, double q)
{
    size_t i = (size_t)((double)b->n * q);
    return (double)b->lat_us[i < b->n ? i : b->n - 1] / 1e3;
}

static void report(struct bench *b)
{
    double wall_s = b->seconds, client_cpu = b->cpu_client[1] - b->cpu_client[0];
    double server_cpu = b->server_pid > 0 ? b->cpu_server[1] - b->cpu_server[0] : -1;
    double mean = 0, rps = (double)b->n / b->seconds;
    qsort(b->lat_us, b->n, sizeof(*b->lat_us), cmp_u32);
    for (size_t i = 0; i < b->n; i++)
        mean += b->lat_us[i];
    mean = b->n ? mean / (double)b->n / 1e3 : 0;
    double srv = server_cpu >= 0 ? 100 * server_cpu / wall_s : -1;
    double cli = 100 * client_cpu / wall_s;
    if (b->json) {
        printf("{\"clients\":%u,\"seconds\":%u,\"offered\":%.0f,\"requests\":%zu,\"errors\":%zu,"
               "\"late\":%zu,\"rps\":%.1f,\"mean_ms\":%.3f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
               "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"server_cpu_pct\":%.1f,"
               "\"client_cpu_pct\":%.1f}\n",
               b->clients, b->seconds, b->rate, b->n, b->errors, b->late, rps, mean,
               b->n ? pct_ms(b, 0.5) : 0, b->n ? pct_ms(b, 0.9) : 0, b->n ? pct_ms(b, 0.99) : 0,
               b->n ? pct_ms(b, 0.999) : 0, b->n ? pct_ms(b, 1) : 0, srv, cli);
        return;
    }
    if (b->rate > 0)
        printf("open loop, %u clients, offered %.0f req/s%s: ", b->clients, b->rate,
               b->poisson ? " (Poisson)" : "");
    else
        printf("closed loop, %u clients: ", b->clients);
    printf("%zu requests in %u s (%.0f/s), %zu errors", b->n, b->seconds, rps, b->errors);
    if (b->n)
        printf(", mean %.2f p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f ms", mean,
               pct_ms(b, 0.5), pct_ms(b, 0.9), pct_ms(b, 0.99), pct_ms(b, 0.999), pct_ms(b, 1));
    printf("; CPU server %.0f%% client %.0f%% (of %ld%%)\n", srv, cli,
           100 * sysconf(_SC_NPROCESSORS_ONLN));
}

static size_t split_lines(char *buf, char ***ret)
{
    size_t n = 0, cap = 1024;
    char **v = malloc(cap * sizeof(*v));
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line && v;
         line = strtok_r(NULL, "\n", &save)) {
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof(*v));
        if (v)
            v[n++] = line;
    }
    *ret = v;
    return v ? n : 0;
}

/* "http://HOST:PORT" (HOST may be "[v6]"): host and port in place. */
static int split_url(char *url, struct bench *b)
{
    char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : NULL, *colon;
    if (!p)
        return -EINVAL;
    p[strcspn(p, "/")] = '\0';
    colon = strrchr(p, ':');
    if (!colon)
        return -EINVAL;
    *colon = '\0';
    b->port = colon + 1;
    if (*p == '[' && colon[-1] == ']') {
        colon[-1] = '\0';
        p++;
    }
    b->host = p;
    return 0;
}

static int parse_options(int argc, char **argv, struct bench *b)
{
    static const struct option opts[] = {
        {"rate", required_argument, NULL, 'r'},
        {"poisson", no_argument, NULL, 'p'},
        {"warmup", required_argument, NULL, 'w'},
        {"server-pid", required_argument, NULL, 's'},
        {"cpu", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    uint32_t v;
    int o;
    b->warmup = 1;
    b->cpu = -1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'p' || o == 'j') {
            *(o == 'p' ? &b->poisson : &b->json) = true;
            continue;
        }
        if (o == '?' || slio_parse_u32(optarg, 0, 10000000, &v) < 0)
            return -EINVAL;
        if (o == 'r')
            b->rate = v;
        else if (o == 'w')
            b->warmup = v;
        else if (o == 's')
            b->server_pid = v;
        else
            b->cpu = (int)v;
    }
    argv += optind;
    if (argc - optind != 5 || split_url(argv[0], b) < 0 ||
        slio_parse_u32(argv[3], 1, 4096, &b->clients) < 0 ||
        slio_parse_u32(argv[4], 1, 3600, &b->seconds) < 0)
        return -EINVAL;
    b->token = argv[1];
    return 0;
}

int main(int argc, char **argv)
{
    static struct bench b = {.seed = 12345};
    char *buf = NULL;
    size_t len;
    if (parse_options(argc, argv, &b) < 0) {
        fprintf(stderr,
                "usage: %s [--rate REQ_PER_S [--poisson]] [--warmup S] [--server-pid PID] "
                "[--cpu N] [--json] http://HOST:PORT TOKEN IDS_FILE CLIENTS SECONDS\n",
                argv[0]);
        return 2;
    }
    if (slio_read_file(argv[optind + 2], 64u << 20, &buf, &len) < 0 ||
        !(b.n_ids = split_lines(buf, &b.ids))) {
        fprintf(stderr, "%s: cannot read ids from %s\n", argv[0], argv[optind + 2]);
        return 1;
    }
    if (b.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(b.cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) < 0)
            fprintf(stderr, "%s: cannot pin to CPU %d: %s\n", argv[0], b.cpu, strerror(errno));
    }
    b.ep = epoll_create1(EPOLL_CLOEXEC);
    b.conns = calloc(b.clients, sizeof(*b.conns));
    b.lat_us = malloc(MAX_SAMPLES * sizeof(*b.lat_us));
    if (b.ep < 0 || !b.conns || !b.lat_us)
        return 1;
    for (unsigned i = 0; i < b.clients; i++) {
        int r = conn_open(&b, &b.conns[i]);
        if (r < 0) {
            fprintf(stderr, "%s: connect to %s port %s: %s\n", argv[0], b.host, b.port,
                    strerror(-r));
            return 1;
        }
    }
    run(&b);
    report(&b);
    return b.n && !b.errors ? 0 : 1;
}
