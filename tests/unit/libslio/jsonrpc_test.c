/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libslio/jsonrpc_client.c against an in-test server thread on a unix socket
 * that answers like SPDK (no newline, connection kept open) and misbehaves
 * on request: split writes, errors, oversized, garbage, early close, silence.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "slio/json.h"
#include "slio/jsonrpc.h"

enum scenario {
    SPLIT_RESULT,
    ERROR_RESPONSE,
    OVERSIZED,
    GARBAGE,
    EARLY_CLOSE,
    SILENT,
    WRONG_ID,
    TRAILING_NEWLINE,
};

static char sock_path[108];
static int listen_fd = -1;
static enum scenario scenario;
static pthread_t server;
static json_t *last_request;

/* No asserts in the server thread: the client may hang up early on purpose (oversized, garbage). */
static void send_str(int fd, const char *s)
{
    (void)!send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* Read one request (it is not newline-terminated either). */
static json_t *read_request(int fd)
{
    char buf[65536];
    size_t len = 0;

    for (;;) {
        ssize_t n = recv(fd, buf + len, sizeof(buf) - len, 0);
        if (n <= 0)
            return NULL;
        len += (size_t)n;
        json_t *j = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, NULL);
        if (j)
            return j;
    }
}

static void *serve_one(void *arg)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    char resp[512];
    if (fd < 0)
        return NULL;
    json_t *req = read_request(fd);
    if (!req) {
        close(fd);
        return NULL; /* the client's assertions will notice */
    }
    json_int_t id = json_integer_value(json_object_get(req, "id"));
    last_request = req;

    switch (scenario) {
    case SPLIT_RESULT:
        snprintf(resp, sizeof(resp),
                 "{\"jsonrpc\": \"2.0\", \"id\": %" JSON_INTEGER_FORMAT
                 ", \"result\": [{\"name\": \"Malloc0\", \"block_size\": 512}]}",
                 id);
        for (size_t off = 0, step = 7; off < strlen(resp); off += step) {
            char piece[8] = {0};
            memcpy(piece, resp + off, SLIO_MIN(step, strlen(resp) - off));
            send_str(fd, piece);
            usleep(2000);
        }
        break;
    case ERROR_RESPONSE:
        snprintf(resp, sizeof(resp),
                 "{\"jsonrpc\":\"2.0\",\"id\":%" JSON_INTEGER_FORMAT
                 ",\"error\":{\"code\":-32601,\"message\":\"Method not found\"}}",
                 id);
        send_str(fd, resp);
        break;
    case OVERSIZED: {
        snprintf(resp, sizeof(resp),
                 "{\"jsonrpc\":\"2.0\",\"id\":%" JSON_INTEGER_FORMAT ",\"result\":\"", id);
        send_str(fd, resp);
        char big[4096];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        send_str(fd, big);
        send_str(fd, "\"}");
        break;
    }
    case GARBAGE:
        send_str(fd, "HTTP/1.1 400 Bad Request\r\n\r\n");
        break;
    case EARLY_CLOSE:
        send_str(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"res");
        close(fd);
        return NULL;
    case SILENT:
        break;
    case WRONG_ID:
        snprintf(resp, sizeof(resp),
                 "{\"jsonrpc\":\"2.0\",\"id\":%" JSON_INTEGER_FORMAT ",\"result\":true}", id + 1);
        send_str(fd, resp);
        break;
    case TRAILING_NEWLINE:
        snprintf(resp, sizeof(resp),
                 "{\"jsonrpc\":\"2.0\",\"id\":%" JSON_INTEGER_FORMAT ",\"result\":true}\n", id);
        send_str(fd, resp);
        break;
    }
    /* like SPDK: keep the connection until the client goes away */
    char c;
    while (recv(fd, &c, 1, 0) > 0)
        ;
    close(fd);
    return NULL;
}

static void start(enum scenario s)
{
    scenario = s;
    json_decref(last_request);
    last_request = NULL;
    assert_int_equal(pthread_create(&server, NULL, serve_one, NULL), 0);
}

static int setup(void **state)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    snprintf(sock_path, sizeof(sock_path), "/tmp/slio-jsonrpc-test-%d.sock", (int)getpid());
    unlink(sock_path);
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(listen_fd >= 0);
    assert_int_equal(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(listen_fd, 4), 0);
    return 0;
}

static int teardown(void **state)
{
    close(listen_fd);
    unlink(sock_path);
    json_decref(last_request);
    return 0;
}

