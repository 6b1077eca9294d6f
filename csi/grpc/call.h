/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One gRPC call as the services see it: a decoded request went in, a reply
 * (a packed response, or a status code and message) comes out.
 *
 * Services never touch gRPC: a handler receives the unpacked request and
 * ends with exactly one csi_reply_ok() or csi_reply_fail(); the glue sends
 * it. A handler that returns without either answers INTERNAL.
 */
#ifndef CSI_GRPC_CALL_H
#define CSI_GRPC_CALL_H

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/cleanup.h"

#define CSI_STATUS_MESSAGE_MAX 512

struct csi_reply {
    bool done;
    grpc_status_code code;
    char message[CSI_STATUS_MESSAGE_MAX];
    uint8_t *payload; /* packed response (code OK only), malloc'd */
    size_t payload_len;
    int64_t deadline_ms; /* CLOCK_MONOTONIC milliseconds; INT64_MAX = none */
};

/* Pack msg as the response (OK). On out-of-memory the reply becomes RESOURCE_EXHAUSTED. */
void csi_reply_ok(struct csi_reply *r, const ProtobufCMessage *msg);
/* A failure status with a message (printf); returns code for `return csi_reply_fail(...)`. */
grpc_status_code csi_reply_fail(struct csi_reply *r, grpc_status_code code, const char *fmt, ...)
    _printf_(3, 4);
/* Milliseconds left before the caller's deadline (0 when past; capped at cap_ms). */
uint32_t csi_reply_time_left_ms(const struct csi_reply *r, uint32_t cap_ms);
void csi_reply_release(struct csi_reply *r);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t csi_now_ms(void);

#endif
