/* SPDX-License-Identifier: Apache-2.0 */
/* The backend-agnostic store tests (see store_conformance.h). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store_conformance.h"

struct fixture {
    const struct store_factory *f;
    struct store *s;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->f = *state;
    assert_int_equal(fx->f->create(fx->f->ctx, &fx->s), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    store_free(fx->s);
    fx->f->destroy(fx->f->ctx);
    free(fx);
    return 0;
}

static int64_t put(struct store *s, const char *key, const char *value)
{
    struct store_op op = {STORE_OP_PUT, key, value, strlen(value)};
    struct store_txn t = {.ops = &op, .n_ops = 1};
    int64_t rev = -1;
    assert_int_equal(store_txn(s, &t, &rev, NULL, NULL), 0);
    return rev;
}

static int64_t rev_of(struct store *s)
{
    int64_t rev = -1;
    assert_int_equal(store_revision(s, &rev, NULL), 0);
    return rev;
}

static void check_value(struct store *s, const char *key, const char *value)
{
    struct store_kv kv;
    assert_int_equal(store_get(s, key, &kv, NULL), 0);
    assert_string_equal(kv.key, key);
    assert_string_equal(kv.value, value);
    assert_int_equal(kv.value_len, strlen(value));
    store_kv_clear(&kv);
}

static void test_empty(void **state)
{
    struct fixture *fx = *state;
    struct store_kv kv;
    struct slio_err err = {{0}};
    assert_int_equal(rev_of(fx->s), 0);
    assert_int_equal(store_get(fx->s, "/a", &kv, &err), -ENOENT);
    assert_non_null(strstr(err.text, "/a"));
}

static void test_put_revisions(void **state)
{
    struct fixture *fx = *state;
    struct store_kv kv;
    int64_t r1 = put(fx->s, "/k", "one");
    assert_true(r1 > 0);
    assert_int_equal(rev_of(fx->s), r1);
    assert_int_equal(store_get(fx->s, "/k", &kv, NULL), 0);
    assert_int_equal(kv.create_revision, r1);
    assert_int_equal(kv.mod_revision, r1);
    store_kv_clear(&kv);

    int64_t r2 = put(fx->s, "/k", "two");
    assert_int_equal(r2, r1 + 1);
    assert_int_equal(store_get(fx->s, "/k", &kv, NULL), 0);
    assert_string_equal(kv.value, "two");
    assert_int_equal(kv.create_revision, r1);
    assert_int_equal(kv.mod_revision, r2);
    store_kv_clear(&kv);
}

static void test_binary_and_empty_values(void **state)
{
    struct fixture *fx = *state;
    struct store_op op = {STORE_OP_PUT, "/e", "", 0};
    struct store_txn t = {.ops = &op, .n_ops = 1};
    assert_int_equal(store_txn(fx->s, &t, NULL, NULL, NULL), 0);
    check_value(fx->s, "/e", "");
}

static void test_create_if_absent(void **state)
{
    struct fixture *fx = *state;
    struct store_compare c = {"/name/x", 0};
    struct store_op ops[] = {{STORE_OP_PUT, "/name/x", "a", 1}, {STORE_OP_PUT, "/obj/a", "{}", 2}};
    struct store_txn t = {&c, 1, ops, 2};
    int64_t rev = 0;
    size_t failed = 99;
    assert_int_equal(store_txn(fx->s, &t, &rev, &failed, NULL), 0);
    assert_int_equal(failed, 99);

    /* The same again loses: nothing of it lands, the revision stays. */
    struct store_op ops2[] = {{STORE_OP_PUT, "/name/x", "b", 1}, {STORE_OP_PUT, "/obj/b", "{}", 2}};
    struct store_txn t2 = {&c, 1, ops2, 2};
    struct store_kv kv;
    assert_int_equal(store_txn(fx->s, &t2, NULL, &failed, NULL), -ECANCELED);
    assert_int_equal(failed, 0);
    assert_int_equal(rev_of(fx->s), rev);
    check_value(fx->s, "/name/x", "a");
    assert_int_equal(store_get(fx->s, "/obj/b", &kv, NULL), -ENOENT);
}

