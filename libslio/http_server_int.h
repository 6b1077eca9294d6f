/* SPDX-License-Identifier: Apache-2.0 */
/* What http_server.c (libmicrohttpd glue) and http_request.c (handler API) share. */
#ifndef SLIO_HTTP_SERVER_INT_H
#define SLIO_HTTP_SERVER_INT_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "slio/http_server.h"
#include "slio/strbuf.h"

/* Path parameters per route; a pattern with more is refused at start. */
#define HTTP_MAX_PARAMS 8

struct http_param {
    const char *name; /* points into the route's pattern, not NUL-terminated at the brace */
    size_t name_len;
    char *value;
};

struct http_header {
    char *name;
    char *value;
};

struct slio_http_response {
    unsigned status; /* 0 until a respond call */
    char *content_type;
    char *body;
    size_t len;
    struct http_header *headers;
    size_t n_headers;
};

/* One per request (MHD's *req_cls), from the first call of the access handler to completion. */
struct slio_http_request {
    struct MHD_Connection *conn;
    const char *method; /* MHD's, valid for the request */
    const char *path;   /* MHD's decoded path, without the query */
    const struct slio_http_route *route;
    struct http_param params[HTTP_MAX_PARAMS];
    size_t n_params;
    struct slio_strbuf body;
    char peer[INET6_ADDRSTRLEN];
    struct timespec started;
};

void http_request_free(struct slio_http_request *req);

/* --- http_server_tls.c: the certificate pair, reloaded when its files change ----------- */
struct http_tls;
/* Load the pair once (-EINVAL with the file and GnuTLS's reason in err, -ENOMEM). */
int http_tls_new(const char *cert_file, const char *key_file, struct http_tls **ret,
                 struct slio_err *err);
/* Frees every generation ever loaded. After the daemon stopped. NULL ok. */
void http_tls_free(struct http_tls *t);
/* MHD_OPTION_HTTPS_CERT_CALLBACK (a gnutls_certificate_retrieve_function2), on the
 * connection's thread during its handshake. It finds its struct http_tls as the
 * connection's socket context, which http_server.c sets from MHD_OPTION_NOTIFY_CONNECTION
 * (called before the connection's thread starts, so before the handshake). */
int http_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                      gnutls_pcert_st **ret_pcert, unsigned int *ret_pcert_length,
                      gnutls_privkey_t *ret_key);
void http_tls_counts(struct http_tls *t, uint64_t *ret_reloads, uint64_t *ret_failures);

/* --- http_server_rate.c: per-peer token buckets ---------------------------------------- */
struct http_rate;
/* NULL when rate_per_s is 0 (no limit) or out of memory (*ret_enomem says which). */
struct http_rate *http_rate_new(double rate_per_s, unsigned burst, bool *ret_enomem);
void http_rate_free(struct http_rate *r); /* NULL ok */
/* Take a token for peer: 0 when allowed, else the seconds (>= 1) until one is free. */
unsigned http_rate_take(struct http_rate *r, const char *peer);
uint64_t http_rate_limited(struct http_rate *r);
void http_response_clear(struct slio_http_response *resp);
/* The MHD response for resp (headers added); NULL when out of memory. Takes resp's body. */
struct MHD_Response *http_response_build(struct slio_http_response *resp);

#endif
