/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tgt/nvmf/io_cmd.c end to end through the real transport: the test is the
 * host on a socketpair, a minimal nvmf double routes every command to
 * tgt_io_cmd_exec() on a namespace backed by a temporary file, and the real
 * backing-I/O engine runs (io_uring if the kernel allows it, plus workers).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <nvme/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvmf/io_cmd.h"
#include "test_host.h"
#include "transport/transport_internal.h"

#define NBLOCKS 2048u /* 1 MiB of 512-byte blocks */

static struct tgt_reactor *g_r;
static int g_host = -1;
static struct tgt_bdev g_bdev;
static struct tgt_ns g_ns = {.nsid = 1, .bdev = &g_bdev};
static char g_path[] = "/tmp/slio-iocmd-test-XXXXXX";
static uint8_t g_buf[256 * 1024];
static uint64_t g_qos_wait;
static unsigned g_qos_calls;

/* ---- nvmf and registry doubles ---- */
static int g_ctrlr;

enum tgt_exec_result tgt_nvmf_exec(struct tgt_req *req)
{
    req->status = 0;
    req->result = 0;
    if (req->cmd.opcode == NVME_FABRICS_OPCODE) {
        req->qpair->ctrlr = (struct tgt_ctrlr *)&g_ctrlr;
        req->qpair->qid = 1;
        req->qpair->sqsize = 32;
        return TGT_EXEC_DONE;
    }
    atomic_fetch_add(&g_ns.refs, 1);
    return tgt_io_cmd_exec(req, &g_ns);
}

uint16_t tgt_nvmf_precheck(const struct tgt_req *req)
{
    return 0;
}

void tgt_nvmf_qpair_fini(struct tgt_qpair *qp) {}
struct tgt_req *tgt_nvmf_take_abandoned(struct tgt_qpair *qp, uint16_t cid)
{
    return NULL;
}

bool tgt_nvmf_qpair_tick(struct tgt_qpair *qp, uint64_t now_us)
{
    return true;
}

/* the registry's, for a request whose read data pointed into a mapping */
void tgt_bdev_put(struct tgt_bdev *b)
{
    atomic_fetch_sub(&b->refs, 1);
}

uint64_t tgt_bdev_qos_admit(struct tgt_bdev *b, bool is_write, uint64_t bytes, uint64_t now_us)
{
    g_qos_calls++;
    uint64_t w = g_qos_wait;
    g_qos_wait = 0;
    return w;
}

void tgt_ns_put(struct tgt_ns *ns)
{
    assert_true(atomic_fetch_sub(&ns->refs, 1) > 1);
}

/* ---- host plumbing ---- */
static void host_send(const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = send(g_host, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        }
        reactor_run_once(g_r, 0);
    }
}

static void host_recv(void *buf, size_t len)
{
    uint8_t *p = buf;

    for (int spins = 0; len && spins < 5000;) {
        ssize_t n = recv(g_host, p, len, MSG_DONTWAIT);
        assert_int_not_equal(n, 0);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        reactor_run_once(g_r, 1);
        spins++;
    }
    assert_int_equal(len, 0);
}

static uint32_t recv_pdu(void)
{
    struct nvme_tcp_hdr *h = (void *)g_buf;

    host_recv(g_buf, 8);
    uint32_t plen = le32toh(h->plen);
    assert_true(plen >= 8 && plen <= sizeof(g_buf));
    host_recv(g_buf + 8, plen - 8);
    return plen;
}

static uint16_t status_of_rsp(uint16_t cid)
{
    struct nvme_tcp_rsp_pdu *r = (void *)g_buf;

    recv_pdu();
    assert_int_equal(r->hdr.type, NVME_TCP_RSP);
    assert_int_equal(r->cqe.cid, cid);
    return nvme_cqe_status_value(le16toh(r->cqe.status));
}

/* Send a command with no data or with in-capsule data; return the response status. */
static uint16_t exec(struct nvme_sqe *sqe, const void *icd, uint32_t icd_len)
{
    static uint8_t pdu[16384];

    host_send(pdu, host_cmd(pdu, sqe, icd, icd_len, false, false));
    return status_of_rsp(sqe->cid);
}

