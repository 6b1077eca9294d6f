/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libslio/http_server.c over 127.0.0.1 with an ephemeral port, driven by a
 * raw-socket peer so that malformed and oversized requests are exactly what
 * the test says: routing (params, query, 404/405 bodies), the body cap (413
 * before the handler, a close for chunked), MHD's own bounds (garbage, long
 * URL, long headers), per-address and total connection caps, the idle
 * timeout, a blocked handler not stalling a health check, no fd leaked,
 * the constant-time bearer check, the per-peer rate limit (429 before routing).
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_test_peer.h"
#include "slio/http_server.h"
#include "slio/json.h"

static atomic_int n_handled;
static atomic_int header_result = 1, good_header_result = 1; /* no cmocka asserts in handlers */

static void get_health(const struct slio_http_request *req, struct slio_http_response *resp,
                       void *ctx)
{
    (void)req;
    (void)ctx;
    atomic_fetch_add(&n_handled, 1);
    slio_http_respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static void get_volume(const struct slio_http_request *req, struct slio_http_response *resp,
                       void *ctx)
{
    atomic_fetch_add(&n_handled, 1);
    atomic_store(&header_result, slio_http_response_header(resp, "X-Bad", "a\r\nSet-Cookie: x"));
    atomic_store(&good_header_result, slio_http_response_header(resp, "X-Volume", "yes"));
    slio_http_respond_json(
        resp, 200,
        json_pack("{s:s, s:s*, s:s*, s:s*, s:s*, s:s, s:s, s:s*, s:s}", "id",
                  slio_http_path_param(req, "id"), "nope", slio_http_path_param(req, "nope"), "x",
                  slio_http_query(req, "x"), "flag", slio_http_query(req, "flag"), "token",
                  slio_http_bearer(req), "peer", slio_http_peer(req), "path", slio_http_path(req),
                  "agent", slio_http_header(req, "user-agent"), "ctx", (const char *)ctx));
}

static void post_expand(const struct slio_http_request *req, struct slio_http_response *resp,
                        void *ctx)
{
    size_t len;
    const char *body = slio_http_body(req, &len);
    json_t *j = NULL;
    struct slio_err err = {{0}};

    (void)ctx;
    atomic_fetch_add(&n_handled, 1);
    if (slio_json_loadb(body, len, 1 << 20, &j, &err) < 0) {
        slio_http_respond_error(resp, 400, "invalid_argument", "body: %s", err.text);
        return;
    }
    slio_http_respond_json(resp, 200,
                           json_pack("{s:s, s:o, s:I}", "id", slio_http_path_param(req, "id"),
                                     "got", j, "len", (json_int_t)len));
}

static void no_response(const struct slio_http_request *req, struct slio_http_response *resp,
                        void *ctx)
{
    (void)req;
    (void)resp;
    (void)ctx;
    atomic_fetch_add(&n_handled, 1);
}

static void not_leader(const struct slio_http_request *req, struct slio_http_response *resp,
                       void *ctx)
{
    (void)req;
    (void)ctx;
    slio_http_respond_text(resp, 200, "text/plain", strdup("overwritten"), 11);
    slio_http_respond_not_leader(resp, "http://127.0.0.9:8360");
}

/* A handler that blocks until the test opens the gate. */
static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cond = PTHREAD_COND_INITIALIZER;
static bool slow_started, slow_release;

static void get_slow(const struct slio_http_request *req, struct slio_http_response *resp,
                     void *ctx)
{
    struct timespec deadline;

    (void)req;
    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&slow_lock);
    slow_started = true;
    pthread_cond_broadcast(&slow_cond);
    while (!slow_release && pthread_cond_timedwait(&slow_cond, &slow_lock, &deadline) == 0)
        ;
    pthread_mutex_unlock(&slow_lock);
    slio_http_respond_text(resp, 200, "text/plain", strdup("slow"), 4);
}

static void bad_status(const struct slio_http_request *req, struct slio_http_response *resp,
                       void *ctx)
{
    (void)req;
    (void)ctx;
    slio_http_respond_json(resp, 1234, json_object());
}

/* 200 only for the exact bearer token "s3cret-token-0123" (slio_http_bearer_is). */
static void get_guarded(const struct slio_http_request *req, struct slio_http_response *resp,
                        void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&n_handled, 1);
    if (slio_http_bearer_is(req, "s3cret-token-0123"))
        slio_http_respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
    else
        slio_http_respond_error(resp, 401, "unauthenticated", "wrong token");
}

