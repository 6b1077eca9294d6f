/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backing I/O engines on a temporary file: the io_uring engine, the
 * worker-thread engine and the epoll engine's Linux AIO (an O_DIRECT file on
 * /var/tmp) each run read/write/FUA/flush/write-zeroes/discard and a read
 * past the end; so does the inline path for memory-backed files (a file on
 * tmpfs), which must still complete asynchronously, and its reads from the
 * file's mapping (the request's data then points at the file's pages). The
 * reactor loop runs on the test thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_nvmf.h"
#include "transport/transport_internal.h"

#define FILE_SIZE (1u << 20)

static struct tgt_reactor *g_r;
static struct tgt_conn g_conn;
static struct tcp_req g_t;
static struct tgt_bdev g_bdev;
static char g_path[64];
static int g_res;
static bool g_done;
static uint8_t g_buf[65536] __attribute__((aligned(4096)));
static uint8_t g_pat[65536] __attribute__((aligned(4096))); /* O_DIRECT needs it */

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

static int engine_setup(bool uring, const char *dir)
{
    snprintf(g_path, sizeof(g_path), "%s/slio-bio-test-XXXXXX", dir);
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
    return engine_setup(true, "/tmp");
}

static int setup_threads(void **state)
{
    return engine_setup(false, "/tmp");
}

/* The epoll engine with the file opened O_DIRECT: reads and writes go to Linux AIO. */
static int setup_aio(void **state)
{
    if (engine_setup(false, "/var/tmp") < 0)
        return -1;
    int fd = open(g_path, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0 || !g_r->aio_disk) {
        print_error("%s: O_DIRECT open or AIO context failed: %s\n", g_path, strerror(errno));
        return -1;
    }
    close(g_bdev.fd);
    g_bdev.fd = fd;
    g_bdev.direct = true;
    return 0;
}

static bool g_have_uring;

/* memory files run on the reactor whatever the engine: use the one this host has */
static int setup_mem(void **state)
{
    if (engine_setup(g_have_uring, "/dev/shm") < 0)
        return -1;
    g_bdev.in_memory = true; /* what the registry finds out with fstatfs() */
    return 0;
}

