/* SPDX-License-Identifier: Apache-2.0 */
/* etcd answer decoding (controller/store/etcd_codec.c): real etcd 3.4 answers, then hostile ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "slio/json.h"
#include "store/etcd_codec.h"

/* "/slio/kv/v/a", "/slio/kv/v/b", "/slio/leader", "http://a" in base64 */
#define K_A    "L3NsaW8va3Yvdi9h"
#define K_B    "L3NsaW8va3Yvdi9i"
#define K_LEAD "L3NsaW8vbGVhZGVy"
#define URL_A  "aHR0cDovL2E="

static json_t *j(const char *text)
{
    json_t *v = NULL;
    assert_int_equal(slio_json_loadb(text, strlen(text), 1 << 20, &v, NULL), 0);
    return v;
}

static void test_b64(void **state)
{
    const char *cases[][2] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(cases); i++) {
        char *enc = etcd_b64_encode(cases[i][0], strlen(cases[i][0])), *dec;
        size_t len;
        assert_string_equal(enc, cases[i][1]);
        assert_int_equal(etcd_b64_decode(enc, 16, &dec, &len), 0);
        assert_int_equal(len, strlen(cases[i][0]));
        assert_string_equal(dec, cases[i][0]);
        free(enc);
        free(dec);
    }
    const char *bad[] = {"Zg", "Zg=", "Z===", "Zh==", "Zm9v\n", "Zm 9", "Zm9v====", "=Zm9", "Zm-_"};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        char *dec = NULL;
        size_t len;
        assert_int_equal(etcd_b64_decode(bad[i], 16, &dec, &len), -EBADMSG);
        assert_null(dec);
    }
    char *dec;
    size_t len;
    assert_int_equal(etcd_b64_decode("Zm9vYg==", 3, &dec, &len), -EBADMSG); /* over max */
}

static const struct etcd_range_want want_v = {"/slio/kv", "/v/", NULL, 10};

static void test_range_real(void **state)
{
    json_t *r = j("{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"5\","
                  "\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"" K_A "\",\"create_revision\":\"2\","
                  "\"mod_revision\":\"3\",\"version\":\"2\",\"value\":\"eA==\"},{\"key\":\"" K_B
                  "\",\"create_revision\":\"4\",\"mod_revision\":\"4\",\"version\":\"1\"}],"
                  "\"count\":\"2\",\"more\":true}");
    struct store_kv_list l;
    int64_t rev;
    assert_int_equal(etcd_decode_range(r, &want_v, &l, &rev, NULL), 0);
    assert_int_equal(rev, 4); /* etcd 5 is the store's 4 */
    assert_int_equal(l.n, 2);
    assert_true(l.more);
    assert_string_equal(l.items[0].key, "/v/a");
    assert_string_equal(l.items[0].value, "x");
    assert_int_equal(l.items[0].create_revision, 1);
    assert_int_equal(l.items[0].mod_revision, 2);
    assert_string_equal(l.items[1].value, "");
    store_kv_list_clear(&l);
    /* a limit of 1 cannot take two */
    struct etcd_range_want one = want_v;
    one.limit = 1;
    assert_int_equal(etcd_decode_range(r, &one, &l, &rev, NULL), -EBADMSG);
    /* start_after at /v/a: the answer must not repeat it */
    struct etcd_range_want after = want_v;
    after.after = "/v/a";
    assert_int_equal(etcd_decode_range(r, &after, &l, &rev, NULL), -EBADMSG);
    json_decref(r);
}

static void test_range_hostile(void **state)
{
    const char *bad[] = {
        /* out of order */
        "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"" K_B "\",\"create_revision\":\"2\","
        "\"mod_revision\":\"2\"},{\"key\":\"" K_A "\",\"create_revision\":\"2\",\"mod_revision\":"
        "\"2\"}]}",
        /* outside the namespace (the leader key) */
        "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"" K_LEAD "\",\"create_revision\":"
        "\"2\",\"mod_revision\":\"2\"}]}",
        /* mod revision past the header's */
        "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"" K_A "\",\"create_revision\":\"2\","
        "\"mod_revision\":\"9\"}]}",
        /* create after mod, revision 1 (etcd's empty space) */
        "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"" K_A "\",\"create_revision\":\"4\","
        "\"mod_revision\":\"3\"}]}",
        "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"" K_A "\",\"create_revision\":\"1\","
        "\"mod_revision\":\"1\"}]}",
        /* int64 as a number, negative, junk */
        "{\"header\":{\"revision\":5}}",
        "{\"header\":{\"revision\":\"-5\"}}",
        "{\"header\":{\"revision\":\"5x\"}}",
        "{\"header\":{\"revision\":\"99999999999999999999\"}}",
        /* kvs not an array, no header, bad base64, a key with NUL */
        "{\"header\":{\"revision\":\"5\"},\"kvs\":{}}",
        "{\"kvs\":[]}",
        "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"!!!!\",\"create_revision\":\"2\","
        "\"mod_revision\":\"2\"}]}",
        "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"L3NsaW8va3YvdgAv\","
        "\"create_revision\":\"2\",\"mod_revision\":\"2\"}]}",
        "[]",
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        json_t *r = j(bad[i]);
        struct store_kv_list l = {0};
        struct slio_err err = {{0}};
        int64_t rev = -7;
        assert_int_equal(etcd_decode_range(r, &want_v, &l, &rev, &err), -EBADMSG);
        assert_int_equal(rev, -7);
        assert_null(l.items);
        assert_true(strlen(err.text) > 0);
        json_decref(r);
    }
}