static uint16_t write_r2t(uint16_t cid, uint64_t slba, const uint8_t *data, uint32_t len)
{
    static uint8_t pdu[65536 + 64];
    struct nvme_sqe sqe;

    host_sqe_rw(&sqe, nvme_cmd_write, cid, slba, len, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    recv_pdu();
    struct nvme_tcp_data_pdu *r2t = (void *)g_buf;
    if (r2t->hdr.type == NVME_TCP_RSP)
        return nvme_cqe_status_value(le16toh(((struct nvme_tcp_rsp_pdu *)g_buf)->cqe.status));
    assert_int_equal(r2t->hdr.type, NVME_TCP_R2T);
    host_send(pdu, host_h2c(pdu, cid, le16toh(r2t->ttag), 0, data, len, true, false, false));
    return status_of_rsp(cid);
}

static uint16_t read_into(uint16_t cid, uint64_t slba, uint8_t *out, uint32_t len)
{
    struct nvme_sqe sqe;

    host_sqe_rw(&sqe, nvme_cmd_read, cid, slba, len, false);
    uint8_t pdu[128];
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    recv_pdu();
    struct nvme_tcp_data_pdu *d = (void *)g_buf;
    if (d->hdr.type == NVME_TCP_RSP)
        return nvme_cqe_status_value(le16toh(((struct nvme_tcp_rsp_pdu *)g_buf)->cqe.status));
    assert_int_equal(d->hdr.type, NVME_TCP_C2H_DATA);
    assert_int_equal(le32toh(d->length), len);
    memcpy(out, g_buf + d->hdr.pdo, len);
    return status_of_rsp(cid);
}

static int setup(void **state)
{
    int sv[2];
    struct tgt_listen_addr la = {.trtype = "TCP"};
    uint8_t ic[128], cdata[1024] = {0};
    struct nvme_sqe sqe;

    int fd = mkstemp(g_path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, NBLOCKS * 512), 0);
    g_bdev = (struct tgt_bdev){.fd = fd, .block_size = 512, .num_blocks = NBLOCKS};
    snprintf(g_bdev.name, sizeof(g_bdev.name), "iocmd");
    atomic_store(&g_ns.refs, 1);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    g_host = sv[1];
    assert_non_null(conn_create(g_r, sv[0], &la));
    host_send(ic, host_icreq(ic, 0, 0, 0));
    recv_pdu();
    host_sqe_connect(&sqe, 1, 1, 32, false);
    assert_int_equal(exec(&sqe, cdata, sizeof(cdata)), 0);
    return 0;
}

static int teardown(void **state)
{
    close(g_host);
    for (int i = 0; i < 200 && (g_r->nconns || !tlist_empty(&g_r->gone)); i++)
        reactor_run_once(g_r, 1);
    assert_int_equal(g_r->nconns, 0);
    assert_int_equal(atomic_load(&g_ns.refs), 1); /* every reference dropped */
    close(g_bdev.fd);
    unlink(g_path);
    memcpy(g_path + strlen(g_path) - 6, "XXXXXX", 6);
    return 0;
}

static void test_write_read(void **state)
{
    static uint8_t data[65536], back[65536];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 31 + 7);
    assert_int_equal(write_r2t(2, 100, data, sizeof(data)), 0);
    assert_int_equal(read_into(3, 100, back, sizeof(back)), 0);
    assert_memory_equal(back, data, sizeof(data));
    assert_int_equal(pread(g_bdev.fd, back, 512, 100 * 512), 512);
    assert_memory_equal(back, data, 512);
    assert_int_equal(atomic_load(&g_bdev.bytes_written), sizeof(data));
    assert_int_equal(atomic_load(&g_bdev.num_read_ops), 1);

    /* FUA write in-capsule, then flush */
    struct nvme_sqe sqe;
    host_sqe_rw(&sqe, nvme_cmd_write, 4, 0, 4096, true);
    sqe.cdw12 |= htole32(1u << 30);
    assert_int_equal(exec(&sqe, data, 4096), 0);
    host_sqe_rw(&sqe, nvme_cmd_flush, 5, 0, 0, false);
    assert_int_equal(exec(&sqe, NULL, 0), 0);
    assert_int_equal(atomic_load(&g_bdev.num_flush_ops), 1);
}

