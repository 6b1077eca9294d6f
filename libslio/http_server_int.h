/* SPDX-License-Identifier: Apache-2.0 */
/* What http_server.c (libmicrohttpd glue) and http_request.c (handler API) share. */
#ifndef SLIO_HTTP_SERVER_INT_H
#define SLIO_HTTP_SERVER_INT_H

#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
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
void http_response_clear(struct slio_http_response *resp);
/* The MHD response for resp (headers added); NULL when out of memory. Takes resp's body. */
struct MHD_Response *http_response_build(struct slio_http_response *resp);

#endif
