/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libslio/http_client.c against libslio/http_server.c on 127.0.0.1 with
 * ephemeral ports: JSON both ways, the bearer token, leader following across
 * servers that answer 503 not_leader, once round the list, body caps on
 * both sides, a refused connection failing fast, the deadline, a body that is
 * not JSON, many threads on one client, TLS with a certificate made here by
 * openssl (which must exist: the test fails without it).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "http_test_peer.h"
#include "slio/exec.h"
#include "slio/http_client.h"
#include "slio/http_server.h"
#include "slio/json.h"

/* Each server knows its name and, when a standby, what to say about the leader. */
struct server_ctx {
    const char *name;
    bool standby;
    const char *leader; /* the "leader" member of not_leader, or NULL */
    atomic_int hits;
};

static void echo(const struct slio_http_request *req, struct slio_http_response *resp, void *ctx)
{
    struct server_ctx *sc = ctx;
    size_t len;
    const char *body = slio_http_body(req, &len);
    json_t *j = NULL;

    atomic_fetch_add(&sc->hits, 1);
    if (sc->standby) {
        slio_http_respond_not_leader(resp, sc->leader);
        return;
    }
    if (len > 0 && slio_json_loadb(body, len, 1 << 20, &j, NULL) < 0) {
        slio_http_respond_error(resp, 400, "invalid_argument", "body is not JSON");
        return;
    }
    slio_http_respond_json(resp, 200,
                           json_pack("{s:s, s:s, s:s*, s:o*, s:s*}", "server", sc->name, "method",
                                     slio_http_method(req), "token", slio_http_bearer(req), "body",
                                     j, "q", slio_http_query(req, "q")));
}

static void big(const struct slio_http_request *req, struct slio_http_response *resp, void *ctx)
{
    size_t n = 5000;
    char *text = malloc(n);

    (void)req;
    (void)ctx;
    memset(text, ' ', n);
    text[0] = '7';
    slio_http_respond_text(resp, 200, "application/json", text, n);
}

static void not_json(const struct slio_http_request *req, struct slio_http_response *resp,
                     void *ctx)
{
    (void)req;
    (void)ctx;
    slio_http_respond_text(resp, 200, "text/plain", strdup("hello"), 5);
}

static void missing(const struct slio_http_request *req, struct slio_http_response *resp, void *ctx)
{
    (void)ctx;
    slio_http_respond_error(resp, 404, "not_found", "volume \"%s\" does not exist",
                            slio_http_path_param(req, "id"));
}

/* Blocks until the test releases it (or 10 s pass). */
static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cond = PTHREAD_COND_INITIALIZER;
static bool slow_release;

static void slow(const struct slio_http_request *req, struct slio_http_response *resp, void *ctx)
{
    struct timespec deadline;

    (void)req;
    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&slow_lock);
    while (!slow_release && pthread_cond_timedwait(&slow_cond, &slow_lock, &deadline) == 0)
        ;
    pthread_mutex_unlock(&slow_lock);
    slio_http_respond_json(resp, 200, json_object());
}

static const struct slio_http_route routes[] = {
    {"GET", "/v1/echo", echo},        {"POST", "/v1/echo", echo},
    {"DELETE", "/v1/echo", echo},     {"GET", "/v1/big", big},
    {"GET", "/v1/notjson", not_json}, {"GET", "/v1/volumes/{id}", missing},
    {"GET", "/v1/slow", slow},
};

static struct slio_http_server *serve(struct server_ctx *sc, const char *cert, const char *key)
{
    struct slio_http_server_opts o = {
        .max_body = 1000,
        .routes = routes,
        .n_routes = SLIO_ARRAY_SIZE(routes),
        .ctx = sc,
        .tls_cert_file = cert,
        .tls_key_file = key,
    };
    struct slio_http_server *s = NULL;
    struct slio_err err = {{0}};

    assert_int_equal(slio_http_server_start(&o, &s, &err), 0);
    return s;
}

