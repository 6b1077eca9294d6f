/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leader election on a real etcd: two stores (two "controllers") on one
 * etcd, exactly one leads; the standby's writes are refused; when the
 * leader's lease dies the standby leads within 5 s, and the deposed leader's
 * next txn is fenced out (-EROFS) even before it noticed.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "etcd_fixture.h"
#include "slio/http_client.h"
#include "slio/json.h"
#include "store/etcd_codec.h"
#include "store/store.h"

#define TAKEOVER_MAX_US 5000000u

static struct etcd_proc proc;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct store *candidate(const char *url, uint32_t ttl_s)
{
    const char *eps[] = {proc.client_url};
    struct store_etcd_opts o = {eps, 1, "/slio/", url, ttl_s, 5000};
    struct store *s = NULL;
    struct slio_err err = {{0}};
    int r = store_etcd_open(&o, &s, &err);
    if (r < 0)
        fprintf(stderr, "store_etcd_open: %s\n", err.text);
    assert_int_equal(r, 0);
    return s;
}

/* No event tells a test that another process won: poll the (local, cheap) state, bounded. */
static struct store *wait_leader(struct store *a, struct store *b, uint64_t max_us)
{
    uint64_t t0 = now_us();
    struct timespec d = {0, 10 * 1000 * 1000};
    while (now_us() - t0 < max_us) {
        bool la = store_is_leader(a, NULL, 0), lb = b && store_is_leader(b, NULL, 0);
        assert_false(la && lb);
        if (la || lb)
            return la ? a : b;
        nanosleep(&d, NULL);
    }
    return NULL;
}

static int put(struct store *s, const char *key, const char *value)
{
    struct store_op op = {STORE_OP_PUT, key, value, strlen(value)};
    return store_txn(s, &(struct store_txn){NULL, 0, &op, 1}, NULL, NULL, NULL);
}

/* What an operator (or a dead leader's expiring lease) does: revoke the leader's lease. */
static void revoke_leader_lease(void)
{
    const char *urls[] = {proc.client_url};
    struct slio_http_client_opts o = {.urls = urls, .n_urls = 1};
    struct slio_http_client *c;
    _cleanup_free_ char *k = etcd_b64_encode("/slio/leader", strlen("/slio/leader"));
    _cleanup_json_ json_t *q = json_pack("{s:s}", "key", k), *resp = NULL, *rv = NULL;
    assert_int_equal(slio_http_client_new(&o, &c, NULL), 0);
    assert_int_equal(slio_http_call_ok(c, "POST", "/v3/kv/range", q, &resp, NULL), 0);
    const char *lease = json_string_value(
        json_object_get(json_array_get(json_object_get(resp, "kvs"), 0), "lease"));
    assert_non_null(lease);
    _cleanup_json_ json_t *body = json_pack("{s:s}", "ID", lease);
    assert_int_equal(slio_http_call_ok(c, "POST", "/v3/lease/revoke", body, &rv, NULL), 0);
    slio_http_client_free(c);
}

static int setup(void **state)
{
    assert_int_equal(etcd_proc_start(&proc), 0);
    return 0;
}

static int teardown(void **state)
{
    etcd_proc_stop(&proc);
    return 0;
}

static void test_one_leads_standby_refused(void **state)
{
    struct store *a = candidate("http://127.0.0.2:8360", 2);
    struct store *b = candidate("http://127.0.0.3:8360", 2);
    struct store *leader = wait_leader(a, b, TAKEOVER_MAX_US);
    assert_non_null(leader);
    struct store *standby = leader == a ? b : a;
    char who[128] = "x";
    assert_true(store_is_leader(leader, who, sizeof(who)));
    assert_string_equal(who, leader == a ? "http://127.0.0.2:8360" : "http://127.0.0.3:8360");
    /* the standby knows who leads once its campaign lost */
    uint64_t t0 = now_us();
    while (!store_is_leader(standby, who, sizeof(who)) && strcmp(who, "") == 0 &&
           now_us() - t0 < TAKEOVER_MAX_US)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    assert_string_equal(who, leader == a ? "http://127.0.0.2:8360" : "http://127.0.0.3:8360");
    assert_int_equal(store_leader_epoch(leader), 1);
    assert_int_equal(store_leader_epoch(standby), 0);

    struct slio_err err = {{0}};
    struct store_op op = {STORE_OP_PUT, "/v", "x", 1};
    assert_int_equal(store_txn(standby, &(struct store_txn){NULL, 0, &op, 1}, NULL, NULL, &err),
                     -EROFS);
    assert_non_null(strstr(err.text, "not the leader"));
    assert_int_equal(put(leader, "/v", "1"), 0);
    /* reads work on a standby */
    struct store_kv kv;
    assert_int_equal(store_get(standby, "/v", &kv, NULL), 0);
    store_kv_clear(&kv);

    /* A clean stop hands over at once (the lease is revoked, not left to expire). */
    t0 = now_us();
    store_free(leader);
    assert_ptr_equal(wait_leader(standby, NULL, TAKEOVER_MAX_US), standby);
    assert_true(now_us() - t0 < 2000000);
    assert_int_equal(store_leader_epoch(standby), 1);
    assert_int_equal(put(standby, "/v", "2"), 0);
    store_free(standby);
}

