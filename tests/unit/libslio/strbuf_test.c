/* SPDX-License-Identifier: Apache-2.0 */
/* libslio/strbuf.c: growth, the mandatory cap (all-or-nothing appends), steal/reset/free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slio/strbuf.h"

static void test_append_and_grow(void **state)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(100000);
    char expect[8192];

    assert_string_equal(slio_strbuf_str(&sb), "");
    assert_int_equal(slio_strbuf_len(&sb), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(slio_strbuf_appendf(&sb, "%03d,", i), 0);
    assert_int_equal(slio_strbuf_len(&sb), 4000);
    assert_memory_equal(slio_strbuf_str(&sb), "000,001,002,", 12);
    assert_string_equal(slio_strbuf_str(&sb) + 3996, "999,");

    slio_strbuf_reset(&sb);
    assert_string_equal(slio_strbuf_str(&sb), "");
    memset(expect, 'x', sizeof(expect));
    assert_int_equal(slio_strbuf_append(&sb, expect, sizeof(expect)), 0);
    assert_int_equal(slio_strbuf_appends(&sb, "end"), 0);
    assert_int_equal(slio_strbuf_len(&sb), sizeof(expect) + 3);
    assert_string_equal(slio_strbuf_str(&sb) + sizeof(expect), "end");
}

static void test_cap(void **state)
{
    struct slio_strbuf sb;

    slio_strbuf_init(&sb, 10);
    assert_int_equal(slio_strbuf_appends(&sb, "0123456"), 0);
    /* would exceed: refused, content unchanged */
    assert_int_equal(slio_strbuf_appends(&sb, "7890"), -ENOBUFS);
    assert_string_equal(slio_strbuf_str(&sb), "0123456");
    assert_int_equal(slio_strbuf_appendf(&sb, "%d", 1234), -ENOBUFS);
    assert_string_equal(slio_strbuf_str(&sb), "0123456");
    /* exactly up to the cap is fine */
    assert_int_equal(slio_strbuf_appendf(&sb, "%d", 789), 0);
    assert_string_equal(slio_strbuf_str(&sb), "0123456789");
    assert_int_equal(slio_strbuf_append(&sb, "x", 1), -ENOBUFS);
    assert_int_equal(slio_strbuf_append(&sb, "", 0), 0);
    assert_true(sb.alloc <= 11);
    /* a length that would overflow size_t arithmetic */
    assert_int_equal(slio_strbuf_append(&sb, "x", SIZE_MAX), -ENOBUFS);
    assert_int_equal(slio_strbuf_len(&sb), 10);
    slio_strbuf_free(&sb);
    assert_null(sb.buf);
    assert_int_equal(sb.len, 0);
    slio_strbuf_free(&sb); /* twice is harmless */

    struct slio_strbuf zero = SLIO_STRBUF_INIT(0);
    assert_int_equal(slio_strbuf_appends(&zero, "a"), -ENOBUFS);
    assert_int_equal(slio_strbuf_appends(&zero, ""), 0);
    slio_strbuf_free(&zero);
}

static void test_binary_and_steal(void **state)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(64);
    static const char bin[] = {'a', '\0', 'b'};
    size_t len = 99;

    assert_int_equal(slio_strbuf_append(&sb, bin, sizeof(bin)), 0);
    assert_int_equal(slio_strbuf_len(&sb), 3);
    char *p = slio_strbuf_steal(&sb, &len);
    assert_non_null(p);
    assert_int_equal(len, 3);
    assert_memory_equal(p, bin, 3);
    assert_int_equal(p[3], '\0');
    free(p);
    assert_int_equal(slio_strbuf_len(&sb), 0);
    assert_string_equal(slio_strbuf_str(&sb), "");

    /* stealing an empty buffer still gives a string to free */
    p = slio_strbuf_steal(&sb, NULL);
    assert_non_null(p);
    assert_string_equal(p, "");
    free(p);
    /* reusable after steal, same cap */
    assert_int_equal(slio_strbuf_appendf(&sb, "%s", "again"), 0);
    assert_string_equal(slio_strbuf_str(&sb), "again");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_grow),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_binary_and_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
