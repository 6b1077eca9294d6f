/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receive state machine of a connection. Bytes come from the socket in
 * large chunks into a per-connection buffer (one recv() for many small PDUs)
 * or, for large data, straight into the request's buffer; PDUs are parsed out
 * of them byte-exactly, so a PDU split anywhere is handled. The epoll engine
 * calls recv() when the socket is readable; the io_uring engine keeps one
 * receive operation on the ring instead, or a readiness poll while large data
 * is expected (conn_rx_ring_arm).
 *
 * Every common header goes through nvme_tcp_check_hdr() before any length in
 * it is used; the header digest is checked before the rest of the header is
 * interpreted. At most CONN_RX_BUDGET PDUs are handled per connection per
 * loop iteration so that one busy connection cannot starve the others.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

static const uint8_t g_nothing[1];

static void rx_reset(struct tgt_conn *c)
{
    c->rx_state = RX_CH;
    c->rhdr_have = 0;
    c->rhdr_need = sizeof(struct nvme_tcp_hdr);
    c->rreq = NULL;
    c->rdst = NULL;
    c->rdata_left = 0;
    c->rpad_left = 0;
}

/* The 8-byte common header is in: validate it and learn how much header follows. */
static void rx_check_ch(struct tgt_conn *c)
{
    const struct nvme_tcp_hdr *ch = (const void *)c->rhdr;
    uint32_t rest;
    uint16_t fes;
    uint32_t fei;

    if (nvme_tcp_check_hdr(ch, NVME_TCP_ROLE_CONTROLLER, &c->params, &rest, &fes, &fei) < 0) {
        conn_term(c, fes, fei);
        return;
    }
    if (sizeof(*ch) + rest > sizeof(c->rhdr)) { /* nvme_tcp_check_hdr bounds it; never trust that */
        conn_term(c, NVME_TCP_FES_INVALID_HEADER, offsetof(struct nvme_tcp_hdr, plen));
        return;
    }
    c->rhdr_need = (uint32_t)sizeof(*ch) + rest;
    c->rx_state = RX_PSH;
}

static bool hdr_digest_ok(const struct tgt_conn *c)
{
    uint8_t hlen = c->rhdr[2];
    uint32_t got;

    if (!c->params.hdgst)
        return true;
    memcpy(&got, c->rhdr + hlen, sizeof(got));
    return le32toh(got) == nvme_tcp_digest(c->rhdr, hlen);
}

/*
 * The host has as many commands outstanding as the queue it negotiated
 * (Connect SQSIZE) holds: the next one waits, so that a host cannot use the
 * whole request pool with a small queue. The admin queue allows for the
 * AERs a host may have abandoned (their CIDs come back in new commands).
 */
static bool conn_sq_full(const struct tgt_conn *c)
{
    uint32_t max = c->qp.sqsize;

    if (max == 0)
        return false; /* before Connect: the request pool bounds it */
    if (c->qp.qid == 0)
        max += CONN_ADMIN_AER_SLACK;
    return c->nreqs - c->nfree >= max;
}

/* The whole header is in. Returns false when the PDU must wait for a free request. */
static bool rx_header_done(struct tgt_conn *c)
{
    switch (c->rhdr[0]) {
    case NVME_TCP_ICREQ:
        conn_handle_ic(c);
        return true;
    case NVME_TCP_H2C_TERM: {
        const struct nvme_tcp_term *t = (const void *)c->rhdr;
        log_warn("qpair %s: host terminated the connection (fes %#x fei %u)", c->qp.peer,
                 le16toh(t->fes), le32toh(t->fei));
        conn_close(c, "H2CTermReq received");
        return true;
    }
    default:
        break;
    }
    if (!hdr_digest_ok(c)) {
        conn_term(c, NVME_TCP_FES_HDR_DIGEST_ERR, 0);
        return true;
    }
    if (c->rhdr[0] == NVME_TCP_CMD) {
        /* back-pressure: stop reading until a request is released */
        if (!c->free_reqs || conn_sq_full(c)) {
            c->rx_blocked = true;
            return false;
        }
        conn_handle_cmd(c);
        return true;
    }
    conn_handle_h2c(c);
    return true;
}

