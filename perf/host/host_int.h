/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of libslio_host shared by queue.c (one TCP connection: send
 * batching, the receive state machine, the CID table) and ctrl.c (Fabrics and
 * admin commands on top of queues).
 */
#ifndef SLIO_PERF_HOST_INT_H
#define SLIO_PERF_HOST_INT_H

#include <sys/uio.h>

#include "host.h"
#include "slio/hybrid_poll.h"
#include "pdu.h"

#define HOST_SEND_IOV_MAX    512u           /* iovecs gathered before a sendmsg() */
#define HOST_RBUF_SIZE       (128u * 1024u) /* receive staging buffer */
#define HOST_DIRECT_RECV_MIN 8192u /* C2H data this large is received straight into the buffer */

struct host_h2c_slot {
    uint8_t hdr[HOST_PDU_HDR_MAX];
    uint32_t ddgst;
};

struct host_req {
    slio_host_cb cb;
    void *cb_arg;
    uint8_t *buf;
    uint32_t len;
    uint32_t xfered; /* C2H: bytes received so far; H2C: bytes handed to the socket */
    uint32_t r2t_off, r2t_len;
    uint16_t ttag;
    uint8_t dir;
    bool busy;
    bool done;
    bool r2t_pending;
    bool digest_err;
    int status;
    uint64_t result;
    uint64_t submit_us; /* for the hybrid polling latency (poll.hybrid only) */
    uint32_t ddgst;     /* in-capsule data digest */
    uint8_t hdr[HOST_PDU_HDR_MAX];
};

/* Small ring of CIDs; never holds more than qd entries (one event per busy command). */
struct host_ring {
    uint16_t *cids;
    uint32_t size, head, tail;
};

enum host_rstate { RX_CH, RX_PSH, RX_PAD, RX_DATA, RX_DDGST };

struct slio_host_queue {
    int fd;
    uint16_t qid;
    uint32_t qd;
    uint32_t max_xfer;
    uint32_t icd;        /* in-capsule data bytes accepted by the controller on this queue */
    uint32_t maxh2cdata; /* from ICResp */
    uint32_t timeout_ms;
    struct slio_host_poll_opts poll;
    struct slio_hybrid_poll hybrid; /* command latency, when poll.hybrid */
    bool want_hdgst, want_ddgst;
    struct nvme_tcp_params params; /* negotiated, for nvme_tcp_check_hdr */
    struct host_pdu_cfg cfg;       /* what we send */
    bool dead;
    int dead_errno;
    char err[SLIO_HOST_ERR_LEN];

    struct host_req *reqs; /* indexed by CID */
    uint16_t *free_cids;
    uint32_t n_free;
    struct host_ring done, r2t;
    struct host_h2c_slot *h2c; /* qd * h2c_per_req slots */
    uint32_t h2c_per_req;

    struct iovec iov[HOST_SEND_IOV_MAX];
    uint32_t n_iov, iov_sent;      /* iov[iov_sent..n_iov) still to send */
    uint8_t ctl[HOST_PDU_HDR_MAX]; /* ICReq / H2CTermReq */

    enum host_rstate rstate;
    uint8_t rhdr[HOST_PDU_HDR_MAX];
    uint32_t rhdr_have, rhdr_need;
    struct host_req *rreq;
    uint32_t rdata_left, rpad_left, rcrc, rflags, rdatal;
    uint8_t rddgst[4];
    uint8_t *rbuf;
    uint32_t rb_pos, rb_end;
};

struct host_queue_cfg {
    const char *traddr, *trsvcid;
    uint16_t qid;
    uint32_t qd;
    uint32_t max_xfer;
    uint32_t icd;
    bool hdgst, ddgst;
    uint32_t timeout_ms;
};

/* TCP connect + ICReq/ICResp; the queue is ready for the Fabrics Connect. */
int host_queue_open(const struct host_queue_cfg *cfg, struct slio_host_queue **ret_q, char *err,
                    size_t errlen);
/* Fabrics Connect on q; *ret_cntlid: the controller ID the target assigned. */
int host_queue_fabrics_connect(struct slio_host_queue *q, const struct slio_host_opts *opts,
                               uint16_t cntlid, uint8_t cattr, uint32_t kato_ms,
                               uint16_t *ret_cntlid);
/* Submit one command and drive the queue until it completes or timeout_ms passes. */
/* DH-HMAC-CHAP on q after a Connect that asked for it (auth.c): 0 or -errno, error set. */
int host_queue_authenticate(struct slio_host_queue *q, const struct slio_host_opts *o);
int host_queue_exec(struct slio_host_queue *q, const struct nvme_sqe *sqe, void *buf, uint32_t len,
                    enum slio_host_dir dir, int *ret_status, uint64_t *ret_result);
void host_queue_set_err(struct slio_host_queue *q, const char *fmt, ...) _printf_(2, 3);
/* Human text for a completion status (NVMe status or -errno). */
const char *host_status_str(int status, char *buf, size_t len);
uint64_t host_now_us(void);
/* Receive whatever the socket has (non-blocking) and run it through the state machine. */
int host_rx(struct slio_host_queue *q);

#endif
