/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVMe/TCP common-header validation. Modelled on the checks the hardened
 * kernel nvmet-tcp does before trusting any length: type allowed for this
 * direction and state, header length exact for the type, digest flags
 * consistent with what was negotiated, pdo/plen inside bounds, data length
 * under the negotiated ceiling. Nothing is allocated here.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>

#include "slio/nvme_tcp.h"

/* Exact header length for each PDU type (0: type unknown). */
static uint8_t expected_hlen(uint8_t type)
{
    switch (type) {
    case NVME_TCP_ICREQ:
    case NVME_TCP_ICRESP:
        return NVME_TCP_IC_LEN;
    case NVME_TCP_H2C_TERM:
    case NVME_TCP_C2H_TERM:
        return NVME_TCP_TERM_HLEN;
    case NVME_TCP_CMD:
        return NVME_TCP_CMD_HLEN;
    case NVME_TCP_RSP:
        return NVME_TCP_RSP_HLEN;
    case NVME_TCP_H2C_DATA:
    case NVME_TCP_C2H_DATA:
        return NVME_TCP_DATA_HLEN;
    case NVME_TCP_R2T:
        return NVME_TCP_R2T_HLEN;
    default:
        return 0;
    }
}

static bool type_allowed(uint8_t type, enum nvme_tcp_role role, bool ic_done)
{
    if (role == NVME_TCP_ROLE_CONTROLLER) {
        if (!ic_done)
            return type == NVME_TCP_ICREQ;
        return type == NVME_TCP_H2C_TERM || type == NVME_TCP_CMD || type == NVME_TCP_H2C_DATA;
    }
    if (!ic_done)
        return type == NVME_TCP_ICRESP || type == NVME_TCP_C2H_TERM;
    return type == NVME_TCP_C2H_TERM || type == NVME_TCP_RSP || type == NVME_TCP_C2H_DATA ||
           type == NVME_TCP_R2T;
}

static bool type_has_data(uint8_t type)
{
    return type == NVME_TCP_CMD || type == NVME_TCP_H2C_DATA || type == NVME_TCP_C2H_DATA;
}

static bool type_is_ic_or_term(uint8_t type)
{
    return type <= NVME_TCP_C2H_TERM;
}

static int fail(uint16_t fes, uint32_t fei, uint16_t *ret_fes, uint32_t *ret_fei)
{
    *ret_fes = fes;
    *ret_fei = fei;
    return -EPROTO;
}

/* Byte offsets inside the common header, reported as FEI. */
#define FEI_TYPE  offsetof(struct nvme_tcp_hdr, type)
#define FEI_FLAGS offsetof(struct nvme_tcp_hdr, flags)
#define FEI_HLEN  offsetof(struct nvme_tcp_hdr, hlen)
#define FEI_PDO   offsetof(struct nvme_tcp_hdr, pdo)
#define FEI_PLEN  offsetof(struct nvme_tcp_hdr, plen)

static int check_data_layout(const struct nvme_tcp_hdr *ch, uint32_t plen, uint32_t hdr_total,
                             uint32_t dd, const struct nvme_tcp_params *p, uint16_t *ret_fes,
                             uint32_t *ret_fei)
{
    if (plen == hdr_total) {
        /* no data: only a command capsule may come without data */
        if (ch->type != NVME_TCP_CMD || (ch->flags & NVME_TCP_F_DDGST))
            return fail(NVME_TCP_FES_INVALID_HEADER, FEI_PLEN, ret_fes, ret_fei);
        if (ch->pdo != 0 && ch->pdo != hdr_total)
            return fail(NVME_TCP_FES_INVALID_HEADER, FEI_PDO, ret_fes, ret_fei);
        return 0;
    }
    if (ch->pdo < hdr_total || (uint32_t)ch->pdo + dd >= plen)
        return fail(NVME_TCP_FES_INVALID_HEADER, FEI_PDO, ret_fes, ret_fei);
    if (p->ddgst && !(ch->flags & NVME_TCP_F_DDGST))
        return fail(NVME_TCP_FES_INVALID_HEADER, FEI_FLAGS, ret_fes, ret_fei);
    if (plen - ch->pdo - dd > p->max_data)
        return fail(NVME_TCP_FES_DATA_LIMIT_EXCEEDED, FEI_PLEN, ret_fes, ret_fei);
    return 0;
}

