/* SPDX-License-Identifier: Apache-2.0 */
/* libslio/nvme_tcp.c (common-header gate) and libslio/crc32c.c (digest) against known values. */
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slio/nvme_tcp.h"

static const struct nvme_tcp_params before_ic = {.max_data = 8192};
static const struct nvme_tcp_params plain = {.ic_done = true, .max_data = 8192};
static const struct nvme_tcp_params digests = {
    .ic_done = true, .hdgst = true, .ddgst = true, .max_data = 8192};

static struct nvme_tcp_hdr hdr(uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo,
                               uint32_t plen)
{
    return (struct nvme_tcp_hdr){
        .type = type, .flags = flags, .hlen = hlen, .pdo = pdo, .plen = htole32(plen)};
}

static int check(struct nvme_tcp_hdr h, enum nvme_tcp_role role, const struct nvme_tcp_params *p,
                 uint32_t *rest, uint16_t *fes, uint32_t *fei)
{
    *rest = *fei = 0xdead;
    *fes = 0xdead;
    return nvme_tcp_check_hdr(&h, role, p, rest, fes, fei);
}

#define C NVME_TCP_ROLE_CONTROLLER
#define H NVME_TCP_ROLE_HOST

static void expect_ok(struct nvme_tcp_hdr h, enum nvme_tcp_role role,
                      const struct nvme_tcp_params *p, uint32_t want_rest)
{
    uint32_t rest, fei;
    uint16_t fes;

    int r = check(h, role, p, &rest, &fes, &fei);
    if (r != 0 || rest != want_rest)
        fail_msg("type %u: got %d rest %u (fes %u fei %u), want 0 rest %u", h.type, r, rest, fes,
                 fei, want_rest);
}

static void expect_bad(struct nvme_tcp_hdr h, enum nvme_tcp_role role,
                       const struct nvme_tcp_params *p, uint16_t want_fes, uint32_t want_fei)
{
    uint32_t rest, fei;
    uint16_t fes;

    int r = check(h, role, p, &rest, &fes, &fei);
    if (r != -EPROTO || fes != want_fes || fei != want_fei)
        fail_msg("type %u hlen %u pdo %u plen %u: got %d fes %u fei %u, want fes %u fei %u", h.type,
                 h.hlen, h.pdo, le32toh(h.plen), r, fes, fei, want_fes, want_fei);
    assert_int_equal(rest, 0xdead); /* untouched on failure */
}

static void test_valid(void **state)
{
    expect_ok(hdr(NVME_TCP_ICREQ, 0, 128, 0, 128), C, &before_ic, 120);
    expect_ok(hdr(NVME_TCP_ICRESP, 0, 128, 0, 128), H, &before_ic, 120);
    /* command without data, then with 4 KiB in-capsule data */
    expect_ok(hdr(NVME_TCP_CMD, 0, 72, 0, 72), C, &plain, 64);
    expect_ok(hdr(NVME_TCP_CMD, 0, 72, 72, 72 + 4096), C, &plain, 64);
    expect_ok(hdr(NVME_TCP_H2C_DATA, NVME_TCP_F_DATA_LAST, 24, 24, 24 + 8192), C, &plain, 16);
    /* with both digests: header digest after the header, data digest after the data */
    expect_ok(hdr(NVME_TCP_CMD, NVME_TCP_F_HDGST, 72, 0, 76), C, &digests, 68);
    expect_ok(hdr(NVME_TCP_H2C_DATA, NVME_TCP_F_HDGST | NVME_TCP_F_DDGST, 24, 28, 28 + 512 + 4), C,
              &digests, 20);
    expect_ok(hdr(NVME_TCP_RSP, 0, 24, 0, 24), H, &plain, 16);
    expect_ok(hdr(NVME_TCP_R2T, 0, 24, 0, 24), H, &plain, 16);
    expect_ok(hdr(NVME_TCP_C2H_DATA, 0, 24, 24, 1024), H, &plain, 16);
    /* TermReq carries up to 128 bytes of the offending header */
    expect_ok(hdr(NVME_TCP_H2C_TERM, 0, 24, 0, 24 + 128), C, &plain, 144);
    expect_ok(hdr(NVME_TCP_C2H_TERM, 0, 24, 0, 24), H, &before_ic, 16);

    struct nvme_tcp_hdr d = hdr(NVME_TCP_H2C_DATA, NVME_TCP_F_DDGST, 24, 28, 28 + 512 + 4);
    assert_int_equal(nvme_tcp_data_len(&d, true), 512);
    struct nvme_tcp_hdr nod = hdr(NVME_TCP_CMD, 0, 72, 0, 72);
    assert_int_equal(nvme_tcp_data_len(&nod, false), 0);
}