static char *url_of(const struct slio_http_server *s, const char *scheme)
{
    char *u = NULL;

    assert_true(asprintf(&u, "%s://127.0.0.1:%u", scheme, slio_http_server_port(s)) > 0);
    return u;
}

static struct slio_http_client *client_for(const char *const *urls, size_t n, size_t max_response,
                                           const char *ca)
{
    struct slio_http_client_opts o = {.urls = urls,
                                      .n_urls = n,
                                      .token = "tok-9",
                                      .timeout_ms = 5000,
                                      .max_response = max_response,
                                      .ca_file = ca};
    struct slio_http_client *c = NULL;
    struct slio_err err = {{0}};

    assert_int_equal(slio_http_client_new(&o, &c, &err), 0);
    return c;
}

/* A port nobody listens on: bind one, note it, close it. */
static uint16_t closed_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_json_both_ways_with_token(void **state)
{
    struct server_ctx sc = {.name = "a"};
    struct slio_http_server *s = serve(&sc, NULL, NULL);
    char *u = url_of(s, "http");
    const char *urls[] = {u};
    struct slio_http_client *c = client_for(urls, 1, 0, NULL);
    json_t *req = json_pack("{s:s, s:i}", "name", "pvc-1", "size", 10);
    json_t *resp = NULL;
    unsigned status = 0;
    struct slio_err err = {{0}};
    char *q = slio_http_escape("a b&c/d");
    char path[128];

    (void)state;
    assert_string_equal(q, "a%20b%26c%2Fd");
    snprintf(path, sizeof(path), "/v1/echo?q=%s", q);
    assert_int_equal(slio_http_call(c, "POST", path, req, &status, &resp, &err), 0);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(resp, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(resp, "token")), "tok-9");
    assert_string_equal(json_string_value(json_object_get(resp, "q")), "a b&c/d");
    assert_true(json_equal(json_object_get(resp, "body"), req));
    json_decref(resp);

    assert_int_equal(slio_http_call_ok(c, "DELETE", "/v1/echo", NULL, &resp, &err), 0);
    assert_string_equal(json_string_value(json_object_get(resp, "method")), "DELETE");
    assert_null(json_object_get(resp, "body"));
    json_decref(resp);
    assert_int_equal(slio_http_call_ok(c, "GET", "/v1/echo", NULL, NULL, &err), 0);

    /* errors folded into errno + "code: message" */
    resp = NULL;
    assert_int_equal(slio_http_call_ok(c, "GET", "/v1/volumes/v9", NULL, &resp, &err), -ENOENT);
    assert_string_equal(err.text, "not_found: volume \"v9\" does not exist");
    assert_null(resp);
    assert_int_equal(slio_http_call_ok(c, "PUT", "/v1/echo", NULL, NULL, &err), -EINVAL); /* 405 */
    assert_int_equal(slio_http_call(c, "GET", "/v1/notjson", NULL, &status, &resp, &err), -EBADMSG);
    assert_non_null(strstr(err.text, "not JSON"));

    /* requests we refuse to send */
    assert_int_equal(slio_http_call(c, "GET", "v1/echo", NULL, &status, &resp, &err), -EINVAL);
    assert_int_equal(slio_http_call(c, "GET", "/v1/e cho", NULL, &status, &resp, &err), -EINVAL);
    assert_int_equal(slio_http_call(c, "GE\nT", "/v1/echo", NULL, &status, &resp, &err), -EINVAL);
    assert_null(resp);

    free(q);
    json_decref(req);
    slio_http_client_free(c);
    slio_http_server_stop(s);
    free(u);
}