static void test_compare_mod_revision(void **state)
{
    struct fixture *fx = *state;
    int64_t r1 = put(fx->s, "/doc", "v1");
    put(fx->s, "/other", "o");
    struct store_compare good[] = {{"/other", r1 + 1}, {"/doc", r1}};
    struct store_compare stale[] = {{"/other", r1 + 1}, {"/doc", r1 - 1}};
    struct store_op op = {STORE_OP_PUT, "/doc", "v2", 2};
    size_t failed = 99;

    assert_int_equal(store_txn(fx->s, &(struct store_txn){stale, 2, &op, 1}, NULL, &failed, NULL),
                     -ECANCELED);
    assert_int_equal(failed, 1);
    assert_int_equal(store_txn(fx->s, &(struct store_txn){good, 2, &op, 1}, NULL, NULL, NULL), 0);
    check_value(fx->s, "/doc", "v2");
    /* The first compare now fails the same txn replayed. */
    assert_int_equal(store_txn(fx->s, &(struct store_txn){good, 2, &op, 1}, NULL, &failed, NULL),
                     -ECANCELED);
    assert_int_equal(failed, 1);
}

static void test_txn_one_revision(void **state)
{
    struct fixture *fx = *state;
    struct store_op ops[] = {{STORE_OP_PUT, "/t/a", "1", 1},
                             {STORE_OP_PUT, "/t/b", "2", 1},
                             {STORE_OP_PUT, "/t/a", "3", 1}};
    int64_t before = rev_of(fx->s), rev;
    assert_int_equal(store_txn(fx->s, &(struct store_txn){NULL, 0, ops, 3}, &rev, NULL, NULL), 0);
    assert_int_equal(rev, before + 1);
    struct store_kv a, b;
    assert_int_equal(store_get(fx->s, "/t/a", &a, NULL), 0);
    assert_int_equal(store_get(fx->s, "/t/b", &b, NULL), 0);
    assert_string_equal(a.value, "3"); /* ops apply in order */
    assert_int_equal(a.mod_revision, rev);
    assert_int_equal(b.mod_revision, rev);
    store_kv_clear(&a);
    store_kv_clear(&b);
}

static void test_delete(void **state)
{
    struct fixture *fx = *state;
    struct store_kv kv;
    put(fx->s, "/d", "x");
    struct store_op del = {STORE_OP_DELETE, "/d", NULL, 0};
    int64_t rev;
    assert_int_equal(store_txn(fx->s, &(struct store_txn){NULL, 0, &del, 1}, &rev, NULL, NULL), 0);
    assert_int_equal(rev_of(fx->s), rev);
    assert_int_equal(store_get(fx->s, "/d", &kv, NULL), -ENOENT);
    /* Absent: no error; a compare on absence now holds again. */
    struct store_compare c = {"/d", 0};
    assert_int_equal(store_txn(fx->s, &(struct store_txn){&c, 1, &del, 1}, NULL, NULL, NULL), 0);
    /* Re-created: a new create_revision. */
    int64_t r2 = put(fx->s, "/d", "y");
    assert_int_equal(store_get(fx->s, "/d", &kv, NULL), 0);
    assert_int_equal(kv.create_revision, r2);
    store_kv_clear(&kv);
}

static void test_list_prefix_order(void **state)
{
    struct fixture *fx = *state;
    const char *keys[] = {"/v/c", "/v/a", "/v0", "/u/z", "/v/b", "/w/a", "/v/"};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(keys); i++)
        put(fx->s, keys[i], keys[i]);
    struct store_kv_list l;
    int64_t rev = -1;
    assert_int_equal(store_list(fx->s, "/v/", NULL, 100, false, &l, &rev, NULL), 0);
    assert_int_equal(rev, rev_of(fx->s));
    assert_int_equal(l.n, 4);
    assert_false(l.more);
    assert_string_equal(l.items[0].key, "/v/");
    assert_string_equal(l.items[1].key, "/v/a");
    assert_string_equal(l.items[1].value, "/v/a");
    assert_string_equal(l.items[3].key, "/v/c");
    store_kv_list_clear(&l);

    assert_int_equal(store_list(fx->s, "/v/", NULL, 100, true, &l, NULL, NULL), 0);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.items[2].value_len, 0);
    assert_true(l.items[2].mod_revision > 0);
    store_kv_list_clear(&l);
}

