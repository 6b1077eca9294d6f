/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libslio/nvme_auth.c, nvme_auth_dh.c: DHHC-1 secrets, the key transform,
 * the DH-HMAC-CHAP responses and RFC 7919 DH, against vectors computed
 * independently in Python (nvme_auth_vectors.py), plus host-vs-controller
 * round trips for every hash and DH group.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nvme_auth_vectors.h"
#include "slio/cleanup.h"
#include "slio/nvme_auth.h"

static const char *const secrets[4] = {V_SECRET0, V_SECRET1, V_SECRET2, V_SECRET3};
static const uint8_t *const keys[4] = {v_key0, v_key1, v_key2, v_key3};
static const uint8_t *const transformed[4] = {v_kt0, v_kt1, v_kt2, v_kt3};
static const size_t key_lens[4] = {32, 32, 48, 64};

static void test_parse(void **state)
{
    for (int hh = 0; hh < 4; hh++) {
        struct slio_dhchap_key k;
        struct slio_err err = {""};
        assert_int_equal(slio_dhchap_key_parse(secrets[hh], &k, &err), 0);
        assert_int_equal(k.hash, hh);
        assert_int_equal(k.len, key_lens[hh]);
        assert_memory_equal(k.key, keys[hh], key_lens[hh]);
        char back[SLIO_DHCHAP_SECRET_MAX];
        assert_int_equal(slio_dhchap_key_format(&k, back, sizeof(back)), 0);
        assert_string_equal(back, secrets[hh]);
        slio_dhchap_key_wipe(&k);
    }
    /* a trailing newline (a key file written by echo) is accepted */
    char nl[SLIO_DHCHAP_SECRET_MAX];
    snprintf(nl, sizeof(nl), "%s\n", V_SECRET1);
    struct slio_dhchap_key k;
    assert_int_equal(slio_dhchap_key_parse(nl, &k, NULL), 0);
}

static void test_parse_bad(void **state)
{
    char crc[SLIO_DHCHAP_SECRET_MAX];
    snprintf(crc, sizeof(crc), "%s", V_SECRET1);
    crc[12] = crc[12] == 'A' ? 'B' : 'A'; /* one key character changed: CRC-32 mismatch */
    const char *const bad[] = {
        "",
        "DHHC-1:01:",
        "DHHC-2:01:"
        "A7lonwUEotJkceqRLxuG+9KOp64T7KDyr0IkjQZmb2RZvpwd:",
        "DHHC-1:04:A7lonwUEotJkceqRLxuG+9KOp64T7KDyr0IkjQZmb2RZvpwd:",
        "DHHC-1:00:A7lonwUEotJkceqRLxuG+9KOp64T7KDyr0IkjQZmb2RZvpwd",  /* no final colon */
        "DHHC-1:00:A7lonwUEotJkceqRLxuG+9KOp64T7KDyr0IkjQZmb2RZvp:",   /* not a multiple of 4 */
        "DHHC-1:00:A7lonwUEotJkceqRLxuG+9KOp64T7KDyr0IkjQZmb2RZvp*d:", /* bad character */
        "DHHC-1:00:AAAA:",                                             /* too short */
        "DHHC-1:00:A7lo=wUEotJkceqRLxuG+9KOp64T7KDyr0IkjQZmb2RZvpwd:", /* '=' inside */
        crc,
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        struct slio_dhchap_key k = {.hash = 9};
        struct slio_err err = {""};
        if (slio_dhchap_key_parse(bad[i], &k, &err) != -EINVAL)
            fail_msg("\"%s\" should be refused", bad[i]);
        assert_int_equal(k.hash, 9); /* untouched on failure */
        assert_true(err.text[0] != '\0');
        assert_null(strstr(err.text, "A7lo")); /* no key material in the error */
    }
}

static void test_transform(void **state)
{
    for (int hh = 0; hh < 4; hh++) {
        struct slio_dhchap_key k;
        assert_int_equal(slio_dhchap_key_parse(secrets[hh], &k, NULL), 0);
        uint8_t out[64];
        size_t len = 0;
        assert_int_equal(slio_dhchap_transform(&k, V_HOSTNQN, out, &len), 0);
        assert_int_equal(len, hh ? slio_dhchap_hash_len(hh) : key_lens[hh]);
        assert_memory_equal(out, transformed[hh], len);
    }
}

