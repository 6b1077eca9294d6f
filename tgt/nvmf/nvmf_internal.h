/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to tgt/nvmf: the controller object and the helpers the command
 * handlers (fabrics, admin, identify, log pages, features, AER, discovery)
 * share. Nothing outside tgt/nvmf includes this.
 *
 * Threading of a controller (struct tgt_ctrlr):
 *  - the admin qpair's reactor runs every admin command, the keep-alive
 *    check and AER completion; fields marked [A] are touched only there;
 *  - I/O-queue Connects (other reactors), namespace/access/discovery
 *    notifications (management thread) and tgt_ctrlr_for_each take
 *    ctrl->lock; fields marked [L] are protected by it;
 *  - `dead` and the io_qps slots are atomics, read by every qpair's tick.
 *  Lock order: the global controller-list lock, then ctrl->lock.
 */
#ifndef TGT_NVMF_INTERNAL_H
#define TGT_NVMF_INTERNAL_H

#include <endian.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvme/types.h>

#include "nvmf/ctrlr.h"
#include "nvmf/req.h"

#define NVMF_CNTLID_MIN     1u
#define NVMF_CNTLID_MAX     0xffefu
#define NVMF_CNTLID_DYNAMIC 0xffffu
#define NVMF_VS             0x10300u /* NVMe 1.3 */
#define NVMF_AERL           3u       /* Identify AERL: 0's based, i.e. 4 outstanding */
#define NVMF_MAX_AERS       (NVMF_AERL + 1)
#define NVMF_ACL            3u  /* Abort Command Limit, 0's based */
#define NVMF_KAS            10u /* keep-alive granularity in 100 ms units: 1 s */
#define NVMF_ELPE           63u /* 64 error log entries (always zero) */
#define NVMF_MAX_EVENTS     8u  /* queued asynchronous events per controller */
#define NVMF_CHANGED_NS_MAX 1024u
/* Discovery controllers connected with KATO 0 are still reaped after this (as nvmet does). */
#define NVMF_DISC_KATO_MS 120000u
/* Grace added to KATO before a silent controller is torn down. */
#define NVMF_KATO_SLACK_MS 1000u

/* AEN configuration bits we can generate (Identify OAES / Set Features 0Bh). */
#define NVMF_AEN_NS_ATTR   (1u << 8)
#define NVMF_AEN_DISC_CHNG (1u << 31)

/* NVMe status values: SCT/SC plus DNR, in the form of tgt_req.status. */
#define NVMF_STATUS_DNR(sct, sc) ((uint16_t)(NVME_STATUS((sct), (sc)) | NVME_STATUS_DNR))
#define NVMF_INVALID_OPCODE      NVMF_STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE)
#define NVMF_INVALID_FIELD       NVMF_STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)
#define NVMF_INVALID_NS          NVMF_STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_NS)
#define NVMF_CMD_SEQ_ERROR       NVMF_STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR)
#define NVMF_INTERNAL_ERROR      NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL)
#define NVMF_SGL_INVALID_DATA    NVMF_STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA)
#define NVMF_SPECIFIC(sc)        NVMF_STATUS_DNR(NVME_SCT_CMD_SPECIFIC, (sc))

/* Connect response DW0 for "invalid parameters": IATTR (bit 16: in Connect data) | IPO. */
#define NVMF_IPO_SQE(off)  ((uint32_t)(off))
#define NVMF_IPO_DATA(fld) ((uint32_t)((1u << 16) | offsetof(struct nvmf_connect_data, fld)))
/* Byte offsets of Connect SQE fields (NVMe-oF 1.1, Figure 20) */
#define NVMF_CONNECT_QID_OFF    42u
#define NVMF_CONNECT_SQSIZE_OFF 44u

struct tgt_ctrlr {
    uint16_t cntlid;
    bool discovery;          /* discovery controller (no namespaces, no I/O queues) */
    struct tgt_subsys *subs; /* holds a reference; may be NULL for the discovery NQN */
    char subnqn[TGT_NQN_MAX + 1];
    char hostnqn[TGT_NQN_MAX + 1];
    uint8_t hostid[16];
    struct tgt_listen_addr listener; /* where the admin queue came in (access re-checks) */

    _Atomic uint32_t refs; /* one per attached qpair */
    _Atomic bool dead;     /* torn down: every qpair's tick returns false */
    _Atomic bool recheck_access;
    struct tgt_ctrlr *next; /* global list, under the list lock */

    pthread_mutex_t lock;
    uint32_t max_io_qpairs;              /* size of io_qps minus one */
    _Atomic(struct tgt_qpair *) *io_qps; /* [qid], [L] for writes */
    uint32_t num_io_qpairs;              /* [L] */
    uint32_t granted_io_queues;          /* [L] Set Features Number of Queues */
    bool io_queue_seen;                  /* [L] an I/O queue was connected since enable */
    uint32_t cc, csts;                   /* [L] */
    uint32_t aen_cfg;                    /* [L] Set Features 0Bh */
    uint32_t aen_masked;                 /* [L] AEN bits sent and not yet cleared by a log read */
    uint32_t events[NVMF_MAX_EVENTS];    /* [L] queued AER completion DW0s (ring) */
    uint32_t ev_head, ev_count;          /* [L] */
    uint32_t changed_ns[NVMF_CHANGED_NS_MAX]; /* [L] */
    uint32_t nr_changed_ns;                   /* [L] > NVMF_CHANGED_NS_MAX: overflowed */
    bool abort_aers;                          /* [L] controller reset: abort held AERs */

