/* SPDX-License-Identifier: Apache-2.0 */
/* libslio/parse.c: integers, sizes, durations, UTF-8 — valid forms, and every kind of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slio/parse.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

static void test_u64(void **state)
{
    uint64_t v = SENTINEL;

    assert_int_equal(slio_parse_u64("0", 0, UINT64_MAX, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(slio_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(slio_parse_u64("007", 0, UINT64_MAX, &v), 0);
    assert_int_equal(v, 7);

    v = SENTINEL;
    assert_int_equal(slio_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
    assert_int_equal(slio_parse_u64("99999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
    assert_int_equal(slio_parse_u64("11", 0, 10, &v), -ERANGE);
    assert_int_equal(slio_parse_u64("4", 5, 10, &v), -ERANGE);
    static const char *const bad[] = {"",    " 1",  "1 ",  "+1",  "-1",  "-0", "0x10",
                                      "1e3", "12a", "1.0", "\t5", "5\n", "١",  "1_000"};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++)
        assert_int_equal(slio_parse_u64(bad[i], 0, UINT64_MAX, &v), -EINVAL);
    assert_int_equal(slio_parse_u64(NULL, 0, UINT64_MAX, &v), -EINVAL);
    assert_true(v == SENTINEL);

    /* an embedded NUL ends the C string: "12\0junk" is "12" */
    const char emb[] = "12\0junk";
    assert_int_equal(slio_parse_u64(emb, 0, UINT64_MAX, &v), 0);
    assert_int_equal(v, 12);
}

static void test_i64_u32(void **state)
{
    int64_t i = 42;
    uint32_t u = 42;

    assert_int_equal(slio_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(slio_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &i), 0);
    assert_true(i == INT64_MAX);
    assert_int_equal(slio_parse_i64("-5", -10, 10, &i), 0);
    assert_int_equal(i, -5);
    i = 42;
    assert_int_equal(slio_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &i), -ERANGE);
    assert_int_equal(slio_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &i), -ERANGE);
    assert_int_equal(slio_parse_i64("-11", -10, 10, &i), -ERANGE);
    assert_int_equal(slio_parse_i64("-", INT64_MIN, INT64_MAX, &i), -EINVAL);
    assert_int_equal(slio_parse_i64("--1", INT64_MIN, INT64_MAX, &i), -EINVAL);
    assert_int_equal(slio_parse_i64("+1", INT64_MIN, INT64_MAX, &i), -EINVAL);
    assert_int_equal(slio_parse_i64("", INT64_MIN, INT64_MAX, &i), -EINVAL);
    assert_int_equal(i, 42);

    assert_int_equal(slio_parse_u32("4294967295", 0, UINT32_MAX, &u), 0);
    assert_true(u == UINT32_MAX);
    u = 42;
    assert_int_equal(slio_parse_u32("4294967296", 0, UINT32_MAX, &u), -ERANGE);
    assert_int_equal(slio_parse_u32("65536", 0, 65535, &u), -ERANGE);
    assert_int_equal(slio_parse_u32("-1", 0, UINT32_MAX, &u), -EINVAL);
    assert_int_equal(u, 42);
}

