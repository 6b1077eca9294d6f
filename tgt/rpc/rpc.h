/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-tgt's JSON-RPC 2.0 layer: SPDK's method names and parameters over a
 * unix socket. Everything here runs on the management thread.
 *
 *   stream.c    framing: complete JSON values out of a byte stream
 *   dispatch.c  request validation, method lookup, error objects
 *   methods_*.c the methods, each a table of {name, handler}
 *   config.c    save_config / load_config, framework_get_subsystems /
 *               framework_get_config and --save-config persistence
 *   server.c    the unix socket and its poll() loop
 */
#ifndef TGT_RPC_H
#define TGT_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "slio/error.h"
#include "slio/json.h"
#include "slio/strbuf.h"

#define TGT_RPC_DEFAULT_SOCKET "/var/tmp/slio-tgt.sock"
#define TGT_RPC_MAX_REQUEST    (1u << 20) /* bytes buffered per client before an error */

enum {
    TGT_RPC_PARSE_ERROR = -32700,
    TGT_RPC_INVALID_REQUEST = -32600,
    TGT_RPC_METHOD_NOT_FOUND = -32601,
    TGT_RPC_INVALID_PARAMS = -32602,
    TGT_RPC_INTERNAL_ERROR = -32603,
};

struct tgt_rpc_err {
    int code;
    char message[SLIO_ERR_TEXT_MAX + 64];
};

/*
 * A method: params is the request's "params" (NULL when absent). On success
 * returns 0 and a new reference in *ret_result; on failure a negative value
 * with err filled (tgt_rpc_error()).
 */
typedef int (*tgt_rpc_fn)(json_t *params, json_t **ret_result, struct tgt_rpc_err *err);

struct tgt_rpc_method {
    const char *name;
    tgt_rpc_fn fn;
    bool mutates; /* changes state that save_config writes */
};

extern const struct tgt_rpc_method tgt_rpc_bdev_methods[];
extern const size_t tgt_rpc_bdev_methods_count;
extern const struct tgt_rpc_method tgt_rpc_nvmf_methods[];
extern const size_t tgt_rpc_nvmf_methods_count;
extern const struct tgt_rpc_method tgt_rpc_misc_methods[];
extern const size_t tgt_rpc_misc_methods_count;

/* ---- dispatch.c ---- */
const struct tgt_rpc_method *tgt_rpc_find(const char *name);
/* Method names in table order into a new JSON array. */
json_t *tgt_rpc_method_names(void);
/* Look up and run a method (no hook); -ENOENT with -32601 in err if unknown. */
int tgt_rpc_call(const char *method, json_t *params, json_t **ret_result,
                 struct tgt_rpc_err *err) _must_check_;
/*
 * One parsed JSON-RPC request (any JSON value) → the response object, or NULL
 * when none is due (a notification: no "id").
 */
json_t *tgt_rpc_handle(json_t *request);
/* Called after every successful state-changing method (--save-config). */
void tgt_rpc_set_change_hook(void (*fn)(void *ctx), void *ctx);

/* Fill err and return -1 (for `return tgt_rpc_error(...)`). */
int tgt_rpc_error(struct tgt_rpc_err *err, int code, const char *fmt, ...) _printf_(3, 4);
/* A registry failure r with text e: code = bdev_style ? r (SPDK's bdev RPCs) : -32602/-32603. */
int tgt_rpc_error_from(struct tgt_rpc_err *err, int r, const struct slio_err *e, bool bdev_style);
/*
 * Decode params with a libslio field table; absent params decode as {}.
 * Failures become -32602 "invalid parameter 'x': why".
 */
int tgt_rpc_decode(json_t *params, const struct slio_json_field *fields, size_t n, void *out,
                   size_t out_size, unsigned flags, struct tgt_rpc_err *err) _must_check_;
#define TGT_RPC_DECODE(params, fields, out, flags, err)                                            \
    tgt_rpc_decode((params), (fields), SLIO_ARRAY_SIZE(fields), (out), sizeof(*(out)), (flags),    \
                   (err))
/* For methods without parameters: absent, {} or [] pass; anything else is -32602. */
int tgt_rpc_no_params(json_t *params, struct tgt_rpc_err *err);
/* Result helpers: a new reference to JSON true. */
int tgt_rpc_ok(json_t **ret_result);

/* ---- stream.c ---- */
struct tgt_rpc_stream {
    struct slio_strbuf in; /* bytes not yet forming a complete value */
    /* incremental scan for the end of the first value: O(n) however the bytes arrive */
    size_t scan;    /* bytes of `in` already scanned */
    size_t depth;   /* open objects/arrays */
    bool in_string; /* inside a string literal */
    bool escape;    /* after a backslash inside a string */
};
void tgt_rpc_stream_init(struct tgt_rpc_stream *s);
void tgt_rpc_stream_free(struct tgt_rpc_stream *s);
/*
 * Append data, execute every complete request in it and append the responses
 * (compact JSON, each followed by "\n") to out. Returns 0, or -EBADMSG (parse
 * error) / -EMSGSIZE (request larger than TGT_RPC_MAX_REQUEST) after
 * appending an error response: the connection must then be closed.
 */
int tgt_rpc_stream_feed(struct tgt_rpc_stream *s, const void *data, size_t len,
                        struct slio_strbuf *out) _must_check_;

/* ---- config.c ---- */
/* The save_config document (SPDK layout), or NULL when out of memory. */
json_t *tgt_config_build(void);
/*
 * framework_get_subsystems: [{"subsystem": NAME, "depends_on": [NAME...]}] in
 * save_config's order, or NULL when out of memory.
 */
json_t *tgt_config_subsystems(void);
/*
 * framework_get_config: the "config" array save_config writes for subsystem
 * name into *ret. -ENOENT if save_config has no such subsystem, -ENOMEM.
 */
int tgt_config_subsystem(const char *name, json_t **ret) _must_check_;
/* Apply a save_config document method by method; stops at the first failure. */
int tgt_config_apply(json_t *doc, struct tgt_rpc_err *err) _must_check_;
int tgt_config_load_file(const char *path, struct tgt_rpc_err *err) _must_check_;
/* Write the current configuration to path atomically (temp file, fsync, rename). */
int tgt_config_write_file(const char *path, struct slio_err *err) _must_check_;

/* ---- server.c ---- */
struct tgt_rpc_server;
/*
 * Listen on a unix socket. -EADDRINUSE if a live server answers there; a
 * stale socket file is removed. Errors are described in err.
 */
int tgt_rpc_server_open(const char *path, struct slio_err *err,
                        struct tgt_rpc_server **ret) _must_check_;
/* Serve clients until stop_fd becomes readable. 0 or -errno from poll(). */
int tgt_rpc_server_run(struct tgt_rpc_server *srv, int stop_fd) _must_check_;
/* Close every connection and the socket, remove the socket file. NULL-safe. */
void tgt_rpc_server_close(struct tgt_rpc_server *srv);

#endif
