/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl under the etcd store: a pool of easy handles (each keeps its
 * connection alive), endpoint failover only when nothing was sent, bounded
 * answers, and line-by-line reading of watch streams.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "etcd_codec.h"
#include "etcd_http.h"
#include "slio/json.h"
#include "slio/strbuf.h"

#define POOL_MAX           16 /* idle handles kept; more callers get fresh ones */
#define CONNECT_TIMEOUT_MS 1000
#define ENDPOINT_MAX       16

struct etcd_http {
    char *endpoints[ENDPOINT_MAX]; /* without a trailing '/' */
    size_t n_endpoints;
    uint32_t timeout_ms;
    atomic_size_t current; /* the endpoint to try first */
    pthread_mutex_t pool_lock;
    CURL *pool[POOL_MAX];
    size_t n_pool;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void etcd_http_free(struct etcd_http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_pool; i++)
        curl_easy_cleanup(h->pool[i]);
    for (size_t i = 0; i < h->n_endpoints; i++)
        free(h->endpoints[i]);
    pthread_mutex_destroy(&h->pool_lock);
    free(h);
}

int etcd_http_new(const char *const *endpoints, size_t n_endpoints, uint32_t timeout_ms,
                  struct etcd_http **ret, struct slio_err *err)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK) {
        slio_err_set(err, "libcurl: %s", curl_easy_strerror(curl_init_result));
        return -ENOMEM;
    }
    if (n_endpoints == 0 || n_endpoints > ENDPOINT_MAX) {
        slio_err_set(err, "etcd: %zu endpoints (1..%d)", n_endpoints, ENDPOINT_MAX);
        return -EINVAL;
    }
    struct etcd_http *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    pthread_mutex_init(&h->pool_lock, NULL);
    h->timeout_ms = timeout_ms ? timeout_ms : 5000;
    for (; h->n_endpoints < n_endpoints; h->n_endpoints++) {
        const char *u = endpoints[h->n_endpoints];
        size_t len = strlen(u);
        bool ok = (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) && len < 1024 &&
                  strcspn(u, " \t\r\n") == len;
        if (!ok) {
            slio_err_set(err, "etcd endpoint \"%.100s\": not an http(s):// URL", u);
            etcd_http_free(h);
            return -EINVAL;
        }
        while (len > 0 && u[len - 1] == '/')
            len--;
        if (!(h->endpoints[h->n_endpoints] = strndup(u, len))) {
            etcd_http_free(h);
            return -ENOMEM;
        }
    }
    *ret = h;
    return 0;
}

static CURL *handle_get(struct etcd_http *h)
{
    CURL *c = NULL;
    pthread_mutex_lock(&h->pool_lock);
    if (h->n_pool)
        c = h->pool[--h->n_pool];
    pthread_mutex_unlock(&h->pool_lock);
    if (c)
        curl_easy_reset(c); /* options go, the live connection stays */
    return c ? c : curl_easy_init();
}

static void handle_put(struct etcd_http *h, CURL *c)
{
    pthread_mutex_lock(&h->pool_lock);
    if (h->n_pool < POOL_MAX) {
        h->pool[h->n_pool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&h->pool_lock);
    if (c)
        curl_easy_cleanup(c);
}

/* What one request to one endpoint gives. */
struct exchange {
    struct slio_strbuf body;
    etcd_stream_fn on_msg; /* streams: called per line */
    void *arg;
    int stream_result; /* what on_msg returned when it stopped the stream */
    struct slio_err *err;
    char error[CURL_ERROR_SIZE];
    long status;
};

/* Hand every complete line to on_msg; keep the partial rest. */
static int stream_lines(struct exchange *x)
{
    for (;;) {
        const char *s = slio_strbuf_str(&x->body);
        const char *nl = memchr(s, '\n', slio_strbuf_len(&x->body));
        if (!nl)
            return 0;
        size_t len = (size_t)(nl - s);
        _cleanup_json_ json_t *msg = NULL;
        int r = slio_json_loadb(s, len, x->body.max, &msg, x->err);
        if (r < 0) {
            slio_err_prefix(x->err, "etcd stream message");
            return -EBADMSG;
        }
        r = x->on_msg(msg, x->arg);
        if (r != 0)
            return r;
        size_t rest = slio_strbuf_len(&x->body) - len - 1;
        memmove(x->body.buf, nl + 1, rest + 1);
        x->body.len = rest;
    }
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct exchange *x = userdata;
    size_t n = size * nmemb;
    if (slio_strbuf_append(&x->body, data, n) < 0) {
        x->stream_result = -EMSGSIZE;
        return 0; /* aborts with CURLE_WRITE_ERROR */
    }
    if (!x->on_msg)
        return n;
    int r = stream_lines(x);
    if (r != 0) {
        x->stream_result = r;
        return 0;
    }
    return n;
}

static CURLcode exchange_setup(CURL *c, const char *url, const char *body, uint32_t timeout_ms,
                               struct curl_slist *headers, struct exchange *x)
{
    CURLcode res = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (res == CURLE_OK)                                                                       \
            res = curl_easy_setopt(c, opt, val);                                                   \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)SLIO_MIN(timeout_ms, CONNECT_TIMEOUT_MS));
    SET(CURLOPT_TCP_NODELAY, 1L);
    SET(CURLOPT_WRITEFUNCTION, on_data);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_ERRORBUFFER, x->error);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_POSTFIELDS, body);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
