/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The handler side of the HTTP server: reading the request (libmicrohttpd
 * already parsed and URL-decoded it) and filling the response. Nothing here
 * talks to the network; http_server.c turns the response into MHD's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_server_int.h"
#include "slio/json.h"

const char *slio_http_method(const struct slio_http_request *req)
{
    return req->method;
}

const char *slio_http_path(const struct slio_http_request *req)
{
    return req->path;
}

const char *slio_http_path_param(const struct slio_http_request *req, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < req->n_params; i++)
        if (req->params[i].name_len == len && memcmp(req->params[i].name, name, len) == 0)
            return req->params[i].value;
    return NULL;
}

const char *slio_http_query(const struct slio_http_request *req, const char *name)
{
    const char *value = NULL;
    size_t len = 0;

    /* "?flag" is present with no value: "" rather than NULL */
    if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &value,
                                      &len) != MHD_YES)
        return NULL;
    return value ? value : "";
}

const char *slio_http_header(const struct slio_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *slio_http_bearer(const struct slio_http_request *req)
{
    const char *auth = slio_http_header(req, "Authorization");

    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return NULL;
    auth += 7;
    while (*auth == ' ')
        auth++;
    return *auth ? auth : NULL;
}

bool slio_http_bearer_is(const struct slio_http_request *req, const char *expected)
{
    const char *got = slio_http_bearer(req);
    size_t n = strlen(expected), m = got ? strnlen(got, n + 1) : 0;
    unsigned char diff = got == NULL || m != n;

    /* Every byte of expected is looked at whatever matched: the time says nothing of where
     * a guess went wrong. */
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)expected[i] ^ (unsigned char)(i < m ? got[i] : 0);
    return diff == 0;
}

const char *slio_http_body(const struct slio_http_request *req, size_t *ret_len)
{
    if (ret_len)
        *ret_len = slio_strbuf_len(&req->body);
    return slio_strbuf_str(&req->body);
}

const char *slio_http_peer(const struct slio_http_request *req)
{
    return req->peer;
}

void http_request_free(struct slio_http_request *req)
{
    if (!req)
        return;
    for (size_t i = 0; i < req->n_params; i++)
        free(req->params[i].value);
    slio_strbuf_free(&req->body);
    free(req);
}

/* --- the response ---------------------------------------------------------------------- */

static void set_response(struct slio_http_response *resp, unsigned status, const char *content_type,
                         char *body, size_t len)
{
    char *type = content_type ? strdup(content_type) : NULL;

    if (content_type && !type) {
        free(body);
        status = 500;
        body = NULL;
        len = 0;
    }
    free(resp->body);
    free(resp->content_type);
    resp->status = status;
    resp->content_type = type;
    resp->body = body;
    resp->len = body ? len : 0;
}

void slio_http_respond_text(struct slio_http_response *resp, unsigned status,
                            const char *content_type, char *body, size_t len)
{
    set_response(resp, status, content_type, body, len);
}

void slio_http_respond_json(struct slio_http_response *resp, unsigned status, json_t *body)
{
    char *text = NULL;

    if (!body && status == 204) {
        set_response(resp, status, NULL, NULL, 0);
        return;
    }
    text = slio_json_dump(body, 0);
    json_decref(body);
    if (!text) {
        /* a json_pack() that failed in the handler, or no memory to dump */
        set_response(resp, 500, NULL, NULL, 0);
        return;
    }
    set_response(resp, status, "application/json", text, strlen(text));
}

static void respond_error_json(struct slio_http_response *resp, unsigned status, const char *code,
                               const char *leader, const char *fmt, va_list ap) _printf_(5, 0);
static void respond_error_json(struct slio_http_response *resp, unsigned status, const char *code,
                               const char *leader, const char *fmt, va_list ap)
{
    char *msg = NULL;
    json_t *err;

    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    err = json_pack("{s:s, s:s}", "code", code, "message", msg ? msg : code);
    free(msg);
    if (err && leader && json_object_set_new(err, "leader", json_string(leader)) < 0) {
        json_decref(err);
        err = NULL;
    }
    slio_http_respond_json(resp, status, err ? json_pack("{s:o}", "error", err) : NULL);
}

void slio_http_respond_error(struct slio_http_response *resp, unsigned status, const char *code,
                             const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    respond_error_json(resp, status, code, NULL, fmt, ap);
    va_end(ap);
}

static void respond_error_leader(struct slio_http_response *resp, unsigned status, const char *code,
                                 const char *leader, const char *fmt, ...) _printf_(5, 6);
static void respond_error_leader(struct slio_http_response *resp, unsigned status, const char *code,
                                 const char *leader, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    respond_error_json(resp, status, code, leader, fmt, ap);
    va_end(ap);
}

void slio_http_respond_not_leader(struct slio_http_response *resp, const char *leader)
{
    respond_error_leader(resp, 503, "not_leader", leader, "this controller is not the leader%s%s",
                         leader ? "; the leader is " : "", leader ? leader : "");
}

static bool header_text_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

int slio_http_response_header(struct slio_http_response *resp, const char *name, const char *value)
{
    struct http_header *h;

    if (!*name || !header_text_ok(name) || strchr(name, ':') || !header_text_ok(value))
        return -EINVAL; /* CR/LF would let a value forge headers */
    h = realloc(resp->headers, (resp->n_headers + 1) * sizeof(*h));
    if (!h)
        return -ENOMEM;
    resp->headers = h;
    h = &resp->headers[resp->n_headers];
    h->name = strdup(name);
    h->value = strdup(value);
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return -ENOMEM;
    }
    resp->n_headers++;
    return 0;
}

void http_response_clear(struct slio_http_response *resp)
{
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->headers);
    free(resp->body);
    free(resp->content_type);
    *resp = (struct slio_http_response){0};
}

struct MHD_Response *http_response_build(struct slio_http_response *resp)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_buffer(resp->len, resp->body ? resp->body : (char *)"",
                                        resp->body ? MHD_RESPMEM_MUST_FREE
                                                   : MHD_RESPMEM_PERSISTENT);
    if (!r)
        return NULL;
    resp->body = NULL; /* MHD frees it with the response */
    resp->len = 0;
    if (resp->content_type &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type) != MHD_YES)
        goto out_destroy;
    for (size_t i = 0; i < resp->n_headers; i++)
        if (MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value) != MHD_YES)
            goto out_destroy;
    return r;

out_destroy:
    MHD_destroy_response(r);
    return NULL;
}
