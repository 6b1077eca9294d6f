/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-csi's gRPC server on the gRPC C core: one completion-queue thread
 * accepts calls and reads their request; the blocking part of each call
 * (REST calls, nvme connect, mkfs, mount) runs on a worker of a slio_workq,
 * which also starts the batch that sends the answer.
 *
 * Calls on the same object are serialised: a method's key() names the volume
 * (or snapshot, or name) a request is about; a second call with a key that
 * is still queued or running is refused with ABORTED at once, as the CSI
 * specification asks ("operation pending for volume").
 */
#ifndef CSI_GRPC_SERVER_H
#define CSI_GRPC_SERVER_H

#include "grpc/call.h"
#include "slio/error.h"

struct csi_ctx;

/* Runs on a worker. req is the unpacked request (valid for the call). */
typedef void (*csi_handler_fn)(struct csi_ctx *ctx, const void *req, struct csi_reply *reply);
/* Runs on the CQ thread: the key a request serialises on, NULL for none. Must not block. */
typedef const char *(*csi_key_fn)(const void *req);

struct csi_method {
    const char *path; /* "/csi.v1.Controller/CreateVolume" */
    const ProtobufCMessageDescriptor *request;
    csi_handler_fn handler;
    csi_key_fn key;
};

struct csi_server_opts {
    const char *endpoint; /* "unix:///run/csi/csi.sock" or "tcp://127.0.0.1:10000" */
    size_t max_message;   /* bytes a request may have; 0 = 4 MiB */
    unsigned workers;     /* worker threads; 0 = 8 */
    size_t max_queued;    /* calls waiting for a worker before RESOURCE_EXHAUSTED; 0 = 256 */
    const struct csi_method *methods;
    size_t n_methods;
    struct csi_ctx *ctx;
};

struct csi_server;

/* Binds the endpoint (a stale unix socket file is replaced). -EADDRINUSE, -EINVAL. */
int csi_server_start(const struct csi_server_opts *opts, struct csi_server **ret,
                     struct slio_err *err) _must_check_;
/* Serve on the calling thread until csi_server_stop(). */
void csi_server_run(struct csi_server *s);
/* From any thread (a signal-waiting thread, say): stop accepting, finish calls, return from run. */
void csi_server_stop(struct csi_server *s);
void csi_server_free(struct csi_server *s);

#endif