    struct tgt_qpair *admin_qp;          /* [A] */
    struct tgt_req *aers[NVMF_MAX_AERS]; /* [A] held Asynchronous Event Requests */
    uint32_t nr_aers;                    /* [A] */
    uint32_t kato_ms;                    /* [A] 0: no keep-alive */
    uint64_t last_ka_us;                 /* [A] last admin command */
    bool vwc_enabled;                    /* [A] */
};

/* ---- little helpers over the SQE (wire values are LE) ---- */
static inline uint32_t nvmf_cdw10(const struct tgt_req *r)
{
    return le32toh(r->cmd.cdw10);
}
static inline uint32_t nvmf_cdw11(const struct tgt_req *r)
{
    return le32toh(r->cmd.cdw11);
}
static inline uint32_t nvmf_cdw12(const struct tgt_req *r)
{
    return le32toh(r->cmd.cdw12);
}
static inline uint32_t nvmf_cdw13(const struct tgt_req *r)
{
    return le32toh(r->cmd.cdw13);
}
static inline uint32_t nvmf_nsid(const struct tgt_req *r)
{
    return le32toh(r->cmd.nsid);
}

/*
 * Return `len` bytes of `src` as the C2H data of req, truncated to the
 * host's buffer (req->length is lowered to what is sent).
 */
void nvmf_copy_out(struct tgt_req *req, const void *src, size_t len);
/* Pad `dst` (not NUL-terminated) with `pad` after copying at most n bytes of `src`. */
void nvmf_strpad(char *dst, size_t n, const char *src, char pad);

/* ---- ctrlr.c ---- */
struct tgt_ctrlr *nvmf_ctrlr_create(struct tgt_subsys *s, const char *subnqn,
                                    const struct nvmf_connect_data *d, bool discovery,
                                    struct tgt_qpair *admin_qp, uint32_t kato_ms);
/* Find a live controller by cntlid and take a reference; NULL if none. */
struct tgt_ctrlr *nvmf_ctrlr_find_get(uint16_t cntlid);
void nvmf_ctrlr_put(struct tgt_ctrlr *c);
/* Tear the association down (any thread): every qpair's tick returns false. */
void nvmf_ctrlr_kill(struct tgt_ctrlr *c, const char *why);
/* Detach every I/O queue (Disconnect-like): [L] held by caller. */
void nvmf_ctrlr_drop_io_queues_locked(struct tgt_ctrlr *c);
/* CC.EN 1 -> 0: drop I/O queues and reset feature state. [A] */
void nvmf_ctrlr_reset(struct tgt_ctrlr *c);
/* An admin command arrived (restarts the keep-alive timer). [A] */
void nvmf_ctrlr_touch(struct tgt_ctrlr *c);
bool nvmf_ctrlr_ready(struct tgt_ctrlr *c);

/* ---- auth.c: DH-HMAC-CHAP per queue ---- */
#define NVMF_AUTH_REQUIRED NVMF_SPECIFIC(NVME_SC_AUTH_REQUIRED)
/* Connect: must (subnqn, hostnqn) authenticate? 0 with *ret NULL if not, or -ENOMEM. */
int nvmf_auth_prepare(const char *subnqn, const char *hostnqn, struct nvmf_auth **ret);
void nvmf_auth_free(struct nvmf_auth *a);
/* The queue has not authenticated (yet): every other command is refused. */
bool nvmf_auth_pending(const struct tgt_qpair *qp);
/* Fabrics Authentication Send (05h) / Receive (06h) on an attached queue. */
void nvmf_auth_send(struct tgt_req *req);
void nvmf_auth_receive(struct tgt_req *req);
/* false: the transaction timed out or failed, close the queue. */
bool nvmf_auth_tick(struct tgt_qpair *qp, uint64_t now_us);

/* ---- fabrics.c ---- */
enum tgt_exec_result nvmf_fabrics_exec(struct tgt_req *req);

/* ---- admin commands: identify.c, logpage.c, features.c, aer.c ---- */
void nvmf_identify(struct tgt_req *req);
void nvmf_get_log_page(struct tgt_req *req);
void nvmf_set_features(struct tgt_req *req);
void nvmf_get_features(struct tgt_req *req);
enum tgt_exec_result nvmf_aer_submit(struct tgt_req *req);

/* ---- aer.c ---- */
/* Queue an event unless its AEN bit is disabled or masked. [L] held by caller. */
void nvmf_aen_queue_locked(struct tgt_ctrlr *c, uint32_t aen_bit, uint32_t dw0);
/* A log page read without RAE re-arms the AEN of that kind. [L] held by caller. */
void nvmf_aen_unmask_locked(struct tgt_ctrlr *c, uint32_t aen_bit);
/* Complete held AERs with queued events (admin qpair's reactor). */
void nvmf_aer_poll(struct tgt_ctrlr *c);
/* Forget held AERs without completing them (qpair teardown). */
void nvmf_aer_drop(struct tgt_ctrlr *c);
uint32_t nvmf_aen_dw0(uint8_t type, uint8_t info, uint8_t lid);

/* ---- discovery.c ---- */
/* Build the window [offset, offset+len) of the discovery log for hostnqn into buf. */
void nvmf_discovery_log(const char *hostnqn, uint64_t offset, uint8_t *buf, uint32_t len,
                        uint64_t *ret_total);

#endif
