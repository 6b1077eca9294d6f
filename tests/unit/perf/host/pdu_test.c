/* SPDX-License-Identifier: Apache-2.0 */
/* The host's PDU builders must produce exactly what a controller's header check accepts. */
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pdu.h"

static uint8_t buf[HOST_PDU_HDR_MAX];

static void assert_controller_accepts(const void *pdu, bool hdgst, bool ddgst, bool ic_done,
                                      uint32_t expect_rest)
{
    struct nvme_tcp_params p = {
        .hdgst = hdgst, .ddgst = ddgst, .ic_done = ic_done, .max_data = 8192};
    uint32_t rest = 0, fei = 0;
    uint16_t fes = 0;

    assert_int_equal(nvme_tcp_check_hdr(pdu, NVME_TCP_ROLE_CONTROLLER, &p, &rest, &fes, &fei), 0);
    assert_int_equal(rest, expect_rest);
}

static void test_icreq(void **state)
{
    struct nvme_tcp_icreq ic;

    host_pdu_icreq(&ic, true, false);
    assert_int_equal(ic.hdr.type, NVME_TCP_ICREQ);
    assert_int_equal(ic.hdr.hlen, 128);
    assert_int_equal(le32toh(ic.hdr.plen), 128);
    assert_int_equal(ic.digest, NVME_TCP_HDGST_ENABLE);
    assert_int_equal(ic.hpda, 0);
    assert_int_equal(le32toh(ic.maxr2t), 0);
    assert_controller_accepts(&ic, false, false, false, 120);
}

static void test_cmd_no_data(void **state)
{
    struct nvme_sqe sqe;
    struct host_pdu_cfg cfg = {0};

    host_sqe_keep_alive(&sqe);
    assert_int_equal(host_pdu_cmd(buf, &sqe, 0, &cfg), 72);
    assert_int_equal(le32toh(((struct nvme_tcp_hdr *)buf)->plen), 72);
    assert_int_equal(((struct nvme_tcp_hdr *)buf)->pdo, 0);
    assert_controller_accepts(buf, false, false, true, 64);

    cfg.hdgst = true;
    cfg.ddgst = true; /* no data: no DDGST flag */
    assert_int_equal(host_pdu_cmd(buf, &sqe, 0, &cfg), 76);
    const struct nvme_tcp_hdr *ch = (const struct nvme_tcp_hdr *)buf;
    assert_int_equal(ch->flags, NVME_TCP_F_HDGST);
    assert_int_equal(le32toh(ch->plen), 76);
    uint32_t crc;
    memcpy(&crc, buf + 72, 4);
    assert_int_equal(le32toh(crc), nvme_tcp_digest(buf, 72));
    assert_controller_accepts(buf, true, true, true, 68);
}

static void test_cmd_incapsule_aligned(void **state)
{
    struct nvme_sqe sqe;
    struct host_pdu_cfg cfg = {.hdgst = true, .ddgst = true, .cpda = 3}; /* 16-byte alignment */

    host_sqe_rw(&sqe, true, 1, 8, 1, false);
    uint32_t hdr = host_pdu_cmd(buf, &sqe, 512, &cfg);
    const struct nvme_tcp_hdr *ch = (const struct nvme_tcp_hdr *)buf;
    assert_int_equal(hdr, 80); /* 72 + 4 digest, rounded up to 16 */
    assert_int_equal(ch->pdo, 80);
    assert_int_equal(le32toh(ch->plen), 80 + 512 + 4);
    assert_int_equal(ch->flags, NVME_TCP_F_HDGST | NVME_TCP_F_DDGST);
    assert_int_equal(buf[76] | buf[77] | buf[78] | buf[79], 0); /* padding is zero */
    assert_controller_accepts(buf, true, true, true, 68);
    assert_int_equal(nvme_tcp_data_len(ch, true), 512);
}

static void test_h2c_data(void **state)
{
    struct host_pdu_cfg cfg = {.ddgst = true};
    uint32_t hdr = host_pdu_h2c_data(buf, 7, 0x1234, 16384, 4096, true, &cfg);
    const struct nvme_tcp_data_pdu *d = (const struct nvme_tcp_data_pdu *)buf;

    assert_int_equal(hdr, 24);
    assert_int_equal(d->hdr.type, NVME_TCP_H2C_DATA);
    assert_int_equal(d->hdr.flags, NVME_TCP_F_DATA_LAST | NVME_TCP_F_DDGST);
    assert_int_equal(d->hdr.pdo, 24);
    assert_int_equal(le32toh(d->hdr.plen), 24 + 4096 + 4);
    assert_int_equal(le16toh(d->cccid), 7);
    assert_int_equal(le16toh(d->ttag), 0x1234);
    assert_int_equal(le32toh(d->offset), 16384);
    assert_int_equal(le32toh(d->length), 4096);
    assert_controller_accepts(buf, false, true, true, 16);
}

