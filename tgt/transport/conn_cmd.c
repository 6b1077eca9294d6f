/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command capsules and H2C data: from a received CapsuleCmd header to a
 * request whose data has fully arrived (in-capsule or via R2T/H2CData),
 * ready for tgt_nvmf_exec(). SGL and length checks happen here, before any
 * buffer is sized from a wire value; protocol violations in H2CData headers
 * end the connection with a C2HTermReq, command-level problems get an NVMe
 * status.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <endian.h>
#include <errno.h>
#include <nvme/types.h>
#include <stdlib.h>
#include <string.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

#define GENERIC_DNR(sc) ((uint16_t)(NVME_STATUS(NVME_SCT_GENERIC, (sc)) | NVME_STATUS_DNR))

/* Data direction from the opcode's (or fabrics fctype's) two low bits: 01 H2C, 10 C2H. */
static uint8_t data_dir(const struct nvme_sqe *sqe)
{
    uint8_t op = sqe->opcode == NVME_FABRICS_OPCODE ? nvme_sqe_fctype(sqe) : sqe->opcode;

    return op & 3;
}

/* In-capsule data accepted: the admin queue (and any queue before Connect) takes 8 KiB. */
static uint32_t icd_limit(const struct tgt_conn *c)
{
    uint32_t icd = tgt_transport_get_opts()->in_capsule_data_size;

    if (!c->qp.ctrlr || c->qp.qid == 0)
        return SLIO_MAX(icd, CONN_ADMIN_ICD);
    return icd;
}

/* Check the SGL against what the PDU carries; set xfer/length/data. Returns an NVMe status. */
static uint16_t cmd_sgl(struct tgt_conn *c, struct tcp_req *t, uint32_t icd_len)
{
    const struct nvme_sqe *sqe = &t->req.cmd;
    uint8_t dir = data_dir(sqe);
    uint32_t len = le32toh(sqe->sgl.length);

    t->req.xfer = TGT_XFER_NONE;
    t->req.length = 0;
    t->req.data = NULL;
    if (dir == 0)
        return icd_len ? GENERIC_DNR(NVME_SC_SGL_INVALID_DATA) : 0;
    if (dir == 3) /* bidirectional: not in the NVM or fabrics command sets we serve */
        return GENERIC_DNR(NVME_SC_INVALID_FIELD);
    /* NVMe-oF: PSDT must be 01b (SGL, metadata contiguous) */
    if (((sqe->flags >> 6) & 3) != 1)
        return GENERIC_DNR(NVME_SC_INVALID_FIELD);
    t->req.xfer = dir == 1 ? TGT_XFER_H2C : TGT_XFER_C2H;
    switch (sqe->sgl.type) {
    case NVME_SGL_INCAPSULE:
        if (dir != 1)
            return GENERIC_DNR(NVME_SC_SGL_INVALID_TYPE);
        if (le64toh(sqe->sgl.addr) != 0)
            return GENERIC_DNR(NVME_SC_SGL_INVALID_OFFSET);
        if (len > icd_limit(c) || len != icd_len)
            return GENERIC_DNR(NVME_SC_SGL_INVALID_DATA);
        break;
    case NVME_SGL_TRANSPORT:
        if (icd_len || len > tgt_transport_get_opts()->max_io_size)
            return GENERIC_DNR(NVME_SC_SGL_INVALID_DATA);
        break;
    default:
        return GENERIC_DNR(NVME_SC_SGL_INVALID_TYPE);
    }
    if (len) {
        /* cannot happen: slots are sized for the largest length accepted above */
        if (len > t->buf_cap)
            return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
        t->req.data = t->buf;
        c->bufs_dirty = true; /* its pages get committed: given back when the connection idles */
    }
    t->req.length = len;
    return 0;
}

/* All in-capsule data (if any) is in: execute, ask for the rest, or fail. */
static void cmd_ready(struct tcp_req *t)
{
    if (t->failed) {
        conn_req_respond(t);
    } else if (t->req.xfer == TGT_XFER_H2C && t->h2c_off < t->req.length) {
        t->state = TREQ_WAIT_H2C;
        conn_tx_r2t(t);
    } else {
        conn_req_exec(t);
    }
}