static const uint8_t *const host_vec[4][4] = {
    {0},
    {v_host_1_0, v_host_1_1, v_host_1_2, v_host_1_3},
    {v_host_2_0, v_host_2_1, v_host_2_2, v_host_2_3},
    {v_host_3_0, v_host_3_1, v_host_3_2, v_host_3_3},
};
static const uint8_t *const ctrl_vec[4][4] = {
    {0},
    {v_ctrl_1_0, v_ctrl_1_1, v_ctrl_1_2, v_ctrl_1_3},
    {v_ctrl_2_0, v_ctrl_2_1, v_ctrl_2_2, v_ctrl_2_3},
    {v_ctrl_3_0, v_ctrl_3_1, v_ctrl_3_2, v_ctrl_3_3},
};

static void test_responses(void **state)
{
    for (int hash = 1; hash <= 3; hash++)
        for (int hh = 0; hh < 4; hh++) {
            struct slio_dhchap_key k;
            assert_int_equal(slio_dhchap_key_parse(secrets[hh], &k, NULL), 0);
            struct slio_dhchap_resp_in in = {
                .hash = hash,
                .key = &k,
                .challenge = v_chal,
                .seqnum = V_SEQ,
                .tid = V_TID,
                .nqn1 = V_HOSTNQN,
                .nqn2 = V_SUBNQN,
            };
            uint8_t out[64];
            assert_int_equal(slio_dhchap_response(&in, out), 0);
            assert_memory_equal(out, host_vec[hash][hh], slio_dhchap_hash_len(hash));
            in.controller = true, in.nqn1 = V_SUBNQN, in.nqn2 = V_HOSTNQN;
            assert_int_equal(slio_dhchap_response(&in, out), 0);
            assert_memory_equal(out, ctrl_vec[hash][hh], slio_dhchap_hash_len(hash));
        }
}

struct dh_vec {
    int group;
    const uint8_t *xt, *pub_t, *pub_h, *secret, *host[4];
};

static void test_dh_vectors(void **state)
{
    const struct dh_vec v[] = {
        {1,
         v_dh1_xt,
         v_dh1_pub_t,
         v_dh1_pub_h,
         v_dh1_secret,
         {0, v_dh1_host_1, v_dh1_host_2, v_dh1_host_3}},
        {2,
         v_dh2_xt,
         v_dh2_pub_t,
         v_dh2_pub_h,
         v_dh2_secret,
         {0, v_dh2_host_1, v_dh2_host_2, v_dh2_host_3}},
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(v); i++) {
        size_t n = slio_dhchap_dhgroup_len(v[i].group);
        struct slio_dhchap_dh *dh = NULL;
        assert_int_equal(slio_dhchap_dh_from_private(v[i].group, v[i].xt, 32, &dh), 0);
        uint8_t pub[SLIO_DHCHAP_DH_MAX], sec[SLIO_DHCHAP_DH_MAX];
        assert_int_equal(slio_dhchap_dh_public(dh, pub, sizeof(pub)), 0);
        assert_memory_equal(pub, v[i].pub_t, n);
        assert_int_equal(slio_dhchap_dh_derive(dh, v[i].pub_h, n, sec, sizeof(sec)), 0);
        assert_memory_equal(sec, v[i].secret, n);
        struct slio_dhchap_key k;
        assert_int_equal(slio_dhchap_key_parse(V_SECRET1, &k, NULL), 0);
        for (int hash = 1; hash <= 3; hash++) {
            struct slio_dhchap_resp_in in = {
                .hash = hash,
                .key = &k,
                .challenge = v_chal,
                .seqnum = V_SEQ,
                .tid = V_TID,
                .nqn1 = V_HOSTNQN,
                .nqn2 = V_SUBNQN,
                .dh_secret = sec,
                .dh_secret_len = n,
            };
            uint8_t out[64];
            assert_int_equal(slio_dhchap_response(&in, out), 0);
            assert_memory_equal(out, v[i].host[hash], slio_dhchap_hash_len(hash));
        }
        /* invalid peer values: 0, 1, p - 1 (all ones is > p), too long */
        uint8_t bad[SLIO_DHCHAP_DH_MAX + 1] = {0};
        assert_int_equal(slio_dhchap_dh_derive(dh, bad, n, sec, sizeof(sec)), -EINVAL);
        bad[n - 1] = 1;
        assert_int_equal(slio_dhchap_dh_derive(dh, bad, n, sec, sizeof(sec)), -EINVAL);
        memset(bad, 0xff, sizeof(bad));
        assert_int_equal(slio_dhchap_dh_derive(dh, bad, n, sec, sizeof(sec)), -EINVAL);
        assert_int_equal(slio_dhchap_dh_derive(dh, bad, n + 1, sec, sizeof(sec)), -EINVAL);
        slio_dhchap_dh_free(dh);
    }
}

