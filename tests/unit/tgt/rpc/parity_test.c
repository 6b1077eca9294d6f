/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SPDK parity of issue 18: RAM bdevs (bdev_malloc_*), listeners and
 * their ANA states, qpairs, SPDK's framework/option methods in load_config
 * and save_config, and save_config's compatibility level. Through
 * tgt_rpc_stream_feed over the real registry and the fakes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "registry/bdev_malloc.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "rpc_harness.h"
#include "tgt_fakes.h"

#define LISTEN_ADDR                                                                                \
    "\"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": "                 \
    "\"127.0.0.1\", \"trsvcid\": \"4420\"}"

/* The config entry of save_config (subsystem, index of method) or NULL. */
static json_t *find_call(json_t *doc, const char *subsystem, const char *method, int nth)
{
    size_t i, j;
    json_t *s, *c;

    json_array_foreach (json_object_get(doc, "subsystems"), i, s) {
        if (strcmp(json_string_value(json_object_get(s, "subsystem")), subsystem) != 0)
            continue;
        json_array_foreach (json_object_get(s, "config"), j, c)
            if (strcmp(json_string_value(json_object_get(c, "method")), method) == 0 && nth-- == 0)
                return json_object_get(c, "params");
    }
    return NULL;
}

static void test_malloc_bdevs(void **state)
{
    (void)state;
    json_t *r = ok("bdev_malloc_create", "{\"name\": \"m0\", \"num_blocks\": 2048, "
                                         "\"block_size\": 4096}");
    assert_string_equal(json_string_value(r), "m0");
    json_decref(r);
    r = ok("bdev_malloc_create", "{\"num_blocks\": 16, \"block_size\": 512, \"uuid\": "
                                 "\"11111111-2222-3333-4444-555555555555\"}");
    assert_string_equal(json_string_value(r), "Malloc0"); /* SPDK's name when none is given */
    json_decref(r);

    json_t *b = ok("bdev_get_bdevs", "{\"name\": \"m0\"}"), *b0 = json_array_get(b, 0);
    assert_string_equal(json_string_value(json_object_get(b0, "product_name")), "Malloc disk");
    assert_int_equal(json_integer_value(json_object_get(b0, "num_blocks")), 2048);
    assert_int_equal(json_integer_value(json_object_get(b0, "block_size")), 4096);
    assert_int_equal(json_object_size(json_object_get(b0, "driver_specific")), 0);
    json_decref(b);
    struct tgt_bdev *m0 = tgt_bdev_find_get("m0");
    struct stat st;
    assert_int_equal(fstat(m0->fd, &st), 0);
    assert_int_equal(st.st_size, 2048 * 4096);
    assert_true(st.st_blocks * 512 >= st.st_size); /* allocated up front */
    assert_true(m0->in_memory);
    tgt_bdev_put(m0);

    /* SPDK's codes: the bdev layer's errno */
    fails("bdev_malloc_create", "{\"name\": \"m0\", \"num_blocks\": 8, \"block_size\": 512}",
          -EEXIST, "already exists");
    fails("bdev_malloc_create", "{\"name\": \"x\", \"num_blocks\": 8, \"block_size\": 520}",
          -EINVAL, "block_size 520");
    fails("bdev_malloc_create", "{\"name\": \"x\", \"num_blocks\": 0, \"block_size\": 512}",
          -EINVAL, "num_blocks");
    fails("bdev_malloc_create",
          "{\"name\": \"x\", \"num_blocks\": 8, \"block_size\": 512, \"md_size\": 8}", -EINVAL,
          "metadata");
    fails("bdev_malloc_create", "{\"name\": \"x\", \"block_size\": 512}", -32602, "'num_blocks'");
    /* SPDK's save_config members at their defaults are accepted */
    json_decref(ok("bdev_malloc_create",
                   "{\"name\": \"m2\", \"num_blocks\": 8, \"block_size\": 512, "
                   "\"physical_block_size\": 512, \"optimal_io_boundary\": 0, "
                   "\"md_size\": 0, \"dif_type\": 0, \"dif_is_head_of_md\": false, "
                   "\"dif_pi_format\": 0}"));

    /* each kind's delete and rescan find only its own kind (-ENODEV), as in SPDK */
    char p[512];
    snprintf(p, sizeof(p), "{\"name\": \"aio0\", \"filename\": \"%s\"}", g_file);
    json_decref(ok("bdev_aio_create", p));
    fails("bdev_aio_delete", "{\"name\": \"m0\"}", -ENODEV, "not an AIO bdev");
    fails("bdev_aio_rescan", "{\"name\": \"m0\"}", -ENODEV, "not an AIO bdev");
    fails("bdev_malloc_delete", "{\"name\": \"aio0\"}", -ENODEV, "no RAM bdev");
    fails("bdev_malloc_delete", "{\"name\": \"nope\"}", -ENODEV, "no RAM bdev");

    /* in use by a namespace: -EBUSY, kept */
    ok_true("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\"}");
    json_decref(ok("nvmf_subsystem_add_ns", "{\"nqn\": \"" NQN1 "\", \"namespace\": "
                                            "{\"bdev_name\": \"m0\"}}"));
    fails("bdev_malloc_delete", "{\"name\": \"m0\"}", -EBUSY, "used by");

    /* save_config recreates it, same size and uuid, in every schema */
    json_t *saved = ok("save_config", "{\"spdk_version\": \"v23.05\"}");
    json_t *mp = find_call(saved, "bdev", "bdev_malloc_create", 1);
    assert_non_null(mp);
    assert_string_equal(json_string_value(json_object_get(mp, "name")), "Malloc0");
    assert_int_equal(json_integer_value(json_object_get(mp, "num_blocks")), 16);
    assert_string_equal(json_string_value(json_object_get(mp, "uuid")),
                        "11111111-2222-3333-4444-555555555555");
    char *text = json_dumps(saved, JSON_COMPACT);
    tgt_registry_clear();
    ok_true("load_config", text);
    free(text);
    json_t *again = ok("save_config", "{\"spdk_version\": \"v23.05\"}");
    assert_true(json_equal(again, saved));
    json_decref(again);
    json_decref(saved);

    ok_true("nvmf_delete_subsystem", "{\"nqn\": \"" NQN1 "\"}");
    ok_true("bdev_malloc_delete", "{\"name\": \"m0\"}");
    fails("bdev_get_bdevs", "{\"name\": \"m0\"}", -ENODEV, "m0");
}