int nvme_tcp_check_hdr(const struct nvme_tcp_hdr *ch, enum nvme_tcp_role role,
                       const struct nvme_tcp_params *p, uint32_t *ret_rest, uint16_t *ret_fes,
                       uint32_t *ret_fei)
{
    uint8_t hlen = expected_hlen(ch->type);
    uint32_t plen = le32toh(ch->plen);

    if (hlen == 0 || !type_allowed(ch->type, role, p->ic_done))
        return fail(hlen == 0 ? NVME_TCP_FES_INVALID_HEADER : NVME_TCP_FES_PDU_SEQ_ERR, FEI_TYPE,
                    ret_fes, ret_fei);
    if (ch->hlen != hlen)
        return fail(NVME_TCP_FES_INVALID_HEADER, FEI_HLEN, ret_fes, ret_fei);

    if (type_is_ic_or_term(ch->type)) {
        /* IC and TermReq PDUs never carry digests */
        if (ch->flags & (NVME_TCP_F_HDGST | NVME_TCP_F_DDGST))
            return fail(NVME_TCP_FES_INVALID_HEADER, FEI_FLAGS, ret_fes, ret_fei);
        bool term = ch->type == NVME_TCP_H2C_TERM || ch->type == NVME_TCP_C2H_TERM;
        if (term ? (plen < hlen || plen > hlen + NVME_TCP_TERM_MAX_DATA) : plen != hlen)
            return fail(NVME_TCP_FES_INVALID_HEADER, FEI_PLEN, ret_fes, ret_fei);
        *ret_rest = (term ? plen : hlen) - (uint32_t)sizeof(*ch);
        return 0;
    }

    /* header digest flag must match what was negotiated, in both directions */
    if (!!(ch->flags & NVME_TCP_F_HDGST) != p->hdgst)
        return fail(NVME_TCP_FES_INVALID_HEADER, FEI_FLAGS, ret_fes, ret_fei);
    if ((ch->flags & NVME_TCP_F_DDGST) && (!p->ddgst || !type_has_data(ch->type)))
        return fail(NVME_TCP_FES_INVALID_HEADER, FEI_FLAGS, ret_fes, ret_fei);

    uint32_t hd = p->hdgst ? NVME_TCP_DIGEST_LEN : 0;
    uint32_t dd = (ch->flags & NVME_TCP_F_DDGST) ? NVME_TCP_DIGEST_LEN : 0;
    uint32_t hdr_total = hlen + hd;

    if (plen < hdr_total)
        return fail(NVME_TCP_FES_INVALID_HEADER, FEI_PLEN, ret_fes, ret_fei);
    if (!type_has_data(ch->type)) {
        if (plen != hdr_total || ch->pdo != 0)
            return fail(NVME_TCP_FES_INVALID_HEADER, plen != hdr_total ? FEI_PLEN : FEI_PDO,
                        ret_fes, ret_fei);
    } else {
        int r = check_data_layout(ch, plen, hdr_total, dd, p, ret_fes, ret_fei);
        if (r < 0)
            return r;
    }
    *ret_rest = hdr_total - (uint32_t)sizeof(*ch);
    return 0;
}

uint32_t nvme_tcp_data_len(const struct nvme_tcp_hdr *ch, bool ddgst)
{
    uint32_t plen = le32toh(ch->plen);
    uint32_t dd = (ddgst && (ch->flags & NVME_TCP_F_DDGST)) ? NVME_TCP_DIGEST_LEN : 0;

    if (ch->pdo == 0 || plen <= (uint32_t)ch->pdo + dd)
        return 0;
    return plen - ch->pdo - dd;
}
