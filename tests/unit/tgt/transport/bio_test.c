/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backing I/O engines on a temporary file: the io_uring engine and the
 * worker-thread engine each run read/write/FUA/flush/write-zeroes/discard and
 * a read past the end. The reactor loop runs on the test thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_nvmf.h"
#include "transport/transport_internal.h"

#define FILE_SIZE (1u << 20)

static struct tgt_reactor *g_r;
static struct tgt_conn g_conn;
static struct tcp_req g_t;
static struct tgt_bdev g_bdev;
static char g_path[] = "/tmp/slio-bio-test-XXXXXX";
static int g_res;
static bool g_done;
static uint8_t g_buf[65536] __attribute__((aligned(4096)));
static uint8_t g_pat[65536];

static void on_done(struct tgt_req *req, int res)
{
    assert_ptr_equal(req, &g_t.req);
    g_res = res;
    g_done = true;
}

static int run(enum tgt_bio_op op, uint64_t off, uint64_t len, void *buf, bool fua)
{
    struct tgt_bio b = {
        .op = op, .bdev = &g_bdev, .offset = off, .len = len, .buf = buf, .fua = fua};

    g_done = false;
    tgt_bio_submit(&g_t.req, &b, on_done);
    assert_int_equal(g_r->bio_inflight, 1);
    for (int i = 0; i < 5000 && !g_done; i++)
        reactor_run_once(g_r, 1);
    assert_true(g_done);
    assert_int_equal(g_r->bio_inflight, 0);
    assert_int_equal(g_conn.bio_pending, 0);
    return g_res;
}

static int engine_setup(bool uring)
{
    if (reactor_create(0, uring, 0, &g_r) < 0)
        return -1;
    reactor_enter(g_r);
    if (bio_pool_start(2) < 0)
        return -1;
    memset(&g_conn, 0, sizeof(g_conn));
    g_conn.r = g_r;
    memset(&g_t, 0, sizeof(g_t));
    g_t.conn = &g_conn;
    g_t.req.qpair = &g_conn.qp;
    int fd = mkstemp(g_path);
    if (fd < 0 || ftruncate(fd, FILE_SIZE) < 0)
        return -1;
    g_bdev = (struct tgt_bdev){.fd = fd, .block_size = 512, .num_blocks = FILE_SIZE / 512};
    snprintf(g_bdev.name, sizeof(g_bdev.name), "test");
    for (size_t i = 0; i < sizeof(g_pat); i++)
        g_pat[i] = (uint8_t)(i * 13 + 5);
    return 0;
}

static int setup_uring(void **state)
{
    return engine_setup(true);
}

static int setup_threads(void **state)
{
    return engine_setup(false);
}

static int engine_teardown(void **state)
{
    close(g_bdev.fd);
    unlink(g_path);
    memcpy(g_path + strlen(g_path) - 6, "XXXXXX", 6);
    bio_pool_stop();
    reactor_destroy(g_r);
    return 0;
}

static void test_write_read(void **state)
{
    assert_int_equal(run(TGT_BIO_WRITE, 8192, sizeof(g_pat), g_pat, false), sizeof(g_pat));
    memset(g_buf, 0, sizeof(g_buf));
    assert_int_equal(run(TGT_BIO_READ, 8192, sizeof(g_buf), g_buf, false), sizeof(g_buf));
    assert_memory_equal(g_buf, g_pat, sizeof(g_pat));
    /* FUA write and a flush */
    assert_int_equal(run(TGT_BIO_WRITE, 0, 4096, g_pat + 100, true), 4096);
    assert_int_equal(run(TGT_BIO_FLUSH, 0, 0, NULL, false), 0);
    assert_int_equal(pread(g_bdev.fd, g_buf, 4096, 0), 4096);
    assert_memory_equal(g_buf, g_pat + 100, 4096);
}

static void test_zeroes_discard(void **state)
{
    static uint8_t zero[16384];

    assert_int_equal(run(TGT_BIO_WRITE, 0, sizeof(g_pat), g_pat, false), sizeof(g_pat));
    assert_int_equal(run(TGT_BIO_WRITE_ZEROES, 4096, 16384, NULL, false), 0);
    assert_int_equal(run(TGT_BIO_READ, 0, sizeof(g_buf), g_buf, false), sizeof(g_buf));
    assert_memory_equal(g_buf, g_pat, 4096);
    assert_memory_equal(g_buf + 4096, zero, 16384);
    assert_memory_equal(g_buf + 20480, g_pat + 20480, sizeof(g_pat) - 20480);

    assert_int_equal(run(TGT_BIO_DISCARD, 32768, 16384, NULL, false), 0);
    assert_int_equal(run(TGT_BIO_READ, 32768, 16384, g_buf, false), 16384);
    assert_memory_equal(g_buf, zero, 16384);
    struct stat st;
    assert_int_equal(fstat(g_bdev.fd, &st), 0);
    assert_int_equal(st.st_size, FILE_SIZE); /* KEEP_SIZE */
}

static void test_read_past_end(void **state)
{
    assert_int_equal(run(TGT_BIO_READ, FILE_SIZE - 4096, 8192, g_buf, false), -EIO);
}

static void test_bad_fd(void **state)
{
    int fd = g_bdev.fd;

    g_bdev.fd = 1000000;
    assert_int_equal(run(TGT_BIO_READ, 0, 4096, g_buf, false), -EBADF);
    assert_int_equal(run(TGT_BIO_DISCARD, 0, 4096, NULL, false), -EBADF);
    g_bdev.fd = fd;
}

int main(void)
{
    const struct CMUnitTest uring[] = {
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_zeroes_discard),
        cmocka_unit_test(test_read_past_end),
        cmocka_unit_test(test_bad_fd),
    };
    const struct CMUnitTest threads[] = {
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_zeroes_discard),
        cmocka_unit_test(test_read_past_end),
        cmocka_unit_test(test_bad_fd),
    };
    int rc = 0;

    /* io_uring can be refused (seccomp, old kernel): then only the fallback engine is tested */
    struct bio_uring *probe;
    if (bio_uring_create(4, &probe) == 0) {
        bio_uring_destroy(probe);
        rc |= cmocka_run_group_tests_name("io_uring", uring, setup_uring, engine_teardown);
    } else {
        print_message("io_uring unavailable here: testing the thread engine only\n");
    }
    rc |= cmocka_run_group_tests_name("threads", threads, setup_threads, engine_teardown);
    return rc;
}
