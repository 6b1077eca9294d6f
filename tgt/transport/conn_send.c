/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The send side of a connection: PDUs are built into per-request header
 * buffers (no allocation), queued, and written with one sendmsg() of up to
 * CONN_IOV_MAX iovecs, so a batch of responses costs one syscall (epoll
 * engine) or one ring operation (io_uring engine). A partial write leaves
 * tx_off inside the head PDU; EAGAIN waits for EPOLLOUT.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

static uint32_t hd_len(const struct tgt_conn *c)
{
    return c->params.hdgst ? NVME_TCP_DIGEST_LEN : 0;
}

static void put_hdr(struct tgt_conn *c, void *buf, uint8_t type, uint8_t flags, uint8_t hlen,
                    uint8_t pdo, uint32_t plen)
{
    struct nvme_tcp_hdr *h = buf;

    h->type = type;
    h->flags = (uint8_t)(flags | (c->params.hdgst ? NVME_TCP_F_HDGST : 0));
    h->hlen = hlen;
    h->pdo = pdo;
    h->plen = htole32(plen);
}

static void put_hdgst(struct tgt_conn *c, uint8_t *buf, uint32_t hlen)
{
    if (!c->params.hdgst)
        return;
    uint32_t d = htole32(nvme_tcp_digest(buf, hlen));
    memcpy(buf + hlen, &d, sizeof(d));
}

static void pdu_set(struct tx_pdu *p, uint8_t kind, void *hdr, uint32_t hlen, void *data,
                    uint32_t dlen, void *dd, uint32_t ddlen)
{
    p->kind = kind;
    p->iov[0] = (struct iovec){hdr, hlen};
    p->niov = 1;
    p->len = hlen + dlen + ddlen;
    if (dlen)
        p->iov[p->niov++] = (struct iovec){data, dlen};
    if (ddlen)
        p->iov[p->niov++] = (struct iovec){dd, ddlen};
}

void conn_tx_queue(struct tgt_conn *c, struct tx_pdu *p)
{
    if (c->closing)
        return;
    p->next = NULL;
    *c->tx_tail = p;
    c->tx_tail = &p->next;
    if (c->tx_ready)
        conn_mark_flush(c);
}

void conn_tx_rsp(struct tcp_req *t)
{
    struct tgt_conn *c = t->conn;
    struct nvme_tcp_rsp_pdu *p = (void *)t->rsp;
    uint32_t len = NVME_TCP_RSP_HLEN + hd_len(c);

    memset(p, 0, sizeof(*p));
    put_hdr(c, p, NVME_TCP_RSP, 0, NVME_TCP_RSP_HLEN, 0, len);
    p->cqe.result = htole64(t->req.result);
    /* with SQ flow control disabled the field is reserved */
    p->cqe.sqhd = c->qp.sq_flow_control_disabled ? 0 : htole16(c->qp.sqhd);
    p->cqe.sqid = htole16(c->qp.qid);
    p->cqe.cid = t->req.cmd.cid;
    p->cqe.status = htole16(nvme_cqe_status_field(t->req.status));
    put_hdgst(c, t->rsp, NVME_TCP_RSP_HLEN);
    pdu_set(&t->tx_rsp, TX_RSP, t->rsp, len, NULL, 0, NULL, 0);
    conn_tx_queue(c, &t->tx_rsp);
}

void conn_tx_r2t(struct tcp_req *t)
{
    struct tgt_conn *c = t->conn;
    struct nvme_tcp_data_pdu *p = (void *)t->hdr;
    uint32_t len = NVME_TCP_R2T_HLEN + hd_len(c);

    memset(p, 0, sizeof(*p));
    put_hdr(c, p, NVME_TCP_R2T, 0, NVME_TCP_R2T_HLEN, 0, len);
    p->cccid = t->req.cmd.cid;
    p->ttag = htole16(t->idx);
    p->offset = htole32(t->h2c_off);
    p->length = htole32(t->req.length - t->h2c_off);
    put_hdgst(c, t->hdr, NVME_TCP_R2T_HLEN);
    pdu_set(&t->tx_data, TX_R2T, t->hdr, len, NULL, 0, NULL, 0);
    conn_tx_queue(c, &t->tx_data);
}

