/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-tgt's RPC results against SPDK's shapes: the members and types SPDK
 * v23.01 and v24.09 return (bdev_get_iostat, nvmf_get_transports, nvmf_get_subsystems'
 * listen_addresses, framework_get_subsystems / framework_get_config as rpc.py
 * uses them for save_config), as found by tests/compat/spdk_rpc_compat.py;
 * see docs/interop.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry/registry_mgmt.h"
#include "rpc/rpc.h"
#include "rpc_harness.h"
#include "tgt_fakes.h"

/* The I/O path accounts completions (tgt_bdev_account_latency); the RPC reports them. */
static void test_iostat_latency(void **state)
{
    (void)state;
    char p[512];
    static const struct {
        enum tgt_bdev_io_kind kind;
        const char *sum, *max, *min;
        uint64_t us[4];
    } kinds[] = {
        {TGT_BDEV_IO_READ,
         "read_latency_ticks",
         "max_read_latency_ticks",
         "min_read_latency_ticks",
         {30, 5, 120, 5}},
        {TGT_BDEV_IO_WRITE,
         "write_latency_ticks",
         "max_write_latency_ticks",
         "min_write_latency_ticks",
         {9, 0, 17, 3}},
        {TGT_BDEV_IO_UNMAP,
         "unmap_latency_ticks",
         "max_unmap_latency_ticks",
         "min_unmap_latency_ticks",
         {250, 80, 81, 900}},
    };

    snprintf(p, sizeof(p), "{\"name\": \"aio0\", \"filename\": \"%s\"}", g_file);
    json_decref(ok("bdev_aio_create", p));
    struct tgt_bdev *b = tgt_bdev_find_get("aio0");
    assert_non_null(b);
    for (size_t k = 0; k < SLIO_ARRAY_SIZE(kinds); k++)
        for (size_t i = 0; i < SLIO_ARRAY_SIZE(kinds[k].us); i++)
            tgt_bdev_account_latency(b, kinds[k].kind, kinds[k].us[i]);
    tgt_bdev_put(b);

    json_t *io = ok("bdev_get_iostat", "{\"name\": \"aio0\"}");
    json_t *b0 = json_array_get(json_object_get(io, "bdevs"), 0);
    check_iostat_keys(b0);
    for (size_t k = 0; k < SLIO_ARRAY_SIZE(kinds); k++) {
        uint64_t sum = 0, max = 0, min = UINT64_MAX;
        for (size_t i = 0; i < SLIO_ARRAY_SIZE(kinds[k].us); i++) {
            sum += kinds[k].us[i];
            max = kinds[k].us[i] > max ? kinds[k].us[i] : max;
            min = kinds[k].us[i] < min ? kinds[k].us[i] : min;
        }
        assert_int_equal(stat_int(b0, kinds[k].sum), sum);
        assert_int_equal(stat_int(b0, kinds[k].max), max);
        assert_int_equal(stat_int(b0, kinds[k].min), min);
    }
    /* there is no Copy command */
    assert_int_equal(stat_int(b0, "num_copy_ops"), 0);
    assert_int_equal(stat_int(b0, "bytes_copied"), 0);
    assert_int_equal(stat_int(b0, "copy_latency_ticks"), 0);
    assert_int_equal(stat_int(b0, "max_copy_latency_ticks"), 0);
    assert_int_equal(stat_int(b0, "min_copy_latency_ticks"), 0);
    json_decref(io);
}