static void test_h2c_term(void **state)
{
    uint8_t echo[200];

    memset(echo, 0xab, sizeof(echo));
    uint32_t n = host_pdu_h2c_term(buf, NVME_TCP_FES_HDR_DIGEST_ERR, 3, echo, sizeof(echo));
    assert_int_equal(n, 24 + NVME_TCP_TERM_MAX_DATA); /* echo is capped */
    const struct nvme_tcp_term *t = (const struct nvme_tcp_term *)buf;
    assert_int_equal(t->hdr.type, NVME_TCP_H2C_TERM);
    assert_int_equal(le16toh(t->fes), NVME_TCP_FES_HDR_DIGEST_ERR);
    assert_int_equal(le32toh(t->fei), 3);
    assert_controller_accepts(buf, true, true, true, n - 8);
}

static void test_fabrics_sqes(void **state)
{
    struct nvme_sqe sqe;

    host_sqe_connect(&sqe, 3, 127, HOST_CONNECT_DISABLE_SQFLOW, 0);
    assert_int_equal(sqe.opcode, NVME_FABRICS_OPCODE);
    assert_int_equal(nvme_sqe_fctype(&sqe), NVMF_FCTYPE_CONNECT);
    assert_int_equal(le32toh(sqe.cdw10), 3u << 16);
    assert_int_equal(le32toh(sqe.cdw11), 127u | (4u << 16));
    host_sqe_connect(&sqe, 0, 31, 0, 15000);
    assert_int_equal(le32toh(sqe.cdw12), 15000);

    host_sqe_prop_set(&sqe, 0x14, true, 0x1122334455667788ull);
    assert_int_equal(nvme_sqe_fctype(&sqe), NVMF_FCTYPE_PROP_SET);
    assert_int_equal(le32toh(sqe.cdw10), 1);
    assert_int_equal(le32toh(sqe.cdw11), 0x14);
    assert_int_equal(le32toh(sqe.cdw12), 0x55667788);
    assert_int_equal(le32toh(sqe.cdw13), 0x11223344);
    host_sqe_prop_get(&sqe, 0, false);
    assert_int_equal(nvme_sqe_fctype(&sqe), NVMF_FCTYPE_PROP_GET);
    assert_int_equal(le32toh(sqe.cdw10), 0);
}

static void test_admin_io_sqes(void **state)
{
    struct nvme_sqe sqe;

    host_sqe_get_log(&sqe, 0x70, 0, 0x100000000ull + 4096, 1u << 20);
    uint32_t numd = (1u << 20) / 4 - 1;
    assert_int_equal(le32toh(sqe.cdw10), 0x70 | ((numd & 0xffff) << 16));
    assert_int_equal(le32toh(sqe.cdw11), numd >> 16);
    assert_int_equal(le32toh(sqe.cdw12), 4096);
    assert_int_equal(le32toh(sqe.cdw13), 1);

    host_sqe_rw(&sqe, false, 5, 0x123456789ull, 256, true);
    assert_int_equal(sqe.opcode, 0x02);
    assert_int_equal(le32toh(sqe.nsid), 5);
    assert_int_equal(le32toh(sqe.cdw10), 0x23456789);
    assert_int_equal(le32toh(sqe.cdw11), 0x1);
    assert_int_equal(le32toh(sqe.cdw12), 255u | (1u << 30));

    host_sqe_set_features(&sqe, 0x07, (3u << 16) | 3u);
    assert_int_equal(sqe.opcode, 0x09);
    assert_int_equal(le32toh(sqe.cdw10), 0x07);
    host_sqe_identify(&sqe, 1, 0);
    assert_int_equal(sqe.opcode, 0x06);
    assert_int_equal(le32toh(sqe.cdw10), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_icreq),
        cmocka_unit_test(test_cmd_no_data),
        cmocka_unit_test(test_cmd_incapsule_aligned),
        cmocka_unit_test(test_h2c_data),
        cmocka_unit_test(test_h2c_term),
        cmocka_unit_test(test_fabrics_sqes),
        cmocka_unit_test(test_admin_io_sqes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