/* Queue the next C2HData chunk of t (io_unit_size each); the CapsuleResp follows the last. */
void conn_tx_c2h(struct tcp_req *t)
{
    struct tgt_conn *c = t->conn;
    struct nvme_tcp_data_pdu *p = (void *)t->hdr;
    uint32_t off = t->c2h_off;
    uint32_t len = SLIO_MIN(c->maxh2cdata, t->req.length - off);
    bool last = off + len == t->req.length;
    bool success = last && c->qp.sq_flow_control_disabled;
    uint32_t dd = c->params.ddgst ? NVME_TCP_DIGEST_LEN : 0;
    uint8_t *data = (uint8_t *)t->req.data + off;
    uint8_t flags = (uint8_t)((dd ? NVME_TCP_F_DDGST : 0) | (last ? NVME_TCP_F_DATA_LAST : 0) |
                              (success ? NVME_TCP_F_DATA_SUCCESS : 0));

    memset(t->hdr, 0, c->c2h_pdo);
    put_hdr(c, p, NVME_TCP_C2H_DATA, flags, NVME_TCP_DATA_HLEN, (uint8_t)c->c2h_pdo,
            c->c2h_pdo + len + dd);
    p->cccid = t->req.cmd.cid;
    p->offset = htole32(off);
    p->length = htole32(len);
    put_hdgst(c, t->hdr, NVME_TCP_DATA_HLEN);
    if (dd)
        t->ddgst_out = htole32(nvme_tcp_digest(data, len));
    pdu_set(&t->tx_data, TX_C2H, t->hdr, c->c2h_pdo, data, len, &t->ddgst_out, dd);
    t->c2h_off += len;
    conn_tx_queue(c, &t->tx_data);
    if (last && !success)
        conn_tx_rsp(t);
}

void conn_tx_icresp(struct tgt_conn *c, uint8_t digest)
{
    struct nvme_tcp_icresp *p = (void *)c->ic_buf;

    memset(p, 0, sizeof(*p));
    p->hdr.type = NVME_TCP_ICRESP;
    p->hdr.hlen = NVME_TCP_IC_LEN;
    p->hdr.plen = htole32(NVME_TCP_IC_LEN);
    p->pfv = 0;
    p->cpda = 0;
    p->digest = digest;
    p->maxdata = htole32(c->maxh2cdata);
    pdu_set(&c->tx_ic, TX_CTRL, p, NVME_TCP_IC_LEN, NULL, 0, NULL, 0);
    conn_tx_queue(c, &c->tx_ic);
}

void conn_tx_term(struct tgt_conn *c, uint16_t fes, uint32_t fei, const void *echo,
                  uint32_t echo_len)
{
    struct nvme_tcp_term *p = (void *)c->term_buf;

    echo_len = SLIO_MIN(echo_len, NVME_TCP_TERM_MAX_DATA);
    memset(p, 0, sizeof(*p));
    p->hdr.type = NVME_TCP_C2H_TERM;
    p->hdr.hlen = NVME_TCP_TERM_HLEN;
    p->hdr.plen = htole32(NVME_TCP_TERM_HLEN + echo_len);
    p->fes = htole16(fes);
    p->fei = htole32(fei);
    memcpy(c->term_buf + NVME_TCP_TERM_HLEN, echo, echo_len);
    pdu_set(&c->tx_term, TX_CTRL, c->term_buf, NVME_TCP_TERM_HLEN + echo_len, NULL, 0, NULL, 0);
    conn_tx_queue(c, &c->tx_term);
}