static void test_lease_loss_fences_old_leader(void **state)
{
    /* A long TTL: the old leader's keep-alive (every TTL/3) will not notice before its txn. */
    struct store *a = candidate("http://127.0.0.2:8360", 15);
    assert_ptr_equal(wait_leader(a, NULL, TAKEOVER_MAX_US), a);
    struct store *b = candidate("http://127.0.0.3:8360", 15);
    assert_int_equal(put(a, "/v", "a"), 0);

    uint64_t t0 = now_us();
    revoke_leader_lease(); /* a's lease is gone: to etcd, a is dead */
    assert_ptr_equal(wait_leader(b, NULL, TAKEOVER_MAX_US), b);
    uint64_t took = now_us() - t0;
    assert_true(took < TAKEOVER_MAX_US);
    fprintf(stderr, "standby took over %.0f ms after the lease was revoked\n", took / 1000.0);

    /* a may still believe it leads; etcd refuses its write anyway */
    struct slio_err err = {{0}};
    struct store_op op = {STORE_OP_PUT, "/v", "stale", 5};
    assert_int_equal(store_txn(a, &(struct store_txn){NULL, 0, &op, 1}, NULL, NULL, &err), -EROFS);
    assert_false(store_is_leader(a, NULL, 0));
    struct store_kv kv;
    assert_int_equal(store_get(b, "/v", &kv, NULL), 0);
    assert_string_equal(kv.value, "a");
    store_kv_clear(&kv);
    assert_int_equal(put(b, "/v", "b"), 0);
    store_free(a);
    store_free(b);
}

/* A deposed leader notices by itself (its next keep-alive finds the lease gone, within
 * TTL/3), campaigns again, loses, and reports the new leader. Until then its writes are
 * fenced (above); a SIGKILLed leader is tests/integration/test_controller_ha.py's. */
static void test_deposed_leader_follows(void **state)
{
    struct store *a = candidate("http://127.0.0.2:8360", 2);
    assert_ptr_equal(wait_leader(a, NULL, TAKEOVER_MAX_US), a);
    struct store *b = candidate("http://127.0.0.3:8360", 2);
    revoke_leader_lease();
    uint64_t t0 = now_us();
    char who[128] = "";
    while (now_us() - t0 < TAKEOVER_MAX_US &&
           (store_is_leader(a, who, sizeof(who)) || strcmp(who, "http://127.0.0.3:8360") != 0))
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    assert_false(store_is_leader(a, who, sizeof(who)));
    assert_string_equal(who, "http://127.0.0.3:8360");
    assert_true(store_is_leader(b, NULL, 0));
    assert_int_equal(store_leader_epoch(a), 1); /* not gained again */
    store_free(a);
    store_free(b);
}

/* A leader's txns carry the fence, yet keep the store's semantics: which compare failed,
 * one revision per txn, ops in order. */
static void test_fenced_txn_semantics(void **state)
{
    struct store *a = candidate("http://127.0.0.2:8360", 2);
    assert_ptr_equal(wait_leader(a, NULL, TAKEOVER_MAX_US), a);
    int64_t r1, r2;
    struct store_op ops[] = {{STORE_OP_PUT, "/d", "1", 1}, {STORE_OP_PUT, "/d", "2", 1}};
    assert_int_equal(store_txn(a, &(struct store_txn){NULL, 0, ops, 2}, &r1, NULL, NULL), 0);
    struct store_kv kv;
    assert_int_equal(store_get(a, "/d", &kv, NULL), 0);
    assert_string_equal(kv.value, "2");
    assert_int_equal(kv.mod_revision, r1);
    store_kv_clear(&kv);
    struct store_compare cmp[] = {{"/d", r1}, {"/e", 0}, {"/d", r1 - 1}};
    size_t failed = 99;
    struct slio_err err = {{0}};
    assert_int_equal(store_txn(a, &(struct store_txn){cmp, 3, ops, 1}, NULL, &failed, &err),
                     -ECANCELED);
    assert_int_equal(failed, 2);
    assert_non_null(strstr(err.text, "/d"));
    assert_int_equal(store_txn(a, &(struct store_txn){cmp, 2, ops, 1}, &r2, &failed, NULL), 0);
    assert_int_equal(r2, r1 + 1);
    store_free(a);
}

/* etcd frozen (SIGSTOP) past the TTL: no keep-alive gets through, so no controller may still
 * call itself the leader once a TTL passed; thawed, exactly one leads again, as a new epoch. */
static void test_etcd_outage_nobody_leads(void **state)
{
    struct store *a = candidate("http://127.0.0.2:8360", 2);
    assert_ptr_equal(wait_leader(a, NULL, TAKEOVER_MAX_US), a);
    struct store *b = candidate("http://127.0.0.3:8360", 2);
    uint64_t epoch = store_leader_epoch(a);
    assert_int_equal(kill(proc.pid, SIGSTOP), 0);
    uint64_t t0 = now_us();
    while (store_is_leader(a, NULL, 0) && now_us() - t0 < TAKEOVER_MAX_US)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    uint64_t gave_up = now_us() - t0;
    assert_false(store_is_leader(a, NULL, 0));
    assert_false(store_is_leader(b, NULL, 0));
    assert_true(gave_up <= 2100000); /* at most the TTL after the last keep-alive */
    assert_int_equal(put(a, "/v", "x"), -EROFS);
    assert_int_equal(kill(proc.pid, SIGCONT), 0);
    struct store *leader = wait_leader(a, b, 3 * TAKEOVER_MAX_US);
    assert_non_null(leader);
    assert_true(leader == b || store_leader_epoch(a) > epoch);
    assert_int_equal(put(leader, "/v", "y"), 0);
    store_free(a);
    store_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_leads_standby_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_loss_fences_old_leader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deposed_leader_follows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fenced_txn_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_etcd_outage_nobody_leads, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_etcd_election", tests, NULL, NULL);
}