static bool cid_claim(struct tgt_conn *c, struct tcp_req *t)
{
    uint16_t cid = t->req.cmd.cid;
    uint64_t bit = 1ull << (cid % 64);

    if (c->cid_map[cid / 64] & bit) {
        struct tgt_req *held = tgt_nvmf_take_abandoned(&c->qp, cid);
        if (!held)
            return false;
        conn_req_release(tcp_req_of(held)); /* clears the CID's bit */
    }
    c->cid_map[cid / 64] |= bit;
    t->cid_held = true;
    return true;
}

void conn_handle_cmd(struct tgt_conn *c)
{
    const struct nvme_tcp_cmd_pdu *pdu = (const void *)c->rhdr;
    uint32_t icd_len = nvme_tcp_data_len(&pdu->hdr, c->params.ddgst);
    struct tcp_req *t = conn_req_get(c);
    uint16_t status;

    memcpy(&t->req.cmd, &pdu->sqe, sizeof(t->req.cmd));
    t->req.status = 0;
    t->req.result = 0;
    t->req.nvmf_ctx = NULL;
    t->failed = false;
    t->h2c_off = 0;
    t->c2h_off = 0;
    t->state = TREQ_RX_CAPSULE;
    /* SQ head: the entry is consumed once received; wraps at the negotiated queue size */
    c->qp.sqhd =
        c->qp.sqsize ? (uint16_t)((c->qp.sqhd + 1u) % c->qp.sqsize) : (uint16_t)(c->qp.sqhd + 1u);
    if (!cid_claim(c, t))
        status = GENERIC_DNR(NVME_SC_CMDID_CONFLICT);
    else
        status = cmd_sgl(c, t, icd_len);
    if (status == 0) /* judged before any data is solicited or stored */
        status = tgt_nvmf_precheck(&t->req);
    if (status) {
        t->req.status = status;
        t->failed = true;
    }
    if (icd_len) {
        conn_rx_start_data(c, t, t->failed ? NULL : t->req.data, icd_len);
        return;
    }
    cmd_ready(t);
}

void conn_handle_h2c(struct tgt_conn *c)
{
    const struct nvme_tcp_data_pdu *d = (const void *)c->rhdr;
    uint16_t ttag = le16toh(d->ttag);
    uint32_t off = le32toh(d->offset), len = le32toh(d->length);
    uint32_t dlen = nvme_tcp_data_len(&d->hdr, c->params.ddgst);

    if (ttag >= c->nreqs || c->reqs[ttag].state != TREQ_WAIT_H2C) {
        conn_term(c, NVME_TCP_FES_INVALID_HEADER, offsetof(struct nvme_tcp_data_pdu, ttag));
        return;
    }
    struct tcp_req *t = &c->reqs[ttag];
    if (d->cccid != t->req.cmd.cid) {
        conn_term(c, NVME_TCP_FES_INVALID_HEADER, offsetof(struct nvme_tcp_data_pdu, cccid));
    } else if (len != dlen) {
        conn_term(c, NVME_TCP_FES_INVALID_HEADER, offsetof(struct nvme_tcp_data_pdu, length));
    } else if (len > c->maxh2cdata) {
        conn_term(c, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, offsetof(struct nvme_tcp_data_pdu, length));
    } else if (off != t->h2c_off) {
        conn_term(c, NVME_TCP_FES_DATA_OUT_OF_RANGE, offsetof(struct nvme_tcp_data_pdu, offset));
    } else if (len > t->req.length - off) {
        conn_term(c, NVME_TCP_FES_DATA_OUT_OF_RANGE, offsetof(struct nvme_tcp_data_pdu, length));
    } else if ((d->hdr.flags & NVME_TCP_F_DATA_LAST) && off + len != t->req.length) {
        conn_term(c, NVME_TCP_FES_INVALID_HEADER, offsetof(struct nvme_tcp_hdr, flags));
    } else {
        conn_rx_start_data(c, t, t->buf + off, len);
    }
}

void conn_data_done(struct tgt_conn *c, bool digest_ok)
{
    struct tcp_req *t = c->rreq;

    if (!t)
        return;
    /* A data digest error fails the command, not the connection; the host may retry it. */
    if (!digest_ok && !t->failed) {
        t->failed = true;
        t->req.status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_TRAN_TPORT_ERROR);
    }
    t->h2c_off += c->rdata_len;
    if (t->state == TREQ_RX_CAPSULE) {
        cmd_ready(t);
        return;
    }
    if (t->h2c_off < t->req.length)
        return; /* more H2CData PDUs to come */
    if (t->failed)
        conn_req_respond(t);
    else
        conn_req_exec(t);
}
