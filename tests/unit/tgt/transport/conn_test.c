/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVMe/TCP connection state machine, driven over a socketpair: the test
 * is the host, the real reactor loop runs on the test thread (one
 * reactor_run_once() per pump) and a fake nvmf layer executes commands.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_nvmf.h"
#include "transport/transport_internal.h"

#define IO_UNIT 16384u

static struct tgt_reactor *g_r;
static int g_host = -1;
static struct tgt_conn *g_conn;
static uint8_t g_buf[256 * 1024];

static void pump(void)
{
    for (int i = 0; i < 4; i++)
        reactor_run_once(g_r, 0);
}

static void host_send(const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = send(g_host, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN) {
            pump();
            continue;
        }
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
        pump();
    }
}

/* Receive exactly len bytes; returns 0, or -1 on EOF / nothing within ~2 s. */
static int host_recv(void *buf, size_t len)
{
    uint8_t *p = buf;

    for (int spins = 0; len && spins < 2000;) {
        ssize_t n = recv(g_host, p, len, MSG_DONTWAIT);
        if (n == 0)
            return -1;
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        reactor_run_once(g_r, 1);
        spins++;
    }
    return len ? -1 : 0;
}

/* One PDU into g_buf; returns its length. */
static uint32_t recv_pdu(void)
{
    struct nvme_tcp_hdr *h = (void *)g_buf;

    assert_int_equal(host_recv(g_buf, 8), 0);
    uint32_t plen = le32toh(h->plen);
    assert_true(plen >= 8 && plen <= sizeof(g_buf));
    assert_int_equal(host_recv(g_buf + 8, plen - 8), 0);
    return plen;
}

static void expect_eof(void)
{
    uint8_t b;

    for (int i = 0; i < 2000; i++) {
        ssize_t n = recv(g_host, &b, 1, MSG_DONTWAIT);
        if (n == 0)
            return;
        reactor_run_once(g_r, 1);
    }
    fail_msg("connection not closed");
}