static bool shm_is_tmpfs(void)
{
    struct statfs sf;

    return statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

static int engine_teardown(void **state)
{
    close(g_bdev.fd);
    unlink(g_path);
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

/* A memory-backed file is read on the reactor, but the callback still runs later. */
static void test_inline_async(void **state)
{
    struct tgt_bio b = {
        .op = TGT_BIO_READ, .bdev = &g_bdev, .offset = 0, .len = 4096, .buf = g_buf};

    assert_int_equal(run(TGT_BIO_WRITE, 0, 4096, g_pat, false), 4096);
    g_done = false;
    tgt_bio_submit(&g_t.req, &b, on_done);
    assert_false(g_done); /* never from inside tgt_bio_submit() */
    assert_int_equal(g_r->bio_inflight, 1);
    reactor_run_once(g_r, 0); /* one iteration, no waiting: no ring or worker round trip */
    assert_true(g_done);
    assert_int_equal(g_res, 4096);
    assert_int_equal(g_r->bio_inflight, 0);
    assert_memory_equal(g_buf, g_pat, 4096);
}

/* Several requests in one loop iteration go to the kernel as one batch (bio_mem.c). */
#define NBATCH 8
static int g_bres[NBATCH];
static unsigned g_bdone;

static void on_batch_done(struct tgt_req *req, int res)
{
    g_bres[tcp_req_of(req)->idx] = res;
    g_bdone++;
}

static void batch(const enum tgt_bio_op *ops, const uint64_t *offs, struct tgt_bdev *odd)
{
    static struct tcp_req t[NBATCH];

    g_bdone = 0;
    for (unsigned i = 0; i < NBATCH; i++) {
        memset(&t[i], 0, sizeof(t[i]));
        t[i].conn = &g_conn;
        t[i].idx = (uint16_t)i;
        t[i].req.qpair = &g_conn.qp;
        struct tgt_bio b = {.op = ops[i],
                            .bdev = odd && i == NBATCH / 2 ? odd : &g_bdev,
                            .offset = offs[i],
                            .len = 4096,
                            .buf = g_buf + 4096 * i};
        tgt_bio_submit(&t[i].req, &b, on_batch_done);
    }
    assert_int_equal(g_bdone, 0);
    assert_int_equal(g_r->bio_inflight, NBATCH);
    reactor_run_once(g_r, 0); /* one iteration, no waiting */
    assert_int_equal(g_bdone, NBATCH);
    assert_int_equal(g_r->bio_inflight, 0);
    assert_int_equal(g_conn.bio_pending, 0);
}

static struct tcp_req g_bt[NBATCH];

static void submit_read(unsigned i)
{
    memset(&g_bt[i], 0, sizeof(g_bt[i]));
    g_bt[i].conn = &g_conn;
    g_bt[i].idx = (uint16_t)i;
    g_bt[i].req.qpair = &g_conn.qp;
    struct tgt_bio b = {.op = TGT_BIO_READ,
                        .bdev = &g_bdev,
                        .offset = 4096ull * i,
                        .len = 4096,
                        .buf = g_buf + 4096 * i};
    tgt_bio_submit(&g_bt[i].req, &b, on_batch_done);
}

static void reap_all(void)
{
    for (int i = 0; i < 5000 && g_bdone < NBATCH; i++)
        reactor_run_once(g_r, 1);
    assert_int_equal(g_bdone, NBATCH);
    for (unsigned i = 0; i < NBATCH; i++)
        assert_int_equal(g_bres[i], 4096);
    assert_memory_equal(g_buf, g_pat, 4096 * NBATCH);
}

/*
 * io_uring: by default a loop iteration's backing I/O goes to the kernel in
 * one submission; with a batch size (--disk-batch) every that many requests.
 */
static void test_uring_disk_batch(void **state)
{
    assert_int_equal(run(TGT_BIO_WRITE, 0, 4096 * NBATCH, g_pat, false), 4096 * NBATCH);
    memset(g_buf, 0, sizeof(g_buf));
    g_bdone = 0;
    for (unsigned i = 0; i < NBATCH; i++) {
        submit_read(i);
        assert_int_equal(bio_uring_unsubmitted(g_r->uring), i + 1);
    }
    reap_all();

    bio_uring_set_batch(g_r->uring, 2);
    memset(g_buf, 0, sizeof(g_buf));
    g_bdone = 0;
    for (unsigned i = 0; i < NBATCH; i++) {
        submit_read(i);
        assert_int_equal(bio_uring_unsubmitted(g_r->uring), (i + 1) % 2);
    }
    reap_all();
    bio_uring_set_batch(g_r->uring, 0);
}

/* Reads and writes go to AIO (queued on the reactor, not handed to a worker). */
static void test_aio_write_read(void **state)
{
    struct tgt_bio b = {
        .op = TGT_BIO_WRITE, .bdev = &g_bdev, .offset = 8192, .len = 16384, .buf = g_pat};

    g_done = false;
    tgt_bio_submit(&g_t.req, &b, on_done);
    assert_int_equal(bio_aio_inflight(g_r), 1);
    for (int i = 0; i < 5000 && !g_done; i++)
        reactor_run_once(g_r, 1);
    assert_true(g_done);
    assert_int_equal(g_res, 16384);
    assert_int_equal(bio_aio_inflight(g_r), 0);
    memset(g_buf, 0, sizeof(g_buf));
    assert_int_equal(run(TGT_BIO_READ, 8192, 16384, g_buf, false), 16384);
    assert_memory_equal(g_buf, g_pat, 16384);
    /* FUA (RWF_DSYNC on the iocb), then a flush (worker pool) */
    assert_int_equal(run(TGT_BIO_WRITE, 0, 4096, g_pat + 4096, true), 4096);
    assert_int_equal(run(TGT_BIO_FLUSH, 0, 0, NULL, false), 0);
    assert_int_equal(run(TGT_BIO_READ, 0, 4096, g_buf, false), 4096);
    assert_memory_equal(g_buf, g_pat + 4096, 4096);
}

/* Many at once, submitted every two (--disk-batch 2): all complete, none lost. */
static void test_aio_many(void **state)
{
    assert_int_equal(run(TGT_BIO_WRITE, 0, 4096 * NBATCH, g_pat, false), 4096 * NBATCH);
    memset(g_buf, 0, sizeof(g_buf));
    bio_aio_set_batch(g_r, 2);
    g_bdone = 0;
    for (unsigned i = 0; i < NBATCH; i++)
        submit_read(i);
    assert_int_equal(bio_aio_inflight(g_r), NBATCH);
    reap_all();
    assert_int_equal(bio_aio_inflight(g_r), 0);
    bio_aio_set_batch(g_r, 0);
}

static void test_inline_batch(void **state)
{
    enum tgt_bio_op ops[NBATCH];
    uint64_t offs[NBATCH];

    assert_true(g_r->aio_ctx != 0); /* Linux AIO is what batches; it exists on every kernel */
    for (unsigned i = 0; i < NBATCH; i++) { /* writes of distinct blocks, in one batch */
        ops[i] = TGT_BIO_WRITE;
        offs[i] = 4096ull * (2 * i + 1);
        memcpy(g_buf + 4096 * i, g_pat + 512 * i, 4096);
    }
    batch(ops, offs, NULL);
    for (unsigned i = 0; i < NBATCH; i++)
        assert_int_equal(g_bres[i], 4096);
    memset(g_buf, 0, sizeof(g_buf));
    for (unsigned i = 0; i < NBATCH; i++)
        ops[i] = TGT_BIO_READ;
    offs[1] = FILE_SIZE - 2048; /* crosses the end of the file: short read, then -EIO */
    /* request NBATCH / 2 reads a directory on tmpfs: io_submit() refuses it and the rest */
    struct tgt_bdev dir = g_bdev;
    dir.fd = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dir.fd >= 0);
    batch(ops, offs, &dir);
    close(dir.fd);
    for (unsigned i = 0; i < NBATCH; i++) {
        if (i == 1) {
            assert_int_equal(g_bres[i], -EIO);
        } else if (i == NBATCH / 2) {
            assert_int_equal(g_bres[i], -EISDIR);
        } else {
            assert_int_equal(g_bres[i], 4096);
            assert_memory_equal(g_buf + 4096 * i, g_pat + 512 * i, 4096);
        }
    }
}

/* ---- reads of a memory file from its mapping (what registry/bdev_map.c sets up) ---- */
static int setup_mapped(void **state)
{
    if (setup_mem(state) < 0)
        return -1;
    void *p = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, g_bdev.fd, 0);
    if (p == MAP_FAILED)
        return -1;
    g_bdev.map = p;
    g_bdev.map_len = FILE_SIZE;
    atomic_store(&g_bdev.map_reads, true);
    atomic_store(&g_bdev.refs, 1);
    return 0;
}