static void test_leader_following(void **state)
{
    struct server_ctx la = {.name = "leader"};
    struct slio_http_server *leader = serve(&la, NULL, NULL);
    char *lu = url_of(leader, "http");
    struct server_ctx sa = {.name = "standby-a", .standby = true, .leader = lu};
    struct server_ctx sb = {.name = "standby-b", .standby = true}; /* knows no leader */
    struct slio_http_server *a = serve(&sa, NULL, NULL), *b = serve(&sb, NULL, NULL);
    char *au = url_of(a, "http"), *bu = url_of(b, "http");
    const char *urls[] = {au, bu, lu};
    struct slio_http_client *c = client_for(urls, 3, 0, NULL);
    json_t *resp = NULL;
    struct slio_err err = {{0}};

    (void)state;
    /* a names the leader: b is skipped */
    assert_int_equal(slio_http_call_ok(c, "GET", "/v1/echo", NULL, &resp, &err), 0);
    assert_string_equal(json_string_value(json_object_get(resp, "server")), "leader");
    json_decref(resp);
    assert_int_equal(atomic_load(&sa.hits), 1);
    assert_int_equal(atomic_load(&sb.hits), 0);
    assert_string_equal(slio_http_client_current_url(c), lu);

    /* remembered: the next call goes straight to the leader */
    assert_int_equal(slio_http_call_ok(c, "GET", "/v1/echo", NULL, NULL, &err), 0);
    assert_int_equal(atomic_load(&sa.hits), 1);
    assert_int_equal(atomic_load(&la.hits), 2);

    /* the leader steps down, b... no one leads: once round the list, then the 503 */
    la.standby = true;
    unsigned status = 0;
    assert_int_equal(slio_http_call(c, "GET", "/v1/echo", NULL, &status, &resp, &err), 0);
    assert_int_equal(status, 503);
    assert_string_equal(json_string_value(json_object_get(json_object_get(resp, "error"), "code")),
                        "not_leader");
    json_decref(resp);
    assert_int_equal(atomic_load(&la.hits), 3);
    assert_int_equal(atomic_load(&sa.hits), 2);
    assert_int_equal(atomic_load(&sb.hits), 1);
    assert_int_equal(slio_http_call_ok(c, "GET", "/v1/echo", NULL, NULL, &err), -EAGAIN);
    assert_non_null(strstr(err.text, "not_leader"));

    /* b becomes leader; a still points at the old one (tried already): the list goes on */
    sb.standby = false;
    la.standby = false;
    sa.leader = "http://10.9.9.9:1"; /* not configured: never followed */
    slio_http_client_free(c);
    c = client_for(urls, 3, 0, NULL);
    assert_int_equal(slio_http_call_ok(c, "GET", "/v1/echo", NULL, &resp, &err), 0);
    assert_string_equal(json_string_value(json_object_get(resp, "server")), "standby-b");
    json_decref(resp);
    assert_string_equal(slio_http_client_current_url(c), bu);

    slio_http_client_free(c);
    slio_http_server_stop(a);
    slio_http_server_stop(b);
    slio_http_server_stop(leader);
    free(au);
    free(bu);
    free(lu);
}

static void test_refused_is_fast_and_skipped(void **state)
{
    struct server_ctx sc = {.name = "up"};
    struct slio_http_server *s = serve(&sc, NULL, NULL);
    char *up = url_of(s, "http"), *down = NULL;
    struct slio_http_client *c;
    struct slio_err err = {{0}};
    unsigned status;
    json_t *resp = NULL;
    int64_t t0;

    (void)state;
    assert_true(asprintf(&down, "http://127.0.0.1:%u/", closed_port()) > 0);
    const char *only_down[] = {down};
    c = client_for(only_down, 1, 0, NULL);
    t0 = peer_now_ms();
    assert_int_equal(slio_http_call(c, "GET", "/v1/echo", NULL, &status, &resp, &err),
                     -ECONNREFUSED);
    assert_true(peer_now_ms() - t0 < 1000);
    assert_non_null(strstr(err.text, "127.0.0.1"));
    assert_null(resp);
    slio_http_client_free(c);

    const char *down_then_up[] = {down, up};
    c = client_for(down_then_up, 2, 0, NULL);
    assert_int_equal(slio_http_call_ok(c, "GET", "/v1/echo", NULL, NULL, &err), 0);
    assert_string_equal(slio_http_client_current_url(c), up);
    slio_http_client_free(c);
    slio_http_server_stop(s);
    free(up);
    free(down);
}