/* A PDU left the socket completely. */
static void tx_done(struct tgt_conn *c, struct tx_pdu *p)
{
    struct tcp_req *t;

    switch (p->kind) {
    case TX_C2H:
        t = SLIO_CONTAINER_OF(p, struct tcp_req, tx_data);
        if (t->c2h_off < t->req.length)
            conn_tx_c2h(t);
        else if (t->hdr[1] & NVME_TCP_F_DATA_SUCCESS)
            conn_req_release(t); /* no CapsuleResp follows */
        break;
    case TX_RSP:
        conn_req_release(SLIO_CONTAINER_OF(p, struct tcp_req, tx_rsp));
        break;
    default:
        break;
    }
}

static void tx_advance(struct tgt_conn *c, size_t w)
{
    while (w > 0 && c->tx_head) {
        struct tx_pdu *p = c->tx_head;
        size_t left = p->len - c->tx_off;
        if (w < left) {
            c->tx_off += (uint32_t)w;
            return;
        }
        w -= left;
        c->tx_off = 0;
        c->tx_head = p->next;
        if (!c->tx_head)
            c->tx_tail = &c->tx_head;
        tx_done(c, p);
    }
}

static int tx_gather(struct tgt_conn *c, struct iovec *iov)
{
    uint32_t skip = c->tx_off;
    int n = 0;

    for (struct tx_pdu *p = c->tx_head; p && n + 3 <= (int)CONN_IOV_MAX; p = p->next) {
        for (unsigned i = 0; i < p->niov; i++) {
            struct iovec v = p->iov[i];
            if (skip >= v.iov_len) {
                skip -= (uint32_t)v.iov_len;
                continue;
            }
            v.iov_base = (uint8_t *)v.iov_base + skip;
            v.iov_len -= skip;
            skip = 0;
            iov[n++] = v;
        }
    }
    return n;
}

/* The TermReq is out: the connection ends. Returns true if it did. */
static bool tx_term_sent(struct tgt_conn *c)
{
    if (c->tx_head || !c->term_queued)
        return false;
    conn_close(c, "protocol error (C2HTermReq sent)");
    return true;
}

/* Why a send failed, for the log: EFAULT is a mapped memory file that shrank under a read. */
static const char *tx_error(int err)
{
    if (err == EFAULT)
        return "send failed: read data beyond the end of its memory file (truncated without "
               "bdev_aio_rescan?)";
    return strerror(err);
}

/*
 * io_uring engine: one sendmsg in flight per connection, gathering the whole
 * queue; PDUs queued meanwhile go out with the next one when it completes.
 */
static void tx_flush_ring(struct tgt_conn *c)
{
    if (c->closing || c->tx_op.busy || !c->tx_head)
        return;
    c->tx_msg =
        (struct msghdr){.msg_iov = c->tx_iov, .msg_iovlen = (size_t)tx_gather(c, c->tx_iov)};
    if (bio_uring_sendmsg(c->r->uring, c->fd, &c->tx_msg, &c->tx_op) < 0) {
        conn_mark_flush(c); /* ring full: next loop iteration */
        return;
    }
    c->tx_op.busy = true;
    c->net_pending++;
}

void conn_tx_ring_done(struct tgt_conn *c, int res)
{
    if (res < 0 && res != -EAGAIN && res != -EINTR) {
        conn_close(c, tx_error(-res));
        return;
    }
    if (res > 0)
        tx_advance(c, (size_t)res);
    if (c->closing || tx_term_sent(c))
        return;
    if (c->tx_head)
        conn_mark_flush(c);
}

void conn_tx_flush(struct tgt_conn *c)
{
    struct iovec iov[CONN_IOV_MAX];

    if (c->ring) {
        tx_flush_ring(c);
        if (c->rx_arm && !c->closing)
            conn_rx_ring_arm(c);
        return;
    }
    for (unsigned round = 0; c->tx_head && c->tx_ready && !c->closing && round < CONN_TX_ROUNDS;
         round++) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)tx_gather(c, iov)};
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->tx_ready = false; /* EPOLLOUT brings us back */
            } else if (errno != EINTR) {
                conn_close(c, tx_error(errno));
                return;
            }
            continue;
        }
        tx_advance(c, (size_t)w);
    }
    if (c->closing || tx_term_sent(c))
        return;
    if (c->tx_head && c->tx_ready)
        conn_mark_flush(c);
}