static int teardown_mapped(void **state)
{
    munmap((void *)g_bdev.map, g_bdev.map_len);
    return engine_teardown(state);
}

/* A read as the nvmf layer issues it: into the request's own buffer (req.data). */
static int read_req(uint64_t off, uint64_t len)
{
    g_t.req.data = g_buf;
    return run(TGT_BIO_READ, off, len, g_buf, false);
}

static void test_mapped_read(void **state)
{
    static const uint8_t zero[4096];

    assert_int_equal(run(TGT_BIO_WRITE, 16384, 4096, g_pat, false), 4096);
    memset(g_buf, 0, 4096);
    assert_int_equal(read_req(16384, 4096), 4096);
    assert_ptr_equal(g_t.req.data, g_bdev.map + 16384); /* the send copies from the file */
    assert_memory_equal(g_t.req.data, g_pat, 4096);
    assert_memory_equal(g_buf, zero, 4096); /* nothing was copied here */
    assert_ptr_equal(g_t.mapped, &g_bdev);
    assert_int_equal(atomic_load(&g_bdev.refs), 2); /* the pages outlive a deleted bdev */
    conn_req_release(&g_t);                         /* the response went out */
    assert_null(g_t.mapped);
    assert_int_equal(atomic_load(&g_bdev.refs), 1);
    /* the next write is seen by the next read: same pages */
    assert_int_equal(run(TGT_BIO_WRITE, 16384, 4096, g_pat + 4096, false), 4096);
    assert_int_equal(read_req(16384, 4096), 4096);
    assert_memory_equal(g_t.req.data, g_pat + 4096, 4096);
    conn_req_release(&g_t);
    g_t.req.data = NULL; /* the other tests read into buffers of their own */
}