static json_t *listener_states(void)
{
    json_t *l = ok("nvmf_subsystem_get_listeners", "{\"nqn\": \"" NQN1 "\"}");
    assert_int_equal(json_array_size(l), 1);
    json_t *a = json_object_get(json_array_get(l, 0), "address");
    assert_string_equal(json_string_value(json_object_get(a, "traddr")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(a, "trsvcid")), "4420");
    assert_string_equal(json_string_value(json_object_get(a, "adrfam")), "IPv4");
    assert_string_equal(json_string_value(json_object_get(a, "trtype")), "TCP");
    json_t *s = json_incref(json_object_get(json_array_get(l, 0), "ana_states"));
    json_decref(l);
    return s;
}

static const char *group_state(json_t *states, int group)
{
    size_t i;
    json_t *g;

    json_array_foreach (states, i, g)
        if (json_integer_value(json_object_get(g, "ana_group")) == group)
            return json_string_value(json_object_get(g, "ana_state"));
    fail_msg("no ANA group %d", group);
    return NULL;
}

static void test_listeners_and_ana(void **state)
{
    (void)state;
    ok_true("nvmf_create_transport", "{\"trtype\": \"TCP\"}");
    ok_true("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\", \"max_namespaces\": 4}");
    ok_true("nvmf_subsystem_add_listener", "{\"nqn\": \"" NQN1 "\", " LISTEN_ADDR "}");
    json_decref(ok("bdev_malloc_create", "{\"name\": \"m0\", \"num_blocks\": 8, "
                                         "\"block_size\": 512}"));
    json_decref(ok("bdev_malloc_create", "{\"name\": \"m1\", \"num_blocks\": 8, "
                                         "\"block_size\": 512}"));
    json_decref(ok("nvmf_subsystem_add_ns", "{\"nqn\": \"" NQN1 "\", \"namespace\": "
                                            "{\"bdev_name\": \"m0\"}}"));
    json_decref(ok("nvmf_subsystem_add_ns", "{\"nqn\": \"" NQN1 "\", \"namespace\": "
                                            "{\"bdev_name\": \"m1\"}}"));

    json_t *s = listener_states(); /* one ANA group per namespace, optimized by default */
    assert_int_equal(json_array_size(s), 2);
    assert_string_equal(group_state(s, 1), "optimized");
    json_decref(s);

    ok_true("nvmf_subsystem_listener_set_ana_state",
            "{\"nqn\": \"" NQN1 "\", " LISTEN_ADDR ", \"ana_state\": \"non_optimized\"}");
    ok_true("nvmf_subsystem_listener_set_ana_state",
            "{\"nqn\": \"" NQN1 "\", " LISTEN_ADDR ", \"ana_state\": \"INACCESSIBLE\", "
            "\"anagrpid\": 2}");
    s = listener_states();
    assert_string_equal(group_state(s, 1), "non_optimized");
    assert_string_equal(group_state(s, 2), "inaccessible");
    json_decref(s);

    fails("nvmf_subsystem_listener_set_ana_state",
          "{\"nqn\": \"" NQN1 "\", " LISTEN_ADDR ", \"ana_state\": \"fast\"}", -32602,
          "'ana_state'");
    fails("nvmf_subsystem_listener_set_ana_state",
          "{\"nqn\": \"" NQN1 "\", " LISTEN_ADDR ", \"ana_state\": \"optimized\", "
          "\"anagrpid\": 5}",
          -32603, "anagrpid 5");
    fails("nvmf_subsystem_listener_set_ana_state",
          "{\"nqn\": \"" NQN1 "\", \"listen_address\": {\"trtype\": \"TCP\", \"traddr\": "
          "\"127.0.0.1\", \"trsvcid\": \"4421\"}, \"ana_state\": \"optimized\"}",
          -32603, "does not listen");
    fails("nvmf_subsystem_listener_set_ana_state",
          "{\"nqn\": \"nqn.2016-06.io.spdk:x\", " LISTEN_ADDR ", \"ana_state\": \"optimized\"}",
          -32602, "not found");
    fails("nvmf_subsystem_get_listeners", "{\"nqn\": \"nqn.2016-06.io.spdk:x\"}", -32602,
          "not found");
    fails("nvmf_subsystem_get_listeners", NULL, -32602, "'nqn'");

    /* saved and loaded back: ana_reporting on (SPDK needs it), one call per group not optimized */
    json_t *saved = ok("save_config", NULL);
    json_t *create = find_call(saved, "nvmf", "nvmf_create_subsystem", 0);
    assert_true(json_is_true(json_object_get(create, "ana_reporting")));
    /* the state of most groups once, for all of them, then the groups that differ */
    json_t *all = find_call(saved, "nvmf", "nvmf_subsystem_listener_set_ana_state", 0);
    assert_null(json_object_get(all, "anagrpid"));
    assert_string_equal(json_string_value(json_object_get(all, "ana_state")), "non_optimized");
    assert_null(find_call(saved, "nvmf", "nvmf_subsystem_listener_set_ana_state", 2));
    json_t *ana2 = find_call(saved, "nvmf", "nvmf_subsystem_listener_set_ana_state", 1);
    assert_int_equal(json_integer_value(json_object_get(ana2, "anagrpid")), 2);
    assert_string_equal(json_string_value(json_object_get(ana2, "ana_state")), "inaccessible");
    char *text = json_dumps(saved, JSON_COMPACT);
    tgt_registry_clear();
    tgt_rpc_ana_clear();
    fakes_reset();
    ok_true("load_config", text);
    free(text);
    s = listener_states();
    assert_string_equal(group_state(s, 1), "non_optimized");
    assert_string_equal(group_state(s, 2), "inaccessible");
    json_decref(s);
    json_decref(saved);

    /* adding it again changes nothing; removed and added back: the states are forgotten */
    ok_true("nvmf_subsystem_add_listener", "{\"nqn\": \"" NQN1 "\", " LISTEN_ADDR "}");
    assert_int_equal(fakes.listeners, 1);
    ok_true("nvmf_subsystem_remove_listener", "{\"nqn\": \"" NQN1 "\", " LISTEN_ADDR "}");
    ok_true("nvmf_subsystem_add_listener", "{\"nqn\": \"" NQN1 "\", " LISTEN_ADDR "}");
    s = listener_states();
    assert_string_equal(group_state(s, 2), "optimized");
    json_decref(s);
}

