/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PDU and SQE builders of the host. Field positions follow the NVMe/TCP
 * transport spec (PDU headers) and the NVMe-oF spec (Fabrics commands: the
 * fctype sits in SQE byte 4, Connect's QID/SQSIZE/CATTR/KATO in dwords 10-12).
 */
#include <endian.h>
#include <string.h>

#include "pdu.h"

#include <nvme/types.h>

void host_pdu_icreq(struct nvme_tcp_icreq *pdu, bool hdgst, bool ddgst)
{
    memset(pdu, 0, sizeof(*pdu));
    pdu->hdr.type = NVME_TCP_ICREQ;
    pdu->hdr.hlen = NVME_TCP_IC_LEN;
    pdu->hdr.plen = htole32(NVME_TCP_IC_LEN);
    pdu->pfv = htole16(0);
    pdu->hpda = 0; /* no alignment needed: we copy C2H data out of a staging buffer */
    pdu->digest =
        (uint8_t)((hdgst ? NVME_TCP_HDGST_ENABLE : 0) | (ddgst ? NVME_TCP_DDGST_ENABLE : 0));
    pdu->maxr2t = htole32(0); /* 0's based: one outstanding R2T per command */
}

/* Header length + header digest, rounded up to the controller's data alignment. */
static uint32_t data_offset(uint32_t hlen, const struct host_pdu_cfg *cfg)
{
    uint32_t off = hlen + (cfg->hdgst ? NVME_TCP_DIGEST_LEN : 0);
    uint32_t align = ((uint32_t)cfg->cpda + 1) * 4;

    return SLIO_DIV_ROUND_UP(off, align) * align;
}

/* Fill the common header, the header digest and the padding; returns bytes before the data. */
static uint32_t finish_hdr(uint8_t *buf, uint8_t type, uint8_t hlen, uint8_t flags,
                           uint32_t data_len, const struct host_pdu_cfg *cfg)
{
    struct nvme_tcp_hdr *ch = (struct nvme_tcp_hdr *)buf;
    uint32_t hd = cfg->hdgst ? NVME_TCP_DIGEST_LEN : 0;
    bool dd = cfg->ddgst && data_len > 0;
    uint32_t pdo = data_len > 0 ? data_offset(hlen, cfg) : 0;
    uint32_t hdr_bytes = data_len > 0 ? pdo : hlen + hd;

    ch->type = type;
    ch->flags =
        (uint8_t)(flags | (cfg->hdgst ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0));
    ch->hlen = hlen;
    ch->pdo = (uint8_t)pdo;
    ch->plen = htole32(hdr_bytes + data_len + (dd ? NVME_TCP_DIGEST_LEN : 0));
    memset(buf + hlen, 0, hdr_bytes - hlen);
    if (cfg->hdgst) {
        uint32_t crc = htole32(nvme_tcp_digest(buf, hlen));
        memcpy(buf + hlen, &crc, sizeof(crc));
    }
    return hdr_bytes;
}

uint32_t host_pdu_cmd(uint8_t *buf, const struct nvme_sqe *sqe, uint32_t icd_len,
                      const struct host_pdu_cfg *cfg)
{
    struct nvme_tcp_cmd_pdu *pdu = (struct nvme_tcp_cmd_pdu *)buf;

    memset(&pdu->hdr, 0, sizeof(pdu->hdr));
    memcpy(&pdu->sqe, sqe, sizeof(*sqe));
    return finish_hdr(buf, NVME_TCP_CMD, NVME_TCP_CMD_HLEN, 0, icd_len, cfg);
}

uint32_t host_pdu_h2c_data(uint8_t *buf, uint16_t cccid, uint16_t ttag, uint32_t datao,
                           uint32_t datal, bool last, const struct host_pdu_cfg *cfg)
{
    struct nvme_tcp_data_pdu *pdu = (struct nvme_tcp_data_pdu *)buf;

    memset(pdu, 0, sizeof(*pdu));
    pdu->cccid = htole16(cccid);
    pdu->ttag = htole16(ttag);
    pdu->offset = htole32(datao);
    pdu->length = htole32(datal);
    return finish_hdr(buf, NVME_TCP_H2C_DATA, NVME_TCP_DATA_HLEN, last ? NVME_TCP_F_DATA_LAST : 0,
                      datal, cfg);
}

uint32_t host_pdu_h2c_term(uint8_t *buf, uint16_t fes, uint32_t fei, const void *echo,
                           uint32_t echo_len)
{
    struct nvme_tcp_term *pdu = (struct nvme_tcp_term *)buf;

    if (echo_len > NVME_TCP_TERM_MAX_DATA)
        echo_len = NVME_TCP_TERM_MAX_DATA;
    memset(pdu, 0, sizeof(*pdu));
    pdu->hdr.type = NVME_TCP_H2C_TERM;
    pdu->hdr.hlen = NVME_TCP_TERM_HLEN;
    pdu->hdr.plen = htole32(NVME_TCP_TERM_HLEN + echo_len);
    pdu->fes = htole16(fes);
    pdu->fei = htole32(fei);
    if (echo_len > 0)
        memcpy(buf + NVME_TCP_TERM_HLEN, echo, echo_len);
    return NVME_TCP_TERM_HLEN + echo_len;
}

static void fabrics_sqe(struct nvme_sqe *sqe, uint8_t fctype)
{
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = NVME_FABRICS_OPCODE;
    sqe->nsid = htole32(fctype); /* byte 4 */
}

void host_sqe_connect(struct nvme_sqe *sqe, uint16_t qid, uint16_t sqsize0, uint8_t cattr,
                      uint32_t kato_ms)
{
    fabrics_sqe(sqe, NVMF_FCTYPE_CONNECT);
    sqe->cdw10 = htole32((uint32_t)qid << 16); /* RECFMT 0 */
    sqe->cdw11 = htole32(sqsize0 | ((uint32_t)cattr << 16));
    sqe->cdw12 = htole32(kato_ms);
}

void host_sqe_prop_get(struct nvme_sqe *sqe, uint32_t ofst, bool eight)
{
    fabrics_sqe(sqe, NVMF_FCTYPE_PROP_GET);
    sqe->cdw10 = htole32(eight ? 1 : 0); /* ATTRIB.size: 0 = 4 bytes, 1 = 8 bytes */
    sqe->cdw11 = htole32(ofst);
}

void host_sqe_prop_set(struct nvme_sqe *sqe, uint32_t ofst, bool eight, uint64_t value)
{
    fabrics_sqe(sqe, NVMF_FCTYPE_PROP_SET);
    sqe->cdw10 = htole32(eight ? 1 : 0);
    sqe->cdw11 = htole32(ofst);
    sqe->cdw12 = htole32((uint32_t)value);
    sqe->cdw13 = htole32((uint32_t)(value >> 32));
}

void host_sqe_disconnect(struct nvme_sqe *sqe)
{
    fabrics_sqe(sqe, NVMF_FCTYPE_DISCONNECT);
}

void host_sqe_identify(struct nvme_sqe *sqe, uint8_t cns, uint32_t nsid)
{
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = nvme_admin_identify;
    sqe->nsid = htole32(nsid);
    sqe->cdw10 = htole32(cns);
}

void host_sqe_get_log(struct nvme_sqe *sqe, uint8_t lid, uint32_t nsid, uint64_t offset,
                      uint32_t len)
{
    uint32_t numd = len / 4 - 1; /* 0's based dword count, split NUMDL / NUMDU */

    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = nvme_admin_get_log_page;
    sqe->nsid = htole32(nsid);
    sqe->cdw10 = htole32(lid | ((numd & 0xffff) << 16));
    sqe->cdw11 = htole32(numd >> 16);
    sqe->cdw12 = htole32((uint32_t)offset);
    sqe->cdw13 = htole32((uint32_t)(offset >> 32));
}

void host_sqe_set_features(struct nvme_sqe *sqe, uint8_t fid, uint32_t dw11)
{
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = nvme_admin_set_features;
    sqe->cdw10 = htole32(fid);
    sqe->cdw11 = htole32(dw11);
}

void host_sqe_keep_alive(struct nvme_sqe *sqe)
{
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = nvme_admin_keep_alive;
}

void host_sqe_rw(struct nvme_sqe *sqe, bool write, uint32_t nsid, uint64_t slba, uint32_t nlb,
                 bool fua)
{
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = write ? nvme_cmd_write : nvme_cmd_read;
    sqe->nsid = htole32(nsid);
    sqe->cdw10 = htole32((uint32_t)slba);
    sqe->cdw11 = htole32((uint32_t)(slba >> 32));
    sqe->cdw12 = htole32(((nlb - 1) & 0xffff) | (fua ? (1u << 30) : 0));
}

void host_sqe_flush(struct nvme_sqe *sqe, uint32_t nsid)
{
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = nvme_cmd_flush;
    sqe->nsid = htole32(nsid);
}