static void test_txn_and_leader(void **state)
{
    json_t *r = j("{\"header\":{\"revision\":\"2\"},\"responses\":[{\"response_range\":{"
                  "\"header\":{\"revision\":\"2\"},\"kvs\":[{\"key\":\"" K_LEAD "\","
                  "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":"
                  "\"" URL_A "\",\"lease\":\"77\"}],\"count\":\"1\"}}]}");
    bool ok = true;
    int64_t rev, mod, create;
    const json_t *resps;
    struct etcd_leader l;
    assert_int_equal(etcd_decode_txn(r, 1, &ok, &rev, &resps, NULL), 0);
    assert_false(ok);
    assert_int_equal(etcd_decode_txn(r, 2, &ok, &rev, &resps, NULL), -EBADMSG);
    assert_int_equal(etcd_decode_leader(json_array_get(resps, 0), "/slio/leader", rev, &l, NULL),
                     0);
    assert_string_equal(l.url, "http://a");
    assert_int_equal(l.lease, 77);
    assert_int_equal(l.create_revision, 1);
    assert_int_equal(
        etcd_decode_txn_range(json_array_get(resps, 0), "/slio/leader", rev, &mod, &create, NULL),
        0);
    assert_int_equal(mod, 1);
    /* the same answer for another key is a lie */
    assert_int_equal(
        etcd_decode_txn_range(json_array_get(resps, 0), "/slio/kv/x", rev, &mod, &create, NULL),
        -EBADMSG);
    json_decref(r);
    /* absent: zeros */
    r = j("{\"response_range\":{\"header\":{\"revision\":\"2\"}}}");
    mod = create = 5;
    assert_int_equal(etcd_decode_txn_range(r, "/slio/kv/x", 1, &mod, &create, NULL), 0);
    assert_int_equal(mod, 0);
    assert_int_equal(create, 0);
    json_decref(r);
}

static void test_watch_lease_error(void **state)
{
    struct etcd_watch_msg m;
    struct slio_err err = {{0}};
    json_t *r = j("{\"result\":{\"header\":{\"revision\":\"3\"},\"events\":[{\"type\":\"DELETE\","
                  "\"kv\":{\"key\":\"" K_A "\",\"mod_revision\":\"3\"}}]}}");
    assert_int_equal(etcd_decode_watch_msg(r, "/slio/kv/v/", &m, NULL), 0);
    assert_int_equal(m.n_events, 1);
    assert_int_equal(m.n_deletes, 1);
    assert_int_equal(m.last_mod_revision, 2);
    assert_int_equal(etcd_decode_watch_msg(r, "/slio/kv/w/", &m, NULL), -EBADMSG);
    json_decref(r);
    r = j("{\"result\":{\"header\":{\"raft_term\":\"2\"},\"canceled\":true,"
          "\"compact_revision\":\"4\"}}");
    assert_int_equal(etcd_decode_watch_msg(r, "/", &m, NULL), -EBADMSG); /* no revision */
    json_decref(r);
    r = j("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"no leader\"}}");
    assert_int_equal(etcd_decode_watch_msg(r, "/", &m, &err), -EREMOTEIO);
    assert_non_null(strstr(err.text, "no leader"));
    json_decref(r);

    int64_t id, ttl;
    r = j("{\"result\":{\"header\":{\"revision\":\"2\"},\"ID\":\"58\",\"TTL\":\"3\"}}");
    assert_int_equal(etcd_decode_lease(r, true, &id, &ttl, NULL), 0);
    assert_int_equal(id, 58);
    assert_int_equal(ttl, 3);
    assert_int_equal(etcd_decode_lease(r, false, &id, &ttl, NULL), -EBADMSG);
    json_decref(r);
    r = j("{\"result\":{\"header\":{\"revision\":\"2\"},\"ID\":\"58\"}}"); /* expired */
    assert_int_equal(etcd_decode_lease(r, true, &id, &ttl, NULL), 0);
    assert_int_equal(ttl, 0);
    json_decref(r);
    r = j("{\"error\":{\"grpc_code\":5,\"message\":\"requested lease not found\"}}");
    assert_int_equal(etcd_decode_lease(r, true, &id, &ttl, NULL), -ENOENT);
    json_decref(r);
    r = j("{\"error\":{\"grpc_code\":14,\"message\":\"no leader\"}}");
    assert_int_equal(etcd_decode_lease(r, true, &id, &ttl, NULL), -EREMOTEIO);
    json_decref(r);
    r = j("{\"error\":\"etcdserver: requested lease not found\",\"message\":\"etcdserver: "
          "requested lease not found\",\"code\":5}");
    assert_int_equal(etcd_error_code(r, &err), 5);
    assert_non_null(strstr(err.text, "lease not found"));
    json_decref(r);
    r = j("{\"code\":99}");
    assert_int_equal(etcd_error_code(r, NULL), -1);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64),
        cmocka_unit_test(test_range_real),
        cmocka_unit_test(test_range_hostile),
        cmocka_unit_test(test_txn_and_leader),
        cmocka_unit_test(test_watch_lease_error),
    };
    return cmocka_run_group_tests_name("etcd_codec", tests, NULL, NULL);
}