/* SPDK's options slio-tgt ignores, shown with what slio-tgt does instead. */
static void test_transports_view(void **state)
{
    (void)state;
    static const char *const zero_ints[] = {"num_shared_buffers", "buf_cache_size",
                                            "sock_priority",      "abort_timeout_sec",
                                            "ack_timeout",        "data_wr_pool_size"};
    static const char *const false_bools[] = {"dif_insert_or_strip", "zcopy", "c2h_success"};

    /* asked for the opposite: accepted, ignored, and not what is reported */
    ok_true("nvmf_create_transport",
            "{\"trtype\": \"TCP\", \"max_queue_depth\": 64, \"num_shared_buffers\": 4096, "
            "\"c2h_success\": true, \"zcopy\": true, \"sock_priority\": 3, "
            "\"abort_timeout_sec\": 2}");
    json_t *t = ok("nvmf_get_transports", NULL);
    assert_int_equal(json_array_size(t), 1);
    json_t *t0 = json_array_get(t, 0);
    assert_string_equal(json_string_value(json_object_get(t0, "trtype")), "TCP");
    assert_int_equal(json_integer_value(json_object_get(t0, "max_queue_depth")), 64);
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(zero_ints); i++) {
        json_t *v = json_object_get(t0, zero_ints[i]);
        if (!json_is_integer(v) || json_integer_value(v) != 0)
            fail_msg("nvmf_get_transports: %s should be the integer 0", zero_ints[i]);
    }
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(false_bools); i++)
        if (!json_is_false(json_object_get(t0, false_bools[i])))
            fail_msg("nvmf_get_transports: %s should be false", false_bools[i]);
    json_t *by_type = ok("nvmf_get_transports", "{\"trtype\": \"tcp\"}");
    assert_true(json_equal(by_type, t));
    json_decref(by_type);

    /* save_config keeps writing only the options slio-tgt applies */
    json_t *cfg = ok("framework_get_config", "{\"name\": \"nvmf\"}");
    json_t *params = json_object_get(json_array_get(cfg, 0), "params");
    assert_string_equal(json_string_value(json_object_get(json_array_get(cfg, 0), "method")),
                        "nvmf_create_transport");
    const char *key;
    json_t *v;
    json_object_foreach (params, key, v)
        assert_true(json_equal(v, json_object_get(t0, key)));
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(zero_ints); i++)
        assert_null(json_object_get(params, zero_ints[i]));
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(false_bools); i++)
        assert_null(json_object_get(params, false_bools[i]));
    json_decref(cfg);
    json_decref(t);
}

/* nvmf_get_subsystems shows "transport" next to "trtype"; saved listeners do not. */
static void test_listen_addresses(void **state)
{
    (void)state;
    size_t i, j;
    json_t *sub, *la, *entry;
    unsigned seen = 0;

    build_state();
    json_t *subs = ok("nvmf_get_subsystems", NULL);
    json_array_foreach (subs, i, sub) {
        json_array_foreach (json_object_get(sub, "listen_addresses"), j, la) {
            const char *tr = json_string_value(json_object_get(la, "trtype"));
            assert_non_null(tr);
            assert_string_equal(json_string_value(json_object_get(la, "transport")), tr);
            seen++;
        }
    }
    assert_int_equal(seen, 2); /* build_state's two listeners */

    json_t *saved = ok("framework_get_config", "{\"name\": \"nvmf\"}");
    unsigned saved_listeners = 0;
    json_array_foreach (saved, i, entry) {
        if (strcmp(json_string_value(json_object_get(entry, "method")),
                   "nvmf_subsystem_add_listener") != 0)
            continue;
        la = json_object_get(json_object_get(entry, "params"), "listen_address");
        assert_non_null(json_object_get(la, "trtype"));
        assert_null(json_object_get(la, "transport"));
        saved_listeners++;
    }
    assert_int_equal(saved_listeners, seen);
    json_decref(saved);
    json_decref(subs);
}

/*
 * SPDK v23.05 and v24.09 print each namespace's "anagrpid" (its ANA group:
 * the nsid unless set); spdk_rpc_compat.py found it missing (2026-12-06).
 */
static void test_namespace_anagrpid(void **state)
{
    (void)state;
    size_t i;
    json_t *ns;
    unsigned seen = 0;

    build_state();
    json_t *subs = ok("nvmf_get_subsystems", "{\"nqn\": \"" NQN1 "\"}");
    json_array_foreach (json_object_get(json_array_get(subs, 0), "namespaces"), i, ns) {
        json_t *grp = json_object_get(ns, "anagrpid");
        assert_true(json_is_integer(grp));
        assert_int_equal(json_integer_value(grp), json_integer_value(json_object_get(ns, "nsid")));
        seen++;
    }
    assert_int_equal(seen, 2); /* build_state's nsid 3 and nsid 1 */
    json_decref(subs);
}

