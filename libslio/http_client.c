/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control plane's HTTP/JSON client on libcurl.
 *
 * Each call builds its own easy handle: curl handles are not shareable
 * between threads, and a controller call is rare enough (a heartbeat every
 * few seconds, a CSI RPC) that connection reuse is not worth a pool and its
 * locking. The client itself is read-only after new() except for the index
 * of the URL that answered last, an atomic.
 *
 * Leader following: a URL is only ever one of those configured — a standby's
 * "leader" hint is followed when it names one of them, so a token is never
 * sent to an address the operator did not give. A request is only sent to
 * another URL when the previous one provably did not process it (no
 * connection, TLS handshake failed, or 503 not_leader); a timeout or a reset
 * after sending is returned to the caller, who knows whether retrying is safe.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "slio/http_client.h"
#include "slio/json.h"
#include "slio/strbuf.h"

#define DEFAULT_TIMEOUT_MS         10000
#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_MAX_RESPONSE       (16u << 20)
#define MAX_METHOD                 16
#ifndef SLIO_VERSION
#define SLIO_VERSION "dev"
#endif

struct slio_http_client {
    char **urls; /* without a trailing '/' */
    size_t n_urls;
    char *auth_header; /* "Authorization: Bearer <token>" or NULL */
    char *ca_file;
    uint32_t timeout_ms;
    uint32_t connect_timeout_ms;
    size_t max_response;
    atomic_size_t current; /* the URL that answered last */
};

/* What one URL said: transport result and, when it answered, status and body. */
struct attempt {
    CURLcode res;
    long os_errno;
    bool connected; /* the request may have reached the server */
    long status;
    struct slio_strbuf body;
    char error[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return false;
    return true;
}

static int check_url(const char *url, struct slio_err *err)
{
    if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) || !printable(url) ||
        strlen(url) > 2048) {
        slio_err_set(err, "URL \"%.200s\": not an http:// or https:// URL", url);
        return -EINVAL;
    }
    return 0;
}

void slio_http_client_free(struct slio_http_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_urls; i++)
        free(c->urls[i]);
    free(c->urls);
    if (c->auth_header)
        explicit_bzero(c->auth_header, strlen(c->auth_header));
    free(c->auth_header);
    free(c->ca_file);
    free(c);
}
SLIO_DEFINE_CLEANUP(struct slio_http_client *, slio_http_client_free)

int slio_http_client_new(const struct slio_http_client_opts *opts, struct slio_http_client **ret,
                         struct slio_err *err)
{
    _cleanup_(slio_http_client_freep) struct slio_http_client *c = NULL;
    int r;

    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK) {
        slio_err_set(err, "libcurl: %s", curl_easy_strerror(curl_init_result));
        return -ENOMEM;
    }
    if (opts->n_urls == 0 || !opts->urls) {
        slio_err_set(err, "no server URL");
        return -EINVAL;
    }
    if (opts->token && (!*opts->token || !printable(opts->token))) {
        slio_err_set(err, "token: empty, or contains spaces or control characters");
        return -EINVAL;
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->urls = calloc(opts->n_urls, sizeof(*c->urls))))
        return -ENOMEM;
    for (; c->n_urls < opts->n_urls; c->n_urls++) {
        const char *u = opts->urls[c->n_urls];
        r = check_url(u, err);
        if (r < 0)
            return r;
        size_t len = strlen(u);
        while (len > 0 && u[len - 1] == '/')
            len--;
        if (!(c->urls[c->n_urls] = strndup(u, len)))
            return -ENOMEM;
    }
    if (opts->token && asprintf(&c->auth_header, "Authorization: Bearer %s", opts->token) < 0) {
        c->auth_header = NULL;
        return -ENOMEM;
    }
    if (opts->ca_file && !(c->ca_file = strdup(opts->ca_file)))
        return -ENOMEM;
    c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->connect_timeout_ms =
        opts->connect_timeout_ms ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    c->max_response = opts->max_response ? opts->max_response : DEFAULT_MAX_RESPONSE;
    *ret = TAKE_PTR(c);
    return 0;
}

const char *slio_http_client_current_url(const struct slio_http_client *c)
{
    return c->urls[atomic_load(&c->current)];
}

char *slio_http_escape(const char *s)
{
    char *e, *copy;

    pthread_once(&curl_once, curl_init);
    e = curl_easy_escape(NULL, s, 0);
    if (!e)
        return NULL;
    copy = strdup(e); /* the caller frees with free(), not curl_free() */
    curl_free(e);
    return copy;
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
        return -EAGAIN;
    case 503:
        return -EAGAIN;
    default:
        return status >= 400 && status < 500 ? -EINVAL : -EIO;
    }
}

