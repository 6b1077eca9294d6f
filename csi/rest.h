/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-csi as a client of slio-controller's REST API (api/openapi.yaml), and
 * the one table that turns a REST error into a gRPC status.
 */
#ifndef CSI_REST_H
#define CSI_REST_H

#include <jansson.h>

#include "csi.h"
#include "grpc/call.h"

/*
 * One REST call. 0 with the HTTP status and the body (NULL when empty; the
 * caller decrefs). When no controller answered, the reply is failed with
 * UNAVAILABLE and -errno is returned. path is built by the caller from
 * validated or escaped parts.
 */
int csi_rest_call(struct csi_ctx *ctx, struct csi_reply *reply, const char *method,
                  const char *path, const json_t *body, unsigned *ret_status,
                  json_t **ret_body) _must_check_;

/* The gRPC code for a REST error answer (by its error.code, else by status). */
grpc_status_code csi_rest_code(unsigned status, const json_t *body);

/* Fail the reply from a REST error answer: "<what>: <controller's message>". */
grpc_status_code csi_rest_fail(struct csi_reply *reply, unsigned status, const json_t *body,
                               const char *what);
/* Same with the code chosen by the caller (the spec's code for this RPC). */
grpc_status_code csi_rest_fail_code(struct csi_reply *reply, grpc_status_code code,
                                    const json_t *body, const char *what);

/* True for a canonical UUID string (ids are UUIDs; anything else cannot exist). */
bool csi_is_uuid(const char *s);

/* Seconds since the epoch of an RFC 3339 UTC time ("2026-12-05T20:00:00Z", fraction allowed). */
int csi_parse_rfc3339(const char *s, int64_t *ret_sec, int32_t *ret_nsec) _must_check_;

#endif
