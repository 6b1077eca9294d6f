/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP/1.1 server for the control daemons (the controller's REST API,
 * the agent's /metrics and health), on libmicrohttpd.
 *
 * Routes are a table of method + path pattern; "{name}" matches one path
 * segment and is read back with slio_http_path_param(). Handlers run on the
 * connection's own thread (libmicrohttpd's thread-per-connection mode, so a
 * slow request never stalls another connection such as a health check), never
 * on a thread that must stay responsive elsewhere, and may block for a bounded
 * time (a store transaction, a long-poll up to its timeout); they must be
 * thread-safe.
 *
 * Everything from the peer is bounded before a handler sees it: the request
 * body (opts.max_body: a larger Content-Length gets 413 before the body is
 * read, a chunked body growing past it closes the connection), the number of
 * connections (total and per source address: beyond, new connections are
 * closed at accept), an idle connection timeout, the request line and headers
 * (64 KiB together: 414/431 beyond). The handler is not called in any of
 * these cases. Bodies arrive as bytes; a handler decodes JSON with
 * slio_json_loadb() and the field-table decoder (slio/json.h).
 *
 * Routing: a path matching no pattern answers 404 not_found, a known path with
 * another method 405 (code invalid_argument, with an Allow header). Patterns
 * match libmicrohttpd's URL-decoded path, so a parameter cannot contain '/'.
 * Each request is logged at debug level (component "http").
 *
 *   static void get_volume(const struct slio_http_request *req,
 *                          struct slio_http_response *resp, void *ctx) {
 *       const char *id = slio_http_path_param(req, "id");
 *       ...
 *       slio_http_respond_json(resp, 200, json_pack("{s:s}", "id", id));
 *   }
 *   static const struct slio_http_route routes[] = {
 *       {"GET", "/v1/volumes/{id}", get_volume},
 *   };
 */
#ifndef SLIO_HTTP_SERVER_H
#define SLIO_HTTP_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/cleanup.h"
#include "slio/error.h"

struct slio_http_request;
struct slio_http_response;

typedef void (*slio_http_handler_fn)(const struct slio_http_request *req,
                                     struct slio_http_response *resp, void *ctx);

struct slio_http_route {
    const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern; /* "/v1/volumes/{id}/expand"; segments in braces match one segment */
    slio_http_handler_fn handler;
};

struct slio_http_server_opts {
    const char *address;      /* "127.0.0.1", "::1", "0.0.0.0"; NULL = 127.0.0.1 */
    uint16_t port;            /* 0 = an ephemeral port (read it with slio_http_server_port) */
    unsigned threads;         /* unused: one thread per connection, bounded by max_connections */
    size_t max_body;          /* bytes; 0 = 1 MiB; larger bodies get 413 before the handler */
    unsigned max_connections; /* 0 = 1024 */
    unsigned max_connections_per_ip; /* 0 = 256 */
    unsigned idle_timeout_s;         /* 0 = 30 */
    /* TLS (GnuTLS through libmicrohttpd) when both are set: PEM files, the certificate
     * file may hold the chain after the leaf. Both are watched: a handshake that finds
     * either changed on disk (checked at most once a second) loads the pair again, and
     * new connections get the new certificate without a restart; a pair that fails to
     * load (unreadable, half written, key not matching) is logged and the previous one
     * kept until the files change again. Connections already open keep theirs. */
    const char *tls_cert_file;
    const char *tls_key_file;
    /* Per client (peer address) request rate limit, a token bucket: `rate_per_s`
     * requests a second on average, bursts of up to `rate_burst`. Beyond, 429
     * rate_limited with Retry-After (seconds) before routing and before the handler.
     * rate_per_s 0 = no limit; rate_burst 0 = 2 * rate_per_s (at least 1). */
    double rate_per_s;
    unsigned rate_burst;
    /* A path matching no route answers 404, a known path with another method 405,
     * both with the JSON error body below. */
    const struct slio_http_route *routes; /* referenced, not copied: must outlive the server */
    size_t n_routes;                      /* at most 8 "{name}" parameters per pattern */
    void *ctx;                            /* passed to every handler */
};

struct slio_http_server;

/* Bind, listen and start the threads. -EADDRINUSE, -EACCES, -EINVAL (bad options,
 * unreadable TLS files: err says which), -EOPNOTSUPP (TLS asked, libmicrohttpd
 * without it). */
int slio_http_server_start(const struct slio_http_server_opts *opts, struct slio_http_server **ret,
                           struct slio_err *err) _must_check_;
/* The bound port (useful with opts.port == 0). */
uint16_t slio_http_server_port(const struct slio_http_server *s);
/* Counters for /metrics; the fields only grow. */
struct slio_http_server_stats {
    uint64_t rate_limited;        /* requests answered 429 */
    uint64_t tls_reloads;         /* certificate pairs loaded after the first */
    uint64_t tls_reload_failures; /* changed files that did not load (previous pair kept) */
};
void slio_http_server_stats(const struct slio_http_server *s, struct slio_http_server_stats *ret);

/* Stop accepting, finish in-flight requests (a blocked handler delays this), join the
 * threads, free. NULL ok. Not from inside a handler. */
void slio_http_server_stop(struct slio_http_server *s);

/* --- inside a handler --------------------------------------------------------------- */

const char *slio_http_method(const struct slio_http_request *req);
const char *slio_http_path(const struct slio_http_request *req); /* without the query */
/* The value of "{name}" in the matched pattern (URL-decoded), or NULL. */
const char *slio_http_path_param(const struct slio_http_request *req, const char *name);
/* A query argument (URL-decoded), or NULL when absent ("" for "?flag" without '='). */
const char *slio_http_query(const struct slio_http_request *req, const char *name);
/* A request header (case-insensitive name), or NULL. */
const char *slio_http_header(const struct slio_http_request *req, const char *name);
/* The token of "Authorization: Bearer <token>", or NULL. */
const char *slio_http_bearer(const struct slio_http_request *req);
/* Whether the bearer token is exactly `expected`, compared in constant time (the time
 * depends on the length of expected only, never on where a presented token differs). */
bool slio_http_bearer_is(const struct slio_http_request *req, const char *expected);
/* The body (not NUL-terminated; may be empty) and the peer address as text. */
const char *slio_http_body(const struct slio_http_request *req, size_t *ret_len);
const char *slio_http_peer(const struct slio_http_request *req);

/* Set the response. Each takes ownership of what it is given (body: malloc'd, or a
 * json_t reference; content_type is copied); the last call wins. A handler that sets
 * none answers 500. respond_json with body NULL: an empty 204 when status is 204,
 * else 500 (a failed json_pack() must not pass for success). */
void slio_http_respond_json(struct slio_http_response *resp, unsigned status, json_t *body);
void slio_http_respond_text(struct slio_http_response *resp, unsigned status,
                            const char *content_type, char *body, size_t len);
/* The error body every SLiteIO API uses: {"error": {"code": code, "message": msg}}. */
void slio_http_respond_error(struct slio_http_response *resp, unsigned status, const char *code,
                             const char *fmt, ...) _printf_(4, 5);
/* 503 {"error": {"code": "not_leader", "message": ..., "leader": leader}} for an HA
 * standby; leader (the leader's base URL) may be NULL when unknown. */
void slio_http_respond_not_leader(struct slio_http_response *resp, const char *leader);
/* Add a response header (copied). -EINVAL for control characters (CR/LF) in name or
 * value, or ':' in the name; -ENOMEM. */
int slio_http_response_header(struct slio_http_response *resp, const char *name, const char *value);

#endif
