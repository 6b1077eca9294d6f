/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "stats.h"

static struct perf_hist h;

static void test_buckets_cover_values(void **state)
{
    /* every value lands in a bucket whose [low, low+width) contains it; buckets are ordered */
    uint64_t vals[] = {0, 1, 31, 32, 33, 63, 64, 100, 1000, 4095, 4096, 123456789, 1ull << 40};
    uint32_t prev = 0;

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint32_t b = perf_hist_bucket(vals[i]);
        assert_true(b < PERF_HIST_BUCKETS);
        assert_true(b >= prev);
        assert_true(perf_hist_bucket_low(b) <= vals[i]);
        assert_true(vals[i] < perf_hist_bucket_low(b) + perf_hist_bucket_width(b));
        prev = b;
    }
    /* relative bucket width stays under 1/32 above the linear range */
    for (uint32_t b = PERF_HIST_SUB; b < PERF_HIST_BUCKETS; b++)
        assert_true(perf_hist_bucket_width(b) * 32 <= perf_hist_bucket_low(b));
    /* contiguous: each bucket starts where the previous one ends */
    for (uint32_t b = 1; b < PERF_HIST_BUCKETS; b++)
        assert_int_equal(perf_hist_bucket_low(b),
                         perf_hist_bucket_low(b - 1) + perf_hist_bucket_width(b - 1));
    assert_int_equal(perf_hist_bucket(UINT64_MAX), PERF_HIST_BUCKETS - 1);
}

static void test_percentiles_uniform(void **state)
{
    perf_hist_init(&h);
    for (uint64_t v = 1; v <= 100000; v++)
        perf_hist_add(&h, v * 1000); /* 1 µs .. 100 ms */
    assert_int_equal(h.n, 100000);
    assert_int_equal(h.min, 1000);
    assert_int_equal(h.max, 100000000);
    double mean = perf_hist_mean(&h);
    assert_true(mean > 50000499.0 && mean < 50000501.0);
    struct {
        double p;
        double expect;
    } cases[] = {{50, 50e6}, {99, 99e6}, {99.9, 99.9e6}, {1, 1e6}, {100, 100e6}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double got = (double)perf_hist_percentile(&h, cases[i].p);
        assert_true(got > cases[i].expect * 0.97 && got < cases[i].expect * 1.03);
    }
}

static void test_percentile_edges(void **state)
{
    perf_hist_init(&h);
    assert_int_equal(perf_hist_percentile(&h, 50), 0);
    assert_true(perf_hist_mean(&h) == 0.0);
    perf_hist_add(&h, 12345);
    /* one sample: every percentile is that sample (clamped to min/max) */
    assert_int_equal(perf_hist_percentile(&h, 0.1), 12345);
    assert_int_equal(perf_hist_percentile(&h, 99.9), 12345);
    /* 999 fast + 1 slow: p99.9 is still fast, p100 is the slow one */
    perf_hist_init(&h);
    for (int i = 0; i < 999; i++)
        perf_hist_add(&h, 10);
    perf_hist_add(&h, 1000000);
    assert_int_equal(perf_hist_percentile(&h, 99.9), 10);
    assert_int_equal(perf_hist_percentile(&h, 100), 1000000);
}

static void test_merge(void **state)
{
    struct perf_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

    perf_hist_init(a);
    perf_hist_init(b);
    for (int i = 0; i < 100; i++)
        perf_hist_add(a, 100);
    for (int i = 0; i < 100; i++)
        perf_hist_add(b, 10000);
    perf_hist_merge(a, b);
    assert_int_equal(a->n, 200);
    assert_int_equal(a->min, 100);
    assert_int_equal(a->max, 10000);
    assert_int_equal(a->sum, 100 * 100 + 100 * 10000);
    uint64_t p50 = perf_hist_percentile(a, 50); /* bucket midpoint: within ~3 % */
    assert_true(p50 >= 100 && p50 <= 103);
    uint64_t p75 = perf_hist_percentile(a, 75);
    assert_true(p75 > 9700 && p75 <= 10000);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_cover_values),
        cmocka_unit_test(test_percentiles_uniform),
        cmocka_unit_test(test_percentile_edges),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
