/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libslio/prom.c: exact text for families, samples, escaping, values and
 * histograms; bad names refused; all-or-nothing at the strbuf's cap;
 * observations from several threads; and a whole sample exposition checked
 * by `promtool check metrics` (/usr/bin/promtool must exist: the test fails
 * without it).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "slio/exec.h"
#include "slio/prom.h"

#define PROMTOOL "/usr/bin/promtool"

static void test_families(void **state)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(4096);

    (void)state;
    assert_int_equal(
        slio_prom_family(&sb, "sliteio_pool_free_bytes", SLIO_PROM_GAUGE, "Free bytes of a pool."),
        0);
    assert_int_equal(slio_prom_family(&sb, "sliteio_heartbeats", SLIO_PROM_COUNTER,
                                      "Heartbeats sent.\nOne \\ line."),
                     0);
    assert_int_equal(
        slio_prom_family(&sb, "sliteio_errors_total", SLIO_PROM_COUNTER, "Not doubled."), 0);
    assert_int_equal(slio_prom_family(&sb, "sliteio_lvm_seconds", SLIO_PROM_HISTOGRAM, "LVM."), 0);
    assert_string_equal(slio_strbuf_str(&sb),
                        "# HELP sliteio_pool_free_bytes Free bytes of a pool.\n"
                        "# TYPE sliteio_pool_free_bytes gauge\n"
                        "# HELP sliteio_heartbeats_total Heartbeats sent.\\nOne \\\\ line.\n"
                        "# TYPE sliteio_heartbeats_total counter\n"
                        "# HELP sliteio_errors_total Not doubled.\n"
                        "# TYPE sliteio_errors_total counter\n"
                        "# HELP sliteio_lvm_seconds LVM.\n"
                        "# TYPE sliteio_lvm_seconds histogram\n");
}

static void test_counter_in_one_call(void **state)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(4096);

    (void)state;
    assert_int_equal(slio_prom_counter(&sb, "sliteio_x_reloads", "Reloads.", 3), 0);
    assert_string_equal(slio_strbuf_str(&sb), "# HELP sliteio_x_reloads_total Reloads.\n"
                                              "# TYPE sliteio_x_reloads_total counter\n"
                                              "sliteio_x_reloads_total 3\n");
    assert_int_equal(slio_prom_counter(&sb, "9bad", "Bad.", 1), -EINVAL);
}

static void test_bad_names(void **state)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(4096);
    const char *bad_names[] = {"", "1abc", "a-b", "a b", "a\nb", "é"};

    (void)state;
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad_names); i++) {
        assert_int_equal(slio_prom_family(&sb, bad_names[i], SLIO_PROM_GAUGE, "x"), -EINVAL);
        assert_int_equal(slio_prom_sample(&sb, bad_names[i], NULL, 1), -EINVAL);
    }
    assert_int_equal(slio_prom_family(&sb, "g_total", SLIO_PROM_GAUGE, "x"), -EINVAL);
    assert_int_equal(slio_prom_family(&sb, "g", SLIO_PROM_GAUGE, NULL), -EINVAL);
    assert_int_equal(slio_prom_family(&sb, "g", (enum slio_prom_type)7, "x"), -EINVAL);
    assert_int_equal(slio_prom_sample(&sb, "g", (const char *[]){"__name__", "x", NULL}, 1),
                     -EINVAL);
    assert_int_equal(slio_prom_sample(&sb, "g", (const char *[]){"a:b", "x", NULL}, 1), -EINVAL);
    assert_int_equal(slio_prom_sample(&sb, "g", (const char *[]){"9a", "x", NULL}, 1), -EINVAL);
    assert_int_equal(slio_prom_sample(&sb, "g", (const char *[]){"odd", NULL}, 1), -EINVAL);
    assert_int_equal(slio_strbuf_len(&sb), 0);
    /* colons are fine in metric names */
    assert_int_equal(slio_prom_sample(&sb, "job:rate_5m", NULL, 1), 0);
}