/* A command capsule without in-capsule data or digests, at LBA 0. */
static void send_cmd(uint8_t opc, uint16_t cid, uint32_t len)
{
    uint8_t pdu[128];
    struct nvme_sqe sqe;

    host_sqe_rw(&sqe, opc, cid, 0, len, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
}

/* A write of len bytes at lba without in-capsule data or digests; returns the R2T's tag. */
static uint16_t write_expect_r2t(uint16_t cid, uint64_t lba, uint32_t len)
{
    const struct nvme_tcp_data_pdu *r2t = (const void *)g_buf;
    struct nvme_sqe sqe;
    uint8_t pdu[128];

    host_sqe_rw(&sqe, 0x01, cid, lba, len, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    assert_int_equal(recv_pdu(), 24);
    assert_int_equal(r2t->hdr.type, NVME_TCP_R2T);
    assert_int_equal(r2t->cccid, cid);
    return le16toh(r2t->ttag);
}

static int setup(void **state)
{
    int sv[2];
    struct tgt_listen_addr la = {.trtype = "TCP", .adrfam = "IPv4", .traddr = "127.0.0.1"};

    const struct tgt_conn_limits limits = TGT_CONN_LIMITS_DEFAULT;

    fake_reset();
    ((struct tgt_transport_opts *)tgt_transport_get_opts())->io_unit_size = IO_UNIT;
    tgt_conn_limits_set(&limits); /* tests that shorten a deadline get it back */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    g_host = sv[1];
    g_conn = conn_create(g_r, sv[0], &la);
    assert_non_null(g_conn);
    return 0;
}

static int teardown(void **state)
{
    if (g_host >= 0)
        close(g_host);
    g_host = -1;
    for (int i = 0; i < 100 && (g_r->nconns || !tlist_empty(&g_r->gone)); i++)
        reactor_run_once(g_r, 1);
    assert_int_equal(g_r->nconns, 0);
    assert_true(tlist_empty(&g_r->gone));
    assert_int_equal(fake.finis, 1);
    return 0;
}

static void do_icreq(uint8_t digest)
{
    uint8_t ic[128];
    struct nvme_tcp_icresp *rsp = (void *)g_buf;

    host_send(ic, host_icreq(ic, 0, 0, digest));
    assert_int_equal(recv_pdu(), 128);
    assert_int_equal(rsp->hdr.type, NVME_TCP_ICRESP);
    assert_int_equal(rsp->pfv, 0);
    assert_int_equal(rsp->cpda, 0);
    assert_int_equal(rsp->digest, digest);
    assert_int_equal(le32toh(rsp->maxdata), IO_UNIT);
}

/* A CapsuleResp for cid; returns the status value (without phase). */
static uint16_t expect_rsp(uint16_t cid, bool hdgst)
{
    struct nvme_tcp_rsp_pdu *r = (void *)g_buf;

    assert_int_equal(recv_pdu(), 24 + (hdgst ? 4 : 0));
    assert_int_equal(r->hdr.type, NVME_TCP_RSP);
    if (hdgst) {
        uint32_t d;
        memcpy(&d, g_buf + 24, 4);
        assert_int_equal(le32toh(d), nvme_tcp_digest(g_buf, 24));
    }
    assert_int_equal(r->cqe.cid, cid);
    return nvme_cqe_status_value(le16toh(r->cqe.status));
}

static void do_connect(uint16_t qid, bool disable_sqflow, bool hd, bool dd)
{
    uint8_t data[1024] = {0}, pdu[2048];
    struct nvme_sqe sqe;

    host_sqe_connect(&sqe, 0x10, qid, 32, disable_sqflow);
    host_send(pdu, host_cmd(pdu, &sqe, data, sizeof(data), hd, dd));
    assert_int_equal(expect_rsp(0x10, hd), 0);
    assert_int_equal(g_conn->qp.qid, qid);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

static void test_icreq_plain(void **state)
{
    do_icreq(0);
    assert_false(g_conn->params.hdgst);
}

static void test_icreq_digests(void **state)
{
    do_icreq(NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE);
    assert_true(g_conn->params.hdgst && g_conn->params.ddgst);
    do_connect(0, false, true, true);
}

static void test_icreq_bad_pfv(void **state)
{
    uint8_t ic[128];
    struct nvme_tcp_term *t = (void *)g_buf;

    host_send(ic, host_icreq(ic, 1, 0, 0));
    assert_int_equal(recv_pdu(), 24 + 128);
    assert_int_equal(t->hdr.type, NVME_TCP_C2H_TERM);
    assert_int_equal(le16toh(t->fes), NVME_TCP_FES_UNSUPPORTED_PARAM);
    assert_int_equal(le32toh(t->fei), 8);
    assert_memory_equal(g_buf + 24, ic, 128);
    expect_eof();
}

static void test_cmd_before_icreq(void **state)
{
    uint8_t pdu[128];
    struct nvme_sqe sqe;
    struct nvme_tcp_term *t = (void *)g_buf;

    host_sqe_rw(&sqe, 0x02, 1, 0, 512, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    recv_pdu();
    assert_int_equal(t->hdr.type, NVME_TCP_C2H_TERM);
    assert_int_equal(le16toh(t->fes), NVME_TCP_FES_PDU_SEQ_ERR);
    expect_eof();
}

static void test_incapsule_write_then_read(void **state)
{
    uint8_t data[4096], pdu[8192];
    struct nvme_sqe sqe;

    do_icreq(0);
    do_connect(1, false, false, false);
    fill(data, sizeof(data), 3);
    host_sqe_rw(&sqe, 0x01, 7, 8, sizeof(data), true);
    host_send(pdu, host_cmd(pdu, &sqe, data, sizeof(data), false, false));
    assert_int_equal(expect_rsp(7, false), 0);
    assert_memory_equal(fake.disk + 8 * 512, data, sizeof(data));
    /* sqhd advanced by two commands */
    assert_int_equal(le16toh(((struct nvme_tcp_rsp_pdu *)g_buf)->cqe.sqhd), 2);

    host_sqe_rw(&sqe, 0x02, 8, 8, sizeof(data), false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    struct nvme_tcp_data_pdu *d = (void *)g_buf;
    assert_int_equal(recv_pdu(), 24 + sizeof(data));
    assert_int_equal(d->hdr.type, NVME_TCP_C2H_DATA);
    assert_int_equal(d->hdr.flags, NVME_TCP_F_DATA_LAST);
    assert_int_equal(d->hdr.pdo, 24);
    assert_int_equal(d->cccid, 8);
    assert_int_equal(le32toh(d->length), sizeof(data));
    assert_memory_equal(g_buf + 24, data, sizeof(data));
    assert_int_equal(expect_rsp(8, false), 0);
}

/* Write 64 KiB through R2T + 4 H2CData PDUs; read it back in 4 C2HData chunks. */
static void r2t_write_chunked_read(bool hd, bool dd, bool sqflow_off)
{
    static uint8_t data[65536];
    uint8_t pdu[128];
    struct nvme_sqe sqe;
    struct nvme_tcp_data_pdu *r2t = (void *)g_buf;
    uint32_t hdl = hd ? 4 : 0;

    do_icreq((uint8_t)((hd ? NVME_TCP_HDGST_ENABLE : 0) | (dd ? NVME_TCP_DDGST_ENABLE : 0)));
    do_connect(2, sqflow_off, hd, dd);
    fill(data, sizeof(data), 11);
    host_sqe_rw(&sqe, 0x01, 21, 16, sizeof(data), false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, hd, dd));
    assert_int_equal(recv_pdu(), 24 + hdl);
    assert_int_equal(r2t->hdr.type, NVME_TCP_R2T);
    assert_int_equal(r2t->cccid, 21);
    assert_int_equal(le32toh(r2t->offset), 0);
    assert_int_equal(le32toh(r2t->length), sizeof(data));
    uint16_t ttag = le16toh(r2t->ttag);
    for (uint32_t off = 0; off < sizeof(data); off += IO_UNIT) {
        static uint8_t h2c[IO_UNIT + 64];
        bool last = off + IO_UNIT == sizeof(data);
        host_send(h2c, host_h2c(h2c, 21, ttag, off, data + off, IO_UNIT, last, hd, dd));
    }
    assert_int_equal(expect_rsp(21, hd), 0);
    assert_memory_equal(fake.disk + 16 * 512, data, sizeof(data));

    host_sqe_rw(&sqe, 0x02, 22, 16, sizeof(data), false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, hd, dd));
    for (uint32_t off = 0; off < sizeof(data); off += IO_UNIT) {
        struct nvme_tcp_data_pdu *d = (void *)g_buf;
        bool last = off + IO_UNIT == sizeof(data);
        assert_int_equal(recv_pdu(), 24 + hdl + IO_UNIT + (dd ? 4 : 0));
        assert_int_equal(d->hdr.type, NVME_TCP_C2H_DATA);
        assert_int_equal(le32toh(d->offset), off);
        assert_int_equal(!!(d->hdr.flags & NVME_TCP_F_DATA_LAST), last);
        assert_int_equal(!!(d->hdr.flags & NVME_TCP_F_DATA_SUCCESS), last && sqflow_off);
        assert_memory_equal(g_buf + 24 + hdl, data + off, IO_UNIT);
        if (dd) {
            uint32_t got;
            memcpy(&got, g_buf + 24 + hdl + IO_UNIT, 4);
            assert_int_equal(le32toh(got), nvme_tcp_digest(data + off, IO_UNIT));
        }
    }
    if (!sqflow_off)
        assert_int_equal(expect_rsp(22, hd), 0);
}

static void test_r2t_write_chunked_read(void **state)
{
    r2t_write_chunked_read(false, false, false);
}

static void test_r2t_digests_sqflow_off(void **state)
{
    r2t_write_chunked_read(true, true, true);
}

/*
 * Exactly CONN_RX_BUDGET PDUs arrive in one burst: the receive budget runs
 * out just as the buffer is consumed. The connection must still go on
 * receiving (the io_uring engine once stopped here: no receive armed).
 */
/*
 * One H2CData PDU whose data arrives in pieces: on the io_uring engine the
 * connection waits with a readiness poll while at least CONN_DIRECT_MIN bytes
 * are due (then takes them with recv() straight into the request buffer), and
 * with a receive into its buffer for the rest; on both engines every byte
 * lands in order.
 */
static void test_bulk_data_in_pieces(void **state)
{
    static uint8_t data[IO_UNIT], h2c[IO_UNIT + 64];
    static const uint32_t cuts[] = {24 + 100, 24 + 5000, 24 + 9000, 24 + IO_UNIT};

    do_icreq(0);
    do_connect(2, false, false, false);
    fill(data, sizeof(data), 42);
    uint16_t ttag = write_expect_r2t(30, 8, sizeof(data));
    uint32_t n = host_h2c(h2c, 30, ttag, 0, data, sizeof(data), true, false, false);
    assert_int_equal(n, cuts[3]);
    for (uint32_t i = 0, from = 0; i < SLIO_ARRAY_SIZE(cuts); from = cuts[i++]) {
        host_send(h2c + from, cuts[i] - from);
        if (g_conn->ring && i + 1 < SLIO_ARRAY_SIZE(cuts)) {
            uint32_t left = cuts[3] - cuts[i];
            assert_int_equal(g_conn->rdata_left, left);
            assert_true(g_conn->rx_op.busy);
            assert_int_equal(g_conn->rx_op.direct, left >= CONN_DIRECT_MIN);
        }
    }
    assert_int_equal(expect_rsp(30, false), 0);
    assert_memory_equal(fake.disk + 8 * 512, data, sizeof(data));
}

/*
 * Receiving with recv() after a readiness poll (io_uring engine) must not
 * overlap a ring receive: four 128 KiB writes, 32 H2CData PDUs, more than a
 * receive budget of PDUs in every full buffer, all data behind one poll.
 */
static void test_bulk_data_beyond_budget(void **state)
{
    enum { NCMD = 4, LEN = 131072, PER = LEN / IO_UNIT };
    static uint8_t data[NCMD][LEN], stream[NCMD * PER * (IO_UNIT + 64)];
    uint16_t ttag[NCMD];
    size_t n = 0;

    do_icreq(0);
    do_connect(2, false, false, false);
    for (unsigned i = 0; i < NCMD; i++) {
        fill(data[i], LEN, (uint8_t)(60 + i));
        ttag[i] = write_expect_r2t((uint16_t)(50 + i), i * (LEN / 512), LEN);
    }
    for (unsigned i = 0; i < NCMD; i++)
        for (uint32_t off = 0; off < LEN; off += IO_UNIT)
            n += host_h2c(stream + n, (uint16_t)(50 + i), ttag[i], off, data[i] + off, IO_UNIT,
                          off + IO_UNIT == LEN, false, false);
    /* room for all of it at once, so that the target finds more than a budget queued */
    int sz = (int)sizeof(stream);
    if (setsockopt(g_host, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
        (void)setsockopt(g_host, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    host_send(stream, 24 + 100); /* a header and a little: the rest is large data */
    if (g_conn->ring)
        assert_true(g_conn->rx_op.busy && g_conn->rx_op.direct);
    for (size_t off = 24 + 100; off < n || g_conn->rx_ready;) {
        ssize_t k = send(g_host, stream + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        off += k > 0 ? (size_t)k : 0;
        reactor_run_once(g_r, 0);
        /* bytes taken by recv() while a ring receive is pending could overtake its bytes */
        assert_false(g_conn->ring && g_conn->rx_ready && g_conn->rx_op.busy);
    }
    for (unsigned i = 0; i < NCMD; i++)
        assert_int_equal(expect_rsp((uint16_t)(50 + i), false), 0);
    for (unsigned i = 0; i < NCMD; i++)
        assert_memory_equal(fake.disk + (size_t)i * LEN, data[i], LEN);
}

static void test_budget_ends_with_buffer(void **state)
{
    enum { CHUNK = 2048, NPDU = CONN_RX_BUDGET };
    static uint8_t data[CHUNK * NPDU], burst[NPDU * (CHUNK + 24)];
    uint32_t len = 0;

    do_icreq(0);
    do_connect(1, false, false, false);
    fill(data, sizeof(data), 5);
    uint16_t ttag = write_expect_r2t(3, 0, sizeof(data));
    for (uint32_t i = 0; i < NPDU; i++)
        len += host_h2c(burst + len, 3, ttag, i * CHUNK, data + i * CHUNK, CHUNK, i + 1 == NPDU,
                        false, false);
    assert_int_equal(send(g_host, burst, len, MSG_NOSIGNAL), (ssize_t)len);
    assert_int_equal(expect_rsp(3, false), 0);
    assert_memory_equal(fake.disk, data, sizeof(data));
    /* and the connection still receives */
    send_cmd(0x00, 4, 0);
    assert_int_equal(expect_rsp(4, false), 0);
}

static void expect_term(uint16_t fes, uint32_t fei)
{
    struct nvme_tcp_term *t = (void *)g_buf;

    recv_pdu();
    assert_int_equal(t->hdr.type, NVME_TCP_C2H_TERM);
    assert_int_equal(le16toh(t->fes), fes);
    assert_int_equal(le32toh(t->fei), fei);
    expect_eof();
}

static void test_bad_hlen(void **state)
{
    uint8_t pdu[128];
    struct nvme_sqe sqe;

    do_icreq(0);
    host_sqe_rw(&sqe, 0x02, 1, 0, 512, false);
    uint32_t n = host_cmd(pdu, &sqe, NULL, 0, false, false);
    pdu[2] = 70;
    host_send(pdu, n);
    expect_term(NVME_TCP_FES_INVALID_HEADER, 2);
    assert_memory_equal(g_buf + 24, pdu, 8);
}

static void test_header_digest_error(void **state)
{
    uint8_t pdu[128];
    struct nvme_sqe sqe;

    do_icreq(NVME_TCP_HDGST_ENABLE);
    host_sqe_rw(&sqe, 0x02, 1, 0, 512, false);
    uint32_t n = host_cmd(pdu, &sqe, NULL, 0, true, false);
    pdu[72] ^= 1;
    host_send(pdu, n);
    expect_term(NVME_TCP_FES_HDR_DIGEST_ERR, 0);
}

static void test_data_digest_error(void **state)
{
    uint8_t data[512] = {1, 2, 3}, pdu[1024];
    struct nvme_sqe sqe;

    do_icreq(NVME_TCP_DDGST_ENABLE);
    do_connect(1, false, false, true);
    host_sqe_rw(&sqe, 0x01, 5, 0, sizeof(data), true);
    uint32_t n = host_cmd(pdu, &sqe, data, sizeof(data), false, true);
    pdu[n - 1] ^= 0xff;
    unsigned execs = fake.execs;
    host_send(pdu, n);
    assert_int_equal(expect_rsp(5, false), NVME_STATUS(0, 0x22));
    assert_int_equal(fake.execs, execs); /* never executed */
    /* the connection lives on */
    host_send(pdu, host_cmd(pdu, &sqe, data, sizeof(data), false, true));
    assert_int_equal(expect_rsp(5, false), 0);
}

/*
 * A write of cmd_len bytes gets its R2T; then one H2CData PDU with the given
 * fields (cccid and ttag relative to the right ones) must end the connection
 * with a C2HTermReq naming the field. Each H2CData check has a case here.
 */
static void h2c_error_ex(uint32_t cmd_len, uint16_t cccid_delta, uint16_t ttag_delta, uint32_t off,
                         uint32_t len, bool last, uint16_t fes, uint32_t fei)
{
    static uint8_t data[65536], h2c[65536 + 64];
    uint8_t pdu[128];
    struct nvme_sqe sqe;

    do_icreq(0);
    do_connect(1, false, false, false);
    host_sqe_rw(&sqe, 0x01, 9, 0, cmd_len, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    recv_pdu();
    uint16_t ttag = le16toh(((struct nvme_tcp_data_pdu *)g_buf)->ttag);
    unsigned execs = fake.execs;
    host_send(h2c, host_h2c(h2c, (uint16_t)(9 + cccid_delta), (uint16_t)(ttag + ttag_delta), off,
                            data, len, last, false, false));
    expect_term(fes, fei);
    assert_int_equal(fake.execs, execs); /* the write never ran */
}

static void h2c_error(uint16_t ttag_delta, uint32_t off, uint16_t fes, uint32_t fei)
{
    h2c_error_ex(8192, 0, ttag_delta, off, 4096, false, fes, fei);
}

static void test_h2c_wrong_ttag(void **state)
{
    h2c_error(1, 0, NVME_TCP_FES_INVALID_HEADER, 10);
}

static void test_h2c_wrong_offset(void **state)
{
    h2c_error(0, 4096, NVME_TCP_FES_DATA_OUT_OF_RANGE, 12);
}

static void test_h2c_wrong_cccid(void **state)
{
    h2c_error_ex(8192, 1, 0, 0, 4096, false, NVME_TCP_FES_INVALID_HEADER,
                 offsetof(struct nvme_tcp_data_pdu, cccid));
}

/*
 * More than MAXH2CDATA in one PDU, though within the command's length. The
 * common-header check already bounds a PDU's data by the largest the
 * connection takes (in-capsule data too), so this needs an I/O unit smaller
 * than the in-capsule size to reach the H2CData check itself.
 */
static void test_h2c_above_maxh2cdata(void **state)
{
    struct tgt_transport_opts *o = (struct tgt_transport_opts *)tgt_transport_get_opts();
    static uint8_t data[8192], h2c[8192 + 64];
    uint8_t ic[128], pdu[128];
    struct nvme_sqe sqe;

    o->io_unit_size = 4096; /* setup() puts IO_UNIT back */
    host_send(ic, host_icreq(ic, 0, 0, 0));
    recv_pdu();
    assert_int_equal(le32toh(((struct nvme_tcp_icresp *)g_buf)->maxdata), 4096);
    do_connect(1, false, false, false);
    host_sqe_rw(&sqe, 0x01, 9, 0, 65536, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    recv_pdu();
    uint16_t ttag = le16toh(((struct nvme_tcp_data_pdu *)g_buf)->ttag);
    host_send(h2c, host_h2c(h2c, 9, ttag, 0, data, sizeof(data), false, false, false));
    expect_term(NVME_TCP_FES_DATA_LIMIT_EXCEEDED, offsetof(struct nvme_tcp_data_pdu, length));
}

/* Data past the end of the command (and of its slot, were it the last one). */
static void test_h2c_overrun(void **state)
{
    h2c_error_ex(8192, 0, 0, 0, 12288, false, NVME_TCP_FES_DATA_OUT_OF_RANGE,
                 offsetof(struct nvme_tcp_data_pdu, length));
}

/* LAST set on a PDU that does not end the command's data. */
static void test_h2c_early_last(void **state)
{
    h2c_error_ex(8192, 0, 0, 0, 4096, true, NVME_TCP_FES_INVALID_HEADER,
                 offsetof(struct nvme_tcp_hdr, flags));
}

static void test_h2c_unsolicited(void **state)
{
    uint8_t h2c[4096 + 64], data[4096] = {0};

    do_icreq(0);
    host_send(h2c, host_h2c(h2c, 1, 0, 0, data, sizeof(data), true, false, false));
    expect_term(NVME_TCP_FES_INVALID_HEADER, 10);
}

static void test_cid_conflict(void **state)
{
    uint8_t pdu[128];
    struct nvme_sqe sqe;

    do_icreq(0);
    do_connect(1, false, false, false);
    host_sqe_rw(&sqe, FAKE_PENDING_OPC, 5, 0, 0, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    assert_int_equal(expect_rsp(5, false), NVME_STATUS(0, 0x03) | NVME_STATUS_DNR);
    assert_int_equal(fake.npending, 1);
    assert_true(fake_complete_one());
    pump();
    assert_int_equal(expect_rsp(5, false), 0);
    assert_int_equal(le64toh(((struct nvme_tcp_rsp_pdu *)g_buf)->cqe.result), 0x1234);
    /* CID free again */
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    pump();
    assert_int_equal(fake.npending, 1);
}

/* A held request the nvmf layer gives up (an AER the host abandoned) frees
 * its CID for the new command, and is never answered. */
static void test_cid_reuse_of_abandoned(void **state)
{
    uint8_t pdu[128];
    struct nvme_sqe sqe;

    fake.abandonable = true;
    do_icreq(0);
    do_connect(0, false, false, false);
    host_sqe_rw(&sqe, FAKE_PENDING_OPC, 5, 0, 0, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    pump();
    assert_int_equal(fake.npending, 1);
    host_sqe_rw(&sqe, 0x00, 5, 0, 0, false); /* a flush: the fake succeeds it at once */
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    pump();
    assert_int_equal(fake.abandoned, 1);
    assert_int_equal(fake.npending, 0);
    /* the new command ran (no CID conflict); nothing is sent for the abandoned one */
    assert_int_equal(expect_rsp(5, false), 0);
    uint8_t b;
    assert_int_equal(recv(g_host, &b, 1, MSG_DONTWAIT), -1);
    /* without an abandonable holder a reused CID is still a conflict */
    fake.abandonable = false;
    host_sqe_rw(&sqe, FAKE_PENDING_OPC, 6, 0, 0, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    assert_int_equal(expect_rsp(6, false), NVME_STATUS(0, 0x03) | NVME_STATUS_DNR);
}

static void test_byte_at_a_time(void **state)
{
    static uint8_t stream[16384], data[4096];
    uint8_t pdu[8192];
    struct nvme_sqe sqe;
    uint32_t n = 0;

    fill(data, sizeof(data), 99);
    n += host_icreq(stream, 0, 0, NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE);
    host_sqe_connect(&sqe, 0x10, 1, 32, false);
    uint8_t cd[1024] = {0};
    n += host_cmd(stream + n, &sqe, cd, sizeof(cd), true, true);
    host_sqe_rw(&sqe, 0x01, 3, 4, sizeof(data), true);
    n += host_cmd(stream + n, &sqe, data, sizeof(data), true, true);
    for (uint32_t i = 0; i < n; i++)
        host_send(stream + i, 1);
    recv_pdu(); /* ICResp */
    assert_int_equal(expect_rsp(0x10, true), 0);
    assert_int_equal(expect_rsp(3, true), 0);
    assert_memory_equal(fake.disk + 4 * 512, data, sizeof(data));
    (void)pdu;
}

static void test_sgl_errors(void **state)
{
    uint8_t pdu[16384], data[8192 + 16] = {0};
    struct nvme_sqe sqe;

    do_icreq(0);
    do_connect(1, false, false, false);
    /* in-capsule larger than the I/O queue accepts */
    host_sqe_rw(&sqe, 0x01, 1, 0, sizeof(data), true);
    host_send(pdu, host_cmd(pdu, &sqe, data, sizeof(data), false, false));
    assert_int_equal(expect_rsp(1, false), NVME_STATUS(0, 0x0f) | NVME_STATUS_DNR);
    /* transfer larger than max_io_size */
    host_sqe_rw(&sqe, 0x02, 2, 0, 0, false);
    sqe.sgl.length = htole32(131072 + 4096);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    assert_int_equal(expect_rsp(2, false), NVME_STATUS(0, 0x0f) | NVME_STATUS_DNR);
    /* unknown descriptor type */
    host_sqe_rw(&sqe, 0x02, 3, 0, 512, false);
    sqe.sgl.type = 0x30;
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    assert_int_equal(expect_rsp(3, false), NVME_STATUS(0, 0x11) | NVME_STATUS_DNR);
    /* in-capsule offset */
    host_sqe_rw(&sqe, 0x01, 4, 0, 512, true);
    sqe.sgl.addr = htole64(16);
    host_send(pdu, host_cmd(pdu, &sqe, data, 512, false, false));
    assert_int_equal(expect_rsp(4, false), NVME_STATUS(0, 0x16) | NVME_STATUS_DNR);
    /* still in sync */
    host_sqe_rw(&sqe, 0x00, 5, 0, 0, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    assert_int_equal(expect_rsp(5, false), 0);
}

/* Pool of 4 requests: a fifth command waits until one of four pending ones completes. */
static void test_back_pressure(void **state)
{
    do_icreq(0);
    do_connect(1, false, false, false);
    for (uint16_t cid = 1; cid <= 4; cid++)
        send_cmd(FAKE_PENDING_OPC, cid, 0);
    send_cmd(0x00, 5, 0);
    for (int i = 0; i < 20; i++)
        reactor_run_once(g_r, 1);
    assert_int_equal(fake.npending, 4);
    assert_true(g_conn->rx_blocked);
    unsigned execs = fake.execs;
    assert_true(fake_complete_one());
    assert_int_equal(expect_rsp(1, false), 0);
    assert_int_equal(expect_rsp(5, false), 0);
    assert_int_equal(fake.execs, execs + 1);
}

static void test_h2c_term_closes(void **state)
{
    uint8_t t[24] = {NVME_TCP_H2C_TERM, 0, 24, 0, 24};

    do_icreq(0);
    host_send(t, sizeof(t));
    expect_eof();
}

/* The longest header a host may send: 24 bytes plus 128 echoed (more than an ICReq + digest). */
static void test_h2c_term_full_echo_closes(void **state)
{
    uint8_t t[NVME_TCP_TERM_HLEN + NVME_TCP_TERM_MAX_DATA];

    memset(t, 0xff, sizeof(t));
    memset(t, 0, NVME_TCP_TERM_HLEN);
    t[0] = NVME_TCP_H2C_TERM;
    t[2] = NVME_TCP_TERM_HLEN;
    t[4] = sizeof(t);
    do_icreq(0);
    host_send(t, sizeof(t));
    for (int i = 0; i < 2000; i++) { /* closed without a byte: a TermReq is never answered */
        uint8_t b;
        ssize_t n = recv(g_host, &b, 1, MSG_DONTWAIT);
        assert_true(n <= 0);
        if (n == 0)
            return;
        reactor_run_once(g_r, 1);
    }
    fail_msg("connection not closed");
}

static void test_tick_closes(void **state)
{
    do_icreq(0);
    fake.tick_ok = false;
    expect_eof();
    assert_true(fake.ticks >= 1);
}

static void test_close_with_pending(void **state)
{
    uint8_t pdu[128];
    struct nvme_sqe sqe;

    do_icreq(0);
    do_connect(1, false, false, false);
    host_sqe_rw(&sqe, FAKE_PENDING_OPC, 1, 0, 0, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    pump();
    assert_int_equal(fake.npending, 1);
    /* teardown closes the host side: fini must drop the pending request */
}

/*
 * A host that stops reading: the responses stall in the socket (on the
 * io_uring engine a sendmsg then stays in flight on the ring). Closing the
 * connection must still end that send and free the connection, with the
 * host's socket still open.
 */
static void test_close_while_send_stalled(void **state)
{
    do_icreq(0);
    do_connect(1, false, false, false);
    for (uint16_t cid = 1; cid <= 4; cid++)
        send_cmd(0x02, cid, 131072);
    for (int i = 0; i < 20; i++)
        reactor_run_once(g_r, 1);
    assert_non_null(g_conn->tx_head); /* 512 KiB of C2H data cannot all be in the socket */
    assert_true(!g_conn->ring || g_conn->tx_op.busy);
    fake.tick_ok = false; /* the controller tears the queue down at the next tick */
    for (int i = 0; i < 200 && (g_r->nconns || !tlist_empty(&g_r->gone)); i++)
        reactor_run_once(g_r, 1);
    assert_int_equal(g_r->nconns, 0);
    assert_true(tlist_empty(&g_r->gone));
}

static void test_hpda_alignment(void **state)
{
    uint8_t ic[128], pdu[128];
    struct nvme_sqe sqe;
    struct nvme_tcp_data_pdu *d = (void *)g_buf;

    host_send(ic, host_icreq(ic, 0, 7, 0)); /* 32-byte alignment */
    recv_pdu();
    do_connect(1, false, false, false);
    host_sqe_rw(&sqe, 0x02, 2, 0, 512, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false));
    assert_int_equal(recv_pdu(), 32 + 512);
    assert_int_equal(d->hdr.pdo, 32);
    assert_int_equal(expect_rsp(2, false), 0);
}

static void set_limits(uint32_t icreq_ms, uint32_t connect_ms, uint32_t pdu_ms, uint32_t idle_ms)
{
    struct tgt_conn_limits l = TGT_CONN_LIMITS_DEFAULT;

    l.icreq_timeout_ms = icreq_ms;
    l.connect_timeout_ms = connect_ms;
    l.pdu_timeout_ms = pdu_ms;
    l.idle_release_ms = idle_ms;
    tgt_conn_limits_set(&l);
}

/* Pages of the connection's data slots that are resident. */
static size_t slots_resident(void)
{
    size_t pages = g_conn->bufs_len / 4096, n = 0;
    static unsigned char vec[1 << 16];

    assert_true(pages <= sizeof(vec));
    assert_int_equal(mincore(g_conn->bufs, g_conn->bufs_len, vec), 0);
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    return n;
}

/* Finding 1: a connection that never sends its ICReq is closed. */
static void test_icreq_deadline(void **state)
{
    set_limits(30, 0, 0, 0);
    expect_eof();
}

/* ...nor one that sends half of it (the PDU deadline is off: the ICReq one applies). */
static void test_icreq_deadline_half_sent(void **state)
{
    uint8_t ic[128];

    set_limits(30, 0, 0, 0);
    host_send(ic, host_icreq(ic, 0, 0, 0) / 2);
    expect_eof();
}

/* ICResp sent, but no Connect follows. */
static void test_connect_deadline(void **state)
{
    set_limits(0, 30, 0, 0);
    do_icreq(0);
    expect_eof();
}

/* A refused Connect does not restart the clock. */
static void test_connect_deadline_after_refusal(void **state)
{
    set_limits(0, 30, 0, 0);
    do_icreq(0);
    send_cmd(0x02, 1, 512); /* not a Connect: refused, still no controller */
    assert_int_equal(expect_rsp(1, false), NVME_STATUS(0, 0x0c) | NVME_STATUS_DNR);
    expect_eof();
}

/* Connected, then half a command: the PDU deadline closes it. */
static void test_pdu_deadline(void **state)
{
    uint8_t pdu[128];
    struct nvme_sqe sqe;

    set_limits(0, 0, 30, 0);
    do_icreq(0);
    do_connect(1, false, false, false);
    host_sqe_rw(&sqe, 0x02, 2, 0, 512, false);
    host_send(pdu, host_cmd(pdu, &sqe, NULL, 0, false, false) - 10);
    expect_eof();
}

/* ...or half the data of a write. */
static void test_pdu_deadline_in_data(void **state)
{
    static uint8_t data[8192], h2c[8192 + 64];

    set_limits(0, 0, 30, 0);
    do_icreq(0);
    do_connect(1, false, false, false);
    uint16_t ttag = write_expect_r2t(3, 0, sizeof(data));
    host_send(h2c, host_h2c(h2c, 3, ttag, 0, data, sizeof(data), true, false, false) / 2);
    expect_eof();
}

static void run_for_ms(unsigned ms)
{
    uint64_t until = tgt_now_us() + ms * 1000u;

    while (tgt_now_us() < until)
        reactor_run_once(g_r, 5);
}

/*
 * A host that completes its PDUs may pause between them as long as it
 * likes; the PDU deadline does not apply before the ICReq (a connection
 * waiting for it was once closed as "PDU not completed" on its first tick).
 */
static void test_deadlines_spare_a_working_host(void **state)
{
    set_limits(300, 300, 30, 0);
    run_for_ms(60);
    do_icreq(0);
    run_for_ms(60);
    do_connect(1, false, false, false);
    for (uint16_t cid = 1; cid <= 3; cid++) {
        run_for_ms(60);
        assert_int_equal(g_r->nconns, 1);
        send_cmd(0x00, cid, 0);
        assert_int_equal(expect_rsp(cid, false), 0);
    }
}

/*
 * Finding 3: before Connect a write is refused without an R2T, and its
 * in-capsule data is read and dropped without touching a data slot.
 */
static void test_no_data_solicited_before_connect(void **state)
{
    static uint8_t data[4096], pdu[8192];
    struct nvme_sqe sqe;

    do_icreq(0);
    send_cmd(0x01, 1, 131072); /* a transport SGL: would get an R2T */
    assert_int_equal(expect_rsp(1, false), NVME_STATUS(0, 0x0c) | NVME_STATUS_DNR);
    host_sqe_rw(&sqe, 0x01, 2, 0, sizeof(data), true);
    memset(data, 0x5a, sizeof(data));
    host_send(pdu, host_cmd(pdu, &sqe, data, sizeof(data), false, false));
    assert_int_equal(expect_rsp(2, false), NVME_STATUS(0, 0x0c) | NVME_STATUS_DNR);
    assert_int_equal(fake.execs, 0);
    assert_int_equal(slots_resident(), 0);
    do_connect(1, false, false, false); /* and the stream is still in sync */
}

/* Data slots used by commands are given back once the connection idles. */
static void test_idle_connection_gives_slots_back(void **state)
{
    static uint8_t data[65536];

    set_limits(0, 0, 0, 20);
    do_icreq(0);
    do_connect(1, false, false, false);
    fill(data, sizeof(data), 1);
    uint16_t ttag = write_expect_r2t(4, 0, sizeof(data));
    for (uint32_t off = 0; off < sizeof(data); off += IO_UNIT) {
        static uint8_t h2c[IO_UNIT + 64];
        host_send(h2c, host_h2c(h2c, 4, ttag, off, data + off, IO_UNIT,
                                off + IO_UNIT == sizeof(data), false, false));
    }
    assert_int_equal(expect_rsp(4, false), 0);
    assert_true(slots_resident() >= sizeof(data) / 4096);
    for (int i = 0; i < 2000 && slots_resident(); i++)
        reactor_run_once(g_r, 1);
    assert_int_equal(slots_resident(), 0);
    assert_memory_equal(fake.disk, data, sizeof(data));
}

/* Finding 4: the host's last bytes and its hang-up in one edge-triggered event. */
static void test_hangup_with_last_bytes(void **state)
{
    uint8_t partial[4] = {NVME_TCP_CMD, 0, 72, 72};

    set_limits(0, 0, 0, 0); /* no deadline may do the work */
    do_icreq(0);
    assert_int_equal(send(g_host, partial, sizeof(partial), MSG_NOSIGNAL), 4);
    close(g_host);
    g_host = -1;
    for (int i = 0; i < 200 && g_r->nconns; i++)
        reactor_run_once(g_r, 1);
    assert_int_equal(g_r->nconns, 0);
}

/*
 * Finding 4: every request held (AERs, say) and receiving paused for want of
 * a free one; the host goes away. The connection must not wait for a request
 * that will never complete before it notices.
 */
static void test_hangup_while_blocked(void **state)
{
    set_limits(0, 0, 0, 0);
    do_icreq(0);
    do_connect(0, false, false, false);
    for (uint16_t cid = 1; cid <= 5; cid++)
        send_cmd(FAKE_PENDING_OPC, cid, 0);
    pump();
    assert_int_equal(fake.npending, 4);
    assert_true(g_conn->rx_blocked);
    close(g_host);
    g_host = -1;
    /*
     * The io_uring engine has no receive on the ring while paused: it sees
     * the hang-up once a request completes (the nvmf layer holds at most 4
     * AERs, so a pool is never held for good); the epoll engine at once.
     */
    if (g_conn->ring) {
        pump();
        assert_int_equal(g_r->nconns, 1);
        assert_true(fake_complete_one());
    }
    for (int i = 0; i < 200 && g_r->nconns; i++)
        reactor_run_once(g_r, 1);
    assert_int_equal(g_r->nconns, 0);
    assert_int_equal(fake.npending, 0); /* dropped by the nvmf layer's fini */
}

/* Finding 9: no more commands outstanding than the queue the host negotiated. */
static void test_sqsize_bounds_outstanding(void **state)
{
    uint8_t data[1024] = {0}, pdu[2048];
    struct nvme_sqe sqe;

    do_icreq(0);
    host_sqe_connect(&sqe, 0x10, 1, 2, false); /* a queue of 2 entries (SQSIZE 1) */
    host_send(pdu, host_cmd(pdu, &sqe, data, sizeof(data), false, false));
    assert_int_equal(expect_rsp(0x10, false), 0);
    for (uint16_t cid = 1; cid <= 3; cid++)
        send_cmd(FAKE_PENDING_OPC, cid, 0);
    pump();
    assert_int_equal(fake.npending, 2);
    assert_true(g_conn->rx_blocked);
    assert_true(fake_complete_one());
    assert_int_equal(expect_rsp(1, false), 0);
    pump();
    assert_int_equal(fake.npending, 2);
}

int main(void)
{
    const struct tgt_transport_opts o = {
        .max_queue_depth = 4,
        .max_aq_depth = 4,
        .max_io_qpairs_per_ctrlr = 4,
        .in_capsule_data_size = 8192,
        .max_io_size = 131072,
        .io_unit_size = IO_UNIT,
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_icreq_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icreq_digests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icreq_bad_pfv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cmd_before_icreq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incapsule_write_then_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_r2t_write_chunked_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_r2t_digests_sqflow_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_ends_with_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_hlen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_digest_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_digest_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h2c_wrong_ttag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h2c_wrong_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h2c_unsolicited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h2c_wrong_cccid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h2c_above_maxh2cdata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h2c_overrun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h2c_early_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cid_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sgl_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_back_pressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_data_in_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_data_beyond_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h2c_term_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h2c_term_full_echo_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_with_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cid_reuse_of_abandoned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_while_send_stalled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hpda_alignment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icreq_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icreq_deadline_half_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_deadline_after_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pdu_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pdu_deadline_in_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadlines_spare_a_working_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_data_solicited_before_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_connection_gives_slots_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hangup_with_last_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqsize_bounds_outstanding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hangup_while_blocked, setup, teardown),
    };

    if (tgt_transport_create(&o) < 0 || reactor_create(0, false, 0, &g_r) < 0)
        return 1;
    reactor_enter(g_r);
    int rc = cmocka_run_group_tests_name("epoll engine (recv/sendmsg)", tests, NULL, NULL);
    reactor_destroy(g_r);

    /* io_uring engine: the same tests with receives and sends as ring operations */
    if (reactor_create(0, true, 0, &g_r) < 0)
        return test_no_io_uring_allowed() ? rc : 1;
    reactor_enter(g_r);
    rc |= cmocka_run_group_tests_name("io_uring engine (ring operations)", tests, NULL, NULL);
    reactor_destroy(g_r);
    return rc;
}