static void test_body_caps_both_sides(void **state)
{
    struct server_ctx sc = {.name = "a"};
    struct slio_http_server *s = serve(&sc, NULL, NULL);
    char *u = url_of(s, "http");
    const char *urls[] = {u};
    struct slio_http_client *c = client_for(urls, 1, 1000, NULL);
    char *blob = calloc(1, 2001);
    json_t *req, *resp = NULL;
    struct slio_err err = {{0}};
    unsigned status;

    (void)state;
    /* the server's cap (1000 bytes): 413, folded into -EMSGSIZE */
    memset(blob, 'x', 2000);
    req = json_pack("{s:s}", "blob", blob);
    assert_int_equal(slio_http_call_ok(c, "POST", "/v1/echo", req, NULL, &err), -EMSGSIZE);
    assert_non_null(strstr(err.text, "too_large"));
    assert_int_equal(atomic_load(&sc.hits), 0);

    /* the client's cap (1000 bytes) against a 5000-byte answer */
    assert_int_equal(slio_http_call(c, "GET", "/v1/big", NULL, &status, &resp, &err), -EMSGSIZE);
    assert_null(resp);
    slio_http_client_free(c);
    c = client_for(urls, 1, 5000, NULL);
    assert_int_equal(slio_http_call(c, "GET", "/v1/big", NULL, &status, &resp, &err), 0);
    assert_int_equal(json_integer_value(resp), 7);
    json_decref(resp);

    json_decref(req);
    free(blob);
    slio_http_client_free(c);
    slio_http_server_stop(s);
    free(u);
}

static void test_deadline(void **state)
{
    struct server_ctx sc = {.name = "a"};
    struct slio_http_server *s = serve(&sc, NULL, NULL);
    char *u = url_of(s, "http");
    const char *urls[] = {u};
    struct slio_http_client_opts o = {.urls = urls, .n_urls = 1, .timeout_ms = 300};
    struct slio_http_client *c = NULL;
    struct slio_err err = {{0}};
    unsigned status;
    json_t *resp = NULL;
    int64_t t0;

    (void)state;
    assert_int_equal(slio_http_client_new(&o, &c, &err), 0);
    t0 = peer_now_ms();
    assert_int_equal(slio_http_call(c, "GET", "/v1/slow", NULL, &status, &resp, &err), -ETIMEDOUT);
    assert_true(peer_now_ms() - t0 >= 250);
    assert_true(peer_now_ms() - t0 < 3000);
    pthread_mutex_lock(&slow_lock);
    slow_release = true;
    pthread_cond_broadcast(&slow_cond);
    pthread_mutex_unlock(&slow_lock);
    slio_http_client_free(c);
    slio_http_server_stop(s);
    free(u);
}

struct worker {
    struct slio_http_client *c;
    int ok;
};

static void *call_many(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < 25; i++)
        if (slio_http_call_ok(w->c, "GET", "/v1/echo", NULL, NULL, NULL) == 0)
            w->ok++;
    return NULL;
}

static void test_threads_share_a_client(void **state)
{
    struct server_ctx sc = {.name = "a"};
    struct slio_http_server *s = serve(&sc, NULL, NULL);
    char *u = url_of(s, "http");
    const char *urls[] = {u};
    struct slio_http_client *c = client_for(urls, 1, 0, NULL);
    struct worker w[4];
    pthread_t t[4];

    (void)state;
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.c = c};
        assert_int_equal(pthread_create(&t[i], NULL, call_many, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].ok, 25);
    }
    assert_int_equal(atomic_load(&sc.hits), 100);
    slio_http_client_free(c);
    slio_http_server_stop(s);
    free(u);
}

