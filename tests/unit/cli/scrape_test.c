/* SPDX-License-Identifier: Apache-2.0 */
/* The agents' per-volume counters read from Prometheus text; junk is skipped, never trusted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scrape.h"
#include "slio/cleanup.h"
#include "slio/json.h"

#define V1 "0c6f5f2e-1111-4a4a-8b8b-000000000001"
#define V2 "0c6f5f2e-1111-4a4a-8b8b-000000000002"

static double get(const json_t *acc, const char *vol, const char *name)
{
    return json_number_value(json_object_get(json_object_get(acc, vol), name));
}

static void test_counters_summed_per_volume(void **state)
{
    static const char text[] =
        "# HELP sliteio_volume_read_ops_total Read commands completed.\n"
        "# TYPE sliteio_volume_read_ops_total counter\n"
        "sliteio_volume_read_ops_total{volume=\"" V1 "\",via=\"target\"} 100\n"
        "sliteio_volume_read_ops_total{volume=\"" V1 "\",via=\"block\"} 5\n"
        "sliteio_volume_write_bytes_total{via=\"target\",volume=\"" V2 "\"} 4.5e6\n"
        "sliteio_volume_read_time_seconds_total{volume=\"" V2 "\"} 0.25 1700000000000\n"
        "sliteio_pool_free_bytes{pool=\"vg0\"} 7\n";
    _cleanup_json_ json_t *acc = json_object();
    assert_int_equal(scrape_parse(text, sizeof(text) - 1, acc), 0);
    assert_int_equal(json_object_size(acc), 2);
    assert_true(get(acc, V1, "read_ops") == 105);
    assert_true(get(acc, V2, "write_bytes") == 4.5e6);
    assert_true(get(acc, V2, "read_time_seconds") == 0.25);
}

static void test_junk_skipped(void **state)
{
    static const char *const lines[] = {
        "sliteio_volume_read_ops_total{volume=\"not-a-uuid\"} 1\n",
        "sliteio_volume_read_ops_total{volume=\"" V1 "\"} -1\n",
        "sliteio_volume_read_ops_total{volume=\"" V1 "\"} NaN\n",
        "sliteio_volume_read_ops_total{volume=\"" V1 "\"} +Inf\n",
        "sliteio_volume_read_ops_total{volume=\"" V1 "\"} 12abc\n",
        "sliteio_volume_read_ops_total{volume=\"" V1 "\"}\n",
        "sliteio_volume_read_ops_total{volume=\"" V1 "\" 3\n",
        "sliteio_volume_read_ops_total{volume=\"" V1 "} 3\n",
        "sliteio_volume_read_ops_total{volume=" V1 "} 3\n",
        "sliteio_volume_read_ops_total 3\n",
        "sliteio_volume_bogus_total{volume=\"" V1 "\"} 3\n",
        "sliteio_volume_read_ops{volume=\"" V1 "\"} 3\n",
        "sliteio_volume_read_ops_total{volume=\"" V1 "\",x=\"a\\\"b\\\\\"} 3\n", /* escapes: fine */
    };
    _cleanup_json_ json_t *acc = json_object();
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(lines); i++)
        assert_int_equal(scrape_parse(lines[i], strlen(lines[i]), acc), 0);
    assert_int_equal(json_object_size(acc), 1);
    assert_true(get(acc, V1, "read_ops") == 3);
}

static void test_long_line_and_no_newline(void **state)
{
    size_t n = 5000;
    char *big = malloc(n + 128);
    memset(big, 'a', n);
    int k = snprintf(big + n, 128, "\nsliteio_volume_write_ops_total{volume=\"%s\"} 9", V1);
    _cleanup_json_ json_t *acc = json_object();
    assert_int_equal(scrape_parse(big, n + (size_t)k, acc), 0);
    assert_true(get(acc, V1, "write_ops") == 9);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_summed_per_volume),
        cmocka_unit_test(test_junk_skipped),
        cmocka_unit_test(test_long_line_and_no_newline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
