/* SPDX-License-Identifier: Apache-2.0 */
/* The store conformance suite on SQLite, plus what only SQLite promises (lock, schema). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_conformance.h"

struct sqlite_ctx {
    char dir[64];
    char path[96];
};

static int sq_create(void *ctx, struct store **ret)
{
    struct sqlite_ctx *c = ctx;
    snprintf(c->dir, sizeof(c->dir), "/tmp/slio-store-XXXXXX");
    if (!mkdtemp(c->dir))
        return -errno;
    snprintf(c->path, sizeof(c->path), "%s/state.db", c->dir);
    return store_sqlite_open(c->path, ret, NULL);
}

static int sq_reopen(void *ctx, struct store **ret)
{
    struct sqlite_ctx *c = ctx;
    return store_sqlite_open(c->path, ret, NULL);
}

static void sq_destroy(void *ctx)
{
    struct sqlite_ctx *c = ctx;
    const char *suffixes[] = {"", "-wal", "-shm", ".lock"};
    char p[128];
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(suffixes); i++) {
        snprintf(p, sizeof(p), "%s%s", c->path, suffixes[i]);
        unlink(p);
    }
    rmdir(c->dir);
}

static void test_second_opener_refused(void **state)
{
    struct sqlite_ctx c;
    struct store *a, *b = NULL;
    struct slio_err err = {{0}};
    assert_int_equal(sq_create(&c, &a), 0);
    assert_int_equal(store_sqlite_open(c.path, &b, &err), -EBUSY);
    assert_null(b);
    assert_non_null(strstr(err.text, "locked by another controller"));
    store_free(a);
    assert_int_equal(sq_reopen(&c, &b), 0); /* released with the first */
    store_free(b);
    sq_destroy(&c);
}

static void test_missing_dir(void **state)
{
    struct store *s = NULL;
    assert_true(store_sqlite_open("/nonexistent-slio/dir/state.db", &s, NULL) < 0);
    assert_null(s);
}

int main(void)
{
    struct sqlite_ctx ctx;
    const struct store_factory f = {"store_sqlite", sq_create, sq_reopen, sq_destroy, &ctx};
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_second_opener_refused),
        cmocka_unit_test(test_missing_dir),
    };
    int failed = store_conformance_run(&f);
    return failed + cmocka_run_group_tests_name("store_sqlite_only", own, NULL, NULL);
}
