/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-tgt's JSON-RPC 2.0 layer: SPDK's method names and parameters over a
 * unix socket. Everything here runs on the management thread.
 *
 *   stream.c    framing: complete JSON values out of a byte stream
 *   dispatch.c  request validation, method lookup, error objects
 *   methods_*.c the methods, each a table of {name, handler}; methods_options.c
 *               SPDK's framework/option methods (applied or recorded)
 *   config.c    save_config / load_config, framework_get_subsystems /
 *               framework_get_config and --save-config persistence
 *   server.c    the clients and the poll() loop: limits, deadlines, backpressure
 *   sock.c      the socket file: private directory, mode, owner, peer check
 */
#ifndef TGT_RPC_H
#define TGT_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "slio/error.h"
#include "slio/json.h"
#include "slio/strbuf.h"

/* in a directory of its own, created 0700 (sock.c); slio-tgt-rpc has the same default */
#define TGT_RPC_DEFAULT_SOCKET "/run/slio-tgt/rpc.sock"
#define TGT_RPC_MAX_REQUEST    (1u << 20)  /* bytes buffered per client before an error */
#define TGT_RPC_MAX_RESPONSE   (64u << 20) /* one response larger than this is an error */

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
extern const struct tgt_rpc_method tgt_rpc_listener_methods[];
extern const size_t tgt_rpc_listener_methods_count;
extern const struct tgt_rpc_method tgt_rpc_option_methods[];
extern const size_t tgt_rpc_option_methods_count;
extern const struct tgt_rpc_method tgt_rpc_keyring_methods[];
extern const size_t tgt_rpc_keyring_methods_count;

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
 * Append data to the request buffer. 0, or -EMSGSIZE after appending an error
 * response to out (a request larger than TGT_RPC_MAX_REQUEST): the connection
 * must then be closed.
 */
int tgt_rpc_stream_append(struct tgt_rpc_stream *s, const void *data, size_t len,
                          struct slio_strbuf *out) _must_check_;
/*
 * Execute the complete requests buffered, appending each response (compact
 * JSON and "\n") to out, until out->len reaches out_limit or max_requests
 * have run: the server's backpressure and fairness. Returns 1 when it
 * stopped at a limit (call again once out has drained), 0 when it needs more
 * bytes, -EBADMSG after appending a parse error (close the connection).
 */
int tgt_rpc_stream_run(struct tgt_rpc_stream *s, struct slio_strbuf *out, size_t out_limit,
                       unsigned max_requests) _must_check_;
/* append + run without limits (tests, fuzzer). 0, -EBADMSG or -EMSGSIZE. */
int tgt_rpc_stream_feed(struct tgt_rpc_stream *s, const void *data, size_t len,
                        struct slio_strbuf *out) _must_check_;

/* ---- config.c ---- */
/*
 * The SPDK release whose schema save_config and framework_get_config write
 * ("v23.05", "24.09", "v23.01.1": year and month count). Older releases
 * reject members added since (bdev_aio_create's "uuid" before v24.09).
 */
#define TGT_CONFIG_SPDK_DEFAULT "v25.09" /* the current SPDK release */
/* Parse a version; 0 and *ret = YYMM (2305), or -EINVAL. */
int tgt_config_parse_spdk_version(const char *s, unsigned *ret) _must_check_;
/* The default for save_config and framework_get_config (--spdk-compat). -EINVAL if unparsable. */
int tgt_config_set_spdk_compat(const char *version) _must_check_;
/* The save_config document (SPDK layout) for SPDK release yymm (0: the default), or NULL. */
json_t *tgt_config_build(unsigned yymm);
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
/*
 * Write the current configuration to path atomically (temp file, fsync,
 * rename), in the newest schema: it is for slio-tgt to load back.
 */
int tgt_config_write_file(const char *path, struct slio_err *err) _must_check_;

/* ---- sock.c ---- */
/*
 * Create the listening socket at path, non-blocking: its directory must be
 * ours or root's and not writable by others (unless sticky, like /tmp); a
 * missing directory is created 0700; an existing path is replaced only if
 * it is a socket we own that nobody answers on (-EADDRINUSE if a live
 * server does, -EEXIST for a non-socket, -EPERM for another owner); the
 * socket is 0600 whatever the umask. Errors are described in err.
 */
int tgt_rpc_sock_listen(const char *path, struct slio_err *err, int *ret_fd) _must_check_;
/* May the peer of an accepted connection call us (SO_PEERCRED: our uid or root)? */
bool tgt_rpc_sock_peer_allowed(int fd, unsigned *ret_uid);

/* ---- server.c ---- */
struct tgt_rpc_server_opts {
    unsigned max_clients;     /* connections served at once; a new one evicts the idlest */
    unsigned idle_timeout_ms; /* a client silent this long is dropped; 0: never */
    size_t max_queued;        /* unsent response bytes per client before its requests wait */
};
#define TGT_RPC_SERVER_OPTS_DEFAULT                                                                \
    (struct tgt_rpc_server_opts)                                                                   \
    {                                                                                              \
        .max_clients = 64, .idle_timeout_ms = 10000, .max_queued = 4u << 20                        \
    }
struct tgt_rpc_server;
/* Listen on path (tgt_rpc_sock_listen); o NULL: TGT_RPC_SERVER_OPTS_DEFAULT. */
int tgt_rpc_server_open(const char *path, const struct tgt_rpc_server_opts *o, struct slio_err *err,
                        struct tgt_rpc_server **ret) _must_check_;
/* Serve clients until stop_fd becomes readable. 0 or -errno from poll(). */
int tgt_rpc_server_run(struct tgt_rpc_server *srv, int stop_fd) _must_check_;
/* Close every connection and the socket, remove the socket file. NULL-safe. */
void tgt_rpc_server_close(struct tgt_rpc_server *srv);

#endif