void conn_rx_start_data(struct tgt_conn *c, struct tcp_req *t, uint8_t *dst, uint32_t len)
{
    const struct nvme_tcp_hdr *ch = (const void *)c->rhdr;
    uint32_t hdr = ch->hlen + (c->params.hdgst ? NVME_TCP_DIGEST_LEN : 0);

    c->rreq = t;
    c->rdst = dst;
    c->rdata_len = len;
    c->rdata_left = len;
    c->rcrc = ~0u;
    c->rddgst_have = 0;
    c->rpad_left = ch->pdo > hdr ? ch->pdo - hdr : 0;
    c->rx_state = c->rpad_left ? RX_PAD : RX_DATA;
}

static bool has_ddgst(const struct tgt_conn *c)
{
    return c->params.ddgst && (c->rhdr[1] & NVME_TCP_F_DDGST);
}

static void rx_data_finish(struct tgt_conn *c, bool ok, unsigned *pdus)
{
    conn_data_done(c, ok);
    if (c->rx_state != RX_ERROR)
        rx_reset(c);
    (*pdus)++;
}

static void rx_data_bytes(struct tgt_conn *c, const uint8_t *p, uint32_t k)
{
    if (c->rdst) {
        if (p != c->rdst)
            memcpy(c->rdst, p, k);
        if (has_ddgst(c))
            c->rcrc = slio_crc32c(c->rcrc, c->rdst, k);
        c->rdst += k;
    }
    c->rdata_left -= k;
}

bool conn_rx_idle(const struct tgt_conn *c)
{
    return (c->rx_state == RX_CH && c->rhdr_have == 0) || c->rx_blocked || c->rx_state == RX_ERROR;
}

/* Header bytes; returns false when more input is needed or the PDU must wait. */
static bool rx_header(struct tgt_conn *c, const uint8_t *p, size_t n, size_t *used, unsigned *pdus)
{
    if (c->rhdr_have == 0 && *used < n) /* a PDU begins: its deadline starts (conn_deadlines) */
        c->rx_pdu_start_us = c->r->iter_us;
    if (c->rhdr_have < c->rhdr_need) {
        size_t k = SLIO_MIN((size_t)(c->rhdr_need - c->rhdr_have), n - *used);
        memcpy(c->rhdr + c->rhdr_have, p + *used, k);
        c->rhdr_have += (uint32_t)k;
        *used += k;
        if (c->rhdr_have < c->rhdr_need)
            return false;
    }
    if (c->rx_state != RX_PSH) {
        rx_check_ch(c);
        return true;
    }
    if (!rx_header_done(c))
        return false;
    if (c->rx_state == RX_PSH) { /* a PDU without data was handled */
        rx_reset(c);
        (*pdus)++;
    }
    return true;
}

size_t conn_rx_consume(struct tgt_conn *c, const uint8_t *p, size_t n, unsigned *pdus)
{
    size_t used = 0;

    if (!p)
        p = g_nothing;
    while (!c->closing && *pdus < CONN_RX_BUDGET) {
        size_t k;
        switch (c->rx_state) {
        case RX_IC_REQ:
        case RX_CH:
        case RX_PSH:
            if (!rx_header(c, p, n, &used, pdus))
                return used;
            break;
        case RX_PAD:
            k = SLIO_MIN((size_t)c->rpad_left, n - used);
            c->rpad_left -= (uint32_t)k;
            used += k;
            if (c->rpad_left)
                return used;
            c->rx_state = RX_DATA;
            break;
        case RX_DATA:
            k = SLIO_MIN((size_t)c->rdata_left, n - used);
            rx_data_bytes(c, p + used, (uint32_t)k);
            used += k;
            if (c->rdata_left)
                return used;
            if (has_ddgst(c))
                c->rx_state = RX_DDGST;
            else
                rx_data_finish(c, true, pdus);
            break;
        case RX_DDGST: {
            k = SLIO_MIN((size_t)(4 - c->rddgst_have), n - used);
            memcpy(c->rddgst + c->rddgst_have, p + used, k);
            c->rddgst_have += (uint32_t)k;
            used += k;
            if (c->rddgst_have < 4)
                return used;
            uint32_t got;
            memcpy(&got, c->rddgst, 4);
            /* discarded data was not summed: its command already failed */
            rx_data_finish(c, !c->rdst || le32toh(got) == ~c->rcrc, pdus);
            break;
        }
        case RX_ERROR:
            return n; /* a TermReq went out: nothing more is interpreted */
        }
    }
    return used;
}

/* Large data goes from the socket straight into the request buffer, skipping a copy. */
static ssize_t rx_direct(struct tgt_conn *c, unsigned *pdus)
{
    ssize_t r = recv(c->fd, c->rdst, c->rdata_left, 0);

    if (r > 0) {
        rx_data_bytes(c, c->rdst, (uint32_t)r);
        (void)conn_rx_consume(c, NULL, 0, pdus);
    }
    return r;
}

