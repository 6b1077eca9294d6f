/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP transport to etcd's v3 JSON gateway, on libcurl directly (not
 * slio/http_client.h): the store makes several etcd calls per API request,
 * so connections are kept alive in a small pool of curl handles instead of
 * one TCP connection (and one TIME_WAIT) per call; watches are streams of
 * newline-separated JSON messages read as they arrive; and etcd's errors are
 * gRPC codes, not SLiteIO's not_leader answers.
 *
 * Endpoints: any member of the cluster serves any request (followers forward
 * to the raft leader). A call goes to the endpoint that answered last; it
 * moves on to the next one only when the request provably was not sent (no
 * connection), so a txn is never applied twice. After an answer saying the
 * member cannot serve (no raft leader, timeout) the next call starts at the
 * next endpoint.
 *
 * Threads: every call may run on any thread at the same time.
 */
#ifndef SLIO_CONTROLLER_ETCD_HTTP_H
#define SLIO_CONTROLLER_ETCD_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/error.h"

struct etcd_http;

/* endpoints: "http://127.0.0.1:2379", ... (copied); timeout_ms: per unary call. */
int etcd_http_new(const char *const *endpoints, size_t n_endpoints, uint32_t timeout_ms,
                  struct etcd_http **ret, struct slio_err *err) _must_check_;
void etcd_http_free(struct etcd_http *h); /* NULL ok; no call may be running */

/*
 * POST body (JSON) to path ("/v3/kv/range"); the answer (HTTP 200, at most
 * max_response bytes, JSON) in *ret. Errors: -EAGAIN (no endpoint reachable,
 * timed out — a txn may or may not have applied —, etcd unavailable or
 * overloaded), -EFBIG (answer over max_response), -EINVAL (etcd refused the
 * request as malformed or too large), -ENOENT (etcd's NotFound, e.g. a lease),
 * -EBADMSG (the answer is not JSON), -EIO (any other etcd error), -ENOMEM.
 */
int etcd_http_call(struct etcd_http *h, const char *path, const json_t *body, size_t max_response,
                   json_t **ret, struct slio_err *err) _must_check_;

/*
 * A streaming call (/v3/watch): POST body, then on_msg(msg, arg) for every
 * message (one JSON value per line, at most max_msg bytes) until on_msg
 * returns non-zero or timeout_ms passes. Returns what on_msg returned when it
 * stopped the stream (> 0 = done, < 0 = its error), -ETIMEDOUT at the
 * deadline, -EMSGSIZE for a message over max_msg, or the errors of
 * etcd_http_call for the transport.
 */
typedef int (*etcd_stream_fn)(const json_t *msg, void *arg);
int etcd_http_stream(struct etcd_http *h, const char *path, const json_t *body, size_t max_msg,
                     uint32_t timeout_ms, etcd_stream_fn on_msg, void *arg,
                     struct slio_err *err) _must_check_;

#endif