/* --- one attempt against one URL ------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct slio_strbuf *sb = userdata;

    /* returning less than given aborts the transfer with CURLE_WRITE_ERROR */
    return slio_strbuf_append(sb, data, size * nmemb) < 0 ? 0 : size * nmemb;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static CURLcode setup(CURL *h, const struct slio_http_client *c, const char *url,
                      const char *method, const char *body, uint32_t left_ms,
                      struct curl_slist *headers, struct attempt *a)
{
    CURLcode res = CURLE_OK;

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (res == CURLE_OK)                                                                       \
            res = curl_easy_setopt(h, opt, val);                                                   \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, ""); /* never through an environment proxy */
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, (long)left_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)SLIO_MIN(left_ms, c->connect_timeout_ms));
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, &a->body);
    SET(CURLOPT_ERRORBUFFER, a->error);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_USERAGENT, "sliteio/" SLIO_VERSION);
    if (c->ca_file)
        SET(CURLOPT_CAINFO, c->ca_file);
    if (strcmp(method, "HEAD") == 0)
        SET(CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0 || body)
        SET(CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        SET(CURLOPT_POSTFIELDS, body);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
#undef SET
    return res;
}

static void attempt_run(const struct slio_http_client *c, const char *url, const char *method,
                        const char *body, uint32_t left_ms, struct curl_slist *headers,
                        struct attempt *a)
{
    CURL *h = curl_easy_init();
    curl_off_t connect_us = 0;

    if (!h) {
        a->res = CURLE_OUT_OF_MEMORY;
        return;
    }
    a->res = setup(h, c, url, method, body, left_ms, headers, a);
    if (a->res == CURLE_OK)
        a->res = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &a->os_errno);
    /* APPCONNECT covers the TLS handshake: a request is only sent after it */
    curl_easy_getinfo(
        h, strncmp(url, "https:", 6) == 0 ? CURLINFO_APPCONNECT_TIME_T : CURLINFO_CONNECT_TIME_T,
        &connect_us);
    a->connected = connect_us > 0 || a->status > 0;
    curl_easy_cleanup(h);
}

static int attempt_errno(const struct attempt *a)
{
    switch (a->res) {
    case CURLE_COULDNT_CONNECT:
        if (a->os_errno == EHOSTUNREACH || a->os_errno == ENETUNREACH)
            return -EHOSTUNREACH;
        return a->os_errno == ETIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
        return -EHOSTUNREACH;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        return -EMSGSIZE;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return -ECONNRESET;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return -EPROTO;
    default:
        return -EIO;
    }
}

/* --- the call: URLs in turn, following the leader ----------------------------------------- */

/* The "leader" of a 503 not_leader answer as an index into c->urls; -ENOENT when it is not
 * not_leader, -ESRCH when it is but names no configured URL. */
static int not_leader_hint(const struct slio_http_client *c, const struct attempt *a)
{
    _cleanup_json_ json_t *j = NULL;
    const json_t *e;
    const char *leader;

    if (a->status != 503 || slio_json_loadb(slio_strbuf_str(&a->body), slio_strbuf_len(&a->body),
                                            c->max_response, &j, NULL) < 0)
        return -ENOENT;
    e = json_object_get(j, "error");
    if (!json_is_object(e) ||
        strcmp(json_string_value(json_object_get(e, "code")) ?: "", "not_leader") != 0)
        return -ENOENT;
    leader = json_string_value(json_object_get(e, "leader"));
    for (size_t i = 0; leader && i < c->n_urls; i++) {
        size_t len = strlen(c->urls[i]);
        if (strncmp(leader, c->urls[i], len) == 0 &&
            strspn(leader + len, "/") == strlen(leader + len))
            return (int)i;
    }
    return -ESRCH;
}

static size_t next_untried(const struct slio_http_client *c, const bool *tried, size_t from)
{
    for (size_t k = 1; k <= c->n_urls; k++)
        if (!tried[(from + k) % c->n_urls])
            return (from + k) % c->n_urls;
    return from; /* all tried: the caller stops */
}

static int check_request(const char *method, const char *path, struct slio_err *err)
{
    size_t n = strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");

    if (n == 0 || n > MAX_METHOD || method[n]) {
        slio_err_set(err, "method \"%.20s\": not an HTTP method", method);
        return -EINVAL;
    }
    if (path[0] != '/' || !printable(path)) {
        slio_err_set(err, "path \"%.200s\": must start with '/' and be escaped", path);
        return -EINVAL;
    }
    return 0;
}

static struct curl_slist *make_headers(const struct slio_http_client *c, bool with_body)
{
    struct curl_slist *l = curl_slist_append(NULL, "Accept: application/json"), *n;

