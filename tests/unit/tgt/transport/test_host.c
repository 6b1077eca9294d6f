/* SPDX-License-Identifier: Apache-2.0 */
/* Host-side NVMe/TCP PDU builders for the transport tests and fuzzer. */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_host.h"

/* ---- host side ---- */
static void put_ch(uint8_t *buf, uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo,
                   uint32_t plen)
{
    struct nvme_tcp_hdr *h = (void *)buf;

    h->type = type;
    h->flags = flags;
    h->hlen = hlen;
    h->pdo = pdo;
    h->plen = htole32(plen);
}

static void put_digest(uint8_t *at, const void *buf, uint32_t len)
{
    uint32_t d = htole32(nvme_tcp_digest(buf, len));
    memcpy(at, &d, 4);
}

uint32_t host_icreq(uint8_t *buf, uint16_t pfv, uint8_t hpda, uint8_t digest)
{
    struct nvme_tcp_icreq *ic = (void *)buf;

    memset(ic, 0, sizeof(*ic));
    put_ch(buf, NVME_TCP_ICREQ, 0, NVME_TCP_IC_LEN, 0, NVME_TCP_IC_LEN);
    ic->pfv = htole16(pfv);
    ic->hpda = hpda;
    ic->digest = digest;
    return NVME_TCP_IC_LEN;
}

static uint32_t put_data(uint8_t *buf, uint32_t at, const void *data, uint32_t len, bool ddgst)
{
    memcpy(buf + at, data, len);
    if (ddgst)
        put_digest(buf + at + len, data, len);
    return at + len + (ddgst ? 4 : 0);
}

uint32_t host_cmd(uint8_t *buf, const struct nvme_sqe *sqe, const void *icd, uint32_t icd_len,
                  bool hdgst, bool ddgst)
{
    uint32_t hd = hdgst ? 4 : 0;
    bool dd = ddgst && icd_len;
    uint8_t flags = (uint8_t)((hdgst ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0));
    uint32_t plen = NVME_TCP_CMD_HLEN + hd + icd_len + (dd ? 4 : 0);

    put_ch(buf, NVME_TCP_CMD, flags, NVME_TCP_CMD_HLEN,
           (uint8_t)(icd_len ? NVME_TCP_CMD_HLEN + hd : 0), plen);
    memcpy(buf + 8, sqe, sizeof(*sqe));
    if (hdgst)
        put_digest(buf + NVME_TCP_CMD_HLEN, buf, NVME_TCP_CMD_HLEN);
    if (!icd_len)
        return plen;
    return put_data(buf, NVME_TCP_CMD_HLEN + hd, icd, icd_len, dd);
}

uint32_t host_h2c(uint8_t *buf, uint16_t cccid, uint16_t ttag, uint32_t off, const void *data,
                  uint32_t len, bool last, bool hdgst, bool ddgst)
{
    struct nvme_tcp_data_pdu *p = (void *)buf;
    uint32_t hd = hdgst ? 4 : 0;
    uint8_t flags = (uint8_t)((hdgst ? NVME_TCP_F_HDGST : 0) | (ddgst ? NVME_TCP_F_DDGST : 0) |
                              (last ? NVME_TCP_F_DATA_LAST : 0));

    memset(p, 0, sizeof(*p));
    put_ch(buf, NVME_TCP_H2C_DATA, flags, NVME_TCP_DATA_HLEN, (uint8_t)(NVME_TCP_DATA_HLEN + hd),
           NVME_TCP_DATA_HLEN + hd + len + (ddgst ? 4 : 0));
    p->cccid = cccid;
    p->ttag = htole16(ttag);
    p->offset = htole32(off);
    p->length = htole32(len);
    if (hdgst)
        put_digest(buf + NVME_TCP_DATA_HLEN, buf, NVME_TCP_DATA_HLEN);
    return put_data(buf, NVME_TCP_DATA_HLEN + hd, data, len, ddgst);
}

void host_sqe_connect(struct nvme_sqe *sqe, uint16_t cid, uint16_t qid, uint16_t sqsize,
                      bool disable_sqflow)
{
    uint8_t *b = (uint8_t *)sqe;

    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = NVME_FABRICS_OPCODE;
    sqe->flags = 0x40;
    sqe->cid = cid;
    b[4] = NVMF_FCTYPE_CONNECT;
    sqe->sgl.type = NVME_SGL_INCAPSULE;
    sqe->sgl.length = htole32(1024);
    qid = htole16(qid);
    sqsize = htole16((uint16_t)(sqsize - 1));
    memcpy(b + 42, &qid, 2);
    memcpy(b + 44, &sqsize, 2);
    b[46] = disable_sqflow ? 0x04 : 0;
}

void host_sqe_rw(struct nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint64_t slba, uint32_t len,
                 bool incapsule)
{
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = opc;
    sqe->flags = 0x40;
    sqe->cid = cid;
    sqe->nsid = htole32(1);
    sqe->sgl.type = incapsule ? NVME_SGL_INCAPSULE : NVME_SGL_TRANSPORT;
    sqe->sgl.length = htole32(len);
    sqe->cdw10 = htole32((uint32_t)slba);
    sqe->cdw11 = htole32((uint32_t)(slba >> 32));
    sqe->cdw12 = htole32(len / 512 ? len / 512 - 1 : 0);
}

bool test_no_io_uring_allowed(void)
{
    const char *allow = getenv("SLIO_ALLOW_NO_IO_URING");

    if (allow && strcmp(allow, "1") == 0) {
        fprintf(stderr, "io_uring unavailable, SLIO_ALLOW_NO_IO_URING=1: its variants not run\n");
        return true;
    }
    fprintf(stderr, "io_uring unavailable here: FAIL (set SLIO_ALLOW_NO_IO_URING=1 to allow)\n");
    return false;
}