/* What SPDK's rpc.py does for save_config: one framework_get_config per subsystem listed. */
static json_t *save_config_like_rpc_py(void)
{
    json_t *list = ok("framework_get_subsystems", NULL), *subsystems = json_array(), *s;
    char params[128];
    size_t i;

    json_array_foreach (list, i, s) {
        const char *name = json_string_value(json_object_get(s, "subsystem"));
        snprintf(params, sizeof(params), "{\"name\": \"%s\"}", name);
        json_array_append_new(subsystems, json_pack("{s:s, s:o}", "subsystem", name, "config",
                                                    ok("framework_get_config", params)));
    }
    json_decref(list);
    return json_pack("{s:o}", "subsystems", subsystems);
}

static void test_framework_config(void **state)
{
    (void)state;
    size_t i;
    json_t *s;

    /* empty target: the same subsystems, with nothing to configure */
    json_t *empty = save_config_like_rpc_py(), *saved_empty = ok("save_config", NULL);
    assert_true(json_equal(empty, saved_empty));
    json_decref(empty);
    json_decref(saved_empty);

    build_state();
    json_t *saved = ok("save_config", NULL);
    json_t *list = ok("framework_get_subsystems", NULL);
    json_t *sections = json_object_get(saved, "subsystems");
    assert_int_equal(json_array_size(list), json_array_size(sections));
    json_array_foreach (list, i, s) {
        json_t *section = json_array_get(sections, i);
        const char *name = json_string_value(json_object_get(s, "subsystem"));
        json_t *deps = json_object_get(s, "depends_on");
        assert_string_equal(name, json_string_value(json_object_get(section, "subsystem")));
        assert_true(json_is_array(deps));
        /* listed after what it depends on, as a loader must replay it */
        for (size_t d = 0; d < json_array_size(deps); d++) {
            const char *dep = json_string_value(json_array_get(deps, d));
            bool earlier = false;
            for (size_t k = 0; k < i; k++)
                earlier |=
                    strcmp(json_string_value(json_object_get(json_array_get(list, k), "subsystem")),
                           dep) == 0;
            assert_true(earlier);
        }
    }
    /* nvmf's namespaces need bdev's bdevs */
    json_t *nvmf = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(nvmf, "subsystem")), "nvmf");
    assert_string_equal(json_string_value(json_array_get(json_object_get(nvmf, "depends_on"), 0)),
                        "bdev");

    json_t *nvmf_cfg = ok("framework_get_config", "{\"name\": \"nvmf\"}");
    assert_true(json_equal(nvmf_cfg, json_object_get(json_array_get(sections, 1), "config")));
    assert_true(json_array_size(nvmf_cfg) > 0);
    json_decref(nvmf_cfg);
    json_t *assembled = save_config_like_rpc_py();
    if (!json_equal(assembled, saved)) {
        char *a = json_dumps(saved, JSON_INDENT(1)), *b = json_dumps(assembled, JSON_INDENT(1));
        fail_msg("save_config and framework_get_config differ:\n%s\n---\n%s", a, b);
    }

    /* what rpc.py assembled loads back into the same state */
    char *text = json_dumps(assembled, JSON_COMPACT);
    tgt_registry_clear();
    fakes_reset();
    ok_true("load_config", text);
    free(text);
    json_t *again = ok("save_config", NULL);
    assert_true(json_equal(again, saved));

    fails("framework_get_config", "{\"name\": \"nope\"}", -32602, "Subsystem 'nope' not found");
    fails("framework_get_config", "{\"name\": \"vhost_blk\"}", -32602, "'vhost_blk'");
    json_t *sock = ok("framework_get_config", "{\"name\": \"sock\"}"); /* no options recorded */
    assert_int_equal(json_array_size(sock), 0);
    json_decref(sock);
    fails("framework_get_config", NULL, -32602, "'name'");
    fails("framework_get_config", "{\"name\": 3}", -32602, "'name'");
    fails("framework_get_subsystems", "{\"name\": \"bdev\"}", -32602, "'name'");
    json_decref(again);
    json_decref(assembled);
    json_decref(list);
    json_decref(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_iostat_latency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transports_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framework_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_anagrpid, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
