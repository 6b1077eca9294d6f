/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receive side of a host queue: an explicit state machine fed from a staging
 * buffer (or, for large C2H data, straight into the request's buffer).
 * Every common header goes through nvme_tcp_check_hdr() before any length in
 * it is used; CIDs, offsets and lengths are then checked against the request
 * table. Nothing here calls user callbacks or sends: completions and R2Ts are
 * queued as events for slio_host_queue_poll(), so this can run from inside a
 * blocked send without re-entering the caller.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "host_int.h"

static const char *fes_name(uint16_t fes)
{
    switch (fes) {
    case NVME_TCP_FES_INVALID_HEADER:
        return "invalid header field";
    case NVME_TCP_FES_PDU_SEQ_ERR:
        return "PDU sequence error";
    case NVME_TCP_FES_HDR_DIGEST_ERR:
        return "header digest error";
    case NVME_TCP_FES_DATA_OUT_OF_RANGE:
        return "data transfer out of range";
    case NVME_TCP_FES_DATA_LIMIT_EXCEEDED:
        return "data transfer limit exceeded";
    case NVME_TCP_FES_UNSUPPORTED_PARAM:
        return "unsupported parameter";
    default:
        return "unknown";
    }
}

static void ring_push(struct host_ring *r, uint16_t cid)
{
    r->cids[r->tail % r->size] = cid;
    r->tail++;
}

/* Protocol error detected by us: tell the controller (best effort) and kill the queue. */
static int proto_error(struct slio_host_queue *q, uint16_t fes, uint32_t fei, const char *what)
{
    struct nvme_tcp_hdr *ch = (struct nvme_tcp_hdr *)q->rhdr;
    uint32_t n = host_pdu_h2c_term(q->ctl, fes, fei, q->rhdr, SLIO_MIN(q->rhdr_have, ch->hlen));

    (void)!send(q->fd, q->ctl, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    host_queue_set_err(q, "%s (PDU type 0x%x, FES 0x%x %s, FEI 0x%x)", what, ch->type, fes,
                       fes_name(fes), fei);
    q->dead = true;
    q->dead_errno = EPROTO;
    return -EPROTO;
}

static void complete(struct slio_host_queue *q, struct host_req *req, int status, uint64_t result)
{
    req->done = true;
    req->status = status;
    req->result = result;
    ring_push(&q->done, (uint16_t)(req - q->reqs));
}

/* The request a data/response PDU names, or NULL if that CID is not in flight. */
static struct host_req *lookup(struct slio_host_queue *q, uint16_t cid)
{
    if (cid >= q->qd || !q->reqs[cid].busy || q->reqs[cid].done)
        return NULL;
    return &q->reqs[cid];
}

static int on_icresp(struct slio_host_queue *q)
{
    const struct nvme_tcp_icresp *ic = (const struct nvme_tcp_icresp *)q->rhdr;
    uint8_t want = (uint8_t)((q->want_hdgst ? NVME_TCP_HDGST_ENABLE : 0) |
                             (q->want_ddgst ? NVME_TCP_DDGST_ENABLE : 0));

    if (le16toh(ic->pfv) != 0)
        return proto_error(q, NVME_TCP_FES_UNSUPPORTED_PARAM, 8, "ICResp: unsupported PFV");
    if (ic->cpda > 31)
        return proto_error(q, NVME_TCP_FES_INVALID_HEADER, 10, "ICResp: CPDA out of range");
    if (ic->digest & ~want)
        return proto_error(q, NVME_TCP_FES_INVALID_HEADER, 11, "ICResp: digest not requested");
    if (le32toh(ic->maxdata) < 4096)
        return proto_error(q, NVME_TCP_FES_INVALID_HEADER, 12, "ICResp: MAXH2CDATA below 4096");
    q->params.hdgst = q->cfg.hdgst = ic->digest & NVME_TCP_HDGST_ENABLE;
    q->params.ddgst = q->cfg.ddgst = ic->digest & NVME_TCP_DDGST_ENABLE;
    q->cfg.cpda = ic->cpda;
    q->maxh2cdata = le32toh(ic->maxdata);
    q->params.ic_done = true;
    return 0;
}

static int on_term(struct slio_host_queue *q)
{
    const struct nvme_tcp_term *t = (const struct nvme_tcp_term *)q->rhdr;
    uint16_t fes = le16toh(t->fes);

    host_queue_set_err(q, "controller terminated the connection: C2HTermReq FES 0x%x (%s) FEI 0x%x",
                       fes, fes_name(fes), le32toh(t->fei));
    q->dead = true;
    q->dead_errno = ECONNABORTED;
    return -ECONNABORTED;
}

static int on_rsp(struct slio_host_queue *q)
{
    const struct nvme_tcp_rsp_pdu *p = (const struct nvme_tcp_rsp_pdu *)q->rhdr;
    uint16_t cid = le16toh(p->cqe.cid);
    struct host_req *req = lookup(q, cid);
    int status = nvme_cqe_status_value(le16toh(p->cqe.status));

    if (!req)
        return proto_error(q, NVME_TCP_FES_INVALID_HEADER, 8 + 12, "CapsuleResp for unknown CID");
    if (status == 0 && req->dir == SLIO_HOST_DIR_C2H && req->xfered != req->len)
        return proto_error(q, NVME_TCP_FES_PDU_SEQ_ERR, 8 + 12,
                           "CapsuleResp success before all C2H data arrived");
    if (status == 0 && req->digest_err)
        status = NVME_STATUS(0, 0x04); /* Data Transfer Error, as the Linux host reports it */
    complete(q, req, status, le64toh(p->cqe.result));
    return 0;
}

static int on_r2t(struct slio_host_queue *q)
{
    const struct nvme_tcp_data_pdu *p = (const struct nvme_tcp_data_pdu *)q->rhdr;
    struct host_req *req = lookup(q, le16toh(p->cccid));
    uint32_t off = le32toh(p->offset), len = le32toh(p->length);

    if (!req || req->dir != SLIO_HOST_DIR_H2C)
        return proto_error(q, NVME_TCP_FES_INVALID_HEADER, 8, "R2T for unknown or non-write CID");
    if (req->r2t_pending || off != req->xfered || len == 0 || len > req->len - off)
        return proto_error(q, NVME_TCP_FES_DATA_OUT_OF_RANGE, 12, "R2T offset/length out of range");
    req->r2t_pending = true;
    req->r2t_off = off;
    req->r2t_len = len;
    req->ttag = le16toh(p->ttag);
    ring_push(&q->r2t, (uint16_t)(req - q->reqs));
    return 0;
}

static int on_c2h_data(struct slio_host_queue *q)
{
    const struct nvme_tcp_data_pdu *p = (const struct nvme_tcp_data_pdu *)q->rhdr;
    const struct nvme_tcp_hdr *ch = &p->hdr;
    struct host_req *req = lookup(q, le16toh(p->cccid));
    uint32_t off = le32toh(p->offset), len = le32toh(p->length);
    uint32_t hdr_end = ch->hlen + (q->params.hdgst ? NVME_TCP_DIGEST_LEN : 0);

    if (!req || req->dir != SLIO_HOST_DIR_C2H)
        return proto_error(q, NVME_TCP_FES_INVALID_HEADER, 8,
                           "C2HData for unknown or non-read CID");
    if (len == 0 || len != nvme_tcp_data_len(ch, q->params.ddgst))
        return proto_error(q, NVME_TCP_FES_INVALID_HEADER, 16, "C2HData DATAL disagrees with PLEN");
    if (off != req->xfered || len > req->len - off)
        return proto_error(q, NVME_TCP_FES_DATA_OUT_OF_RANGE, 12, "C2HData offset out of range");
    if ((ch->flags & NVME_TCP_F_DATA_SUCCESS) && !(ch->flags & NVME_TCP_F_DATA_LAST))
        return proto_error(q, NVME_TCP_FES_INVALID_HEADER, 1, "C2HData SUCCESS without LAST");
    q->rreq = req;
    q->rdata_left = len;
    q->rdatal = len;
    q->rflags = ch->flags;
    q->rpad_left = ch->pdo - hdr_end;
    q->rcrc = ~0u;
    q->rstate = q->rpad_left ? RX_PAD : RX_DATA;
    return 0;
}

/* The whole header (and its digest) is in q->rhdr. */
static int on_header(struct slio_host_queue *q)
{
    struct nvme_tcp_hdr *ch = (struct nvme_tcp_hdr *)q->rhdr;
    bool ic_or_term = ch->type == NVME_TCP_ICRESP || ch->type == NVME_TCP_C2H_TERM;

    if (q->params.hdgst && !ic_or_term) {
        uint32_t got, want = nvme_tcp_digest(q->rhdr, ch->hlen);
        memcpy(&got, q->rhdr + ch->hlen, sizeof(got));
        if (le32toh(got) != want)
            return proto_error(q, NVME_TCP_FES_HDR_DIGEST_ERR, 0, "header digest mismatch");
    }
    q->rstate = RX_CH;
    switch (ch->type) {
    case NVME_TCP_ICRESP:
        return on_icresp(q);
    case NVME_TCP_C2H_TERM:
        return on_term(q);
    case NVME_TCP_RSP:
        return on_rsp(q);
    case NVME_TCP_R2T:
        return on_r2t(q);
    case NVME_TCP_C2H_DATA:
        return on_c2h_data(q);
    default: /* nvme_tcp_check_hdr() allows nothing else */
        return proto_error(q, NVME_TCP_FES_INVALID_HEADER, 0, "unexpected PDU type");
    }
}

static int on_common_header(struct slio_host_queue *q)
{
    uint32_t rest;
    uint16_t fes;
    uint32_t fei;

    q->params.max_data = q->max_xfer;
    if (nvme_tcp_check_hdr((struct nvme_tcp_hdr *)q->rhdr, NVME_TCP_ROLE_HOST, &q->params, &rest,
                           &fes, &fei) < 0)
        return proto_error(q, fes, fei, "malformed PDU header");
    q->rhdr_need = (uint32_t)sizeof(struct nvme_tcp_hdr) + rest;
    q->rstate = RX_PSH;
    return q->rhdr_have == q->rhdr_need ? on_header(q) : 0;
}

/* All data of the current C2HData PDU (and its digest) arrived. */
static int data_finished(struct slio_host_queue *q)
{
    struct host_req *req = q->rreq;

    req->xfered += q->rdatal;
    q->rstate = RX_CH;
    q->rhdr_have = 0;
    if (q->rflags & NVME_TCP_F_DATA_SUCCESS) {
        if (req->xfered != req->len)
            return proto_error(q, NVME_TCP_FES_PDU_SEQ_ERR, 1, "C2HData SUCCESS before all data");
        /* a digest error fails the command (Data Transfer Error), as the Linux host does */
        complete(q, req, req->digest_err ? NVME_STATUS(0, 0x04) : 0, 0);
    }
    return 0;
}

static int data_done(struct slio_host_queue *q)
{
    if (!q->params.ddgst)
        return data_finished(q);
    q->rstate = RX_DDGST;
    q->rhdr_have = 0;
    return 0;
}

static int ddgst_done(struct slio_host_queue *q)
{
    struct host_req *req = q->rreq;
    uint32_t got;

    memcpy(&got, q->rddgst, sizeof(got));
    if (le32toh(got) != ~q->rcrc) {
        host_queue_set_err(q, "cid %u: C2H data digest mismatch (got 0x%08x, computed 0x%08x)",
                           (unsigned)(req - q->reqs), le32toh(got), ~q->rcrc);
        req->digest_err = true;
    }
    return data_finished(q);
}

/* Consume bytes from the staging buffer; returns <0 when the queue died. */
static int consume(struct slio_host_queue *q)
{
    while (q->rb_pos < q->rb_end) {
        uint32_t avail = q->rb_end - q->rb_pos, n;
        const uint8_t *src = q->rbuf + q->rb_pos;
        int r = 0;

        switch (q->rstate) {
        case RX_CH:
        case RX_PSH: {
            uint32_t need = q->rstate == RX_CH ? sizeof(struct nvme_tcp_hdr) : q->rhdr_need;
            n = SLIO_MIN(avail, need - q->rhdr_have);
            memcpy(q->rhdr + q->rhdr_have, src, n);
            q->rhdr_have += n;
            if (q->rhdr_have == need) {
                if (q->rstate == RX_CH)
                    r = on_common_header(q);
                else
                    r = on_header(q);
                if (q->rstate == RX_CH)
                    q->rhdr_have = 0;
            }
            break;
        }
        case RX_PAD:
            n = SLIO_MIN(avail, q->rpad_left);
            q->rpad_left -= n;
            if (q->rpad_left == 0)
                q->rstate = RX_DATA;
            break;
        case RX_DATA: {
            struct host_req *req = q->rreq;
            uint32_t at = req->xfered + (q->rdatal - q->rdata_left);
            n = SLIO_MIN(avail, q->rdata_left);
            memcpy(req->buf + at, src, n);
            if (q->params.ddgst)
                q->rcrc = slio_crc32c(q->rcrc, src, n);
            q->rdata_left -= n;
            if (q->rdata_left == 0)
                r = data_done(q);
            break;
        }
        case RX_DDGST:
            n = SLIO_MIN(avail, NVME_TCP_DIGEST_LEN - q->rhdr_have);
            memcpy(q->rddgst + q->rhdr_have, src, n);
            q->rhdr_have += n;
            if (q->rhdr_have == NVME_TCP_DIGEST_LEN) {
                q->rhdr_have = 0;
                r = ddgst_done(q);
            }
            break;
        default:
            n = avail;
            break;
        }
        q->rb_pos += n;
        if (r < 0)
            return r;
    }
    return 0;
}

/* Large C2H data with an empty staging buffer: receive it in place, no copy. */
static ssize_t recv_direct(struct slio_host_queue *q)
{
    struct host_req *req = q->rreq;
    uint32_t at = req->xfered + (q->rdatal - q->rdata_left);
    ssize_t n = recv(q->fd, req->buf + at, q->rdata_left, MSG_DONTWAIT);

    if (n <= 0)
        return n;
    if (q->params.ddgst)
        q->rcrc = slio_crc32c(q->rcrc, req->buf + at, (size_t)n);
    q->rdata_left -= (uint32_t)n;
    if (q->rdata_left == 0 && data_done(q) < 0)
        return -2;
    return n;
}

int host_rx(struct slio_host_queue *q)
{
    for (int rounds = 0; rounds < 64 && !q->dead; rounds++) {
        ssize_t n;

        if (q->rstate == RX_DATA && q->rdata_left >= HOST_DIRECT_RECV_MIN) {
            n = recv_direct(q);
            if (n == -2)
                return -EPROTO;
        } else {
            q->rb_pos = q->rb_end = 0;
            n = recv(q->fd, q->rbuf, HOST_RBUF_SIZE, MSG_DONTWAIT);
            if (n > 0) {
                q->rb_end = (uint32_t)n;
                if (consume(q) < 0)
                    return -q->dead_errno;
            }
        }
        if (n == 0) {
            host_queue_set_err(q, "controller closed the connection");
            q->dead = true;
            q->dead_errno = ECONNRESET;
            return -ECONNRESET;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == EINTR)
                continue;
            host_queue_set_err(q, "recv: %s", strerror(errno));
            q->dead = true;
            q->dead_errno = errno;
            return -q->dead_errno;
        }
    }
    return q->dead ? -q->dead_errno : 0;
}
