/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host-side PDU and SQE builders: pure functions that fill wire structures
 * (little-endian) into caller-provided buffers. No I/O, no allocation; the
 * unit tests check their output against nvme_tcp_check_hdr() in the
 * controller role.
 */
#ifndef SLIO_PERF_HOST_PDU_H
#define SLIO_PERF_HOST_PDU_H

#include <stdbool.h>
#include <stdint.h>

#include "slio/nvme_tcp.h"

/* Room for any header this host sends (ICReq, or header + digest + CPDA padding) or receives. */
#define HOST_PDU_HDR_MAX 256u
_Static_assert(HOST_PDU_HDR_MAX >= NVME_TCP_MAX_RECV_HDR, "received headers (C2HTermReq) must fit");

struct host_pdu_cfg {
    bool hdgst;
    bool ddgst;
    uint8_t cpda; /* controller's PDU data alignment: data starts on a (cpda+1)*4 boundary */
};

/* ICReq asking for the given digests; HPDA 0, MAXR2T 0 (one R2T in flight per command). */
void host_pdu_icreq(struct nvme_tcp_icreq *pdu, bool hdgst, bool ddgst);

/*
 * Command capsule with icd_len bytes of in-capsule data (0: none). Writes the
 * header, its digest and the zero padding up to PDO into buf (HOST_PDU_HDR_MAX
 * bytes) and returns how many header bytes to send before the data.
 */
uint32_t host_pdu_cmd(uint8_t *buf, const struct nvme_sqe *sqe, uint32_t icd_len,
                      const struct host_pdu_cfg *cfg);

/* H2CData PDU header for datal bytes at datao of command cccid; returns header bytes. */
uint32_t host_pdu_h2c_data(uint8_t *buf, uint16_t cccid, uint16_t ttag, uint32_t datao,
                           uint32_t datal, bool last, const struct host_pdu_cfg *cfg);

/* H2CTermReq echoing up to NVME_TCP_TERM_MAX_DATA bytes of the offending header; returns bytes. */
uint32_t host_pdu_h2c_term(uint8_t *buf, uint16_t fes, uint32_t fei, const void *echo,
                           uint32_t echo_len);

/* SQE builders (cid, SGL and PSDT are set at submission). */
void host_sqe_connect(struct nvme_sqe *sqe, uint16_t qid, uint16_t sqsize0, uint8_t cattr,
                      uint32_t kato_ms);
void host_sqe_prop_get(struct nvme_sqe *sqe, uint32_t ofst, bool eight);
void host_sqe_prop_set(struct nvme_sqe *sqe, uint32_t ofst, bool eight, uint64_t value);
void host_sqe_identify(struct nvme_sqe *sqe, uint8_t cns, uint32_t nsid);
void host_sqe_get_log(struct nvme_sqe *sqe, uint8_t lid, uint32_t nsid, uint64_t offset,
                      uint32_t len);
void host_sqe_set_features(struct nvme_sqe *sqe, uint8_t fid, uint32_t dw11);
void host_sqe_keep_alive(struct nvme_sqe *sqe);
void host_sqe_rw(struct nvme_sqe *sqe, bool write, uint32_t nsid, uint64_t slba, uint32_t nlb,
                 bool fua);
void host_sqe_flush(struct nvme_sqe *sqe, uint32_t nsid);
void host_sqe_disconnect(struct nvme_sqe *sqe);

/* Connect CATTR bit: disable SQ flow control (no SQHD tracking; C2H SUCCESS allowed). */
#define HOST_CONNECT_DISABLE_SQFLOW (1u << 2)

#endif