static void test_size(void **state)
{
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {
        {"0", 0},
        {"512", 512},
        {"4k", 4000},
        {"10Mi", 10ull << 20},
        {"1.5Gi", 3ull << 29},
        {"2T", 2000000000000ull},
        {"1G", 1000000000ull},
        {"0.5Ki", 512},
        {"1.25k", 1250},
        {"15Ei", 15ull << 60},
        {"18E", 18000000000000000000ull},
        {"18446744073709551615", UINT64_MAX},
        {"1P", 1000000000000000ull},
        {"3Pi", 3ull << 50},
        {"7Ti", 7ull << 40},
    };
    uint64_t v;

    for (size_t i = 0; i < SLIO_ARRAY_SIZE(ok); i++) {
        v = SENTINEL;
        assert_int_equal(slio_parse_size(ok[i].s, &v), 0);
        assert_true(v == ok[i].v);
    }

    v = SENTINEL;
    static const char *const range[] = {"16Ei", "19E", "99999999999999999999",
                                        "18446744073709551616", "17179869184Gi"};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(range); i++)
        assert_int_equal(slio_parse_size(range[i], &v), -ERANGE);
    static const char *const bad[] = {"",       " 1Gi",       "1Gi ",
                                      "1 Gi",   "-1",         "-1Gi",
                                      "+1G",    "1K",         "1KB",
                                      "1KiB",   "1B",         "1e3",
                                      "1.",     ".5Gi",       "1.5",
                                      "Gi",     "1gi",        "1GI",
                                      "1..5G",  "0x10",       "1Gi1",
                                      "1.5.5M", "1,5G",       "0.1",
                                      "0.3Ki",  "15.9999Ei0", "1.0000000000000000001Gi"};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        int r = slio_parse_size(bad[i], &v);
        if (r != -EINVAL)
            fail_msg("\"%s\": expected -EINVAL, got %d", bad[i], r);
    }
    assert_int_equal(slio_parse_size(NULL, &v), -EINVAL);
    assert_true(v == SENTINEL);
}

static void test_format_size(void **state)
{
    char buf[SLIO_FORMAT_SIZE_MAX];
    uint64_t v;

    assert_string_equal(slio_format_size(0, buf), "0");
    assert_string_equal(slio_format_size(1023, buf), "1023");
    assert_string_equal(slio_format_size(1024, buf), "1Ki");
    assert_string_equal(slio_format_size(10ull << 30, buf), "10Gi");
    assert_string_equal(slio_format_size(1536ull << 20, buf), "1536Mi");
    assert_string_equal(slio_format_size(1500, buf), "~1.4Ki");
    assert_string_equal(slio_format_size((1ull << 30) + 1, buf), "~1.0Gi");
    assert_string_equal(slio_format_size(UINT64_MAX, buf), "~15.9Ei");
    assert_string_equal(slio_format_size(15ull << 60, buf), "15Ei");
    /* exact forms round-trip through the parser */
    static const uint64_t exact[] = {0, 7, 1024, 4096, 10ull << 30, 3ull << 50, 1536ull << 20};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(exact); i++) {
        assert_int_equal(slio_parse_size(slio_format_size(exact[i], buf), &v), 0);
        assert_true(v == exact[i]);
    }
}

static void test_duration(void **state)
{
    static const struct {
        const char *s;
        uint64_t us;
    } ok[] = {
        {"0", 0},          {"30s", 30000000},        {"5m", 300000000},
        {"100ms", 100000}, {"2h", 7200000000ull},    {"1.5s", 1500000},
        {"250us", 250},    {"1h30m", 5400000000ull}, {"1d", 86400000000ull},
        {"0.5ms", 500},    {"1m30s", 90000000},      {"0s", 0},
    };
    uint64_t v;

    for (size_t i = 0; i < SLIO_ARRAY_SIZE(ok); i++) {
        v = SENTINEL;
        assert_int_equal(slio_parse_duration_us(ok[i].s, &v), 0);
        assert_true(v == ok[i].us);
    }
    v = SENTINEL;
    static const char *const bad[] = {
        "",    "30",    "s",   "-1s",  "1.5",  " 1s",   "1s ", "1sec", "1S",
        "1ns", "0.5us", "1.s", "1h30", "1e3s", "1s-1s", "1 s", "5mss", "1.0000000000000000001s"};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        int r = slio_parse_duration_us(bad[i], &v);
        if (r != -EINVAL)
            fail_msg("\"%s\": expected -EINVAL, got %d", bad[i], r);
    }
    assert_int_equal(slio_parse_duration_us("213503982d", &v), 0); /* largest whole day count */
    v = SENTINEL;
    assert_int_equal(slio_parse_duration_us("99999999999999999999s", &v), -ERANGE);
    assert_int_equal(slio_parse_duration_us("213503983d", &v), -ERANGE);
    assert_int_equal(slio_parse_duration_us("18446744073709551615us1us", &v), -ERANGE);
    assert_int_equal(slio_parse_duration_us(NULL, &v), -EINVAL);
    assert_true(v == SENTINEL);
}

