/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "slio/hybrid_poll.h"

#define T0 1000000u

static void test_sleep_half_then_spin_until_twice(void **state)
{
    struct slio_hybrid_poll h = {.lat_us = 400};

    slio_hybrid_submitted(&h, T0);
    assert_int_equal(slio_hybrid_sleep_us(&h, T0), 200);
    assert_int_equal(slio_hybrid_sleep_us(&h, T0 + 150), 50);
    assert_int_equal(slio_hybrid_sleep_us(&h, T0 + 200), 0);
    assert_int_equal(slio_hybrid_sleep_us(&h, T0 + 799), 0);
    assert_true(slio_hybrid_sleep_us(&h, T0 + 800) == SLIO_HYBRID_SLEEP_ANY);
    slio_hybrid_submitted(&h, T0 + 900); /* a later submission moves the window */
    assert_int_equal(slio_hybrid_sleep_us(&h, T0 + 900), 200);
}

static void test_no_spin_when_unknown_or_slow(void **state)
{
    struct slio_hybrid_poll h = {.submit_us = T0};

    assert_true(slio_hybrid_sleep_us(&h, T0 + 10) == SLIO_HYBRID_SLEEP_ANY);
    h.lat_us = SLIO_HYBRID_MAX_LAT_US + 1;
    assert_true(slio_hybrid_sleep_us(&h, T0 + SLIO_HYBRID_MAX_LAT_US) == SLIO_HYBRID_SLEEP_ANY);
    h.lat_us = SLIO_HYBRID_MAX_LAT_US;
    assert_int_equal(slio_hybrid_sleep_us(&h, T0 + SLIO_HYBRID_MAX_LAT_US), 0);
}

static void test_latency_average(void **state)
{
    struct slio_hybrid_poll h = {0};

    slio_hybrid_completed(&h, T0, T0 + 400);
    assert_int_equal(h.lat_us, 400); /* the first sample is taken as is */
    slio_hybrid_completed(&h, T0, T0 + 1200);
    assert_int_equal(h.lat_us, 400 - 50 + 150); /* one slow request moves it by 1/8 */
    for (int i = 0; i < 100; i++)
        slio_hybrid_completed(&h, T0, T0 + 100);
    assert_in_range(h.lat_us, 95, 110);

    struct slio_hybrid_poll z = {0};
    slio_hybrid_completed(&z, T0, T0); /* known, if tiny: 0 would mean "not measured" */
    assert_int_equal(z.lat_us, 1);
}

static void test_bad_clock_samples(void **state)
{
    struct slio_hybrid_poll h = {.lat_us = 100};

    slio_hybrid_completed(&h, T0 + 50, T0); /* completion "before" submission: a 0 sample */
    assert_int_equal(h.lat_us, 100 - 12);
    slio_hybrid_completed(&h, 0, UINT64_MAX); /* clamped, not wrapped */
    assert_int_equal(h.lat_us, 88 - 11 + SLIO_HYBRID_LAT_SAMPLE_MAX / 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sleep_half_then_spin_until_twice),
        cmocka_unit_test(test_no_spin_when_unknown_or_slow),
        cmocka_unit_test(test_latency_average),
        cmocka_unit_test(test_bad_clock_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