static void test_list_pages(void **state)
{
    struct fixture *fx = *state;
    char key[32];
    for (int i = 0; i < 25; i++) {
        snprintf(key, sizeof(key), "/p/%03d", i);
        put(fx->s, key, "x");
    }
    put(fx->s, "/q/000", "x");
    int seen = 0;
    char last[64] = "";
    for (;;) {
        struct store_kv_list l;
        assert_int_equal(store_list(fx->s, "/p/", last[0] ? last : NULL, 10, true, &l, NULL, NULL),
                         0);
        for (size_t i = 0; i < l.n; i++) {
            snprintf(key, sizeof(key), "/p/%03d", seen++);
            assert_string_equal(l.items[i].key, key);
        }
        bool more = l.more;
        if (l.n)
            snprintf(last, sizeof(last), "%s", l.items[l.n - 1].key);
        store_kv_list_clear(&l);
        if (!more)
            break;
    }
    assert_int_equal(seen, 25);
    /* A start key before the prefix starts at the prefix; one past it gives nothing. */
    struct store_kv_list l;
    assert_int_equal(store_list(fx->s, "/p/", "/a", 5, true, &l, NULL, NULL), 0);
    assert_string_equal(l.items[0].key, "/p/000");
    assert_true(l.more);
    store_kv_list_clear(&l);
    assert_int_equal(store_list(fx->s, "/p/", "/p/999", 5, true, &l, NULL, NULL), 0);
    assert_int_equal(l.n, 0);
    assert_false(l.more);
    store_kv_list_clear(&l);
}

static void test_limits(void **state)
{
    struct fixture *fx = *state;
    struct store_kv_list l;
    char longkey[STORE_KEY_MAX + 2];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_int_equal(store_list(fx->s, "/", NULL, 0, false, &l, NULL, NULL), -EINVAL);
    assert_int_equal(store_list(fx->s, "/", NULL, STORE_LIST_MAX + 1, false, &l, NULL, NULL),
                     -EINVAL);
    struct store_op op = {STORE_OP_PUT, longkey, "x", 1};
    struct slio_err err = {{0}};
    assert_int_equal(store_txn(fx->s, &(struct store_txn){NULL, 0, &op, 1}, NULL, NULL, &err),
                     -EINVAL);
    char *big = calloc(1, STORE_VALUE_MAX + 2);
    assert_non_null(big);
    op = (struct store_op){STORE_OP_PUT, "/big", big, STORE_VALUE_MAX + 1};
    assert_int_equal(store_txn(fx->s, &(struct store_txn){NULL, 0, &op, 1}, NULL, NULL, &err),
                     -EINVAL);
    free(big);
    struct store_op many[STORE_TXN_MAX + 1];
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(many); i++)
        many[i] = (struct store_op){STORE_OP_PUT, "/m", "x", 1};
    assert_int_equal(store_txn(fx->s, &(struct store_txn){NULL, 0, many, SLIO_ARRAY_SIZE(many)},
                               NULL, NULL, &err),
                     -EINVAL);
    assert_int_equal(rev_of(fx->s), 0);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void test_wait_timeout_and_immediate(void **state)
{
    struct fixture *fx = *state;
    int64_t r1 = put(fx->s, "/w/a", "1"), got = -1;
    assert_int_equal(store_wait(fx->s, "/w/", r1 - 1, 5000000, &got, NULL), 0);
    assert_int_equal(got, r1);
    uint64_t t0 = now_us();
    assert_int_equal(store_wait(fx->s, "/w/", r1, 200000, &got, NULL), 0);
    assert_int_equal(got, r1);
    assert_true(now_us() - t0 >= 190000);
}

struct writer {
    struct store *s;
    int64_t rev;
};

static void *late_writer(void *arg)
{
    struct writer *w = arg;
    struct timespec d = {0, 100 * 1000 * 1000};
    nanosleep(&d, NULL); /* the waiter must be blocked before the write to test the wake-up */
    w->rev = put(w->s, "/w/b", "2");
    return NULL;
}

static void test_wait_wakes(void **state)
{
    struct fixture *fx = *state;
    struct writer w = {fx->s, 0};
    pthread_t th;
    int64_t start = put(fx->s, "/w/a", "1"), got = -1;
    assert_int_equal(pthread_create(&th, NULL, late_writer, &w), 0);
    uint64_t t0 = now_us();
    while (got <= start && now_us() - t0 < 10000000)
        assert_int_equal(store_wait(fx->s, "/w/", start, 10000000, &got, NULL), 0);
    pthread_join(th, NULL);
    assert_int_equal(got, w.rev);
    assert_true(now_us() - t0 < 5000000);
}