static void test_duration_unit(void **state)
{
    uint64_t v = SENTINEL;

    /* bare numbers count in the given unit, anything else is a duration */
    assert_int_equal(slio_parse_duration_unit_us("500", 1000, &v), 0);
    assert_true(v == 500000);
    assert_int_equal(slio_parse_duration_unit_us("2s", 1000, &v), 0);
    assert_true(v == 2000000);
    assert_int_equal(slio_parse_duration_unit_us("250us", 1000, &v), 0);
    assert_true(v == 250);
    assert_int_equal(slio_parse_duration_unit_us("0", 1000, &v), 0);
    assert_true(v == 0);
    assert_int_equal(slio_parse_duration_unit_us("50", 1, &v), 0);
    assert_true(v == 50);
    v = SENTINEL;
    static const char *const bad[] = {"", "-1", "1.5", " 5", "5 ", "5x", "ms", "+5", "0x10"};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        int r = slio_parse_duration_unit_us(bad[i], 1000, &v);
        if (r != -EINVAL)
            fail_msg("\"%s\": expected -EINVAL, got %d", bad[i], r);
    }
    assert_int_equal(slio_parse_duration_unit_us(NULL, 1000, &v), -EINVAL);
    assert_int_equal(slio_parse_duration_unit_us("5", 0, &v), -EINVAL);
    /* 2^64/1000 ms does not fit in microseconds; nor does a number past 2^64 */
    assert_int_equal(slio_parse_duration_unit_us("18446744073709552", 1000, &v), -ERANGE);
    assert_int_equal(slio_parse_duration_unit_us("18446744073709551616", 1, &v), -ERANGE);
    assert_true(v == SENTINEL);
}

/* The boundaries of Unicode's table of well-formed byte sequences, each side. */
static void test_utf8_seq(void **state)
{
    static const struct {
        const char *s;
        size_t len;
        uint32_t cp;
    } good[] = {
        {"", 1, 0},
        {"A", 1, 'A'},
        {"\x7f", 1, 0x7f},
        {"\xc2\x80", 2, 0x80},
        {"\xdf\xbf", 2, 0x7ff},
        {"\xe0\xa0\x80", 3, 0x800},
        {"\xed\x9f\xbf", 3, 0xd7ff},
        {"\xee\x80\x80", 3, 0xe000},
        {"\xef\xbf\xbf", 3, 0xffff},
        {"\xf0\x90\x80\x80", 4, 0x10000},
        {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
        {"\xe2\x82\xac tail", 3, 0x20ac}, /* only the first sequence */
    };
    static const char *const bad[] = {
        "\x80",             /* continuation without a lead */
        "\xbf",             /* the last continuation byte */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong 0x7f */
        "\xe0\x9f\xbf",     /* overlong 0x7ff */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf0\x8f\xbf\xbf", /* overlong 0xffff */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* lead beyond Unicode */
        "\xff",             /* never in UTF-8 */
        "\xc3",             /* truncated at the NUL */
        "\xe2\x82",         /* three-byte lead, two bytes */
        "\xf0\x9f\x98",     /* four-byte lead, three bytes */
        "\xe2\x41\xac",     /* 'A' where a continuation belongs */
    };
    uint32_t cp;

    (void)state;
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(good); i++) {
        cp = 0xdeadbeef;
        size_t n = slio_utf8_seq(good[i].s, &cp);
        if (n != good[i].len || cp != good[i].cp)
            fail_msg("good[%zu]: length %zu code point %#x", i, n, (unsigned)cp);
        assert_int_equal(slio_utf8_seq(good[i].s, NULL), good[i].len);
    }
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        cp = 0xdeadbeef;
        size_t n = slio_utf8_seq(bad[i], &cp);
        if (n != 0 || cp != 0xdeadbeef)
            fail_msg("bad[%zu]: length %zu, expected 0 and the output untouched", i, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64),      cmocka_unit_test(test_i64_u32),
        cmocka_unit_test(test_size),     cmocka_unit_test(test_format_size),
        cmocka_unit_test(test_duration), cmocka_unit_test(test_duration_unit),
        cmocka_unit_test(test_utf8_seq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