/* Where the mapping must not or cannot be used, the read copies into the buffer as before. */
static void expect_copied_read(void)
{
    memset(g_buf, 0, 4096);
    assert_int_equal(read_req(0, 4096), 4096);
    assert_ptr_equal(g_t.req.data, g_buf);
    assert_memory_equal(g_buf, g_pat, 4096);
    assert_null(g_t.mapped);
    assert_int_equal(atomic_load(&g_bdev.refs), 1);
}

static void test_mapped_read_copies_when_told(void **state)
{
    assert_int_equal(run(TGT_BIO_WRITE, 0, 4096, g_pat, false), 4096);
    /* a data digest would be computed from the pages in user space: SIGBUS if one is gone */
    g_conn.params.ddgst = true;
    expect_copied_read();
    g_conn.params.ddgst = false;
    atomic_store(&g_bdev.map_reads, false); /* the file system has no room for all of it */
    expect_copied_read();
    atomic_store(&g_bdev.map_reads, true);
    /* beyond the bdev's size: the copying path's -EIO, as before */
    assert_int_equal(read_req(FILE_SIZE - 4096, 8192), -EIO);
    assert_null(g_t.mapped);
    g_t.req.data = NULL;
}

int main(void)
{
    const struct CMUnitTest uring[] = {
        cmocka_unit_test(test_write_read),       cmocka_unit_test(test_zeroes_discard),
        cmocka_unit_test(test_read_past_end),    cmocka_unit_test(test_bad_fd),
        cmocka_unit_test(test_uring_disk_batch),
    };
    const struct CMUnitTest threads[] = {
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_zeroes_discard),
        cmocka_unit_test(test_read_past_end),
        cmocka_unit_test(test_bad_fd),
    };
    const struct CMUnitTest aio[] = {
        cmocka_unit_test(test_aio_write_read), cmocka_unit_test(test_aio_many),
        cmocka_unit_test(test_zeroes_discard), cmocka_unit_test(test_read_past_end),
        cmocka_unit_test(test_bad_fd),
    };
    const struct CMUnitTest mem[] = {
        cmocka_unit_test(test_write_read),    cmocka_unit_test(test_zeroes_discard),
        cmocka_unit_test(test_read_past_end), cmocka_unit_test(test_bad_fd),
        cmocka_unit_test(test_inline_async),  cmocka_unit_test(test_inline_batch),
    };
    const struct CMUnitTest mapped[] = {
        cmocka_unit_test(test_mapped_read),
        cmocka_unit_test(test_mapped_read_copies_when_told),
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_inline_batch),
    };
    int rc = 0;

    /* io_uring can be refused (seccomp, old kernel): a failure unless SLIO_ALLOW_NO_IO_URING=1 */
    struct bio_uring *probe;
    if (bio_uring_create(4, &probe) == 0) {
        bio_uring_destroy(probe);
        g_have_uring = true;
        rc |= cmocka_run_group_tests_name("io_uring", uring, setup_uring, engine_teardown);
    } else if (!test_no_io_uring_allowed()) {
        rc = 1;
    }
    rc |= cmocka_run_group_tests_name("threads", threads, setup_threads, engine_teardown);
    rc |= cmocka_run_group_tests_name("epoll engine, Linux AIO", aio, setup_aio, engine_teardown);
    if (shm_is_tmpfs()) {
        rc |= cmocka_run_group_tests_name("memory file inline", mem, setup_mem, engine_teardown);
        rc |= cmocka_run_group_tests_name("memory file mapped", mapped, setup_mapped,
                                          teardown_mapped);
    } else
        print_message("/dev/shm is not tmpfs here: the inline path is not tested\n");
    return rc;
}