static void test_reopen_keeps_everything(void **state)
{
    struct fixture *fx = *state;
    put(fx->s, "/r/a", "1");
    int64_t rev = put(fx->s, "/r/b", "2");
    struct store_op del = {STORE_OP_DELETE, "/r/a", NULL, 0};
    assert_int_equal(store_txn(fx->s, &(struct store_txn){NULL, 0, &del, 1}, &rev, NULL, NULL), 0);
    store_free(fx->s);
    fx->s = NULL;
    assert_int_equal(fx->f->reopen(fx->f->ctx, &fx->s), 0);
    assert_int_equal(rev_of(fx->s), rev);
    check_value(fx->s, "/r/b", "2");
    assert_true(put(fx->s, "/r/c", "3") == rev + 1); /* never goes back */
}

#define N_THREADS 8
#define N_INCR    25

static void *cas_incrementer(void *arg)
{
    struct store *s = arg;
    for (int i = 0; i < N_INCR;) {
        struct store_kv kv;
        assert_int_equal(store_get(s, "/counter", &kv, NULL), 0);
        uint64_t n = strtoull(kv.value, NULL, 10);
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n + 1);
        struct store_compare c = {"/counter", kv.mod_revision};
        struct store_op op = {STORE_OP_PUT, "/counter", buf, (size_t)len};
        int r = store_txn(s, &(struct store_txn){&c, 1, &op, 1}, NULL, NULL, NULL);
        store_kv_clear(&kv);
        assert_true(r == 0 || r == -ECANCELED);
        if (r == 0)
            i++;
    }
    return NULL;
}

static void test_concurrent_cas(void **state)
{
    struct fixture *fx = *state;
    pthread_t th[N_THREADS];
    put(fx->s, "/counter", "0");
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, cas_incrementer, fx->s), 0);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    char want[32];
    snprintf(want, sizeof(want), "%d", N_THREADS * N_INCR);
    check_value(fx->s, "/counter", want);
}

struct racer {
    struct store *s;
    int won;
};

static void *create_racer(void *arg)
{
    struct racer *r = arg;
    struct store_compare c = {"/names/only", 0};
    struct store_op op = {STORE_OP_PUT, "/names/only", "x", 1};
    r->won = store_txn(r->s, &(struct store_txn){&c, 1, &op, 1}, NULL, NULL, NULL) == 0;
    return NULL;
}

static void test_concurrent_create_one_wins(void **state)
{
    struct fixture *fx = *state;
    pthread_t th[N_THREADS];
    struct racer rs[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        rs[i] = (struct racer){fx->s, 0};
        assert_int_equal(pthread_create(&th[i], NULL, create_racer, &rs[i]), 0);
    }
    int wins = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        wins += rs[i].won;
    }
    assert_int_equal(wins, 1);
}

static void test_get_json(void **state)
{
    struct fixture *fx = *state;
    json_t *j = NULL;
    int64_t mod = 0, rev = put(fx->s, "/j", "{\"a\": 1}");
    assert_int_equal(store_get_json(fx->s, "/j", &j, &mod, NULL), 0);
    assert_int_equal(mod, rev);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    json_decref(j);
    put(fx->s, "/notjson", "{oops");
    assert_int_equal(store_get_json(fx->s, "/notjson", &j, NULL, NULL), -EIO);
}

#define T(fn) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)f)

int store_conformance_run(const struct store_factory *f)
{
    const struct CMUnitTest tests[] = {
        T(test_empty),
        T(test_put_revisions),
        T(test_binary_and_empty_values),
        T(test_create_if_absent),
        T(test_compare_mod_revision),
        T(test_txn_one_revision),
        T(test_delete),
        T(test_list_prefix_order),
        T(test_list_pages),
        T(test_limits),
        T(test_wait_timeout_and_immediate),
        T(test_wait_wakes),
        T(test_reopen_keeps_everything),
        T(test_concurrent_cas),
        T(test_concurrent_create_one_wins),
        T(test_get_json),
    };
    return _cmocka_run_group_tests(f->name, tests, SLIO_ARRAY_SIZE(tests), NULL, NULL);
}
