/* SPDX-License-Identifier: Apache-2.0 */
/* agent/metrics.c: the exposition text from counters and a view; /sys block statistics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "slio/uuid.h"

#define VOL "6f1c0e1e-8a4b-4d35-9a39-0c1c2d3e4f50"

static void test_render(void **state)
{
    struct agent_metrics m;
    struct agent_iostat io = {.read_ops = 3, .write_bytes = 8192, .read_seconds = 0.25};
    struct agent_iostat_list remote = {.items = &io, .n = 1};
    struct agent_volume local = {.path = "/nonexistent/dev"};
    struct agent_metrics_view v = {
        .pool = "p1",
        .pool_valid = true,
        .ps = {.capacity = 1000,
               .free = 400,
               .allocated = 600,
               .thin = true,
               .thin_data_percent = 50,
               .thin_meta_percent = 10,
               .overprovision = 1.5,
               .overprovision_max = 4},
        .volumes = 2,
        .exported = 1,
        .thin_level = AGENT_THIN_WARNING,
        .controller_ok = true,
        .local = &local,
        .n_local = 1,
        .remote = &remote,
    };
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(1 << 20);
    const char *t;

    assert_int_equal(slio_uuid_parse(VOL, io.uuid), 0);
    agent_metrics_init(&m);
    atomic_fetch_add(&m.heartbeat_errors, 2);
    agent_metrics_observe_engine(&m, "create_volume", 0.02);
    agent_metrics_observe_target(&m, "bdev_aio_create", 0.001);
    agent_metrics_observe_target(&m, "nvmf_subsystem_remove_host", 0.001);
    agent_metrics_observe_command(&m, "lvcreate", 0.3, true);
    agent_metrics_observe_command(&m, "lvcreate", 0.1, false);
    agent_metrics_observe_command(&m, "thin_check", 0.1, false);
    assert_int_equal(agent_metrics_render(&m, &v, &sb), 0);
    t = slio_strbuf_str(&sb);
    assert_non_null(strstr(t, "# TYPE sliteio_agent_heartbeat_errors_total counter\n"));
    assert_non_null(strstr(t, "sliteio_agent_heartbeat_errors_total 2\n"));
    assert_non_null(strstr(t, "sliteio_pool_capacity_bytes{pool=\"p1\"} 1000\n"));
    assert_non_null(strstr(t, "sliteio_pool_thin_data_ratio{pool=\"p1\"} 0.5\n"));
    assert_non_null(strstr(t, "sliteio_pool_thin_full_warning{pool=\"p1\"} 1\n"));
    assert_non_null(strstr(t, "sliteio_pool_remote_volumes{pool=\"p1\"} 1\n"));
    assert_non_null(strstr(t, "sliteio_agent_controller_up 1\n"));
    assert_non_null(
        strstr(t, "sliteio_volume_read_ops_total{volume=\"" VOL "\",via=\"target\"} 3\n"));
    assert_non_null(strstr(t, "sliteio_volume_read_time_seconds_total{volume=\"" VOL
                              "\",via=\"target\"} 0.25\n"));
    assert_non_null(
        strstr(t, "sliteio_agent_engine_operation_seconds_count{op=\"create_volume\"} 1\n"));
    assert_non_null(
        strstr(t, "sliteio_agent_target_rpc_seconds_count{method=\"bdev_aio_create\"} 1\n"));
    assert_non_null(strstr(t, "sliteio_agent_target_rpc_seconds_count{method=\"other\"} 1\n"));
    assert_non_null(strstr(t, "sliteio_agent_command_seconds_count{command=\"lvcreate\"} 2\n"));
    assert_non_null(strstr(t, "sliteio_agent_command_seconds_sum{command=\"lvcreate\"} 0.4"));
    assert_non_null(strstr(t, "sliteio_agent_command_errors_total{command=\"lvcreate\"} 1\n"));
    assert_non_null(strstr(t, "sliteio_agent_command_errors_total{command=\"other\"} 1\n"));
    assert_non_null(strstr(t, "sliteio_agent_command_errors_total{command=\"lvs\"} 0\n"));
    assert_null(strstr(t, "via=\"block\"")); /* not a block device */

    /* Figures not measured yet: no pool gauges, the rest still there. */
    slio_strbuf_reset(&sb);
    v.pool_valid = false;
    v.remote = NULL;
    assert_int_equal(agent_metrics_render(&m, &v, &sb), 0);
    assert_null(strstr(slio_strbuf_str(&sb), "sliteio_pool_capacity_bytes"));
    assert_non_null(strstr(slio_strbuf_str(&sb), "sliteio_pool_local_volumes"));

    /* A cap too small: an error, never half a page. */
    struct slio_strbuf small = SLIO_STRBUF_INIT(100);
    assert_int_equal(agent_metrics_render(&m, &v, &small), -ENOBUFS);
    slio_strbuf_free(&small);
}

static void test_blockstat(void **state)
{
    struct agent_iostat io;
    char path[] = "/tmp/agent-blockstat-XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(agent_metrics_blockstat(path, &io), -ENOTBLK);
    assert_int_equal(agent_metrics_blockstat("/nonexistent/x", &io), -ENOENT);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_blockstat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
