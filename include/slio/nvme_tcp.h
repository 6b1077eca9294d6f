/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVMe/TCP wire format (NVMe over TCP transport spec 1.0) and the 64-byte
 * submission / 16-byte completion queue entries, shared by slio-tgt (the
 * controller side) and slio-perf (the host side).
 *
 * Everything on the wire is little-endian; the structs below are packed and
 * their multi-byte fields hold wire (LE) values — use le16toh()/htole32() etc.
 * Identify/log-page/discovery structures come from libnvme's <nvme/types.h>.
 *
 * The header check (nvme_tcp_check_hdr) is the one gate every received PDU
 * passes before any length in it is trusted: type allow-list per direction,
 * exact header length per type, pdo/plen consistency, digest presence.
 */
#ifndef SLIO_NVME_TCP_H
#define SLIO_NVME_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/cleanup.h"

enum nvme_tcp_pdu_type {
    NVME_TCP_ICREQ = 0x00,
    NVME_TCP_ICRESP = 0x01,
    NVME_TCP_H2C_TERM = 0x02,
    NVME_TCP_C2H_TERM = 0x03,
    NVME_TCP_CMD = 0x04,
    NVME_TCP_RSP = 0x05,
    NVME_TCP_H2C_DATA = 0x06,
    NVME_TCP_C2H_DATA = 0x07,
    NVME_TCP_R2T = 0x09,
};

enum nvme_tcp_pdu_flags {
    NVME_TCP_F_HDGST = 1u << 0,
    NVME_TCP_F_DDGST = 1u << 1,
    NVME_TCP_F_DATA_LAST = 1u << 2,    /* H2CData / C2HData: last PDU of the transfer */
    NVME_TCP_F_DATA_SUCCESS = 1u << 3, /* C2HData: no CapsuleResp follows */
};

/* ICReq/ICResp digest bits */
enum { NVME_TCP_HDGST_ENABLE = 1u << 0, NVME_TCP_DDGST_ENABLE = 1u << 1 };

/* Fatal error status of a TermReq PDU */
enum nvme_tcp_fes {
    NVME_TCP_FES_INVALID_HEADER = 0x01,
    NVME_TCP_FES_PDU_SEQ_ERR = 0x02,
    NVME_TCP_FES_HDR_DIGEST_ERR = 0x03,
    NVME_TCP_FES_DATA_OUT_OF_RANGE = 0x04,
    NVME_TCP_FES_R2T_LIMIT_EXCEEDED = 0x05,
    NVME_TCP_FES_DATA_LIMIT_EXCEEDED = 0x05,
    NVME_TCP_FES_UNSUPPORTED_PARAM = 0x06,
};

#define NVME_TCP_DIGEST_LEN    4u
#define NVME_TCP_IC_LEN        128u
#define NVME_TCP_TERM_HLEN     24u
#define NVME_TCP_TERM_MAX_DATA 128u /* bytes of the offending header echoed in a TermReq */
#define NVME_TCP_CMD_HLEN      72u
#define NVME_TCP_RSP_HLEN      24u
#define NVME_TCP_DATA_HLEN     24u
#define NVME_TCP_R2T_HLEN      24u
#define NVME_TCP_MAX_HLEN      NVME_TCP_IC_LEN
/*
 * The longest header a receiver must hold at once: a TermReq carries, after
 * its 24-byte header, up to 128 bytes of the offending PDU header, which is
 * more than the largest fixed header (ICReq, 128) plus a header digest.
 */
#define NVME_TCP_MAX_RECV_HDR (NVME_TCP_TERM_HLEN + NVME_TCP_TERM_MAX_DATA)
_Static_assert(NVME_TCP_MAX_RECV_HDR >= NVME_TCP_MAX_HLEN + NVME_TCP_DIGEST_LEN,
               "a receive header buffer must also hold any header plus its digest");

struct nvme_tcp_hdr {
    uint8_t type;
    uint8_t flags;
    uint8_t hlen;
    uint8_t pdo;
    uint32_t plen;
} __attribute__((packed));

struct nvme_tcp_icreq {
    struct nvme_tcp_hdr hdr;
    uint16_t pfv;
    uint8_t hpda;
    uint8_t digest;
    uint32_t maxr2t;
    uint8_t rsvd[112];
} __attribute__((packed));

struct nvme_tcp_icresp {
    struct nvme_tcp_hdr hdr;
    uint16_t pfv;
    uint8_t cpda;
    uint8_t digest;
    uint32_t maxdata; /* MAXH2CDATA */
    uint8_t rsvd[112];
} __attribute__((packed));

struct nvme_tcp_term {
    struct nvme_tcp_hdr hdr;
    uint16_t fes;
    uint32_t fei;
    uint8_t rsvd[10];
} __attribute__((packed));

/* SGL descriptor (NVMe base spec 4.3.2); 16 bytes */
struct nvme_sgl_desc {
    uint64_t addr;
    uint32_t length;
    uint8_t rsvd[3];
    uint8_t type; /* (descriptor type << 4) | subtype */
} __attribute__((packed));

#define NVME_SGL_INCAPSULE 0x01 /* Data Block, subtype Offset: data inside the capsule */
#define NVME_SGL_TRANSPORT 0x5a /* Transport Data Block, subtype Transport specific */