static void test_qpairs(void **state)
{
    (void)state;
    ok_true("nvmf_create_transport", "{\"trtype\": \"TCP\"}");
    ok_true("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\"}");
    json_t *q = ok("nvmf_subsystem_get_qpairs", "{\"nqn\": \"" NQN1 "\"}");
    assert_int_equal(json_array_size(q), 0);
    json_decref(q);

    ok_true("nvmf_subsystem_add_listener", "{\"nqn\": \"" NQN1 "\", " LISTEN_ADDR "}");
    fakes.nr_ctrlrs = 1;
    fakes.ctrlrs[0] = (struct tgt_ctrlr_info){.cntlid = 3, .hostnqn = HOST, .num_io_qpairs = 2};
    q = ok("nvmf_subsystem_get_qpairs", "{\"nqn\": \"" NQN1 "\"}");
    assert_int_equal(json_array_size(q), 3); /* the admin queue and two I/O queues */
    for (int i = 0; i < 3; i++) {
        json_t *e = json_array_get(q, (size_t)i);
        assert_int_equal(json_integer_value(json_object_get(e, "cntlid")), 3);
        assert_int_equal(json_integer_value(json_object_get(e, "qid")), i);
        assert_string_equal(json_string_value(json_object_get(e, "state")), "active");
        assert_string_equal(json_string_value(json_object_get(e, "hostnqn")), HOST);
        json_t *la = json_object_get(e, "listen_address");
        assert_string_equal(json_string_value(json_object_get(la, "trsvcid")), "4420");
    }
    json_decref(q);
    fails("nvmf_subsystem_get_qpairs", "{\"nqn\": \"nqn.2016-06.io.spdk:x\"}", -32602, "not found");
}

