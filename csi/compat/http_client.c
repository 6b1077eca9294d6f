/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STOPGAP, built only while libslio has no http_client.c (branch libslio-net
 * brings the real one; csi/meson.build stops compiling this file the moment
 * libslio/http_client.c exists). Implements the part of
 * include/slio/http_client.h slio-csi uses: calls with a deadline, a bounded
 * JSON answer, a bearer token and the move to the next URL on a connection
 * failure or a 503 not_leader.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "slio/http_client.h"
#include "slio/json.h"
#include "slio/strbuf.h"

struct slio_http_client {
    char **urls;
    size_t n_urls;
    char *auth_header;
    uint32_t timeout_ms, connect_timeout_ms;
    size_t max_response;
    _Atomic size_t current;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void slio_http_client_free(struct slio_http_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_urls; i++)
        free(c->urls[i]);
    free(c->urls);
    free(c->auth_header);
    free(c);
}

int slio_http_client_new(const struct slio_http_client_opts *opts, struct slio_http_client **ret,
                         struct slio_err *err)
{
    if (opts->n_urls == 0) {
        slio_err_set(err, "no controller URL");
        return -EINVAL;
    }
    pthread_once(&curl_once, curl_init_once);
    struct slio_http_client *c = calloc(1, sizeof(*c));
    if (!c || !(c->urls = calloc(opts->n_urls, sizeof(char *)))) {
        free(c);
        return -ENOMEM;
    }
    for (; c->n_urls < opts->n_urls; c->n_urls++) {
        const char *u = opts->urls[c->n_urls];
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
            slio_err_set(err, "URL \"%s\": not http:// or https://", u);
            slio_http_client_free(c);
            return -EINVAL;
        }
        c->urls[c->n_urls] = strdup(u);
        if (!c->urls[c->n_urls]) {
            slio_http_client_free(c);
            return -ENOMEM;
        }
    }
    if (opts->token && asprintf(&c->auth_header, "Authorization: Bearer %s", opts->token) < 0) {
        c->auth_header = NULL;
        slio_http_client_free(c);
        return -ENOMEM;
    }
    c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : 10000;
    c->connect_timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : 2000;
    c->max_response = opts->max_response ? opts->max_response : 16u << 20;
    *ret = c;
    return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata)
{
    struct slio_strbuf *sb = userdata;
    return slio_strbuf_append(sb, p, size * n) == 0 ? size * n : 0;
}

/* One attempt against one URL: 0 with status and text, or -errno (connection level). */
static int attempt(struct slio_http_client *c, const char *base, const char *method,
                   const char *path, const char *body, unsigned *ret_status,
                   struct slio_strbuf *resp, struct slio_err *err)
{
    _cleanup_free_ char *url = NULL;
    if (asprintf(&url, "%s%s", base, path) < 0)
        return -ENOMEM;
    CURL *h = curl_easy_init();
    if (!h)
        return -ENOMEM;
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (c->auth_header)
        hdrs = curl_slist_append(hdrs, c->auth_header);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    CURLcode cr = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (cr == CURLE_WRITE_ERROR) {
        slio_err_set(err, "%s %s: answer larger than %zu bytes", method, url, c->max_response);
        return -EMSGSIZE;
    }
    if (cr != CURLE_OK) {
        slio_err_set(err, "%s %s: %s", method, url, curl_easy_strerror(cr));
        return cr == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
    }
    *ret_status = (unsigned)status;
    return 0;
}

static bool is_not_leader(const json_t *body)
{
    const char *code = json_string_value(json_object_get(json_object_get(body, "error"), "code"));
    return code && strcmp(code, "not_leader") == 0;
}

int slio_http_call(struct slio_http_client *c, const char *method, const char *path,
                   const json_t *body, unsigned *ret_status, json_t **ret_body,
                   struct slio_err *err)
{
    _cleanup_free_ char *text = body ? slio_json_dump(body, 0) : NULL;
    if (body && !text)
        return -ENOMEM;
    int r = -ECONNREFUSED;
    size_t start = atomic_load(&c->current);
    for (size_t i = 0; i < c->n_urls; i++) {
        size_t idx = (start + i) % c->n_urls;
        _cleanup_(slio_strbuf_freep) struct slio_strbuf resp;
        slio_strbuf_init(&resp, c->max_response);
        unsigned status = 0;
        r = attempt(c, c->urls[idx], method, path, text, &status, &resp, err);
        if (r == -EMSGSIZE || r == -ENOMEM)
            return r;
        if (r < 0)
            continue;
        json_t *j = NULL;
        if (slio_strbuf_len(&resp) > 0) {
            r = slio_json_loadb(slio_strbuf_str(&resp), slio_strbuf_len(&resp), c->max_response, &j,
                                err);
            if (r < 0)
                return -EBADMSG;
        }
        if (status == 503 && is_not_leader(j) && i + 1 < c->n_urls) {
            json_decref(j);
            continue;
        }
        atomic_store(&c->current, idx);
        *ret_status = status;
        *ret_body = j;
        return 0;
    }
    return r;
}

int slio_http_status_to_errno(unsigned status)
{
    switch (status) {
    case 400:
        return -EINVAL;
    case 401:
        return -EACCES;
    case 403:
        return -EPERM;
    case 404:
        return -ENOENT;
    case 409:
        return -EEXIST;
    case 413:
        return -EMSGSIZE;
    case 422:
        return -EINVAL;
    case 429:
    case 503:
        return -EAGAIN;
    default:
        return status >= 500 ? -EIO : -EINVAL;
    }
}

int slio_http_call_ok(struct slio_http_client *c, const char *method, const char *path,
                      const json_t *body, json_t **ret_body, struct slio_err *err)
{
    unsigned status;
    json_t *j = NULL;
    int r = slio_http_call(c, method, path, body, &status, &j, err);
    if (r < 0)
        return r;
    if (status / 100 != 2) {
        const json_t *e = json_object_get(j, "error");
        slio_err_set(err, "%s: %s", json_string_value(json_object_get(e, "code")) ?: "error",
                     json_string_value(json_object_get(e, "message")) ?: "");
        json_decref(j);
        return slio_http_status_to_errno(status);
    }
    if (ret_body)
        *ret_body = j;
    else
        json_decref(j);
    return 0;
}

char *slio_http_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    if (!e)
        return NULL;
    char *copy = strdup(e);
    curl_free(e);
    return copy;
}

const char *slio_http_client_current_url(const struct slio_http_client *c)
{
    return c->urls[atomic_load(&c->current)];
}