static void test_invalid(void **state)
{
    const uint32_t fei_type = 0, fei_flags = 1, fei_hlen = 2, fei_pdo = 3, fei_plen = 4;

    /* wrong hlen for the type */
    expect_bad(hdr(NVME_TCP_ICREQ, 0, 127, 0, 128), C, &before_ic, NVME_TCP_FES_INVALID_HEADER,
               fei_hlen);
    expect_bad(hdr(NVME_TCP_CMD, 0, 24, 0, 72), C, &plain, NVME_TCP_FES_INVALID_HEADER, fei_hlen);
    /* unknown type, and a known type in the wrong direction */
    expect_bad(hdr(0x08, 0, 24, 0, 24), C, &plain, NVME_TCP_FES_INVALID_HEADER, fei_type);
    expect_bad(hdr(0xff, 0, 24, 0, 24), H, &plain, NVME_TCP_FES_INVALID_HEADER, fei_type);
    expect_bad(hdr(NVME_TCP_RSP, 0, 24, 0, 24), C, &plain, NVME_TCP_FES_PDU_SEQ_ERR, fei_type);
    expect_bad(hdr(NVME_TCP_CMD, 0, 72, 0, 72), H, &plain, NVME_TCP_FES_PDU_SEQ_ERR, fei_type);
    /* only ICReq before the connection is initialized; no second ICReq after */
    expect_bad(hdr(NVME_TCP_CMD, 0, 72, 0, 72), C, &before_ic, NVME_TCP_FES_PDU_SEQ_ERR, fei_type);
    expect_bad(hdr(NVME_TCP_ICREQ, 0, 128, 0, 128), C, &plain, NVME_TCP_FES_PDU_SEQ_ERR, fei_type);
    expect_bad(hdr(NVME_TCP_RSP, 0, 24, 0, 24), H, &before_ic, NVME_TCP_FES_PDU_SEQ_ERR, fei_type);
    /* plen smaller than the header, or not exact where no data may follow */
    expect_bad(hdr(NVME_TCP_CMD, 0, 72, 0, 71), C, &plain, NVME_TCP_FES_INVALID_HEADER, fei_plen);
    expect_bad(hdr(NVME_TCP_CMD, NVME_TCP_F_HDGST, 72, 0, 72), C, &digests,
               NVME_TCP_FES_INVALID_HEADER, fei_plen);
    expect_bad(hdr(NVME_TCP_ICREQ, 0, 128, 0, 129), C, &before_ic, NVME_TCP_FES_INVALID_HEADER,
               fei_plen);
    expect_bad(hdr(NVME_TCP_H2C_TERM, 0, 24, 0, 23), C, &plain, NVME_TCP_FES_INVALID_HEADER,
               fei_plen);
    expect_bad(hdr(NVME_TCP_H2C_TERM, 0, 24, 0, 24 + 129), C, &plain, NVME_TCP_FES_INVALID_HEADER,
               fei_plen);
    expect_bad(hdr(NVME_TCP_R2T, 0, 24, 0, 28), H, &plain, NVME_TCP_FES_INVALID_HEADER, fei_plen);
    expect_bad(hdr(NVME_TCP_H2C_DATA, 0, 24, 0, 24), C, &plain, NVME_TCP_FES_INVALID_HEADER,
               fei_plen); /* data PDU without data */
    expect_bad(hdr(NVME_TCP_CMD, 0, 72, 0, 0xffffffffu), C, &plain, NVME_TCP_FES_INVALID_HEADER,
               fei_pdo);
    /* pdo out of range: inside the header, at/after plen, or set where no data exists */
    expect_bad(hdr(NVME_TCP_CMD, 0, 72, 71, 72 + 512), C, &plain, NVME_TCP_FES_INVALID_HEADER,
               fei_pdo);
    expect_bad(hdr(NVME_TCP_H2C_DATA, 0, 24, 0, 24 + 512), C, &plain, NVME_TCP_FES_INVALID_HEADER,
               fei_pdo);
    expect_bad(hdr(NVME_TCP_H2C_DATA, 0, 24, 200, 200), C, &plain, NVME_TCP_FES_INVALID_HEADER,
               fei_pdo);
    expect_bad(hdr(NVME_TCP_CMD, 0, 72, 80, 72), C, &plain, NVME_TCP_FES_INVALID_HEADER, fei_pdo);
    expect_bad(hdr(NVME_TCP_RSP, 0, 24, 24, 24), H, &plain, NVME_TCP_FES_INVALID_HEADER, fei_pdo);
    /* data over max_data */
    expect_bad(hdr(NVME_TCP_H2C_DATA, 0, 24, 24, 24 + 8193), C, &plain,
               NVME_TCP_FES_DATA_LIMIT_EXCEEDED, fei_plen);
    expect_bad(hdr(NVME_TCP_CMD, 0, 72, 72, 72 + 1), C,
               &(struct nvme_tcp_params){.ic_done = true, .max_data = 0},
               NVME_TCP_FES_DATA_LIMIT_EXCEEDED, fei_plen);
    /* digest flags that do not match what was negotiated */
    expect_bad(hdr(NVME_TCP_CMD, NVME_TCP_F_HDGST, 72, 0, 76), C, &plain,
               NVME_TCP_FES_INVALID_HEADER, fei_flags);
    expect_bad(hdr(NVME_TCP_CMD, 0, 72, 0, 72), C, &digests, NVME_TCP_FES_INVALID_HEADER,
               fei_flags);
    expect_bad(hdr(NVME_TCP_H2C_DATA, NVME_TCP_F_DDGST, 24, 24, 24 + 516), C, &plain,
               NVME_TCP_FES_INVALID_HEADER, fei_flags);
    expect_bad(hdr(NVME_TCP_H2C_DATA, NVME_TCP_F_HDGST, 24, 28, 28 + 512), C, &digests,
               NVME_TCP_FES_INVALID_HEADER, fei_flags); /* data without its digest */
    expect_bad(hdr(NVME_TCP_RSP, NVME_TCP_F_HDGST | NVME_TCP_F_DDGST, 24, 0, 28), H, &digests,
               NVME_TCP_FES_INVALID_HEADER, fei_flags); /* DDGST on a PDU that has no data */
    expect_bad(hdr(NVME_TCP_ICREQ, NVME_TCP_F_HDGST, 128, 0, 128), C, &before_ic,
               NVME_TCP_FES_INVALID_HEADER, fei_flags);
    expect_bad(hdr(NVME_TCP_H2C_TERM, NVME_TCP_F_DDGST, 24, 0, 24), C, &digests,
               NVME_TCP_FES_INVALID_HEADER, fei_flags);
}

static void test_crc32c(void **state)
{
    static const uint8_t zeros[32];
    uint8_t ones[32], inc[32], big[4099];

    assert_int_equal(nvme_tcp_digest("123456789", 9), 0xE3069283u);
    assert_int_equal(nvme_tcp_digest(zeros, sizeof(zeros)), 0x8A9136AAu);
    /* RFC 3720 B.4 vectors */
    memset(ones, 0xff, sizeof(ones));
    for (int i = 0; i < 32; i++)
        inc[i] = (uint8_t)i;
    assert_int_equal(nvme_tcp_digest(ones, sizeof(ones)), 0x62A8AB43u);
    assert_int_equal(nvme_tcp_digest(inc, sizeof(inc)), 0x46DD794Eu);
    assert_int_equal(nvme_tcp_digest("", 0), 0);
    /* incremental == one shot, across odd lengths and alignments */
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 131 + 7);
    uint32_t whole = nvme_tcp_digest(big + 1, sizeof(big) - 1);
    uint32_t crc = slio_crc32c(~0u, big + 1, 13);
    crc = slio_crc32c(crc, big + 14, 1000);
    crc = slio_crc32c(crc, big + 1014, sizeof(big) - 1014);
    assert_int_equal(~crc, whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_crc32c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
