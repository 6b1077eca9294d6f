/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The unix socket server: a real socket served by a thread, called with
 * libslio's JSON-RPC client; single-instance check and stale socket removal.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry/registry_mgmt.h"
#include "rpc/rpc.h"
#include "slio/jsonrpc.h"
#include "tgt_fakes.h"

static char g_dir[64], g_sock[128];
static int g_stop[2];
static struct tgt_rpc_server *g_srv;
static pthread_t g_thread;

static void *serve(void *arg)
{
    (void)arg;
    assert_int_equal(tgt_rpc_server_run(g_srv, g_stop[0]), 0);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    struct slio_err e = {{0}};

    fakes_reset();
    snprintf(g_dir, sizeof(g_dir), "/tmp/slio-srv-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    snprintf(g_sock, sizeof(g_sock), "%s/rpc.sock", g_dir);
    assert_int_equal(pipe(g_stop), 0);
    assert_int_equal(tgt_rpc_server_open(g_sock, NULL, &e, &g_srv), 0);
    assert_int_equal(pthread_create(&g_thread, NULL, serve, NULL), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(write(g_stop[1], "x", 1), 1);
    pthread_join(g_thread, NULL);
    tgt_rpc_server_close(g_srv);
    struct stat st;
    assert_int_equal(stat(g_sock, &st), -1); /* the socket file is removed */
    close(g_stop[0]);
    close(g_stop[1]);
    tgt_registry_clear();
    rmdir(g_dir);
    return 0;
}

static void test_calls(void **state)
{
    (void)state;
    json_t *res = NULL;
    char *msg = NULL;
    int64_t code = 0;

    assert_int_equal(slio_jsonrpc_call(g_sock, "spdk_get_version", NULL, 5000, &res, &msg), 0);
    assert_non_null(strstr(json_string_value(json_object_get(res, "version")), "slio-tgt"));
    json_decref(res);

    json_t *p = json_pack("{s:s}", "nqn", "nqn.2016-06.io.spdk:cnode1");
    assert_int_equal(slio_jsonrpc_call(g_sock, "nvmf_create_subsystem", p, 5000, NULL, &msg), 0);
    struct slio_jsonrpc_opts o = {.timeout_ms = 5000};
    assert_int_equal(
        slio_jsonrpc_call_ex(g_sock, "nvmf_create_subsystem", p, &o, NULL, &code, &msg),
        -EREMOTEIO);
    assert_int_equal(code, -32603); /* SPDK: a subsystem it cannot create is an internal error */
    assert_non_null(strstr(msg, "already exists"));
    free(msg);
    json_decref(p);
}

/* Several clients at once, one sending its request in pieces. */
static void test_concurrent_clients(void **state)
{
    (void)state;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int slow = socket(AF_UNIX, SOCK_STREAM, 0);
    const char *req = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rpc_get_methods\"}";
    char buf[8192];

    memcpy(sa.sun_path, g_sock, strlen(g_sock) + 1);
    assert_int_equal(connect(slow, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(write(slow, req, 10), 10); /* half a request, then another client */

    json_t *res = NULL;
    char *msg = NULL;
    assert_int_equal(slio_jsonrpc_call(g_sock, "bdev_get_bdevs", NULL, 5000, &res, &msg), 0);
    assert_true(json_is_array(res));
    json_decref(res);

    assert_int_equal(write(slow, req + 10, strlen(req) - 10), (ssize_t)strlen(req) - 10);
    ssize_t n, got = 0;
    while (got < (ssize_t)sizeof(buf) - 1 &&
           (n = read(slow, buf + got, sizeof(buf) - 1 - got)) > 0) {
        got += n;
        if (buf[got - 1] == '\n')
            break;
    }
    buf[got] = '\0';
    assert_non_null(strstr(buf, "nvmf_subsystem_add_listener"));
    close(slow);
}

static void test_single_instance(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    struct tgt_rpc_server *other = NULL;
    char stale[160];

    assert_int_equal(tgt_rpc_server_open(g_sock, NULL, &e, &other), -EADDRINUSE);
    assert_non_null(strstr(e.text, g_sock));

    /* a socket file nobody listens on is removed and reused */
    snprintf(stale, sizeof(stale), "%s/stale.sock", g_dir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, stale, strlen(stale) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    assert_int_equal(tgt_rpc_server_open(stale, NULL, &e, &other), 0);
    tgt_rpc_server_close(other);

    /* a regular file is not ours to remove */
    FILE *f = fopen(stale, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(tgt_rpc_server_open(stale, NULL, &e, &other), -EEXIST);
    unlink(stale);
}

/* The directory is made private, the socket 0600 under any umask; foreign files are refused. */
static void test_socket_file(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    struct tgt_rpc_server *other = NULL;
    char dir[160], path[200];
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/sub", g_dir);
    snprintf(path, sizeof(path), "%s/rpc.sock", dir);
    mode_t old = umask(0);
    assert_int_equal(tgt_rpc_server_open(path, NULL, &e, &other), 0);
    umask(old);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    tgt_rpc_server_close(other);

    /* a directory others may write to (not sticky) */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(tgt_rpc_server_open(path, NULL, &e, &other), -EPERM);
    assert_non_null(strstr(e.text, "writable by other users"));
    assert_int_equal(chmod(dir, 01777), 0); /* sticky, like /tmp: fine */
    assert_int_equal(tgt_rpc_server_open(path, NULL, &e, &other), 0);
    tgt_rpc_server_close(other);
    assert_int_equal(chmod(dir, 0700), 0);

    if (geteuid() == 0) { /* ownership can only be faked by root */
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        memcpy(sa.sun_path, path, strlen(path) + 1);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(tgt_rpc_server_open(path, NULL, &e, &other), -EPERM);
        assert_non_null(strstr(e.text, "belongs to uid 65534"));
        assert_int_equal(lstat(path, &st), 0); /* left alone */
        unlink(path);
        assert_int_equal(chown(dir, 65534, 65534), 0);
        assert_int_equal(tgt_rpc_server_open(path, NULL, &e, &other), -EPERM);
        assert_non_null(strstr(e.text, "belongs to uid 65534"));
    }
    rmdir(dir);
}

/* The stream runs requests only while the responses queued stay under the limit. */
static void test_stream_limits(void **state)
{
    (void)state;
    const char *req = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"spdk_get_version\"}";
    struct tgt_rpc_stream st;
    struct slio_strbuf out = SLIO_STRBUF_INIT(1 << 20);

    tgt_rpc_stream_init(&st);
    for (int i = 0; i < 10; i++)
        assert_int_equal(tgt_rpc_stream_append(&st, req, strlen(req), &out), 0);
    assert_int_equal(tgt_rpc_stream_run(&st, &out, SIZE_MAX, 3), 1); /* three per turn */
    size_t one = out.len / 3;
    assert_int_equal(out.len, 3 * one);
    assert_int_equal(tgt_rpc_stream_run(&st, &out, 4 * one, 100), 1); /* stops at the cap */
    assert_int_equal(out.len, 4 * one);
    slio_strbuf_reset(&out);
    assert_int_equal(tgt_rpc_stream_run(&st, &out, SIZE_MAX, 100), 0);
    assert_int_equal(out.len, 6 * one);
    tgt_rpc_stream_free(&st);
    slio_strbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