/* A plain SPDK v24.09 nvmf_tgt's save_config, with one export (the options abridged). */
static const char g_spdk_doc[] =
    "{\"subsystems\": ["
    "{\"subsystem\": \"keyring\", \"config\": []},"
    "{\"subsystem\": \"iobuf\", \"config\": [{\"method\": \"iobuf_set_options\", \"params\": "
    "{\"small_pool_count\": 8192, \"large_pool_count\": 1024, \"small_bufsize\": 8192, "
    "\"large_bufsize\": 135168}}]},"
    "{\"subsystem\": \"sock\", \"config\": [{\"method\": \"sock_set_default_impl\", \"params\": "
    "{\"impl_name\": \"posix\"}}, {\"method\": \"sock_impl_set_options\", \"params\": "
    "{\"impl_name\": \"ssl\", \"recv_buf_size\": 4096}}, {\"method\": "
    "\"sock_impl_set_options\", \"params\": {\"impl_name\": \"posix\", \"recv_buf_size\": "
    "2097152, \"enable_zerocopy_send_server\": true}}]},"
    "{\"subsystem\": \"vmd\", \"config\": []},"
    "{\"subsystem\": \"accel\", \"config\": [{\"method\": \"accel_set_options\", \"params\": "
    "{\"small_cache_size\": 128, \"large_cache_size\": 16, \"task_count\": 2048}}]},"
    "{\"subsystem\": \"bdev\", \"config\": [{\"method\": \"bdev_set_options\", \"params\": "
    "{\"bdev_io_pool_size\": 65535, \"bdev_io_cache_size\": 256, \"bdev_auto_examine\": true}}, "
    "{\"method\": \"bdev_raid_set_options\", \"params\": {\"process_window_size_kb\": 1024}}, "
    "{\"method\": \"bdev_iscsi_set_options\", \"params\": {\"timeout_sec\": 30}}, "
    "{\"method\": \"bdev_nvme_set_options\", \"params\": {\"action_on_timeout\": \"none\"}}, "
    "{\"method\": \"bdev_nvme_set_hotplug\", \"params\": {\"period_us\": 100000, \"enable\": "
    "false}}, {\"method\": \"bdev_malloc_create\", \"params\": {\"name\": \"Malloc0\", "
    "\"num_blocks\": 2048, \"block_size\": 512, \"physical_block_size\": 512, \"uuid\": "
    "\"5a8b2e0f-6c3d-4b1a-9e7f-0123456789ab\", \"optimal_io_boundary\": 0, \"md_size\": 0, "
    "\"dif_type\": 0, \"dif_is_head_of_md\": false, \"dif_pi_format\": 0}}, "
    "{\"method\": \"bdev_wait_for_examine\"}]},"
    "{\"subsystem\": \"scheduler\", \"config\": [{\"method\": \"framework_set_scheduler\", "
    "\"params\": {\"name\": \"static\"}}]},"
    "{\"subsystem\": \"nvmf\", \"config\": [{\"method\": \"nvmf_set_config\", \"params\": "
    "{\"discovery_filter\": \"match_any\", \"admin_cmd_passthru\": {\"identify_ctrlr\": "
    "false}}}, {\"method\": \"nvmf_set_max_subsystems\", \"params\": {\"max_subsystems\": "
    "1024}}, {\"method\": \"nvmf_set_crdt\", \"params\": {\"crdt1\": 0, \"crdt2\": 0, "
    "\"crdt3\": 0}}, {\"method\": \"nvmf_create_transport\", \"params\": {\"trtype\": \"TCP\", "
    "\"max_queue_depth\": 128}}, {\"method\": \"nvmf_create_subsystem\", \"params\": {\"nqn\": "
    "\"" NQN1 "\", \"allow_any_host\": true, \"serial_number\": \"SPDK001\", \"model_number\": "
    "\"SPDK bdev Controller\", \"max_namespaces\": 32, \"min_cntlid\": 1, \"max_cntlid\": "
    "65519, \"ana_reporting\": false}}, {\"method\": \"nvmf_subsystem_add_listener\", "
    "\"params\": {\"nqn\": \"" NQN1 "\", " LISTEN_ADDR ", \"secure_channel\": false, "
    "\"sock_impl\": \"posix\"}}, {\"method\": \"nvmf_subsystem_add_ns\", \"params\": {\"nqn\": "
    "\"" NQN1 "\", \"namespace\": {\"nsid\": 1, \"bdev_name\": \"Malloc0\", \"uuid\": "
    "\"5a8b2e0f-6c3d-4b1a-9e7f-0123456789ab\", \"no_auto_visible\": false}}}]},"
    "{\"subsystem\": \"nbd\", \"config\": []}]}";

