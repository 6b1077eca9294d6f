/* SPDX-License-Identifier: Apache-2.0 */
/* The reactor's spin/sleep policy (a pure function; the hybrid part is slio/hybrid_poll.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "transport/transport_internal.h"

#define T0 1000000u /* an arbitrary "now" far from 0 */

static struct poll_state busy_ring(void)
{
    return (struct poll_state){.poll_us = 50,
                               .last_work_us = T0,
                               .inflight = true,
                               .inflight_on_ring = true,
                               .dev = {.submit_us = T0, .lat_us = 400}};
}

static void test_window_after_work(void **state)
{
    struct poll_state p = {.poll_us = 50, .last_work_us = T0};

    assert_int_equal(poll_sleep_us(&p, T0), 0);
    assert_int_equal(poll_sleep_us(&p, T0 + 49), 0);
    assert_true(poll_sleep_us(&p, T0 + 50) == POLL_SLEEP_ANY);
}

static void test_never_and_always(void **state)
{
    struct poll_state p = busy_ring();

    p.poll_us = 0;
    assert_true(poll_sleep_us(&p, T0) == POLL_SLEEP_ANY);
    assert_true(poll_sleep_us(&p, T0 + 300) == POLL_SLEEP_ANY);
    p.poll_us = -1;
    assert_int_equal(poll_sleep_us(&p, T0 + 5000000), 0);
}

/* Worker threads do the I/O (epoll engine): spinning would take their CPU. */
static void test_no_spin_with_workers_busy(void **state)
{
    struct poll_state p = busy_ring();

    p.inflight_on_ring = false;
    assert_true(poll_sleep_us(&p, T0) == POLL_SLEEP_ANY);
    assert_true(poll_sleep_us(&p, T0 + 300) == POLL_SLEEP_ANY);
}

static void test_hybrid_sleeps_half_then_spins(void **state)
{
    struct poll_state p = busy_ring();

    assert_int_equal(poll_sleep_us(&p, T0 + 10), 0);   /* poll window */
    assert_int_equal(poll_sleep_us(&p, T0 + 50), 150); /* until half the latency */
    assert_int_equal(poll_sleep_us(&p, T0 + 199), 1);
    assert_int_equal(poll_sleep_us(&p, T0 + 200), 0); /* spin around the completion */
    assert_int_equal(poll_sleep_us(&p, T0 + 799), 0);
    assert_true(poll_sleep_us(&p, T0 + 800) == POLL_SLEEP_ANY); /* late device: give up */
}

/* QD1 on a fast device: the window after submitting runs into the hybrid spin, no sleep. */
static void test_hybrid_fast_device_keeps_spinning(void **state)
{
    struct poll_state p = busy_ring();

    p.dev.lat_us = 60;
    for (uint64_t t = T0; t < T0 + 120; t += 5)
        assert_int_equal(poll_sleep_us(&p, t), 0);
    assert_true(poll_sleep_us(&p, T0 + 120) == POLL_SLEEP_ANY);
}

static void test_hybrid_needs_a_known_fast_device(void **state)
{
    struct poll_state p = busy_ring();

    p.dev.lat_us = 0; /* nothing measured yet */
    assert_true(poll_sleep_us(&p, T0 + 300) == POLL_SLEEP_ANY);
    p.dev.lat_us = SLIO_HYBRID_MAX_LAT_US + 1; /* a slow disk: the wake-up is noise */
    assert_true(poll_sleep_us(&p, T0 + SLIO_HYBRID_MAX_LAT_US) == POLL_SLEEP_ANY);
    p.dev.lat_us = SLIO_HYBRID_MAX_LAT_US;
    assert_int_equal(poll_sleep_us(&p, T0 + SLIO_HYBRID_MAX_LAT_US), 0);
    p.inflight = false; /* nothing to wait for */
    p.dev.lat_us = 400;
    assert_true(poll_sleep_us(&p, T0 + 300) == POLL_SLEEP_ANY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_after_work),
        cmocka_unit_test(test_never_and_always),
        cmocka_unit_test(test_no_spin_with_workers_busy),
        cmocka_unit_test(test_hybrid_sleeps_half_then_spins),
        cmocka_unit_test(test_hybrid_fast_device_keeps_spinning),
        cmocka_unit_test(test_hybrid_needs_a_known_fast_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