/* 64-byte submission queue entry */
struct nvme_sqe {
    uint8_t opcode;
    uint8_t flags; /* bits 7:6 PSDT (must be 01b or 10b: SGL) */
    uint16_t cid;
    uint32_t nsid;
    uint32_t cdw2;
    uint32_t cdw3;
    uint64_t mptr;
    struct nvme_sgl_desc sgl;
    uint32_t cdw10;
    uint32_t cdw11;
    uint32_t cdw12;
    uint32_t cdw13;
    uint32_t cdw14;
    uint32_t cdw15;
} __attribute__((packed));

/* Fabrics commands overlay the SQE (opcode 0x7f, fctype at byte 4). */
#define NVME_FABRICS_OPCODE 0x7f
enum nvmf_fctype {
    NVMF_FCTYPE_PROP_SET = 0x00,
    NVMF_FCTYPE_CONNECT = 0x01,
    NVMF_FCTYPE_PROP_GET = 0x04,
    NVMF_FCTYPE_AUTH_SEND = 0x05,
    NVMF_FCTYPE_AUTH_RECV = 0x06,
    NVMF_FCTYPE_DISCONNECT = 0x08,
};
static inline uint8_t nvme_sqe_fctype(const struct nvme_sqe *sqe)
{
    return (uint8_t)(sqe->nsid & 0xff); /* byte 4 of the SQE; nsid is LE on LE hosts */
}

/* 16-byte completion queue entry */
struct nvme_cqe {
    uint64_t result;
    uint16_t sqhd;
    uint16_t sqid;
    uint16_t cid;
    uint16_t status; /* bit0 phase, 1-8 SC, 9-11 SCT, 12-13 CRD, 14 M, 15 DNR */
} __attribute__((packed));

/* status field helpers, value before the shift by one for the phase bit */
#define NVME_STATUS(sct, sc) ((uint16_t)((((sct)&0x7u) << 8) | ((sc)&0xffu)))
#define NVME_STATUS_DNR      0x4000u
static inline uint16_t nvme_cqe_status_field(uint16_t status)
{
    /* status = SCT/SC/DNR without phase; the wire field is shifted left by one */
    return (uint16_t)(((status & 0x7ff) << 1) | ((status & NVME_STATUS_DNR) ? 0x8000u : 0));
}
static inline uint16_t nvme_cqe_status_value(uint16_t wire_field)
{
    return (uint16_t)(((wire_field >> 1) & 0x7ff) | ((wire_field & 0x8000u) ? NVME_STATUS_DNR : 0));
}

struct nvme_tcp_cmd_pdu {
    struct nvme_tcp_hdr hdr;
    struct nvme_sqe sqe;
} __attribute__((packed));

struct nvme_tcp_rsp_pdu {
    struct nvme_tcp_hdr hdr;
    struct nvme_cqe cqe;
} __attribute__((packed));

/* H2CData, C2HData and R2T share one layout (ttag is reserved in C2HData). */
struct nvme_tcp_data_pdu {
    struct nvme_tcp_hdr hdr;
    uint16_t cccid;
    uint16_t ttag;
    uint32_t offset; /* DATAO / R2TO */
    uint32_t length; /* DATAL / R2TL */
    uint32_t rsvd;
} __attribute__((packed));

_Static_assert(sizeof(struct nvme_tcp_hdr) == 8, "ch");
_Static_assert(sizeof(struct nvme_tcp_icreq) == 128, "icreq");
_Static_assert(sizeof(struct nvme_tcp_icresp) == 128, "icresp");
_Static_assert(sizeof(struct nvme_tcp_term) == 24, "term");
_Static_assert(sizeof(struct nvme_sqe) == 64, "sqe");
_Static_assert(sizeof(struct nvme_cqe) == 16, "cqe");
_Static_assert(sizeof(struct nvme_tcp_cmd_pdu) == 72, "cmd");
_Static_assert(sizeof(struct nvme_tcp_rsp_pdu) == 24, "rsp");
_Static_assert(sizeof(struct nvme_tcp_data_pdu) == 24, "data");

/* Which side receives the PDU being checked. */
enum nvme_tcp_role { NVME_TCP_ROLE_CONTROLLER, NVME_TCP_ROLE_HOST };

/* What the connection negotiated; before ICReq/ICResp, digests are off. */
struct nvme_tcp_params {
    bool hdgst;
    bool ddgst;
    bool ic_done;      /* false: only ICReq (controller) / ICResp (host) is acceptable */
    uint32_t max_data; /* largest data section accepted in one PDU (0: none allowed) */
};

/*
 * Check a received common header (the first 8 bytes, already read) before
 * reading the rest of the PDU. On success returns 0 and stores the number of
 * header bytes still to read (hlen - 8, plus the header digest if any).
 * On failure returns -EPROTO and sets *ret_fes and *ret_fei for the TermReq.
 */
int nvme_tcp_check_hdr(const struct nvme_tcp_hdr *ch, enum nvme_tcp_role role,
                       const struct nvme_tcp_params *params, uint32_t *ret_rest, uint16_t *ret_fes,
                       uint32_t *ret_fei) _must_check_;

/* Bytes of data (without digest) carried by a checked PDU: plen - pdo - ddgst, or 0. */
uint32_t nvme_tcp_data_len(const struct nvme_tcp_hdr *ch, bool ddgst);

/* CRC32C (Castagnoli), as used for header and data digests; crc starts at ~0, result inverted. */
uint32_t slio_crc32c(uint32_t crc, const void *buf, size_t len);
static inline uint32_t nvme_tcp_digest(const void *buf, size_t len)
{
    return ~slio_crc32c(~0u, buf, len);
}

#endif
