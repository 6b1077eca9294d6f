/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between the TCP transport (tgt/transport/) and the NVMe-oF
 * command layer (tgt/nvmf/): a queue pair, a request, and how a request is
 * executed and completed. Also the backing-I/O interface the I/O command
 * handlers submit to (implemented by the transport's reactor engine).
 *
 * Threading: a qpair and its requests belong to one reactor thread; every
 * function here is called on that thread unless it says otherwise.
 */
#ifndef TGT_NVMF_REQ_H
#define TGT_NVMF_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "slio/nvme_tcp.h"
#include "registry/registry.h"

struct tgt_ctrlr;
struct nvmf_auth;
struct tgt_reactor;

enum tgt_xfer {
    TGT_XFER_NONE,
    TGT_XFER_H2C, /* host → controller (write-like): data is in req->data when exec is called */
    TGT_XFER_C2H, /* controller → host (read-like): handler fills req->data, sets req->length */
};

/* Limits the transport advertises and the nvmf layer reports (MDTS, IOCCSZ...). */
struct tgt_transport_opts {
    uint32_t max_queue_depth; /* entries per I/O queue (>= 128) */
    uint32_t max_aq_depth;    /* admin queue entries */
    uint32_t max_io_qpairs_per_ctrlr;
    uint32_t in_capsule_data_size; /* bytes of in-capsule data accepted on I/O queues */
    uint32_t max_io_size;          /* bytes; MDTS is derived from it (>= 128 KiB) */
    uint32_t io_unit_size;         /* bytes per H2CData / C2HData PDU at most (MAXH2CDATA) */
};
/* Current options (set via nvmf_create_transport before the first listener). */
const struct tgt_transport_opts *tgt_transport_get_opts(void);

struct tgt_qpair {
    uint16_t qid;    /* 0 = admin; valid once ctrlr != NULL */
    uint16_t sqsize; /* number of entries (Connect SQSIZE + 1) */
    uint16_t sqhd;   /* maintained by the transport */
    bool sq_flow_control_disabled;
    struct tgt_ctrlr *ctrlr; /* NULL until a Connect on this queue succeeded */
    struct tgt_reactor *reactor;
    struct tgt_listen_addr local; /* the listener this connection came in on */
    char peer[64];                /* "addr:port", for logs */
    uint64_t connected_at_us;
    struct nvmf_auth *auth; /* nvmf layer: in-band authentication of this queue, NULL if none */
};

struct tgt_req {
    struct nvme_sqe cmd; /* the command as received (wire/LE values) */
    uint64_t result;     /* CQE DW0/DW1 set by the handler (host order) */
    uint16_t status;     /* NVME_STATUS(sct, sc) [| NVME_STATUS_DNR]; 0 = success */
    enum tgt_xfer xfer;
    uint32_t length; /* SGL length; for C2H the handler may lower it */
    void *data;      /* transport-owned buffer of >= length bytes (NULL if length 0); after a
                      * read of a mapped memory file it may point at the file's pages instead
                      * (read-only: see registry/bdev_map.c) */
    struct tgt_qpair *qpair;
    void *nvmf_ctx; /* free for the nvmf layer (e.g. AER list link) */
};

enum tgt_exec_result {
    TGT_EXEC_DONE,    /* req->status/result/data are final: transport sends the response now */
    TGT_EXEC_PENDING, /* the handler will call tgt_req_complete() later (same thread) */
};

/* nvmf layer: execute a command whose data (if H2C) has fully arrived. */
enum tgt_exec_result tgt_nvmf_exec(struct tgt_req *req);
/*
 * nvmf layer: judge a command before any of its data is solicited (R2T) or
 * stored: 0, or the status it fails with whatever its data (a command other
 * than Connect before Connect, a second Connect, an opcode the queue does
 * not serve). A failed command's in-capsule data is read and dropped, and
 * no R2T is sent for it, as nvmet does.
 */
uint16_t tgt_nvmf_precheck(const struct tgt_req *req);
/* transport: finish a request that returned TGT_EXEC_PENDING. */
void tgt_req_complete(struct tgt_req *req);

/*
 * nvmf layer: a queue's connection is going away (socket closed, protocol
 * error or controller teardown). Pending requests of this qpair that the
 * nvmf layer holds (AERs) must be released without completion: the
 * transport frees their memory after this returns.
 */
void tgt_nvmf_qpair_fini(struct tgt_qpair *qp);
/*
 * nvmf layer: the host sent a new command with the CID of a request the
 * nvmf layer still holds on this admin queue (an Asynchronous Event
 * Request). SPDK's host completes its AERs locally when it detaches and
 * reuses their CIDs for the shutdown's Property Get/Set, so such an AER is
 * abandoned: it is removed and returned for the transport to free without
 * a response. NULL if the nvmf layer holds no request with that CID.
 */
struct tgt_req *tgt_nvmf_take_abandoned(struct tgt_qpair *qp, uint16_t cid);
/*
 * nvmf layer: called by each reactor about every 10 ms for each of its
 * qpairs (keep-alive expiry, pending asynchronous events).
 * Returns false when the transport must close the qpair's connection.
 */
bool tgt_nvmf_qpair_tick(struct tgt_qpair *qp, uint64_t now_us);

/* ---- backing I/O, implemented by the reactor's I/O engine (io_uring or threads) ---- */
enum tgt_bio_op {
    TGT_BIO_READ,
    TGT_BIO_WRITE,
    TGT_BIO_FLUSH,        /* fdatasync */
    TGT_BIO_WRITE_ZEROES, /* fallocate ZERO_RANGE / BLKZEROOUT */
    TGT_BIO_DISCARD,      /* fallocate PUNCH_HOLE / BLKDISCARD */
};

struct tgt_bio {
    enum tgt_bio_op op;
    struct tgt_bdev *bdev;
    uint64_t offset; /* bytes */
    uint64_t len;    /* bytes */
    void *buf;       /* READ/WRITE */
    bool fua;        /* WRITE: durable before completion (RWF_DSYNC) */
};

typedef void (*tgt_bio_cb)(struct tgt_req *req, int res); /* res: >= 0 done, or -errno */
/* Submit on the calling reactor; cb runs later on the same reactor. Never blocks. */
void tgt_bio_submit(struct tgt_req *req, const struct tgt_bio *bio, tgt_bio_cb cb);

/* Retry a request's execution (tgt_nvmf_exec again) after delay_us (QoS back-pressure). */
void tgt_req_defer(struct tgt_req *req, uint64_t delay_us);

#endif
