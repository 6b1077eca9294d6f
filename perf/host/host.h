/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libslio_host: a small user-space NVMe/TCP host (the initiator side).
 *
 * One controller association = one admin queue plus any number of I/O
 * queues, each its own TCP connection. A queue is owned by ONE thread: all
 * slio_host_queue_* calls on it come from that thread. The controller's admin
 * calls (identify, keep-alive, ...) use the admin queue and must likewise come
 * from one thread; creating I/O queues only reads the controller's negotiated
 * parameters, so workers may create their own queues concurrently.
 *
 * Errors: functions return 0 or a negative errno. The text of the last error
 * of a queue (naming the queue and the cause, e.g. `queue 2: C2HTermReq FES 0x1
 * FEI 0x2`) is kept in the queue; for the controller, slio_host_ctrl_error().
 *
 * I/O: each queue preallocates a CID-indexed request table of its depth;
 * submitting never allocates. Completions are delivered from
 * slio_host_queue_poll() only (never from inside submit).
 */
#ifndef SLIO_PERF_HOST_H
#define SLIO_PERF_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvme/types.h>

#include "slio/cleanup.h"
#include "slio/nvme_tcp.h"

#define SLIO_HOST_ERR_LEN            256
#define SLIO_HOST_ADMIN_QD           32   /* admin SQ entries, as the Linux host uses */
#define SLIO_HOST_ADMIN_CCSZ         8192 /* in-capsule data bytes usable on the admin queue */
#define SLIO_HOST_DEFAULT_TIMEOUT_MS 10000

struct slio_host_opts {
    const char *traddr;  /* IPv4/IPv6 address or host name */
    const char *trsvcid; /* port */
    const char *subnqn;  /* subsystem, or the discovery NQN */
    const char *hostnqn; /* NULL: a default derived from hostid */
    uint8_t hostid[16];  /* all zero: generated once (random UUID) */
    bool hdgst, ddgst;   /* ask for header / data digests in ICReq */
    uint32_t kato_ms;    /* Keep Alive Timeout sent in the admin Connect (0: none) */
    uint32_t timeout_ms; /* bound for connect, each admin command and CSTS waits */
    bool keep_sqflow;    /* false: I/O queues disable SQ flow control (allows C2H SUCCESS) */
    /*
     * DH-HMAC-CHAP secrets ("DHHC-1:..."), used when a Connect response asks
     * for authentication; dhchap_ctrl_secret also makes us authenticate the
     * controller. Borrowed: they must outlive the controller. NULL: none.
     */
    const char *dhchap_secret, *dhchap_ctrl_secret;
};

/* What the controller told us; filled by slio_host_ctrl_connect(). */
struct slio_host_ctrl_info {
    uint16_t cntlid;
    uint64_t cap;
    uint32_t vs;
    uint32_t mqes;       /* max I/O queue entries (1-based) */
    uint32_t max_xfer;   /* bytes per command: MDTS (0 = no limit → 1 MiB here) */
    uint32_t io_icd;     /* in-capsule data bytes on I/O queues (IOCCSZ*16 - 64) */
    uint32_t maxh2cdata; /* from the admin queue's ICResp */
    bool hdgst, ddgst;   /* negotiated */
    bool discovery;
    struct nvme_id_ctrl id; /* not valid for a discovery controller that refused Identify */
};

struct slio_host_ctrl;
struct slio_host_queue;

/*
 * Completion callback. status: 0 success; > 0 the NVMe status (SCT << 8 | SC,
 * plus NVME_STATUS_DNR) as nvme_cqe_status_value() returns it; < 0 a
 * transport failure (negative errno, the queue is dead). result: CQE dwords 0-1.
 */
typedef void (*slio_host_cb)(void *arg, int status, uint64_t result);

enum slio_host_dir { SLIO_HOST_DIR_NONE, SLIO_HOST_DIR_H2C, SLIO_HOST_DIR_C2H };

/* Association: TCP + ICReq + admin Connect + CAP + CC.EN/CSTS.RDY + Identify. */
int slio_host_ctrl_connect(const struct slio_host_opts *opts, struct slio_host_ctrl **ret_ctrl,
                           char *err, size_t errlen) _must_check_;
/* Normal shutdown (CC.SHN, bounded wait for CSTS.SHST) then close; NULL is fine. */
void slio_host_ctrl_disconnect(struct slio_host_ctrl *ctrl);
/* Close without shutdown (after the association failed). */
void slio_host_ctrl_free(struct slio_host_ctrl *ctrl);
const struct slio_host_ctrl_info *slio_host_ctrl_get_info(const struct slio_host_ctrl *ctrl);
const char *slio_host_ctrl_error(const struct slio_host_ctrl *ctrl);
struct slio_host_queue *slio_host_ctrl_admin_queue(struct slio_host_ctrl *ctrl);

