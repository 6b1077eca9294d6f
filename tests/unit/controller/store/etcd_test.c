/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store conformance suite on a real single-member etcd (a fresh one per
 * test, so each starts at revision 0), plus what only the etcd backend does:
 * its namespace, its refusal of unreachable endpoints, big pages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "etcd_fixture.h"
#include "store_conformance.h"

struct etcd_ctx {
    struct etcd_proc proc;
};

static int open_on(struct etcd_proc *p, const char *prefix, struct store **ret)
{
    const char *eps[] = {p->client_url};
    struct store_etcd_opts o = {eps, 1, prefix, NULL, 0, 5000};
    struct slio_err err = {{0}};
    int r = store_etcd_open(&o, ret, &err);
    if (r < 0)
        fprintf(stderr, "store_etcd_open: %s\n", err.text);
    return r;
}

static int e_create(void *ctx, struct store **ret)
{
    struct etcd_ctx *c = ctx;
    int r = etcd_proc_start(&c->proc);
    return r < 0 ? r : open_on(&c->proc, "/slio/", ret);
}

/* Durability: etcd itself is killed and restarted on the same data. */
static int e_reopen(void *ctx, struct store **ret)
{
    struct etcd_ctx *c = ctx;
    int r = etcd_proc_restart(&c->proc);
    return r < 0 ? r : open_on(&c->proc, "/slio/", ret);
}

static void e_destroy(void *ctx)
{
    struct etcd_ctx *c = ctx;
    etcd_proc_stop(&c->proc);
}

static void put(struct store *s, const char *key, const char *value)
{
    struct store_op op = {STORE_OP_PUT, key, value, strlen(value)};
    assert_int_equal(store_txn(s, &(struct store_txn){NULL, 0, &op, 1}, NULL, NULL, NULL), 0);
}

/* Two prefixes on one etcd do not see each other's keys; the leader key is never listed. */
static void test_namespaces(void **state)
{
    struct etcd_proc p;
    struct store *a, *b;
    struct store_kv_list l;
    struct store_kv kv;
    assert_int_equal(etcd_proc_start(&p), 0);
    assert_int_equal(open_on(&p, "/one/", &a), 0);
    assert_int_equal(open_on(&p, "/two/", &b), 0);
    put(a, "/k", "a");
    put(b, "/k", "b");
    put(b, "/l", "b");
    assert_int_equal(store_list(a, "", NULL, 10, false, &l, NULL, NULL), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].value, "a");
    store_kv_list_clear(&l);
    assert_int_equal(store_get(b, "/k", &kv, NULL), 0);
    assert_string_equal(kv.value, "b");
    store_kv_clear(&kv);
    store_free(a);
    store_free(b);
    etcd_proc_stop(&p);
}

static void test_unreachable(void **state)
{
    const char *eps[] = {"http://127.0.0.1:1"};
    struct store_etcd_opts o = {eps, 1, "/slio/", NULL, 0, 1000};
    struct store *s = NULL;
    struct slio_err err = {{0}};
    assert_int_equal(store_etcd_open(&o, &s, &err), -EAGAIN);
    assert_null(s);
    assert_non_null(strstr(err.text, "127.0.0.1:1"));
}

/* A dead first endpoint is skipped (nothing was sent to it). */
static void test_failover_endpoint(void **state)
{
    struct etcd_proc p;
    struct store *s;
    assert_int_equal(etcd_proc_start(&p), 0);
    const char *eps[] = {"http://127.0.0.1:1", p.client_url};
    struct store_etcd_opts o = {eps, 2, "/slio/", NULL, 0, 5000};
    assert_int_equal(store_etcd_open(&o, &s, NULL), 0);
    put(s, "/x", "1");
    store_free(s);
    etcd_proc_stop(&p);
}

/* Pages of big values: a list answer past the cap comes back shorter, "more" set. */
static void test_big_values_page(void **state)
{
    struct etcd_proc p;
    struct store *s;
    char key[32];
    size_t n = 200 << 10;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'v', n);
    big[n] = '\0';
    assert_int_equal(etcd_proc_start(&p), 0);
    assert_int_equal(open_on(&p, "/slio/", &s), 0);
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "/b/%d", i);
        put(s, key, big);
    }
    struct store_kv_list l;
    assert_int_equal(store_list(s, "/b/", NULL, 100, false, &l, NULL, NULL), 0);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.items[3].value_len, n);
    store_kv_list_clear(&l);
    free(big);
    store_free(s);
    etcd_proc_stop(&p);
}

int main(void)
{
    struct etcd_ctx ctx;
    const struct store_factory f = {"store_etcd", e_create, e_reopen, e_destroy, &ctx};
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_namespaces),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_failover_endpoint),
        cmocka_unit_test(test_big_values_page),
    };
    int failed = store_conformance_run(&f);
    return failed + cmocka_run_group_tests_name("store_etcd_only", own, NULL, NULL);
}
