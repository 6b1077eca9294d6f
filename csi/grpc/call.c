/* SPDX-License-Identifier: Apache-2.0 */
/* Replies of a call: the packed response or a status; time left before the deadline. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "grpc/call.h"

int64_t csi_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void csi_reply_ok(struct csi_reply *r, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    /* malloc(0) may be NULL; an empty message is a valid, empty payload. */
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        csi_reply_fail(r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory packing the response");
        return;
    }
    protobuf_c_message_pack(msg, buf);
    free(r->payload);
    r->payload = buf;
    r->payload_len = len;
    r->code = GRPC_STATUS_OK;
    r->message[0] = '\0';
    r->done = true;
}

grpc_status_code csi_reply_fail(struct csi_reply *r, grpc_status_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
    free(r->payload);
    r->payload = NULL;
    r->payload_len = 0;
    r->code = code;
    r->done = true;
    return code;
}

uint32_t csi_reply_time_left_ms(const struct csi_reply *r, uint32_t cap_ms)
{
    int64_t left = r->deadline_ms - csi_now_ms();
    if (left <= 0)
        return 0;
    return left > (int64_t)cap_ms ? cap_ms : (uint32_t)left;
}

void csi_reply_release(struct csi_reply *r)
{
    free(r->payload);
    r->payload = NULL;
}