static void test_spdk_options(void **state)
{
    (void)state;
    size_t i, j;
    json_t *doc = json_loads(g_spdk_doc, 0, NULL), *s, *c;
    assert_non_null(doc);

    /* rpc.py's load_config refuses the file unless rpc_get_methods lists every method */
    json_t *methods = ok("rpc_get_methods", "{\"include_aliases\": false}");
    json_array_foreach (json_object_get(doc, "subsystems"), i, s)
        json_array_foreach (json_object_get(s, "config"), j, c) {
            const char *m = json_string_value(json_object_get(c, "method"));
            bool listed = false;
            size_t k;
            json_t *name;
            json_array_foreach (methods, k, name)
                listed |= strcmp(json_string_value(name), m) == 0;
            if (!listed)
                fail_msg("rpc_get_methods does not list %s", m);
        }
    json_decref(methods);

    ok_true("load_config", g_spdk_doc);
    json_t *b = ok("bdev_get_bdevs", "{\"name\": \"Malloc0\"}");
    json_decref(b);

    /* the options come back in their subsystems, merged per impl_name */
    json_t *saved = ok("save_config", NULL);
    json_t *posix = find_call(saved, "sock", "sock_impl_set_options", 1);
    assert_string_equal(json_string_value(json_object_get(posix, "impl_name")), "posix");
    assert_true(json_is_true(json_object_get(posix, "enable_zerocopy_send_server")));
    assert_non_null(find_call(saved, "iobuf", "iobuf_set_options", 0));
    assert_non_null(find_call(saved, "accel", "accel_set_options", 0));
    assert_non_null(find_call(saved, "scheduler", "framework_set_scheduler", 0));
    assert_non_null(find_call(saved, "bdev", "bdev_nvme_set_hotplug", 0));
    assert_non_null(find_call(saved, "nvmf", "nvmf_set_config", 0));
    json_t *list = ok("framework_get_subsystems", NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "subsystem")),
                        "iobuf");
    json_decref(list);
    ok_true("sock_impl_set_options", "{\"impl_name\": \"posix\", \"recv_buf_size\": 4096}");
    json_decref(saved);
    saved = ok("save_config", NULL);
    posix = find_call(saved, "sock", "sock_impl_set_options", 1);
    assert_int_equal(json_integer_value(json_object_get(posix, "recv_buf_size")), 4096);
    assert_true(json_is_true(json_object_get(posix, "enable_zerocopy_send_server"))); /* kept */
    json_decref(saved);

    fails("sock_impl_set_options", "{\"recv_buf_size\": 1}", -32602, "'impl_name'");
    /* what a client can make the target keep is bounded */
    char p[64];
    for (int k = 0; k < 14; k++) { /* posix and ssl are there already */
        snprintf(p, sizeof(p), "{\"impl_name\": \"i%d\"}", k);
        ok_true("sock_impl_set_options", p);
    }
    fails("sock_impl_set_options", "{\"impl_name\": \"one-more\"}", -32602, "at most 16");
    static char big[20000];
    int n = snprintf(big, sizeof(big),
                     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"iobuf_set_options\","
                     "\"params\":{\"big\":\"");
    memset(big + n, 'x', 17000);
    memcpy(big + n + 17000, "\"}}", 4);
    int r;
    json_t *resp = feed(big, &r);
    json_t *e = json_object_get(json_array_get(resp, 0), "error");
    assert_int_equal(json_integer_value(json_object_get(e, "code")), -32602);
    assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "16384 bytes"));
    json_decref(resp);
    fails("iobuf_set_options", "[1]", -32602, "object");
    ok_true("bdev_wait_for_examine", NULL);
    fails("bdev_wait_for_examine", "{\"x\": 1}", -32602, "'x'");

    /* nvmf_set_max_subsystems is applied */
    ok_true("nvmf_set_max_subsystems", "{\"max_subsystems\": 1}");
    fails("nvmf_create_subsystem", "{\"nqn\": \"nqn.2016-06.io.spdk:two\"}", -32603,
          "nvmf_set_max_subsystems");
    fails("nvmf_set_max_subsystems", "{\"max_subsystems\": 0}", -32602, "'max_subsystems'");
    json_decref(doc);
}

