/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QoS token buckets driven by a simulated clock: a greedy client submits
 * whenever admitted and otherwise sleeps exactly the time it was told; the
 * admitted rate over 1 s windows must be within 10 % of the limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "registry/registry_internal.h"

static struct tgt_bdev *new_bdev(void)
{
    struct tgt_bdev *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    b->qos = qos_new();
    assert_non_null(b->qos);
    return b;
}

static void free_bdev(struct tgt_bdev *b)
{
    qos_free(b->qos);
    free(b);
}

struct run {
    uint64_t ios, bytes;
};

/* Submit I/Os of `bytes` greedily from *now for dur_us; returns what was admitted. */
static struct run drive(struct tgt_bdev *b, bool write, uint64_t bytes, uint64_t *now,
                        uint64_t dur_us)
{
    struct run r = {0};
    uint64_t end = *now + dur_us;

    while (*now < end) {
        uint64_t wait = tgt_bdev_qos_admit(b, write, bytes, *now);
        if (wait == 0) {
            r.ios++;
            r.bytes += bytes;
        } else {
            assert_true(wait <= 10000000); /* never absurd */
            *now += wait;
        }
    }
    return r;
}

static void assert_within_10pct(uint64_t got, uint64_t want)
{
    if (got * 10 < want * 9 || got * 10 > want * 11)
        fail_msg("admitted %llu, limit %llu: off by more than 10 %%", (unsigned long long)got,
                 (unsigned long long)want);
}

static void test_unlimited(void **state)
{
    (void)state;
    struct tgt_bdev *b = new_bdev();
    for (int i = 0; i < 100000; i++)
        assert_int_equal(tgt_bdev_qos_admit(b, i & 1, 1 << 20, 0), 0);
    assert_int_equal(tgt_bdev_set_qos(b, 0, 0, 0, 0), 0);
    assert_int_equal(tgt_bdev_qos_admit(b, true, 1 << 20, 5), 0);
    free_bdev(b);
}

static void test_iops(void **state)
{
    (void)state;
    struct tgt_bdev *b = new_bdev();
    uint64_t now = 1000000;

    assert_int_equal(tgt_bdev_set_qos(b, 1000, 0, 0, 0), 0);
    struct run r1 = drive(b, false, 4096, &now, 1000000);
    assert_within_10pct(r1.ios, 1000);
    struct run r2 = drive(b, true, 4096, &now, 1000000); /* the second second, steady state */
    assert_within_10pct(r2.ios, 1000);
    struct run r3 = drive(b, false, 4096, &now, 2000000);
    assert_within_10pct(r3.ios, 2000);
    free_bdev(b);
}

static void test_bandwidth(void **state)
{
    (void)state;
    struct tgt_bdev *b = new_bdev();
    uint64_t now = 0;

    /* 10 MiB/s of 128 KiB I/Os: 80 per second */
    assert_int_equal(tgt_bdev_set_qos(b, 0, 10, 0, 0), 0);
    struct run r = drive(b, false, 128 << 10, &now, 1000000);
    assert_within_10pct(r.bytes, 10 << 20);
    r = drive(b, true, 128 << 10, &now, 2000000);
    assert_within_10pct(r.bytes, 20 << 20);

    /* an I/O larger than the bucket still passes, and the debt slows the next ones */
    r = drive(b, true, 4 << 20, &now, 2000000);
    assert_within_10pct(r.bytes, 20 << 20);
    free_bdev(b);
}

static void test_read_write_limits(void **state)
{
    (void)state;
    struct tgt_bdev *b = new_bdev();
    uint64_t now = 0;

    assert_int_equal(tgt_bdev_set_qos(b, 0, 0, 2, 8), 0);
    struct run rd = drive(b, false, 64 << 10, &now, 1000000);
    assert_within_10pct(rd.bytes, 2 << 20);
    struct run wr = drive(b, true, 64 << 10, &now, 1000000);
    assert_within_10pct(wr.bytes, 8 << 20);

    struct tgt_qos_limits l;
    tgt_bdev_get_qos(b, &l);
    assert_int_equal(l.r_mbytes_per_sec, 2);
    assert_int_equal(l.w_mbytes_per_sec, 8);
    assert_int_equal(l.rw_ios_per_sec, 0);
    free_bdev(b);
}

static void test_combined_limits(void **state)
{
    (void)state;
    struct tgt_bdev *b = new_bdev();
    uint64_t now = 0;

    /* 4 KiB I/Os: the IOPS limit (500/s = ~2 MiB/s) binds before 100 MiB/s */
    assert_int_equal(tgt_bdev_set_qos(b, 500, 100, 0, 0), 0);
    struct run r = drive(b, false, 4096, &now, 1000000);
    assert_within_10pct(r.ios, 500);
    /* 1 MiB I/Os: now the bandwidth limit binds (100 per second < 500 IOPS) */
    r = drive(b, false, 1 << 20, &now, 1000000);
    assert_within_10pct(r.bytes, 100ull << 20);
    free_bdev(b);
}

static void test_change_while_running(void **state)
{
    (void)state;
    struct tgt_bdev *b = new_bdev();
    uint64_t now = 0;

    assert_int_equal(tgt_bdev_set_qos(b, 1000, 0, 0, 0), 0);
    struct run r = drive(b, false, 4096, &now, 1000000);
    assert_within_10pct(r.ios, 1000);
    assert_int_equal(tgt_bdev_set_qos(b, 3000, 0, 0, 0), 0);
    r = drive(b, false, 4096, &now, 1000000);
    assert_within_10pct(r.ios, 3000);
    assert_int_equal(tgt_bdev_set_qos(b, 200, 0, 0, 0), 0);
    r = drive(b, false, 4096, &now, 1000000);
    assert_within_10pct(r.ios, 200);
    assert_int_equal(tgt_bdev_set_qos(b, 0, 0, 0, 0), 0); /* lifted */
    assert_int_equal(tgt_bdev_qos_admit(b, false, 4096, now), 0);
    assert_int_equal(tgt_bdev_qos_admit(b, false, 4096, now), 0);
    free_bdev(b);
}

static void test_clock_not_monotonic(void **state)
{
    (void)state;
    struct tgt_bdev *b = new_bdev();

    assert_int_equal(tgt_bdev_set_qos(b, 1000, 0, 0, 0), 0);
    uint64_t now = 5000000;
    drive(b, false, 4096, &now, 100000);
    /* a clock going backwards adds no tokens */
    uint64_t w = tgt_bdev_qos_admit(b, false, 4096, 1000);
    assert_true(w > 0);
    assert_true(tgt_bdev_set_qos(b, 0, UINT64_MAX / 2, 0, 0) == -ERANGE);
    free_bdev(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlimited),           cmocka_unit_test(test_iops),
        cmocka_unit_test(test_bandwidth),           cmocka_unit_test(test_read_write_limits),
        cmocka_unit_test(test_combined_limits),     cmocka_unit_test(test_change_while_running),
        cmocka_unit_test(test_clock_not_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