static void test_bad_options(void **state)
{
    const char *ftp[] = {"ftp://127.0.0.1"};
    const char *spaced[] = {"http://127.0.0.1 :80"};
    const char *good[] = {"http://127.0.0.1:1"};
    struct slio_http_client_opts o = {.urls = ftp, .n_urls = 1};
    struct slio_http_client *c = NULL;
    struct slio_err err = {{0}};

    (void)state;
    assert_int_equal(slio_http_client_new(&o, &c, &err), -EINVAL);
    assert_non_null(strstr(err.text, "ftp://"));
    o.urls = spaced;
    assert_int_equal(slio_http_client_new(&o, &c, &err), -EINVAL);
    o.n_urls = 0;
    assert_int_equal(slio_http_client_new(&o, &c, &err), -EINVAL);
    o = (struct slio_http_client_opts){.urls = good, .n_urls = 1, .token = "a\r\nX-Evil: 1"};
    assert_int_equal(slio_http_client_new(&o, &c, &err), -EINVAL);
    assert_null(c);
    assert_int_equal(slio_http_status_to_errno(409), -EEXIST);
    assert_int_equal(slio_http_status_to_errno(401), -EACCES);
    assert_int_equal(slio_http_status_to_errno(418), -EINVAL);
    assert_int_equal(slio_http_status_to_errno(502), -EIO);
    slio_http_client_free(NULL);
}

/* --- TLS ---------------------------------------------------------------------------------- */

static void make_cert(const char *dir, char *cert, char *key, size_t size)
{
    struct slio_exec_result res = {0};
    struct slio_err err = {{0}};

    snprintf(cert, size, "%s/cert.pem", dir);
    snprintf(key, size, "%s/key.pem", dir);
    const char *argv[] = {"/usr/bin/openssl",
                          "req",
                          "-x509",
                          "-newkey",
                          "ec",
                          "-pkeyopt",
                          "ec_paramgen_curve:prime256v1",
                          "-nodes",
                          "-days",
                          "1",
                          "-subj",
                          "/CN=127.0.0.1",
                          "-addext",
                          "subjectAltName=IP:127.0.0.1",
                          "-keyout",
                          key,
                          "-out",
                          cert,
                          NULL};
    assert_int_equal(slio_exec(argv, &(struct slio_exec_opts){.timeout_ms = 30000}, &res, &err), 0);
    if (!slio_exec_succeeded(&res))
        fail_msg("openssl req failed: %s", res.err);
    slio_exec_result_free(&res);
}

static void test_tls(void **state)
{
    char dir[] = "/tmp/slio-http-tls-XXXXXX", cert[128], key[128];
    struct server_ctx sc = {.name = "tls"};
    struct slio_http_server *s;
    struct slio_http_client *c;
    struct slio_err err = {{0}};
    json_t *resp = NULL;
    char *u;

    (void)state;
    assert_non_null(mkdtemp(dir));
    make_cert(dir, cert, key, sizeof(cert));
    s = serve(&sc, cert, key);
    u = url_of(s, "https");
    const char *urls[] = {u};

    c = client_for(urls, 1, 0, cert);
    json_t *empty = json_object();
    assert_int_equal(slio_http_call_ok(c, "POST", "/v1/echo", empty, &resp, &err), 0);
    json_decref(empty);
    assert_string_equal(json_string_value(json_object_get(resp, "token")), "tok-9");
    json_decref(resp);
    slio_http_client_free(c);

    /* a client that does not trust the certificate never sends the request */
    c = client_for(urls, 1, 0, "/etc/ssl/certs/ca-certificates.crt");
    assert_int_equal(slio_http_call_ok(c, "GET", "/v1/echo", NULL, NULL, &err), -EPROTO);
    assert_int_equal(atomic_load(&sc.hits), 1);
    slio_http_client_free(c);

    slio_http_server_stop(s);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_both_ways_with_token),
        cmocka_unit_test(test_leader_following),
        cmocka_unit_test(test_refused_is_fast_and_skipped),
        cmocka_unit_test(test_body_caps_both_sides),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_threads_share_a_client),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