static void test_compat_levels(void **state)
{
    (void)state;
    char p[512];

    snprintf(p, sizeof(p),
             "{\"name\": \"aio0\", \"filename\": \"%s\", \"uuid\": "
             "\"11111111-2222-3333-4444-555555555555\"}",
             g_file);
    json_decref(ok("bdev_aio_create", p));
    const struct {
        const char *version;
        bool uuid;
    } cases[] = {{NULL, true},      {"v23.05", false}, {"23.01.1", false},  {"v24.09", true},
                 {"v24.05", false}, {"v25.09", true},  {"v26.01-pre", true}};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(cases); i++) {
        if (cases[i].version)
            snprintf(p, sizeof(p), "{\"spdk_version\": \"%s\"}", cases[i].version);
        json_t *saved = ok("save_config", cases[i].version ? p : NULL);
        json_t *aio = find_call(saved, "bdev", "bdev_aio_create", 0);
        assert_non_null(aio);
        if (cases[i].uuid != (json_object_get(aio, "uuid") != NULL))
            fail_msg("spdk_version %s: uuid %s", cases[i].version ? cases[i].version : "default",
                     cases[i].uuid ? "missing" : "written");
        json_decref(saved);
    }
    fails("save_config", "{\"spdk_version\": \"latest\"}", -32602, "'spdk_version'");
    fails("save_config", "{\"spdk_version\": \"v23.13\"}", -32602, "'spdk_version'");

    /* --spdk-compat sets it for framework_get_config too (what rpc.py save_config reads) */
    assert_int_equal(tgt_config_set_spdk_compat("v23.05"), 0);
    json_t *cfg = ok("framework_get_config", "{\"name\": \"bdev\"}");
    assert_null(json_object_get(json_object_get(json_array_get(cfg, 0), "params"), "uuid"));
    json_decref(cfg);
    assert_int_equal(tgt_config_set_spdk_compat("nope"), -EINVAL);
    assert_int_equal(tgt_config_set_spdk_compat(TGT_CONFIG_SPDK_DEFAULT), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_malloc_bdevs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listeners_and_ana, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qpairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spdk_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compat_levels, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