/*
 * io_uring engine: one operation in flight: a receive into rbuf, or, while
 * large data is expected, a readiness poll after which conn_rx() takes the
 * data straight into the request buffer with recv() until the socket is
 * drained. A ring receive of bulk data runs as task work each time a segment
 * arrives, while the host is still writing into the same socket, and the two
 * contend for its lock (perf: 4-9 % of the target in the socket spinlock);
 * 128K writes on tmpfs went from 22-27k to 30-33k IOPS with the poll, as
 * fast as the epoll engine. Armed only once everything received has been
 * consumed, and not while the request pool is exhausted (back-pressure).
 */
void conn_rx_ring_arm(struct tgt_conn *c)
{
    struct net_op *op = &c->rx_op;

    c->rx_arm = false;
    if (op->busy)
        return;
    c->rpos = c->rend = 0;
    op->direct = c->rx_state == RX_DATA && c->rdst && c->rdata_left >= CONN_DIRECT_MIN;
    int err = op->direct ? bio_uring_poll_in(c->r->uring, c->fd, op)
                         : bio_uring_recv(c->r->uring, c->fd, c->rbuf, CONN_RBUF_SIZE, op);
    if (err < 0) {
        conn_mark_active(c); /* ring full: try again next loop iteration */
        return;
    }
    op->busy = true;
    c->net_pending++;
}

/* res: bytes received into rbuf, or for a readiness poll (direct) the events. */
void conn_rx_ring_done(struct tgt_conn *c, int res)
{
    if (res == 0 && !c->rx_op.direct) {
        conn_close(c, "connection closed by the host");
        return;
    }
    if (res < 0 && res != -EAGAIN && res != -EINTR) {
        conn_close(c, strerror(-res));
        return;
    }
    if (c->rx_op.direct)
        c->rx_ready = true; /* conn_rx() receives; a hang-up shows there as recv() == 0 */
    else if (res > 0)
        c->rend = (uint32_t)res;
    conn_mark_active(c);
}

bool conn_rx(struct tgt_conn *c)
{
    unsigned pdus = 0;

    while (!c->closing && !c->rx_blocked && pdus < CONN_RX_BUDGET) {
        /* also runs with nothing buffered: a header may be waiting for a free request */
        c->rpos += (uint32_t)conn_rx_consume(c, c->rbuf + c->rpos, c->rend - c->rpos, &pdus);
        if (c->rpos < c->rend || c->closing || c->rx_blocked || pdus >= CONN_RX_BUDGET)
            continue;
        if (!c->rx_ready || c->rx_op.busy) /* never beside a ring receive: bytes would reorder */
            break;
        ssize_t r;
        c->rpos = c->rend = 0;
        size_t want;
        if (c->rx_state == RX_DATA && c->rdst && c->rdata_left >= CONN_DIRECT_MIN) {
            want = c->rdata_left;
            r = rx_direct(c, &pdus);
        } else {
            want = CONN_RBUF_SIZE;
            r = recv(c->fd, c->rbuf, CONN_RBUF_SIZE, 0);
            if (r > 0)
                c->rend = (uint32_t)r;
        }
        /*
         * A short read drained the socket: the next arrival raises a new edge,
         * so skip the recv() that would only return EAGAIN. Not after a
         * hang-up: no edge follows it, the end of the stream must be read.
         */
        if (r > 0 && (size_t)r < want && !c->rx_hup)
            c->rx_ready = false;
        if (r > 0)
            continue;
        if (r == 0) {
            conn_close(c, "connection closed by the host");
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->rx_ready = false;
        } else if (errno != EINTR) {
            conn_close(c, strerror(errno));
        }
    }
    /*
     * Whatever stopped the loop (even the budget): once all is consumed, and
     * recv() (after a readiness poll) has drained the socket, receive more
     * on the ring. Armed by conn_tx_flush() after this iteration's sends,
     * so that a response is not queued behind arming a receive that mostly
     * finds no data yet (bench/tgt QD1: 58k IOPS arming first, 70k after).
     */
    if (c->ring && !c->closing && !c->rx_blocked && !c->rx_ready && c->rpos == c->rend &&
        !c->rx_op.busy) {
        c->rx_arm = true;
        conn_mark_flush(c);
    }
    return pdus > 0;
}