static const struct slio_http_route routes[] = {
    {"GET", "/v1/guarded", get_guarded},
    {"GET", "/v1/health", get_health},
    {"GET", "/v1/volumes/{id}", get_volume},
    {"DELETE", "/v1/volumes/{id}", get_volume},
    {"POST", "/v1/volumes/{id}/expand", post_expand},
    {"GET", "/v1/noresp", no_response},
    {"GET", "/v1/badstatus", bad_status},
    {"GET", "/v1/leader", not_leader},
    {"GET", "/v1/slow", get_slow},
};

static struct slio_http_server *start(unsigned per_ip, unsigned total, unsigned idle_s)
{
    struct slio_http_server_opts o = {
        .max_body = 1000,
        .max_connections = total,
        .max_connections_per_ip = per_ip,
        .idle_timeout_s = idle_s,
        .routes = routes,
        .n_routes = SLIO_ARRAY_SIZE(routes),
        .ctx = "the-ctx",
    };
    struct slio_http_server *s = NULL;
    struct slio_err err = {{0}};

    assert_int_equal(slio_http_server_start(&o, &s, &err), 0);
    assert_true(slio_http_server_port(s) > 0);
    return s;
}

static json_t *get_json(uint16_t port, const char *req, unsigned want_status)
{
    char *resp = peer_exchange(port, req, strlen(req));
    json_t *j;

    assert_non_null(resp);
    assert_int_equal(peer_status(resp), want_status);
    assert_non_null(strstr(resp, "Content-Type: application/json"));
    j = json_loads(peer_body(resp), 0, NULL);
    assert_non_null(j);
    free(resp);
    return j;
}

static void assert_error_code(json_t *j, const char *code)
{
    const char *got = json_string_value(json_object_get(json_object_get(j, "error"), "code"));

    assert_non_null(got);
    assert_string_equal(got, code);
    assert_true(json_is_string(json_object_get(json_object_get(j, "error"), "message")));
}

