/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Micro-benchmark of the transport alone (not a unit test): one reactor
 * thread serves a RAM-disk fake nvmf layer over TCP loopback; the main thread
 * is a minimal pipelined host doing 4 KiB reads (or writes) at a queue depth.
 * Prints IOPS and the reactor thread's CPU time per I/O, i.e. the target-side
 * cost excluding any backing device.
 *
 *   transport_bench [qd] [ios] [poll_us] [read|write]
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake_nvmf.h"
#include "slio/log.h"
#include "transport/transport_internal.h"

#define BS 4096u

static int g_fd;
static uint8_t g_rx[1 << 20];
static size_t g_have;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void send_all(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = send(g_fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            die("send");
        p += n;
        len -= (size_t)n;
    }
}

/* Next whole PDU from the stream (header pointer into g_rx); consumed by the caller. */
static const struct nvme_tcp_hdr *next_pdu(size_t *ret_len)
{
    for (;;) {
        if (g_have >= 8) {
            const struct nvme_tcp_hdr *h = (const void *)g_rx;
            uint32_t plen = le32toh(h->plen);
            if (g_have >= plen) {
                *ret_len = plen;
                return h;
            }
        }
        ssize_t n = recv(g_fd, g_rx + g_have, sizeof(g_rx) - g_have, 0);
        if (n <= 0)
            die("recv");
        g_have += (size_t)n;
    }
}

static void consume(size_t len)
{
    memmove(g_rx, g_rx + len, g_have - len);
    g_have -= len;
}

static uint64_t thread_cpu_ns(pthread_t t)
{
    clockid_t cid;
    struct timespec ts;

    pthread_getcpuclockid(t, &cid);
    clock_gettime(cid, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t cmd_pdu(uint8_t *buf, uint16_t cid, bool write, uint32_t n)
{
    static uint8_t data[BS];
    struct nvme_sqe sqe;

    host_sqe_rw(&sqe, write ? 0x01 : 0x02, cid, (uint64_t)(n % 256) * 8, BS, write);
    return host_cmd(buf, &sqe, write ? data : NULL, write ? BS : 0, false, false);
}

int main(int argc, char **argv)
{
    unsigned qd = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 32;
    unsigned ios = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 200000;
    long poll = argc > 3 ? strtol(argv[3], NULL, 10) : 50;
    bool write = argc > 4 && strcmp(argv[4], "write") == 0;
    struct tgt_listen_addr la = {
        .trtype = "TCP", .adrfam = "IPv4", .traddr = "127.0.0.1", .trsvcid = "44201"};
    struct tgt_reactor_opts ro = {.count = 1, .cpumask = "0x1", .poll_us = poll};
    static uint8_t buf[65536];

    slio_log_set_level(SLIO_LOG_WARN);
    fake_reset();
    if (qd < 1 || qd > 127 || tgt_listener_add(&la) < 0 || tgt_reactors_start(&ro) < 0)
        return 1;
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(44201), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    g_fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(g_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(g_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("connect");
    size_t len;
    send_all(buf, host_icreq(buf, 0, 0, 0));
    next_pdu(&len);
    consume(len);
    struct nvme_sqe sqe;
    uint8_t cdata[1024] = {0};
    host_sqe_connect(&sqe, 0, 1, 128, false);
    send_all(buf, host_cmd(buf, &sqe, cdata, sizeof(cdata), false, false));
    next_pdu(&len);
    consume(len);

    struct timespec t0, t1;
    uint64_t c0 = thread_cpu_ns(reactor_get(0)->thread);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned sent = 0, done = 0;
    size_t n = 0;
    for (; sent < qd && sent < ios; sent++)
        n += cmd_pdu(buf + n, (uint16_t)sent, write, sent);
    send_all(buf, n);
    while (done < ios) {
        /* handle every complete PDU received, then send all new commands at once */
        n = 0;
        do {
            const struct nvme_tcp_hdr *h = next_pdu(&len);
            if (h->type == NVME_TCP_RSP) {
                const struct nvme_tcp_rsp_pdu *r = (const void *)h;
                if (r->cqe.status)
                    die("I/O error");
                done++;
                if (sent < ios)
                    n += cmd_pdu(buf + n, r->cqe.cid, write, sent++);
            }
            consume(len);
        } while (g_have >= 8 && g_have >= le32toh(((struct nvme_tcp_hdr *)g_rx)->plen) &&
                 n + 8192 < sizeof(buf));
        if (n)
            send_all(buf, n);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t cpu = thread_cpu_ns(reactor_get(0)->thread) - c0;
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("4K %s QD%u poll_us %ld: %.0f IOPS, target CPU %.2f us/IO (%.0f%% of a core)\n",
           write ? "write" : "read", qd, poll, ios / secs, (double)cpu / 1000.0 / ios,
           (double)cpu / 1e9 / secs * 100);
    close(g_fd);
    tgt_reactors_stop();
    return 0;
}