/* Host and controller, each with its own ephemeral key, agree for every group and hash. */
static void test_round_trip(void **state)
{
    struct slio_dhchap_key hk, ck;
    assert_int_equal(slio_dhchap_key_parse(V_SECRET2, &hk, NULL), 0);
    assert_int_equal(slio_dhchap_key_parse(V_SECRET3, &ck, NULL), 0);
    for (int g = 0; g < SLIO_DHCHAP_NR_DHGROUPS; g++) {
        size_t n = slio_dhchap_dhgroup_len(g);
        uint8_t st[SLIO_DHCHAP_DH_MAX], sh[SLIO_DHCHAP_DH_MAX];
        if (g) {
            struct slio_dhchap_dh *t = NULL, *h = NULL;
            uint8_t pt[SLIO_DHCHAP_DH_MAX], ph[SLIO_DHCHAP_DH_MAX];
            assert_int_equal(slio_dhchap_dh_new(g, &t), 0);
            assert_int_equal(slio_dhchap_dh_new(g, &h), 0);
            assert_int_equal(slio_dhchap_dh_public(t, pt, sizeof(pt)), 0);
            assert_int_equal(slio_dhchap_dh_public(h, ph, sizeof(ph)), 0);
            assert_int_equal(slio_dhchap_dh_derive(t, ph, n, st, sizeof(st)), 0);
            assert_int_equal(slio_dhchap_dh_derive(h, pt, n, sh, sizeof(sh)), 0);
            assert_memory_equal(st, sh, n);
            slio_dhchap_dh_free(t);
            slio_dhchap_dh_free(h);
        }
        for (int hash = 1; hash <= 3; hash++) {
            uint8_t c1[64], r_host[64], r_tgt[64];
            assert_int_equal(slio_dhchap_random(c1, sizeof(c1)), 0);
            struct slio_dhchap_resp_in in = {
                .hash = hash,
                .key = &hk,
                .challenge = c1,
                .seqnum = 7,
                .tid = 1,
                .nqn1 = V_HOSTNQN,
                .nqn2 = V_SUBNQN,
                .dh_secret = g ? sh : NULL,
                .dh_secret_len = n,
            };
            assert_int_equal(slio_dhchap_response(&in, r_host), 0);
            in.dh_secret = g ? st : NULL;
            assert_int_equal(slio_dhchap_response(&in, r_tgt), 0);
            assert_true(slio_dhchap_equal(r_host, r_tgt, slio_dhchap_hash_len(hash)));
            /* a wrong key, or the controller role with the same key, differ */
            in.key = &ck;
            assert_int_equal(slio_dhchap_response(&in, r_tgt), 0);
            assert_false(slio_dhchap_equal(r_host, r_tgt, slio_dhchap_hash_len(hash)));
            in.key = &hk, in.controller = true;
            assert_int_equal(slio_dhchap_response(&in, r_tgt), 0);
            assert_false(slio_dhchap_equal(r_host, r_tgt, slio_dhchap_hash_len(hash)));
        }
    }
    slio_dhchap_key_wipe(&hk);
    assert_int_equal(hk.len, 0);
}

static void test_names(void **state)
{
    assert_int_equal(slio_dhchap_hash_id("sha384"), 2);
    assert_int_equal(slio_dhchap_hash_id("null"), -EINVAL);
    assert_int_equal(slio_dhchap_hash_id("md5"), -EINVAL);
    assert_int_equal(slio_dhchap_dhgroup_id("null"), 0);
    assert_int_equal(slio_dhchap_dhgroup_id("ffdhe8192"), 5);
    assert_int_equal(slio_dhchap_dhgroup_id("ffdhe1024"), -EINVAL);
    assert_string_equal(slio_dhchap_dhgroup_name(3), "ffdhe4096");
    assert_null(slio_dhchap_hash_name(4));
    assert_int_equal(slio_dhchap_dhgroup_len(5), 1024);
    struct slio_dhchap_dh *dh = NULL;
    assert_int_equal(slio_dhchap_dh_new(0, &dh), -EINVAL);
    assert_null(dh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),      cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_transform),  cmocka_unit_test(test_responses),
        cmocka_unit_test(test_dh_vectors), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
