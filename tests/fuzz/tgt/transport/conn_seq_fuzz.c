/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stateful libFuzzer target for one NVMe/TCP connection: the input is a
 * program of host actions, not raw bytes. Each action builds a well-formed
 * PDU (ICReq, Connect, a command with or without in-capsule data, H2CData
 * answering an R2T the target really sent) whose fields the fuzzer bends a
 * little (offsets, lengths, flags, tags, CIDs), or splits a PDU across
 * deliveries, completes held commands, closes the host side. So the fuzzer
 * walks the connection state machine (before ICReq, before Connect,
 * connected, R2T outstanding, back-pressure, TermReq, hang-up) instead of
 * stopping at the first header check, as raw bytes mostly do (conn_fuzz.c).
 *
 * The target's output is parsed as a host would, so that H2CData can follow
 * an R2T. Must not crash, leak or hang; every connection is torn down and
 * freed before the next input.
 */
#include <endian.h>
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

#define MAX_R2T   16
#define MAX_STEPS 256

struct r2t_seen {
    uint16_t cccid, ttag;
    uint32_t off, len;
};

struct run {
    const uint8_t *in;
    size_t left;
    int host;
    bool hd, dd, split_next;
    struct r2t_seen r2t[MAX_R2T];
    unsigned nr2t;
    size_t out_len;
    uint8_t out[1 << 17]; /* last: a new input resets only what precedes it */
};

static struct tgt_reactor *g_r;
static uint8_t g_pdu[(1 << 17) + 1024];
static uint8_t g_data[1 << 17];

static uint8_t take8(struct run *r)
{
    if (r->left == 0)
        return 0;
    r->left--;
    return *r->in++;
}

static uint16_t take16(struct run *r)
{
    return (uint16_t)(take8(r) | take8(r) << 8);
}

/* The host's view of what the target sent: remember R2Ts, drop the rest. */
static void parse_output(struct run *r)
{
    size_t pos = 0;

    while (r->out_len - pos >= 8) {
        const struct nvme_tcp_hdr *h = (const void *)(r->out + pos);
        uint32_t plen = le32toh(h->plen);
        if (plen < 8 || plen > sizeof(r->out)) { /* not a host's problem to survive here */
            r->out_len = 0;
            return;
        }
        if (r->out_len - pos < plen)
            break;
        if (h->type == NVME_TCP_R2T && plen >= 24) {
            const struct nvme_tcp_data_pdu *d = (const void *)h;
            struct r2t_seen *s = &r->r2t[r->nr2t++ % MAX_R2T];
            *s = (struct r2t_seen){.cccid = d->cccid,
                                   .ttag = le16toh(d->ttag),
                                   .off = le32toh(d->offset),
                                   .len = le32toh(d->length)};
        }
        pos += plen;
    }
    memmove(r->out, r->out + pos, r->out_len - pos);
    r->out_len -= pos;
}

static void settle(struct run *r)
{
    for (int i = 0; i < 4; i++) {
        reactor_run_once(g_r, 0);
        for (;;) {
            if (r->out_len == sizeof(r->out))
                r->out_len = 0;
            ssize_t n =
                recv(r->host, r->out + r->out_len, sizeof(r->out) - r->out_len, MSG_DONTWAIT);
            if (n <= 0)
                break;
            r->out_len += (size_t)n;
            parse_output(r);
        }
    }
}

/* Deliver a PDU, in two pieces if the previous action asked for it. */
static void deliver(struct run *r, struct tgt_conn *c, const uint8_t *p, size_t n)
{
    size_t cut = r->split_next ? (n > 1 ? 1 + take8(r) % (n - 1) : n) : n;

    r->split_next = false;
    for (size_t off = 0, stuck = 0; off < n && g_r->nconns && stuck < 4;) {
        size_t end = off < cut ? cut : n;
        size_t k = conn_rx_feed(c, p + off, end - off);
        off += k;
        stuck = k ? 0 : stuck + 1;
        settle(r);
        while (!k && fake_complete_one()) /* back-pressure: let a held command go */
            settle(r);
    }
}

static uint32_t icd_or_len(struct run *r)
{
    static const uint32_t lens[] = {0, 512, 4096, 8192, 8208, 65536, 131072, 131072 + 4096};

    return lens[take8(r) % SLIO_ARRAY_SIZE(lens)];
}

static size_t build_cmd(struct run *r)
{
    static const uint8_t opcodes[] = {0x00, 0x01, 0x02, FAKE_PENDING_OPC, 0x7f, 0x06, 0x09, 0xff};
    struct nvme_sqe sqe;
    uint8_t opc = opcodes[take8(r) % sizeof(opcodes)];
    uint8_t how = take8(r);
    uint32_t len = icd_or_len(r);
    bool incap = how & 1;

    host_sqe_rw(&sqe, opc, take16(r), take8(r), len, incap);
    if (how & 2) /* bend the SGL: type, offset or flags */
        sqe.sgl.type = take8(r);
    if (how & 4)
        sqe.flags = take8(r);
    uint32_t icd = incap ? SLIO_MIN(len, (uint32_t)sizeof(g_data)) : 0;
    if (incap && (how & 8)) { /* disagrees with the SGL */
        uint32_t other = icd_or_len(r);
        icd = SLIO_MIN(other, (uint32_t)sizeof(g_data));
    }
    return host_cmd(g_pdu, &sqe, g_data, icd, r->hd, r->dd);
}