#undef SET
    return res;
}

/* gRPC status (from the gateway's error body) → the store's errno. */
static int grpc_errno(int code)
{
    switch (code) {
    case 3: /* InvalidArgument: too many ops, duplicate key, request too large */
        return -EINVAL;
    case 5: /* NotFound: lease */
        return -ENOENT;
    case 4:  /* DeadlineExceeded */
    case 8:  /* ResourceExhausted: too many requests */
    case 14: /* Unavailable: no leader, stopping, timeouts */
        return -EAGAIN;
    default:
        return -EIO;
    }
}

static int answer_errno(struct etcd_http *h, size_t idx, struct exchange *x, json_t **ret)
{
    _cleanup_json_ json_t *j = NULL;
    int r = slio_json_loadb(slio_strbuf_str(&x->body), slio_strbuf_len(&x->body), x->body.max, &j,
                            x->err);
    if (x->status == 200 && r == 0 && ret) {
        *ret = TAKE_PTR(j);
        return 0;
    }
    if (x->status == 200)
        return r < 0 ? (slio_err_prefix(x->err, "etcd answer"), -EBADMSG) : 0;
    int code = r == 0 ? etcd_error_code(j, x->err) : -1;
    if (code < 0)
        slio_err_set(x->err, "etcd %s: HTTP %ld", h->endpoints[idx], x->status);
    r = code < 0 ? -EIO : grpc_errno(code);
    if (r == -EAGAIN) /* this member cannot serve now: the next call tries another */
        atomic_store(&h->current, (idx + 1) % h->n_endpoints);
    return r;
}

static int transport_errno(CURLcode res, struct exchange *x)
{
    if (res == CURLE_WRITE_ERROR && x->stream_result)
        return x->stream_result == -EMSGSIZE && !x->on_msg ? -EFBIG : x->stream_result;
    if (res == CURLE_OPERATION_TIMEDOUT)
        return x->on_msg ? -ETIMEDOUT : -EAGAIN;
    return res == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EAGAIN;
}

static int exchange(struct etcd_http *h, const char *path, const json_t *body, size_t max,
                    uint32_t timeout_ms, struct exchange *x, json_t **ret)
{
    _cleanup_free_ char *text = slio_json_dump(body, 0);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    size_t idx = atomic_load(&h->current);
    int r = -EAGAIN;
    if (!text || !headers) {
        curl_slist_free_all(headers);
        return -ENOMEM;
    }
    for (size_t tried = 0; tried < h->n_endpoints; tried++, idx = (idx + 1) % h->n_endpoints) {
        _cleanup_free_ char *url = NULL;
        CURL *c = handle_get(h);
        if (!c || asprintf(&url, "%s%s", h->endpoints[idx], path) < 0) {
            url = NULL;
            if (c)
                curl_easy_cleanup(c);
            r = -ENOMEM;
            break;
        }
        slio_strbuf_init(&x->body, max);
        x->stream_result = 0;
        x->error[0] = '\0';
        CURLcode res = exchange_setup(c, url, text, timeout_ms, headers, x);
        if (res == CURLE_OK)
            res = curl_easy_perform(c);
        x->status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
        handle_put(h, c);
        if (res == CURLE_OK) {
            atomic_store(&h->current, idx);
            /* a stream that ended by itself gave no verdict */
            r = x->on_msg && x->status == 200 ? -ECONNRESET : answer_errno(h, idx, x, ret);
            break;
        }
        r = transport_errno(res, x);
        if (r != -EAGAIN || x->stream_result)
            break;
        slio_err_set(x->err, "etcd %s: %s", url, x->error[0] ? x->error : curl_easy_strerror(res));
        /* Only a request that never left may go to another member. */
        if (res != CURLE_COULDNT_CONNECT && res != CURLE_COULDNT_RESOLVE_HOST)
            break;
        slio_strbuf_free(&x->body);
    }
    slio_strbuf_free(&x->body);
    curl_slist_free_all(headers);
    return r;
}

int etcd_http_call(struct etcd_http *h, const char *path, const json_t *body, size_t max_response,
                   json_t **ret, struct slio_err *err)
{
    struct exchange x = {.err = err};
    json_t *j = NULL;
    int r = exchange(h, path, body, max_response, h->timeout_ms, &x, &j);
    if (r == -EFBIG)
        slio_err_set(err, "etcd %s: answer over %zu bytes", path, max_response);
    if (r < 0)
        return r;
    *ret = j;
    return 0;
}

int etcd_http_stream(struct etcd_http *h, const char *path, const json_t *body, size_t max_msg,
                     uint32_t timeout_ms, etcd_stream_fn on_msg, void *arg, struct slio_err *err)
{
    struct exchange x = {.err = err, .on_msg = on_msg, .arg = arg};
    int r = exchange(h, path, body, max_msg, timeout_ms, &x, NULL);
    if (r == -EMSGSIZE)
        slio_err_set(err, "etcd %s: a stream message over %zu bytes", path, max_msg);
    return r;
}