static void test_range_and_length(void **state)
{
    struct nvme_sqe sqe;
    uint16_t lba = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_LBA_RANGE) | NVME_STATUS_DNR;

    assert_int_equal(read_into(2, NBLOCKS - 4, g_buf, 4096), lba);
    assert_int_equal(read_into(3, NBLOCKS, g_buf, 512), lba);
    host_sqe_rw(&sqe, nvme_cmd_read, 4, ~0ull - 1, 4096, false);
    assert_int_equal(exec(&sqe, NULL, 0), lba);
    /* transfer length disagrees with NLB */
    host_sqe_rw(&sqe, nvme_cmd_read, 5, 0, 4096, false);
    sqe.cdw12 = 0;
    assert_int_equal(exec(&sqe, NULL, 0),
                     NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA) | NVME_STATUS_DNR);
    /* a shrunken bdev is honoured at once */
    atomic_store(&g_bdev.num_blocks, 8);
    assert_int_equal(read_into(6, 8, g_buf, 512), lba);
    atomic_store(&g_bdev.num_blocks, NBLOCKS);
    host_sqe_rw(&sqe, 0x05, 7, 0, 0, false); /* Compare: not supported */
    assert_int_equal(exec(&sqe, NULL, 0),
                     NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE) | NVME_STATUS_DNR);
}

static void test_zeroes_and_deallocate(void **state)
{
    static uint8_t data[16384], back[16384], zero[16384];
    struct nvme_sqe sqe;

    memset(data, 0xab, sizeof(data));
    assert_int_equal(write_r2t(2, 0, data, sizeof(data)), 0);
    host_sqe_rw(&sqe, nvme_cmd_write_zeroes, 3, 8, 0, false);
    sqe.cdw12 = htole32(7); /* 8 blocks */
    assert_int_equal(exec(&sqe, NULL, 0), 0);
    assert_int_equal(read_into(4, 0, back, sizeof(back)), 0);
    assert_memory_equal(back, data, 4096);
    assert_memory_equal(back + 4096, zero, 4096);
    assert_memory_equal(back + 8192, data, 8192);

    struct nvme_dsm_range rg[2] = {
        {.nlb = htole32(8), .slba = htole64(16)},
        {.nlb = htole32(0), .slba = htole64(NBLOCKS * 4)}, /* empty ranges are skipped */
    };
    host_sqe_rw(&sqe, nvme_cmd_dsm, 5, 0, sizeof(rg), true);
    sqe.cdw10 = htole32(1);
    sqe.cdw11 = htole32(NVME_DSMGMT_AD);
    sqe.cdw12 = 0;
    assert_int_equal(exec(&sqe, rg, sizeof(rg)), 0);
    assert_int_equal(read_into(6, 16, back, 4096), 0);
    assert_memory_equal(back, zero, 4096);
    assert_int_equal(atomic_load(&g_bdev.num_unmap_ops), 1);
    /* one unmap: its latency is the sum, the max and the min */
    assert_int_equal(tgt_bdev_latency_max(&g_bdev, TGT_BDEV_IO_UNMAP),
                     atomic_load(&g_bdev.unmap_latency_ticks));
    assert_int_equal(tgt_bdev_latency_min(&g_bdev, TGT_BDEV_IO_UNMAP),
                     atomic_load(&g_bdev.unmap_latency_ticks));

    rg[1].nlb = htole32(1); /* now out of range: nothing is discarded */
    assert_int_equal(exec(&sqe, rg, sizeof(rg)),
                     NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_LBA_RANGE) | NVME_STATUS_DNR);
}

static void test_qos_defer(void **state)
{
    static uint8_t back[4096];

    g_qos_wait = 3000;
    g_qos_calls = 0;
    uint64_t t0 = tgt_now_us();
    assert_int_equal(read_into(2, 0, back, sizeof(back)), 0);
    assert_true(tgt_now_us() - t0 >= 3000);
    assert_int_equal(g_qos_calls, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_and_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeroes_and_deallocate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qos_defer, setup, teardown),
    };
    struct bio_uring *probe;
    bool uring = bio_uring_create(4, &probe) == 0;

    if (uring)
        bio_uring_destroy(probe);
    if (reactor_create(0, uring, 0, &g_r) < 0 || bio_pool_start(2) < 0)
        return 1;
    reactor_enter(g_r);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bio_pool_stop();
    reactor_destroy(g_r);
    return rc;
}
