/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Arbitrary bytes into the receive path of one NVMe/TCP connection (the real
 * state machine, SGL checks, R2T/H2C handling and send queue; a fake nvmf
 * layer behind it). The first byte optionally prepends a valid ICReq (with
 * digests) and an admin Connect so that the fuzzer reaches command handling
 * quickly. Must not crash, leak or hang; every connection is torn down and
 * freed before the next input.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_nvmf.h"
#include "slio/log.h"
#include "transport/transport_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tgt_reactor *g_r;

static void drain(int fd)
{
    static uint8_t sink[65536];

    while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
        ;
}

static void settle(int host)
{
    for (int i = 0; i < 8; i++) {
        reactor_run_once(g_r, 0);
        drain(host);
        while (fake_complete_one())
            ;
    }
}

static size_t preamble(uint8_t mode, uint8_t *buf)
{
    static const uint8_t cdata[1024];
    struct nvme_sqe sqe;
    bool hd = mode & 2, dd = mode & 4;
    size_t n = 0;

    if (!(mode & 1))
        return 0;
    n += host_icreq(buf, 0, 0, (uint8_t)((hd ? 1 : 0) | (dd ? 2 : 0)));
    if (mode & 8) {
        host_sqe_connect(&sqe, 1, (mode & 16) ? 1 : 0, 32, mode & 32);
        n += host_cmd(buf + n, &sqe, cdata, sizeof(cdata), hd, dd);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pre[2048];
    struct tgt_listen_addr la = {.trtype = "TCP", .adrfam = "IPv4", .traddr = "127.0.0.1"};
    int sv[2];

    if (!g_r) {
        slio_log_set_level(SLIO_LOG_ERR);
        if (reactor_create(0, false, 0, &g_r) < 0)
            abort();
        reactor_enter(g_r);
    }
    if (size == 0)
        return 0;
    fake_reset();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    struct tgt_conn *c = conn_create(g_r, sv[0], &la);
    if (!c)
        abort();

    size_t pn = preamble(data[0], pre);
    for (size_t off = 0; off < pn && g_r->nconns;) { /* c is freed once closed */
        off += conn_rx_feed(c, pre + off, pn - off);
        settle(sv[1]);
    }
    data++;
    size--;
    /* feed; when back-pressure stops the parser, complete pending work and go on */
    for (size_t off = 0, stuck = 0; off < size && g_r->nconns && stuck < 4;) {
        size_t k = conn_rx_feed(c, data + off, size - off);
        off += k;
        stuck = k ? 0 : stuck + 1;
        settle(sv[1]);
    }
    settle(sv[1]);
    close(sv[1]);
    for (int i = 0; i < 100 && (g_r->nconns || !tlist_empty(&g_r->gone)); i++)
        reactor_run_once(g_r, 0);
    if (g_r->nconns || !tlist_empty(&g_r->gone))
        abort(); /* a connection that cannot be torn down */
    return 0;
}