static void test_routes_params_query_headers(void **state)
{
    struct slio_http_server *s = start(0, 0, 0);
    uint16_t port = slio_http_server_port(s);
    json_t *j;

    (void)state;
    j = get_json(port,
                 "GET /v1/volumes/pvc%201?x=a%26b&flag HTTP/1.1\r\nHost: x\r\n"
                 "Authorization: Bearer  tok-1\r\nUser-Agent: t/1\r\nConnection: close\r\n\r\n",
                 200);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "pvc 1");
    assert_null(json_object_get(j, "nope"));
    assert_string_equal(json_string_value(json_object_get(j, "x")), "a&b");
    assert_string_equal(json_string_value(json_object_get(j, "flag")), "");
    assert_string_equal(json_string_value(json_object_get(j, "token")), "tok-1");
    assert_string_equal(json_string_value(json_object_get(j, "peer")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/v1/volumes/pvc 1");
    assert_string_equal(json_string_value(json_object_get(j, "agent")), "t/1");
    assert_string_equal(json_string_value(json_object_get(j, "ctx")), "the-ctx");
    assert_int_equal(atomic_load(&header_result), -EINVAL); /* CR/LF refused */
    assert_int_equal(atomic_load(&good_header_result), 0);
    json_decref(j);

    /* no bearer, a scheme that is not Bearer */
    j = get_json(port,
                 "GET /v1/volumes/a HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eDp5\r\n"
                 "Connection: close\r\n\r\n",
                 200);
    assert_null(json_object_get(j, "token"));
    assert_null(json_object_get(j, "x"));
    json_decref(j);
    slio_http_server_stop(s);
}

static void test_404_405_and_handler_errors(void **state)
{
    struct slio_http_server *s = start(0, 0, 0);
    uint16_t port = slio_http_server_port(s);
    int before = atomic_load(&n_handled);
    char *resp;
    json_t *j;

    (void)state;
    j = get_json(port, "GET /v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404);
    assert_error_code(j, "not_found");
    json_decref(j);
    /* a trailing slash, an empty parameter, an extra segment: no match */
    json_decref(
        get_json(port, "GET /v1/health/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404));
    json_decref(
        get_json(port, "GET /v1/volumes/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404));
    json_decref(get_json(
        port, "GET /v1/volumes/a/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404));

    const char *put = "PUT /v1/volumes/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    resp = peer_exchange(port, put, strlen(put));
    assert_int_equal(peer_status(resp), 405);
    assert_non_null(strstr(resp, "Allow: GET, DELETE\r\n"));
    j = json_loads(peer_body(resp), 0, NULL);
    assert_error_code(j, "invalid_argument");
    json_decref(j);
    free(resp);
    assert_int_equal(atomic_load(&n_handled), before);

    j = get_json(port, "GET /v1/noresp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 500);
    assert_error_code(j, "internal");
    json_decref(j);

    j = get_json(port, "GET /v1/badstatus HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 500);
    assert_error_code(j, "internal");
    json_decref(j);

    j = get_json(port, "GET /v1/leader HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 503);
    assert_error_code(j, "not_leader");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "leader")),
                        "http://127.0.0.9:8360");
    json_decref(j);
    slio_http_server_stop(s);
}

static void test_body_and_its_cap(void **state)
{
    struct slio_http_server *s = start(0, 0, 0);
    uint16_t port = slio_http_server_port(s);
    char req[4096];
    char big[1200];
    int before;
    char *resp;
    json_t *j;
    bool closed;

    (void)state;
    snprintf(req, sizeof(req),
             "POST /v1/volumes/v1/expand HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n"
             "Connection: close\r\n\r\n{\"size\": \"10Gi\"}");
    j = get_json(port, req, 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "got"), "size")),
                        "10Gi");
    assert_int_equal(json_integer_value(json_object_get(j, "len")), 16);
    json_decref(j);

    /* exactly at the cap (1000 bytes) passes */
    memset(big, ' ', sizeof(big));
    big[0] = '1';
    snprintf(req, sizeof(req),
             "POST /v1/volumes/v1/expand HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
             "Connection: close\r\n\r\n%.1000s",
             big);
    json_decref(get_json(port, req, 200));

    /* one byte over, announced: 413 without reading it or calling the handler */
    before = atomic_load(&n_handled);
    j = get_json(port,
                 "POST /v1/volumes/v1/expand HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n"
                 "Connection: close\r\n\r\n",
                 413);
    assert_error_code(j, "too_large");
    json_decref(j);
    /* beyond 2^64: libmicrohttpd's own 413 (HTML) */
    const char *absurd = "POST /v1/volumes/v1/expand HTTP/1.1\r\nHost: x\r\n"
                         "Content-Length: 99999999999999999999\r\nConnection: close\r\n\r\n";
    resp = peer_exchange(port, absurd, strlen(absurd));
    assert_int_equal(peer_status(resp), 413);
    free(resp);

    /* chunked, growing past the cap: the connection is closed, no handler */
    int fd = peer_connect(port);
    snprintf(req, sizeof(req),
             "POST /v1/volumes/v1/expand HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "Connection: close\r\n\r\n4b0\r\n%.1200s\r\n0\r\n\r\n",
             big);
    assert_true(peer_send(fd, req, strlen(req)));
    resp = peer_read_all(fd, &closed);
    assert_true(closed);
    assert_int_equal(peer_status(resp), 0);
    free(resp);
    close(fd);
    assert_int_equal(atomic_load(&n_handled), before);
    slio_http_server_stop(s);
}

static void test_malformed_and_oversized_requests(void **state)
{
    struct slio_http_server *s = start(0, 0, 0);
    uint16_t port = slio_http_server_port(s);
    int before = atomic_load(&n_handled);
    size_t huge = 100 << 10;
    char *req = malloc(huge + 256);
    char *resp;
    unsigned status;

    (void)state;
    resp = peer_exchange(port, "GARBAGE\r\n\r\n", 11);
    status = peer_status(resp);
    assert_true(status == 400 || status == 0); /* MHD answers 400 or hangs up */
    free(resp);
    resp = peer_exchange(port, "GET /v1/health HTTP/1.1\r\nBad Header\r\n\r\n", 39);
    assert_int_equal(peer_status(resp), 400);
    free(resp);

    /* a 100 KiB URL: over the 64 KiB for request line + headers */
    memcpy(req, "GET /v1/volumes/", 16);
    memset(req + 16, 'a', huge);
    const char *tail = " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    memcpy(req + 16 + huge, tail, strlen(tail));
    resp = peer_exchange(port, req, 16 + huge + strlen(tail));
    assert_int_equal(peer_status(resp), 414);
    free(resp);

    /* a 100 KiB header */
    int n = snprintf(req, 256, "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + n, 'b', huge);
    tail = "\r\nConnection: close\r\n\r\n";
    memcpy(req + n + huge, tail, strlen(tail));
    resp = peer_exchange(port, req, (size_t)n + huge + strlen(tail));
    assert_int_equal(peer_status(resp), 431);
    free(resp);
    free(req);
    assert_int_equal(atomic_load(&n_handled), before);

    /* the server is still fine */
    json_decref(
        get_json(port, "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200));
    slio_http_server_stop(s);
}

/* Two connections are held open; a third from the same address is closed at once. */
static void check_third_connection_refused(uint16_t port)
{
    const char *get = "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int a = peer_connect(port), b = peer_connect(port), c;
    char *resp;
    bool closed;

    assert_true(a >= 0 && b >= 0);
    /* a first byte on each, so both are surely accepted before the third connects */
    assert_true(peer_send(a, "G", 1));
    assert_true(peer_send(b, "G", 1));
    c = peer_connect(port);
    assert_true(c >= 0);
    peer_send(c, get, strlen(get));
    resp = peer_read_all(c, &closed);
    assert_true(closed);
    assert_int_equal(peer_status(resp), 0);
    free(resp);
    close(c);

    /* the two held ones are served */
    assert_true(peer_send(a, get + 1, strlen(get) - 1));
    resp = peer_read_all(a, &closed);
    assert_int_equal(peer_status(resp), 200);
    free(resp);
    assert_true(peer_send(b, get + 1, strlen(get) - 1));
    resp = peer_read_all(b, &closed);
    assert_int_equal(peer_status(resp), 200);
    free(resp);
    close(a);
    close(b);
}

static void test_per_ip_connection_cap(void **state)
{
    struct slio_http_server *s = start(2, 0, 0);

    (void)state;
    check_third_connection_refused(slio_http_server_port(s));
    slio_http_server_stop(s);
}

static void test_total_connection_cap(void **state)
{
    struct slio_http_server *s = start(0, 2, 0);

    (void)state;
    check_third_connection_refused(slio_http_server_port(s));
    slio_http_server_stop(s);
}

static void test_idle_connection_is_closed(void **state)
{
    struct slio_http_server *s = start(0, 0, 1);
    int fd = peer_connect(slio_http_server_port(s));
    int64_t t0 = peer_now_ms();
    bool closed;
    char *resp;

    (void)state;
    assert_true(fd >= 0);
    assert_true(peer_send(fd, "GET /v1/hea", 11)); /* and then nothing */
    resp = peer_read_all(fd, &closed);
    assert_true(closed);
    assert_true(peer_now_ms() - t0 >= 900);
    assert_true(peer_now_ms() - t0 < PEER_DEADLINE_MS);
    free(resp);
    close(fd);
    slio_http_server_stop(s);
}

static void test_blocked_handler_does_not_stall_health(void **state)
{
    struct slio_http_server *s = start(0, 0, 0);
    uint16_t port = slio_http_server_port(s);
    const char *slow = "GET /v1/slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int fd = peer_connect(port);
    struct timespec deadline;
    bool closed;
    char *resp;

    (void)state;
    assert_true(peer_send(fd, slow, strlen(slow)));
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&slow_lock);
    while (!slow_started && pthread_cond_timedwait(&slow_cond, &slow_lock, &deadline) == 0)
        ;
    assert_true(slow_started);
    pthread_mutex_unlock(&slow_lock);

    for (int i = 0; i < 8; i++) /* more requests than the old 4-thread pool had */
        json_decref(
            get_json(port, "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200));

    pthread_mutex_lock(&slow_lock);
    slow_release = true;
    pthread_cond_broadcast(&slow_cond);
    pthread_mutex_unlock(&slow_lock);
    resp = peer_read_all(fd, &closed);
    assert_int_equal(peer_status(resp), 200);
    assert_string_equal(peer_body(resp), "slow");
    free(resp);
    close(fd);
    slio_http_server_stop(s);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void test_start_errors_and_no_fd_leak(void **state)
{
    int fds = count_fds();
    struct slio_http_server *a = start(0, 0, 0), *b = NULL;
    struct slio_http_server_opts o = {.port = slio_http_server_port(a)};
    struct slio_http_route bad_route = {"GET", "v1/x", get_health};
    struct slio_err err = {{0}};

    (void)state;
    assert_int_equal(slio_http_server_start(&o, &b, &err), -EADDRINUSE);
    assert_non_null(strstr(err.text, "Address already in use"));
    assert_null(b);

    o = (struct slio_http_server_opts){.routes = &bad_route, .n_routes = 1};
    assert_int_equal(slio_http_server_start(&o, &b, &err), -EINVAL);
    o = (struct slio_http_server_opts){.tls_cert_file = "/nonexistent.pem"};
    assert_int_equal(slio_http_server_start(&o, &b, &err), -EINVAL);
    o = (struct slio_http_server_opts){.tls_cert_file = "/nonexistent.pem",
                                       .tls_key_file = "/nonexistent.key"};
    assert_int_equal(slio_http_server_start(&o, &b, &err), -EINVAL);
    assert_non_null(strstr(err.text, "/nonexistent.pem"));
    o = (struct slio_http_server_opts){.address = "not-an-address"};
    assert_int_equal(slio_http_server_start(&o, &b, &err), -EINVAL);
    assert_null(b);

    slio_http_server_stop(a);
    slio_http_server_stop(NULL);
    assert_int_equal(count_fds(), fds);
}

static void test_bearer_is_exact(void **state)
{
    static const struct {
        const char *auth; /* the Authorization header, NULL = none */
        unsigned status;
    } rows[] = {
        {NULL, 401},
        {"Bearer s3cret-token-0123", 200},
        {"bearer   s3cret-token-0123", 200},
        {"Bearer s3cret-token-012", 401},
        {"Bearer s3cret-token-01234", 401},
        {"Bearer S3cret-token-0123", 401},
        {"Bearer ", 401},
        {"Basic s3cret-token-0123", 401},
    };
    struct slio_http_server *s = start(0, 0, 0);

    (void)state;
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(rows); i++) {
        char req[256];
        snprintf(req, sizeof(req),
                 "GET /v1/guarded HTTP/1.1\r\nHost: x\r\n%s%s%sConnection: close\r\n\r\n",
                 rows[i].auth ? "Authorization: " : "", rows[i].auth ? rows[i].auth : "",
                 rows[i].auth ? "\r\n" : "");
        json_decref(get_json(slio_http_server_port(s), req, rows[i].status));
    }
    slio_http_server_stop(s);
}

static void test_rate_limit_per_peer(void **state)
{
    struct slio_http_server_opts o = {
        .rate_per_s = 0.5, /* one token every 2 s: none comes back during the test */
        .rate_burst = 3,
        .routes = routes,
        .n_routes = SLIO_ARRAY_SIZE(routes),
    };
    const char *health = "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const char *unknown = "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    struct slio_http_server_stats st;
    struct slio_http_server *s = NULL;
    struct slio_err err = {{0}};
    uint16_t port;
    char *resp;
    json_t *j;
    int before;

    (void)state;
    assert_int_equal(slio_http_server_start(&o, &s, &err), 0);
    port = slio_http_server_port(s);
    before = atomic_load(&n_handled);
    json_decref(get_json(port, health, 200));
    json_decref(get_json(port, unknown, 404)); /* an unknown path costs a token too */
    json_decref(get_json(port, health, 200));
    resp = peer_exchange(port, health, strlen(health));
    assert_non_null(resp);
    assert_int_equal(peer_status(resp), 429);
    assert_non_null(strstr(resp, "Retry-After: 2\r\n"));
    j = json_loads(peer_body(resp), 0, NULL);
    assert_error_code(j, "rate_limited");
    json_decref(j);
    free(resp);
    assert_int_equal(atomic_load(&n_handled) - before, 2); /* the handler never saw the 429 */
    slio_http_server_stats(s, &st);
    assert_int_equal(st.rate_limited, 1);
    assert_int_equal(st.tls_reloads, 0);
    slio_http_server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_params_query_headers),
        cmocka_unit_test(test_404_405_and_handler_errors),
        cmocka_unit_test(test_body_and_its_cap),
        cmocka_unit_test(test_malformed_and_oversized_requests),
        cmocka_unit_test(test_per_ip_connection_cap),
        cmocka_unit_test(test_total_connection_cap),
        cmocka_unit_test(test_idle_connection_is_closed),
        cmocka_unit_test(test_blocked_handler_does_not_stall_health),
        cmocka_unit_test(test_start_errors_and_no_fd_leak),
        cmocka_unit_test(test_bearer_is_exact),
        cmocka_unit_test(test_rate_limit_per_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