    if (l && with_body && !(n = curl_slist_append(l, "Content-Type: application/json")))
        goto out_free;
    if (l && c->auth_header && !(n = curl_slist_append(l, c->auth_header)))
        goto out_free;
    return l;

out_free:
    curl_slist_free_all(l);
    return NULL;
}

/* Turn the answer into the status and parsed body. */
static int take_answer(const struct slio_http_client *c, const char *url, struct attempt *a,
                       unsigned *ret_status, json_t **ret_body, struct slio_err *err)
{
    json_t *j = NULL;
    int r;

    if (slio_strbuf_len(&a->body) > 0) {
        r = slio_json_loadb(slio_strbuf_str(&a->body), slio_strbuf_len(&a->body), c->max_response,
                            &j, err);
        if (r < 0) {
            slio_err_prefix(err, "%s: HTTP %ld: body is not JSON", url, a->status);
            return r == -ENOMEM ? r : -EBADMSG;
        }
    }
    *ret_status = (unsigned)a->status;
    *ret_body = j;
    return 0;
}

int slio_http_call(struct slio_http_client *c, const char *method, const char *path,
                   const json_t *body, unsigned *ret_status, json_t **ret_body,
                   struct slio_err *err)
{
    _cleanup_free_ char *body_text = NULL;
    _cleanup_free_ bool *tried = NULL;
    struct curl_slist *headers = NULL;
    struct attempt last = {.body = SLIO_STRBUF_INIT(c->max_response)};
    bool have_answer = false;
    int64_t deadline = now_ms() + c->timeout_ms;
    size_t idx = atomic_load(&c->current);
    int r = check_request(method, path, err);

    if (r < 0)
        return r;
    if ((body && !(body_text = slio_json_dump(body, 0))) ||
        !(tried = calloc(c->n_urls, sizeof(*tried))) || !(headers = make_headers(c, body)))
        return -ENOMEM;
    r = -ETIMEDOUT;
    while (!tried[idx]) {
        struct attempt a = {.body = SLIO_STRBUF_INIT(c->max_response)};
        _cleanup_free_ char *url = NULL;
        int64_t left = deadline - now_ms();

        if (left <= 0) {
            slio_err_set(err, "no answer within %u ms", c->timeout_ms);
            r = -ETIMEDOUT;
            break;
        }
        if (asprintf(&url, "%s%s", c->urls[idx], path) < 0) {
            url = NULL;
            r = -ENOMEM;
            break;
        }
        tried[idx] = true;
        attempt_run(c, url, method, body_text, (uint32_t)left, headers, &a);
        if (a.res == CURLE_OK) {
            int hint = not_leader_hint(c, &a);
            if (hint == -ENOENT) {
                atomic_store(&c->current, idx);
                r = take_answer(c, url, &a, ret_status, ret_body, err);
                slio_strbuf_free(&a.body);
                goto out;
            }
            /* a standby: remember its answer in case no one leads */
            slio_strbuf_free(&last.body);
            last = a;
            have_answer = true;
            idx = hint >= 0 && !tried[hint] ? (size_t)hint : next_untried(c, tried, idx);
            continue;
        }
        r = attempt_errno(&a);
        slio_err_set(err, "%s: %s", url, a.error[0] ? a.error : curl_easy_strerror(a.res));
        slio_strbuf_free(&a.body);
        if (a.connected || r == -ENOMEM)
            goto out; /* the request may have been processed: not ours to repeat */
        idx = next_untried(c, tried, idx);
    }
    if (have_answer)
        r = take_answer(c, c->urls[idx], &last, ret_status, ret_body, err);
out:
    slio_strbuf_free(&last.body);
    curl_slist_free_all(headers);
    return r;
}

int slio_http_call_ok(struct slio_http_client *c, const char *method, const char *path,
                      const json_t *body, json_t **ret_body, struct slio_err *err)
{
    _cleanup_json_ json_t *resp = NULL;
    unsigned status;
    const json_t *e;
    int r;

    r = slio_http_call(c, method, path, body, &status, &resp, err);
    if (r < 0)
        return r;
    if (status >= 200 && status < 300) {
        if (ret_body)
            *ret_body = TAKE_PTR(resp);
        return 0;
    }
    e = json_object_get(resp, "error");
    if (json_is_string(json_object_get(e, "code")))
        slio_err_set(err, "%s: %s", json_string_value(json_object_get(e, "code")),
                     json_string_value(json_object_get(e, "message")) ?: "");
    else
        slio_err_set(err, "%s %s: HTTP %u from %s", method, path, status,
                     slio_http_client_current_url(c));
    return slio_http_status_to_errno(status);
}