static void test_samples_labels_escaping_values(void **state)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(4096);

    (void)state;
    assert_int_equal(slio_prom_sample(&sb, "g", NULL, 1e9), 0);
    assert_int_equal(slio_prom_sample(&sb, "g", (const char *[]){NULL}, 0.1), 0);
    assert_int_equal(
        slio_prom_sample(&sb, "g", (const char *[]){"pool", "vg0", "node", "n-1", NULL}, -2.5), 0);
    assert_int_equal(slio_prom_sample(&sb, "g", (const char *[]){"v", "a\"b\\c\nd", NULL}, 1.0 / 3),
                     0);
    assert_int_equal(slio_prom_sample(&sb, "g", (const char *[]){"v", "caf\xc3\xa9", NULL}, NAN),
                     0);
    assert_int_equal(slio_prom_sample(&sb, "g", (const char *[]){"v", "bad\xff", NULL}, INFINITY),
                     0);
    assert_int_equal(slio_prom_sample(&sb, "g", NULL, -INFINITY), 0);
    assert_int_equal(slio_prom_sample(&sb, "g", NULL, 1.5e-7), 0);
    assert_int_equal(slio_prom_sample(&sb, "g", NULL, 18446744073709551616.0), 0);
    assert_string_equal(slio_strbuf_str(&sb), "g 1000000000\n"
                                              "g 0.1\n"
                                              "g{pool=\"vg0\",node=\"n-1\"} -2.5\n"
                                              "g{v=\"a\\\"b\\\\c\\nd\"} 0.3333333333333333\n"
                                              "g{v=\"caf\xc3\xa9\"} NaN\n"
                                              "g{v=\"bad\xef\xbf\xbd\"} +Inf\n"
                                              "g -Inf\n"
                                              "g 1.5e-07\n"
                                              "g 1.8446744073709552e+19\n");
}

static void test_cap_is_all_or_nothing(void **state)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(40);
    struct slio_prom_hist h;

    (void)state;
    assert_int_equal(slio_prom_sample(&sb, "short", NULL, 1), 0);
    assert_int_equal(
        slio_prom_sample(&sb, "g", (const char *[]){"label", "a value longer than what fits", NULL},
                         1),
        -ENOBUFS);
    assert_int_equal(
        slio_prom_family(&sb, "family", SLIO_PROM_GAUGE, "a help text longer than the cap"),
        -ENOBUFS);
    slio_prom_hist_init(&h);
    assert_int_equal(slio_prom_hist_write(&sb, "h", NULL, &h), -ENOBUFS);
    assert_string_equal(slio_strbuf_str(&sb), "short 1\n");
}

static void test_histogram(void **state)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(8192);
    struct slio_prom_hist h = {.n_bounds = 3, .bounds = {0.001, 0.01, 1}};

    (void)state;
    slio_prom_hist_observe(&h, 0.0005);
    slio_prom_hist_observe(&h, 0.001); /* le: on the bound counts in it */
    slio_prom_hist_observe(&h, 0.5);
    slio_prom_hist_observe(&h, 100);
    slio_prom_hist_observe(&h, NAN); /* ignored */
    assert_int_equal(
        slio_prom_hist_write(&sb, "op_seconds", (const char *[]){"op", "create", NULL}, &h), 0);
    assert_string_equal(slio_strbuf_str(&sb), "op_seconds_bucket{op=\"create\",le=\"0.001\"} 2\n"
                                              "op_seconds_bucket{op=\"create\",le=\"0.01\"} 2\n"
                                              "op_seconds_bucket{op=\"create\",le=\"1\"} 3\n"
                                              "op_seconds_bucket{op=\"create\",le=\"+Inf\"} 4\n"
                                              "op_seconds_sum{op=\"create\"} 100.5015\n"
                                              "op_seconds_count{op=\"create\"} 4\n");
    slio_strbuf_reset(&sb);
    assert_int_equal(slio_prom_hist_write(&sb, "op_seconds", (const char *[]){"le", "1", NULL}, &h),
                     -EINVAL);
    h.bounds[1] = 0.001; /* not ascending */
    assert_int_equal(slio_prom_hist_write(&sb, "op_seconds", NULL, &h), -EINVAL);

    slio_prom_hist_init(&h);
    assert_int_equal(h.n_bounds, 14);
    assert_true(h.bounds[0] == 0.001 && h.bounds[13] == 30);
    assert_int_equal(h.count, 0);
}