int slio_host_prop_get(struct slio_host_ctrl *ctrl, uint32_t ofst, bool eight,
                       uint64_t *ret_value) _must_check_;
int slio_host_prop_set(struct slio_host_ctrl *ctrl, uint32_t ofst, bool eight,
                       uint64_t value) _must_check_;
int slio_host_identify(struct slio_host_ctrl *ctrl, uint8_t cns, uint32_t nsid,
                       void *buf4k) _must_check_;
int slio_host_identify_ns(struct slio_host_ctrl *ctrl, uint32_t nsid,
                          struct nvme_id_ns *ret_ns) _must_check_;
/* Set Features Number of Queues: asks for n I/O queue pairs, returns how many were granted. */
int slio_host_set_num_queues(struct slio_host_ctrl *ctrl, uint32_t n,
                             uint32_t *ret_granted) _must_check_;
int slio_host_keep_alive(struct slio_host_ctrl *ctrl) _must_check_;
int slio_host_get_log(struct slio_host_ctrl *ctrl, uint8_t lid, uint32_t nsid, uint64_t offset,
                      void *buf, uint32_t len) _must_check_;
/* The whole discovery log page; *ret_log is malloc'ed (free()). */
int slio_host_get_discovery_log(struct slio_host_ctrl *ctrl,
                                struct nvmf_discovery_log **ret_log) _must_check_;
/* Any admin command, synchronously (bounded by opts.timeout_ms). ret_status as slio_host_cb. */
int slio_host_admin_sync(struct slio_host_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf,
                         uint32_t len, enum slio_host_dir dir, int *ret_status,
                         uint64_t *ret_result) _must_check_;

/* Open I/O queue qid (1..granted) with qd commands in flight and transfers up to max_xfer bytes. */
int slio_host_queue_create(struct slio_host_ctrl *ctrl, uint16_t qid, uint32_t qd,
                           uint32_t max_xfer, struct slio_host_queue **ret_q, char *err,
                           size_t errlen) _must_check_;
void slio_host_queue_free(struct slio_host_queue *q);
const char *slio_host_queue_error(const struct slio_host_queue *q);
uint16_t slio_host_queue_id(const struct slio_host_queue *q);
/*
 * How a queue waits for completions. spin_us: busy-poll for up to that long
 * before blocking in poll(2) (0: never). hybrid: with commands in flight,
 * also sleep for half their average latency after the latest submission and
 * then spin until they complete (slio/hybrid_poll.h).
 */
struct slio_host_poll_opts {
    uint32_t spin_us;
    bool hybrid;
};
void slio_host_queue_set_polling(struct slio_host_queue *q, const struct slio_host_poll_opts *o);

/*
 * Queue a command; the SQE's cid, SGL and PSDT are filled in here. buf/len is
 * the data (len 0: none). Returns -EBUSY when all CIDs are in flight, -EPIPE
 * when the queue is dead, -EINVAL for a length over the queue's max_xfer.
 */
int slio_host_queue_submit(struct slio_host_queue *q, const struct nvme_sqe *sqe, void *buf,
                           uint32_t len, enum slio_host_dir dir, slio_host_cb cb,
                           void *cb_arg) _must_check_;
/* Read (write=false) / Write nlb blocks at slba of nsid; fua sets Force Unit Access. */
int slio_host_queue_rw(struct slio_host_queue *q, bool write, uint32_t nsid, uint64_t slba,
                       uint32_t nlb, void *buf, uint32_t len, bool fua, slio_host_cb cb,
                       void *cb_arg) _must_check_;
int slio_host_queue_flush_cmd(struct slio_host_queue *q, uint32_t nsid, slio_host_cb cb,
                              void *cb_arg) _must_check_;
/*
 * Send what was queued, receive, deliver completions. Waits up to timeout_ms
 * (0: do not wait, -1: until something completes) for at least one
 * completion. Returns the number of completions delivered, or a negative
 * errno when the queue died (every outstanding command is then completed
 * with that error first).
 */
int slio_host_queue_poll(struct slio_host_queue *q, int timeout_ms);
uint32_t slio_host_queue_inflight(const struct slio_host_queue *q);

/* Random UUID for a host ID; "nqn.2014-08.org.nvmexpress:uuid:<uuid>" for a host NQN. */
void slio_host_default_hostnqn(const uint8_t hostid[16], char *buf, size_t len);

#endif