static size_t build_h2c(struct run *r)
{
    if (r->nr2t == 0)
        return 0;
    const struct r2t_seen *s = &r->r2t[take8(r) % SLIO_MIN(r->nr2t, MAX_R2T)];
    uint8_t bend = take8(r);
    uint16_t cccid = s->cccid, ttag = s->ttag;
    uint32_t off = s->off, len = SLIO_MIN(s->len, (uint32_t)sizeof(g_data));
    uint32_t chunk = 1u << (9 + take8(r) % 8); /* 512 B .. 64 KiB per PDU */
    bool last_ok = true;

    if (bend & 1)
        cccid ^= (uint16_t)(1u << (take8(r) % 16));
    if (bend & 2)
        ttag ^= (uint16_t)(1u << (take8(r) % 16));
    if (bend & 4)
        off += take8(r) * 512u;
    if (bend & 8)
        len += take8(r) * 512u, last_ok = false;
    len = SLIO_MIN(len, (uint32_t)sizeof(g_data));
    size_t n = 0;
    for (uint32_t o = 0; o < len && n + chunk + 64 <= sizeof(g_pdu); o += chunk) {
        uint32_t k = SLIO_MIN(chunk, len - o);
        bool last = (bend & 16) ? !last_ok : o + k == len;
        n += host_h2c(g_pdu + n, cccid, ttag, off + o, g_data, k, last, r->hd, r->dd);
    }
    return n;
}

static size_t build_connect(struct run *r)
{
    static const uint8_t cdata[1024];
    struct nvme_sqe sqe;
    uint8_t how = take8(r);

    host_sqe_connect(&sqe, take16(r), (how & 1) ? take8(r) % 3 : 0, (uint16_t)(1 + take8(r)),
                     how & 2);
    return host_cmd(g_pdu, &sqe, cdata, (how & 4) ? 512 : sizeof(cdata), r->hd, r->dd);
}

/* One host action; false ends the program (the host hung up). */
static bool step(struct run *r, struct tgt_conn *c)
{
    size_t n = 0;

    switch (take8(r) % 9) {
    case 0: { /* ICReq */
        uint8_t dig = take8(r) & 3, hpda = take8(r) % 4 == 0 ? take8(r) : 0;
        r->hd = dig & 1;
        r->dd = dig & 2;
        n = host_icreq(g_pdu, (uint16_t)(take8(r) % 8 == 0), hpda, dig);
        break;
    }
    case 1:
        n = build_connect(r);
        break;
    case 2:
    case 3:
        n = build_cmd(r);
        break;
    case 4:
        n = build_h2c(r);
        break;
    case 5: { /* raw bytes: anything, including half a header */
        size_t want = take8(r);
        n = SLIO_MIN(want, r->left);
        memcpy(g_pdu, r->in, n);
        r->in += n;
        r->left -= n;
        break;
    }
    case 6:
        while (fake_complete_one())
            ;
        settle(r);
        return true;
    case 7:
        r->split_next = true;
        return true;
    case 8:
        return take8(r) % 4 != 0; /* sometimes the host hangs up mid-program */
    }
    if (n)
        deliver(r, c, g_pdu, n);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run r;
    struct tgt_listen_addr la = {.trtype = "TCP", .adrfam = "IPv4", .traddr = "127.0.0.1"};
    int sv[2];

    if (!g_r) {
        slio_log_set_level(SLIO_LOG_ERR);
        if (reactor_create(0, false, 0, &g_r) < 0)
            abort();
        reactor_enter(g_r);
        for (size_t i = 0; i < sizeof(g_data); i++)
            g_data[i] = (uint8_t)(i * 7);
    }
    fake_reset();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    struct tgt_conn *c = conn_create(g_r, sv[0], &la);
    if (!c)
        abort();
    memset(&r, 0, offsetof(struct run, out));
    r.in = data;
    r.left = size;
    r.host = sv[1];
    for (unsigned i = 0; i < MAX_STEPS && r.left && g_r->nconns; i++)
        if (!step(&r, c))
            break;
    settle(&r);
    close(sv[1]);
    for (int i = 0; i < 100 && (g_r->nconns || !tlist_empty(&g_r->gone)); i++) {
        while (fake_complete_one())
            ;
        reactor_run_once(g_r, 0);
    }
    if (g_r->nconns || !tlist_empty(&g_r->gone))
        abort(); /* a connection that cannot be torn down */
    return 0;
}