#define OBSERVERS    4
#define OBSERVATIONS 20000

static void *observe_many(void *arg)
{
    for (int i = 0; i < OBSERVATIONS; i++)
        slio_prom_hist_observe(arg, 0.25);
    return NULL;
}

static void test_histogram_threads(void **state)
{
    struct slio_prom_hist h;
    pthread_t t[OBSERVERS];

    (void)state;
    slio_prom_hist_init(&h);
    for (int i = 0; i < OBSERVERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, observe_many, &h), 0);
    for (int i = 0; i < OBSERVERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(h.count, OBSERVERS * OBSERVATIONS);
    assert_int_equal(h.counts[7], OBSERVERS * OBSERVATIONS); /* le 0.25 */
    assert_true(h.sum == 0.25 * OBSERVERS * OBSERVATIONS);   /* exact in binary */
}

/* A /metrics page as a daemon would write it, fed to promtool. */
static void test_promtool_accepts_the_output(void **state)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(1 << 20);
    _cleanup_exec_result_ struct slio_exec_result res = {0};
    struct slio_err err = {{0}};
    struct slio_prom_hist h;
    const char *argv[] = {PROMTOOL, "check", "metrics", NULL};

    (void)state;
    if (access(PROMTOOL, X_OK) != 0)
        fail_msg(PROMTOOL " is missing: install prometheus (tools/deps.txt)");
    slio_prom_hist_init(&h);
    for (int i = 0; i < 50; i++)
        slio_prom_hist_observe(&h, i * 0.37);
    assert_int_equal(slio_prom_family(&sb, "sliteio_pool_free_bytes", SLIO_PROM_GAUGE,
                                      "Free bytes of a pool.\nIn bytes."),
                     0);
    assert_int_equal(slio_prom_sample(&sb, "sliteio_pool_free_bytes",
                                      (const char *[]){"pool", "vg0", "node", "n\"1\\\n", NULL},
                                      1e12),
                     0);
    assert_int_equal(slio_prom_sample(&sb, "sliteio_pool_free_bytes",
                                      (const char *[]){"pool", "vg\xff", "node", "n2", NULL}, NAN),
                     0);
    assert_int_equal(slio_prom_family(&sb, "sliteio_heartbeats", SLIO_PROM_COUNTER,
                                      "Heartbeats sent to the controller."),
                     0);
    assert_int_equal(slio_prom_sample(&sb, "sliteio_heartbeats_total", NULL, 12345), 0);
    assert_int_equal(slio_prom_family(&sb, "sliteio_lvm_command_seconds", SLIO_PROM_HISTOGRAM,
                                      "Latency of LVM commands."),
                     0);
    assert_int_equal(slio_prom_hist_write(&sb, "sliteio_lvm_command_seconds",
                                          (const char *[]){"command", "lvcreate", NULL}, &h),
                     0);
    assert_int_equal(slio_prom_hist_write(&sb, "sliteio_lvm_command_seconds",
                                          (const char *[]){"command", "lvs", NULL}, &h),
                     0);
    assert_int_equal(slio_prom_family(&sb, "sliteio_up", SLIO_PROM_GAUGE, "1 when serving."), 0);
    assert_int_equal(slio_prom_sample(&sb, "sliteio_up", NULL, INFINITY), 0);

    assert_int_equal(slio_exec(argv,
                               &(struct slio_exec_opts){.stdin_data = slio_strbuf_str(&sb),
                                                        .stdin_len = slio_strbuf_len(&sb),
                                                        .timeout_ms = 60000},
                               &res, &err),
                     0);
    if (!slio_exec_succeeded(&res) || res.out_len || res.err_len)
        fail_msg("promtool check metrics: exit %d\n%s%s\n--- input ---\n%s", res.exit_code, res.out,
                 res.err, slio_strbuf_str(&sb));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_counter_in_one_call),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_samples_labels_escaping_values),
        cmocka_unit_test(test_cap_is_all_or_nothing),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_histogram_threads),
        cmocka_unit_test(test_promtool_accepts_the_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