static void test_result_split(void **state)
{
    _cleanup_json_ json_t *params = json_pack("{s:s}", "name", "Malloc0");
    _cleanup_json_ json_t *result = NULL;
    char *msg = NULL;

    start(SPLIT_RESULT);
    assert_int_equal(slio_jsonrpc_call(sock_path, "bdev_get_bdevs", params, 5000, &result, &msg),
                     0);
    pthread_join(server, NULL);
    assert_null(msg);
    assert_true(json_is_array(result));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(result, 0), "block_size")),
                     512);
    /* the request the server saw */
    assert_string_equal(json_string_value(json_object_get(last_request, "jsonrpc")), "2.0");
    assert_string_equal(json_string_value(json_object_get(last_request, "method")),
                        "bdev_get_bdevs");
    assert_true(json_equal(json_object_get(last_request, "params"), params));

    start(TRAILING_NEWLINE);
    assert_int_equal(slio_jsonrpc_call(sock_path, "spdk_get_version", NULL, 5000, NULL, &msg), 0);
    pthread_join(server, NULL);
    assert_null(json_object_get(last_request, "params"));
}

static void expect_failure(enum scenario s, const struct slio_jsonrpc_opts *o, int want,
                           const char *text)
{
    json_t *result = (json_t *)0x1;
    int64_t code = 0;
    char *msg = NULL;

    start(s);
    int r = slio_jsonrpc_call_ex(sock_path, "m", NULL, o, &result, &code, &msg);
    pthread_join(server, NULL);
    if (r != want || !msg || !strstr(msg, text))
        fail_msg("scenario %d: got %d \"%s\", want %d \"%s\"", s, r, msg ? msg : "(null)", want,
                 text);
    assert_ptr_equal(result, (json_t *)0x1);
    if (want == -EREMOTEIO)
        assert_int_equal(code, SLIO_JSONRPC_METHOD_NOT_FOUND);
    free(msg);
}

static void test_failures(void **state)
{
    struct slio_jsonrpc_opts o = {.timeout_ms = 5000};

    expect_failure(ERROR_RESPONSE, &o, -EREMOTEIO, "Method not found (code -32601)");
    expect_failure(GARBAGE, &o, -EBADMSG, "not a JSON object");
    expect_failure(EARLY_CLOSE, &o, -ECONNRESET, "closed after 28 bytes");
    expect_failure(WRONG_ID, &o, -EBADMSG, "\"id\" does not match");
    o.max_response = 1000;
    expect_failure(OVERSIZED, &o, -EMSGSIZE, "larger than 1000 bytes");
    o.timeout_ms = 200;
    expect_failure(SILENT, &o, -ETIMEDOUT, "timed out");
}

static void test_connect_failures(void **state)
{
    char *msg = NULL;
    char long_path[200];

    assert_int_equal(slio_jsonrpc_call("/nonexistent/spdk.sock", "m", NULL, 100, NULL, &msg),
                     -ENOENT);
    assert_non_null(strstr(msg, "\"/nonexistent/spdk.sock\""));
    free(msg);
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[sizeof(long_path) - 1] = '\0';
    assert_int_equal(slio_jsonrpc_call(long_path, "m", NULL, 100, NULL, NULL), -ENAMETOOLONG);
}

static void test_parse_response(void **state)
{
    json_t *res = NULL;
    int64_t code = 0;
    char *msg = NULL;
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}} trailing", 0},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"resu", -EAGAIN},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"abc", -EAGAIN},
        {"", -EAGAIN},
        {"[1]", -EBADMSG},
        {"{\"id\":7,\"result\":1}", -EBADMSG},
        {"{\"jsonrpc\":\"1.0\",\"id\":7,\"result\":1}", -EBADMSG},
        {"{\"jsonrpc\":\"2.0\",\"id\":7}", -EBADMSG},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":1,\"error\":{}}", -EBADMSG},
        {"{\"jsonrpc\":\"2.0\",\"id\":\"7\",\"result\":1}", -EBADMSG},
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":1}", -EBADMSG},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":\"x\",\"message\":\"m\"}}", -EBADMSG},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":\"boom\"}", -EBADMSG},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"id\":7,\"result\":1}", -EBADMSG},
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse "
         "error\"}}",
         -EREMOTEIO},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-17,\"message\":\"File exists\"}}",
         -EREMOTEIO},
        {"\x01\x02garbage}", -EBADMSG},
    };

    for (size_t i = 0; i < SLIO_ARRAY_SIZE(cases); i++) {
        res = NULL;
        msg = NULL;
        int r =
            slio_jsonrpc_parse_response(cases[i].text, strlen(cases[i].text), 7, &res, &code, &msg);
        if (r != cases[i].want)
            fail_msg("%s: got %d (%s), want %d", cases[i].text, r, msg ? msg : "", cases[i].want);
        if (r == 0)
            assert_non_null(res);
        if (r == -EBADMSG || r == -EREMOTEIO)
            assert_non_null(msg);
        json_decref(res);
        free(msg);
    }
    assert_int_equal(code, -17);
    /* an embedded NUL inside the buffer */
    static const char nul[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\0\"result\":1}";
    assert_int_equal(slio_jsonrpc_parse_response(nul, sizeof(nul) - 1, 7, &res, &code, NULL),
                     -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_split),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_connect_failures),
        cmocka_unit_test(test_parse_response),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
