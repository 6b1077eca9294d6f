/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny NVMe/TCP host: PDU and SQE builders for the transport tests and fuzzer. */
#ifndef TGT_TEST_HOST_H
#define TGT_TEST_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "slio/nvme_tcp.h"

/* ---- host-side PDU builders (return the PDU length) ---- */
uint32_t host_icreq(uint8_t *buf, uint16_t pfv, uint8_t hpda, uint8_t digest);
uint32_t host_cmd(uint8_t *buf, const struct nvme_sqe *sqe, const void *icd, uint32_t icd_len,
                  bool hdgst, bool ddgst);
uint32_t host_h2c(uint8_t *buf, uint16_t cccid, uint16_t ttag, uint32_t off, const void *data,
                  uint32_t len, bool last, bool hdgst, bool ddgst);
/* SQEs */
void host_sqe_connect(struct nvme_sqe *sqe, uint16_t cid, uint16_t qid, uint16_t sqsize,
                      bool disable_sqflow);
void host_sqe_rw(struct nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint64_t slba, uint32_t len,
                 bool incapsule);

/*
 * io_uring is unavailable (compiled out, refused by seccomp or the kernel):
 * true when SLIO_ALLOW_NO_IO_URING=1 says that is expected here, so the
 * io_uring variants may be left out; otherwise they must fail, so that CI
 * never passes without testing that engine. Prints why either way.
 */
bool test_no_io_uring_allowed(void);

#endif
