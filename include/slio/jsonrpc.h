/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON-RPC 2.0 client over a unix stream socket: one connection, one request,
 * one response. Works with slio-tgt and with SPDK's nvmf_tgt, which sends the
 * response without a trailing newline — so the end of the response is where
 * a complete JSON value parses, not a delimiter. The response is bounded
 * (SLIO_JSONRPC_MAX_RESPONSE by default) and so is the wait (timeout_ms).
 *
 * Blocking; call it from a worker thread, never from an event loop.
 */
#ifndef SLIO_JSONRPC_H
#define SLIO_JSONRPC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/cleanup.h"

#define SLIO_JSONRPC_MAX_RESPONSE (64u << 20)

/* Standard JSON-RPC 2.0 error codes. */
enum {
    SLIO_JSONRPC_PARSE_ERROR = -32700,
    SLIO_JSONRPC_INVALID_REQUEST = -32600,
    SLIO_JSONRPC_METHOD_NOT_FOUND = -32601,
    SLIO_JSONRPC_INVALID_PARAMS = -32602,
    SLIO_JSONRPC_INTERNAL_ERROR = -32603,
};

/*
 * Call `method` with `params` (borrowed; NULL: no "params" member) on the
 * server at sock_path. On success returns 0 and a new reference to the
 * "result" value in *ret_result (ret_result may be NULL).
 * Errors:
 *   -EREMOTEIO   the server answered with a JSON-RPC error; *ret_error_message
 *                ends with "<message> (code <code>)"
 *   -ETIMEDOUT   no complete answer within timeout_ms (<= 0: wait forever)
 *   -EMSGSIZE    the response grew beyond the limit
 *   -EBADMSG     the response is not JSON or not a valid JSON-RPC response
 *   -ECONNRESET  the server closed the connection before a complete response
 *   -errno       from socket/connect/send/recv (-ENOENT, -ECONNREFUSED, ...)
 * On every failure *ret_error_message (if not NULL) gets a text to free()
 * that names the socket and the method.
 */
int slio_jsonrpc_call(const char *sock_path, const char *method, json_t *params, int timeout_ms,
                      json_t **ret_result, char **ret_error_message) _must_check_;

struct slio_jsonrpc_opts {
    int timeout_ms;
    size_t max_response; /* 0: SLIO_JSONRPC_MAX_RESPONSE */
};

/* As above; also reports the server's error code (for -EREMOTEIO) in *ret_error_code. */
int slio_jsonrpc_call_ex(const char *sock_path, const char *method, json_t *params,
                         const struct slio_jsonrpc_opts *opts, json_t **ret_result,
                         int64_t *ret_error_code, char **ret_error_message) _must_check_;

/*
 * Parse a (possibly partial) response to request `id` held in buf[0..len).
 * Returns 0 (result in *ret_result), -EAGAIN (incomplete: read more),
 * -EBADMSG (malformed; reason in *ret_message) or -EREMOTEIO (error response:
 * *ret_code and *ret_message set). *ret_message is a string to free().
 * Bytes after the first complete value are ignored.
 */
int slio_jsonrpc_parse_response(const char *buf, size_t len, json_int_t id, json_t **ret_result,
                                int64_t *ret_code, char **ret_message) _must_check_;

#endif
