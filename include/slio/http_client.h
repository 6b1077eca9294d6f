/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/JSON client of the control plane (agent → controller, CSI → controller,
 * slioctl → controller, tests → etcd's v3 JSON API), on libcurl.
 *
 * A client knows a list of server URLs (the controllers of an HA setup) and
 * follows the leader: a connection failure, or a 503 whose error code is
 * "not_leader", moves on to the next URL (or to the one named in the error's
 * "leader" member when that is one of the configured URLs — a token is never
 * sent anywhere else), at most once round the list per call. The URL that
 * answered is remembered for the next call. A request is only sent again to
 * another URL when the previous one cannot have processed it (no connection,
 * TLS handshake failed, 503 not_leader): a timeout or a reset after sending
 * is returned to the caller, who knows whether repeating it is safe.
 *
 * Every answer is bounded (opts.max_response, -EMSGSIZE beyond) and every call
 * has a deadline (opts.timeout_ms). Bodies are JSON both ways. A client may be
 * used by several threads at once (each call uses its own curl handle).
 * Only http:// and https:// are spoken, redirects are not followed and
 * proxies from the environment are not used.
 */
#ifndef SLIO_HTTP_CLIENT_H
#define SLIO_HTTP_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/cleanup.h"
#include "slio/error.h"

struct slio_http_client_opts {
    const char *const *urls; /* "http://127.0.0.1:8360", ... (base URLs, no trailing path) */
    size_t n_urls;
    const char *token;           /* sent as "Authorization: Bearer <token>"; NULL = none */
    uint32_t timeout_ms;         /* per call, 0 = 10000 */
    uint32_t connect_timeout_ms; /* per URL, 0 = 2000 */
    size_t max_response;         /* bytes, 0 = 16 MiB */
    const char *ca_file;         /* PEM bundle to verify https:// servers; NULL = system default */
};

struct slio_http_client;

/* Copies everything in opts (trailing '/' of a URL dropped). -EINVAL (no URL, a URL that
 * is not http:// or https:// or holds spaces or control characters, a token with spaces
 * or control characters), -ENOMEM. */
int slio_http_client_new(const struct slio_http_client_opts *opts, struct slio_http_client **ret,
                         struct slio_err *err) _must_check_;
void slio_http_client_free(struct slio_http_client *c); /* NULL ok */

/*
 * One request: method "GET"/"POST"/..., path "/v1/volumes?limit=10" (appended
 * to the base URL; the caller escapes query values with slio_http_escape),
 * body NULL or a JSON value (not stolen). -EINVAL for a method that is not
 * upper-case letters or a path not starting with '/' or holding spaces or
 * control characters.
 *
 * Returns 0 whenever a server answered — whatever the status — with the status
 * in *ret_status and the parsed body (NULL when empty) in *ret_body; a body
 * that is not JSON is -EBADMSG. When every server said 503 not_leader, the
 * last of those answers is returned (0, status 503). Negative errno when no
 * server could be reached (-ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH; -EPROTO
 * for a TLS failure) or the call broke off (-ETIMEDOUT past opts.timeout_ms,
 * -ECONNRESET, -EMSGSIZE for an answer over opts.max_response), with the URL
 * and curl's reason in err.
 */
int slio_http_call(struct slio_http_client *c, const char *method, const char *path,
                   const json_t *body, unsigned *ret_status, json_t **ret_body,
                   struct slio_err *err) _must_check_;

/*
 * The same with the error convention of SLiteIO's APIs folded in: a 2xx
 * answer is 0 (body in *ret_body, may be NULL); any other status is a negative
 * errno from slio_http_status_to_errno() with "<code>: <message>" from the
 * error body in err. ret_body may be NULL when the caller wants no body.
 */
int slio_http_call_ok(struct slio_http_client *c, const char *method, const char *path,
                      const json_t *body, json_t **ret_body, struct slio_err *err) _must_check_;

/* 400 → -EINVAL, 401 → -EACCES, 403 → -EPERM, 404 → -ENOENT, 409 → -EEXIST,
 * 413 → -EMSGSIZE, 422 → -EINVAL, 429 → -EAGAIN, 503 → -EAGAIN, other 4xx → -EINVAL, 5xx → -EIO. */
int slio_http_status_to_errno(unsigned status);

/* URL-escape a query value or path segment (to free()). NULL when out of memory. */
char *slio_http_escape(const char *s);

/* The URL that answered last, or the first one (for logs); valid until the client is freed. */
const char *slio_http_client_current_url(const struct slio_http_client *c);

#endif
