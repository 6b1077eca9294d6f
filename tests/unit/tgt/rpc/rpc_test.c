/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON-RPC layer end to end below the socket: request text in, response
 * text out (tgt_rpc_stream_feed), over the real registry and fakes of the
 * transport and nvmf layer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry/registry_mgmt.h"
#include "rpc/rpc.h"
#include "rpc_harness.h"
#include "tgt_fakes.h"

static void test_envelope_errors(void **state)
{
    (void)state;
    int r;

    fails("no_such_method", NULL, -32601, "no_such_method");
    json_t *a = feed("{\"jsonrpc\":\"2.0\",\"id\":1}", &r);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(json_array_get(a, 0), "error"), "code")),
        -32600);
    json_decref(a);
    a = feed("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"spdk_get_version\"}", &r);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(json_array_get(a, 0), "error"), "code")),
        -32600);
    json_decref(a);
    a = feed("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"spdk_get_version\"}]", &r);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(json_array_get(a, 0), "error"), "code")),
        -32600);
    json_decref(a);

    /* malformed JSON: -32700, and the connection must be closed */
    a = feed("{\"jsonrpc\":\"2.0\", oops}", &r);
    assert_int_equal(r, -EBADMSG);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(json_array_get(a, 0), "error"), "code")),
        -32700);
    json_decref(a);
    a = feed("hello", &r);
    assert_int_equal(r, -EBADMSG);
    json_decref(a);

    /* a notification (no id) runs but gets no answer */
    a = feed("{\"jsonrpc\":\"2.0\",\"method\":\"nvmf_create_subsystem\",\"params\":{\"nqn\":\"" NQN1
             "\"}}",
             &r);
    assert_int_equal(r, 0);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    assert_true(tgt_subsys_exists(NQN1));
}

static void test_framing(void **state)
{
    (void)state;
    const char *req = "{\"jsonrpc\":\"2.0\",\"id\":\"a}\\\"{\",\"method\":\"spdk_get_version\"}";
    struct tgt_rpc_stream st;
    struct slio_strbuf out = SLIO_STRBUF_INIT(1 << 20);

    /* byte by byte: exactly one response, only after the last byte */
    tgt_rpc_stream_init(&st);
    for (size_t i = 0; req[i]; i++) {
        assert_int_equal(slio_strbuf_len(&out), 0);
        assert_int_equal(tgt_rpc_stream_feed(&st, req + i, 1, &out), 0);
    }
    assert_non_null(strstr(slio_strbuf_str(&out), "\"id\":\"a}\\\"{\""));
    assert_non_null(strstr(slio_strbuf_str(&out), "slio-tgt"));
    /* two requests and whitespace in one read */
    slio_strbuf_reset(&out);
    char two[512];
    snprintf(two, sizeof(two), "  %s\n\t%s  ", req, req);
    assert_int_equal(tgt_rpc_stream_feed(&st, two, strlen(two), &out), 0);
    const char *p = slio_strbuf_str(&out);
    assert_non_null((p = strchr(p, '\n')));
    assert_non_null(strchr(p + 1, '\n'));
    tgt_rpc_stream_free(&st);

    /* more than 1 MiB without a complete value: error and close */
    tgt_rpc_stream_init(&st);
    slio_strbuf_reset(&out);
    char *big = malloc(65536);
    assert_non_null(big);
    memset(big, '[', 65536);
    int r = 0;
    for (int i = 0; i < 17 && r == 0; i++)
        r = tgt_rpc_stream_feed(&st, big, 65536, &out);
    assert_int_equal(r, -EMSGSIZE);
    assert_non_null(strstr(slio_strbuf_str(&out), "-32600"));
    free(big);
    tgt_rpc_stream_free(&st);
    slio_strbuf_free(&out);
}

static void test_params_errors(void **state)
{
    (void)state;
    char p[600];

    fails("nvmf_create_subsystem", "{}", -32602, "'nqn'");
    fails("nvmf_create_subsystem", NULL, -32602, "'nqn'");
    fails("nvmf_create_subsystem", "{\"nqn\": 5}", -32602, "invalid parameter 'nqn'");
    fails("nvmf_create_subsystem", "[\"" NQN1 "\"]", -32602, "expected object");
    /* a well-typed NQN that no subsystem can have: SPDK's -32603 "Unable to create subsystem" */
    snprintf(p, sizeof(p), "{\"nqn\": \"nqn.2016-06.io.spdk:%0300d\"}", 0);
    fails("nvmf_create_subsystem", p, -32603, "'nqn': longer than 223 bytes");
    fails("nvmf_create_subsystem", "{\"nqn\": \"not-an-nqn\"}", -32603,
          "'nqn': not a valid NQN: \"not-an-nqn\"");
    fails("nvmf_create_subsystem", "{\"nqn\": \"\"}", -32603, "'nqn': not a valid NQN");
    /* ...but a bad serial or model number is a parameter error, as SPDK's "Invalid SN" */
    fails("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\", \"serial_number\": \"a\\tb\"}", -32602,
          "'serial_number'");
    fails("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\", \"model_number\": \"a\\nb\"}", -32602,
          "'model_number'");
    assert_false(tgt_subsys_exists(NQN1));
    fails("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\", \"serial_number\": 7}", -32602,
          "'serial_number'");
    fails("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\", \"colour\": \"red\"}", -32602,
          "'colour'");
    fails("bdev_aio_create", "{\"name\": \"x\"}", -32602, "'filename'");
    /* SPDK's bdev_aio (and docs/tgt-rpc.md): -EINVAL, not a parameter error */
    fails("bdev_aio_create", "{\"name\": \"x\", \"filename\": \"/f\", \"block_size\": 100}",
          -EINVAL, "'block_size'");
    fails("bdev_aio_create", "{\"name\": \"x\", \"filename\": \"/f\", \"block_size\": 8192}",
          -EINVAL, "block_size 8192");
    fails("spdk_get_version", "{\"x\": 1}", -32602, "'x'");
    fails("nvmf_subsystem_add_ns", "{\"nqn\": \"" NQN1 "\", \"namespace\": {\"nsid\": 1}}", -32602,
          "'namespace.bdev_name'");
    fails("nvmf_subsystem_add_ns",
          "{\"nqn\": \"" NQN1 "\", \"namespace\": {\"bdev_name\": \"a\", \"nguid\": \"12\"}}",
          -32602, "'namespace.nguid'");
}

static void test_objects_errors(void **state)
{
    (void)state;
    char p[512];

    snprintf(p, sizeof(p), "{\"name\": \"aio0\", \"filename\": \"%s\"}", g_file);
    json_t *r = ok("bdev_aio_create", p);
    assert_string_equal(json_string_value(r), "aio0");
    json_decref(r);
    fails("bdev_aio_create", p, -EEXIST, "bdev aio0 already exists");
    fails("bdev_aio_create", "{\"name\": \"b\", \"filename\": \"/nonexistent/x\"}", -ENOENT,
          "\"/nonexistent/x\"");
    fails("bdev_aio_delete", "{\"name\": \"zz\"}", -ENODEV, "bdev zz not found");
    fails("bdev_get_bdevs", "{\"name\": \"zz\"}", -ENODEV, "zz");

    fails("nvmf_subsystem_add_ns",
          "{\"nqn\": \"" NQN1 "\", \"namespace\": {\"bdev_name\": \"aio0\"}}", -32602,
          "Subsystem " NQN1 " not found");
    ok_true("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\"}");
    fails("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\"}", -32603,
          "Subsystem " NQN1 " already exists");
    fails("nvmf_create_subsystem", "{\"nqn\": \"" TGT_DISCOVERY_NQN "\"}", -32603,
          "Subsystem " TGT_DISCOVERY_NQN " already exists");
    fails("nvmf_subsystem_add_ns", "{\"nqn\": \"" NQN1 "\", \"namespace\": {\"bdev_name\": \"x\"}}",
          -32602, "bdev x not found");
    r = ok("nvmf_subsystem_add_ns",
           "{\"nqn\": \"" NQN1 "\", \"namespace\": {\"bdev_name\": \"aio0\"}}");
    assert_int_equal(json_integer_value(r), 1);
    json_decref(r);
    /* held by the namespace: claimed, and named as SPDK names nvmf's claim */
    r = ok("bdev_get_bdevs", "{\"name\": \"aio0\"}");
    assert_true(json_is_true(json_object_get(json_array_get(r, 0), "claimed")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "claim_type")),
                        "exclusive_write");
    json_decref(r);
    fails("bdev_aio_delete", "{\"name\": \"aio0\"}", -EBUSY, "aio0");
    fails("nvmf_subsystem_remove_ns", "{\"nqn\": \"" NQN1 "\", \"nsid\": 9}", -32602,
          "namespace 9");

    const char *la = "{\"nqn\": \"" NQN1 "\", \"listen_address\": {\"trtype\": \"TCP\", "
                     "\"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"4420\"}}";
    fails("nvmf_subsystem_add_listener", la, -32602, "Unable to find transport");
    /* a u32 the JSON accepts but the transport cannot hold (saved as -1 when a double took it) */
    fails("nvmf_create_transport", "{\"trtype\": \"TCP\", \"max_aq_depth\": 4294967295}", -32602,
          "Unable to create transport TCP");
    ok_true("nvmf_create_transport", "{\"trtype\": \"TCP\", \"c2h_success\": true}");
    fails("nvmf_create_transport", "{\"trtype\": \"TCP\"}", -32603,
          "Transport type 'TCP' already exists");
    fails("nvmf_create_transport", "{\"trtype\": \"RDMA\"}", -32602, "'trtype'");
    ok_true("nvmf_subsystem_add_listener", la);
    ok_true("nvmf_subsystem_add_listener", la); /* idempotent, as SPDK */
    fails("nvmf_subsystem_get_controllers", "{\"nqn\": \"nqn.2016-06.io.spdk:none\"}", -32602,
          "not found");
    fails("bdev_set_qos_limit", "{\"name\": \"aio0\"}", -32602, "No rate limits");
    fails("bdev_set_qos_limit", "{\"name\": \"zz\", \"rw_ios_per_sec\": 1000}", -ENODEV, "zz");
}

static void test_queries(void **state)
{
    (void)state;
    char p[512];

    json_t *v = ok("spdk_get_version", NULL);
    assert_non_null(strstr(json_string_value(json_object_get(v, "version")), "slio-tgt"));
    json_decref(v);
    json_t *m = ok("rpc_get_methods", "{}");
    const char *want[] = {"bdev_aio_create",
                          "nvmf_subsystem_add_listener",
                          "save_config",
                          "load_config",
                          "nvmf_get_stats",
                          "bdev_set_qos_limit",
                          "framework_get_subsystems",
                          "framework_get_config"};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(want); i++) {
        bool found = false;
        size_t j;
        json_t *n;
        json_array_foreach (m, j, n)
            found |= strcmp(json_string_value(n), want[i]) == 0;
        assert_true(found);
    }
    json_decref(m);

    snprintf(p, sizeof(p), "{\"name\": \"aio0\", \"filename\": \"%s\", \"block_size\": 4096}",
             g_file);
    json_decref(ok("bdev_aio_create", p));
    ok_true("bdev_set_qos_limit", "{\"name\": \"aio0\", \"rw_ios_per_sec\": 2000}");
    ok_true("bdev_set_qos_limit", "{\"name\": \"aio0\", \"w_mbytes_per_sec\": 5}");
    json_t *b = ok("bdev_get_bdevs", "{\"name\": \"aio0\"}");
    json_t *b0 = json_array_get(b, 0);
    assert_int_equal(json_integer_value(json_object_get(b0, "block_size")), 4096);
    assert_int_equal(json_integer_value(json_object_get(b0, "num_blocks")), 1024);
    assert_string_equal(json_string_value(json_object_get(b0, "product_name")), "AIO disk");
    assert_false(json_is_true(json_object_get(b0, "claimed")));
    assert_null(json_object_get(b0, "claim_type")); /* SPDK prints it only for a claimed bdev */
    json_t *lim = json_object_get(b0, "assigned_rate_limits");
    assert_int_equal(json_integer_value(json_object_get(lim, "rw_ios_per_sec")), 2000);
    assert_int_equal(json_integer_value(json_object_get(lim, "w_mbytes_per_sec")), 5);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(b0, "driver_specific"), "aio"), "filename")),
        g_file);
    check_io_types(json_object_get(b0, "supported_io_types"));
    json_decref(b);

    fakes.now_us = 12345;
    json_t *io = ok("bdev_get_iostat", NULL);
    assert_int_equal(json_integer_value(json_object_get(io, "ticks")), 12345);
    json_t *io0 = json_array_get(json_object_get(io, "bdevs"), 0);
    check_iostat_keys(io0);
    /* nothing has been read yet: every counter, and the minima, are 0 */
    const char *key;
    json_t *val;
    json_object_foreach (io0, key, val)
        if (json_is_integer(val) && json_integer_value(val) != 0)
            fail_msg("iostat %s is %lld on an idle bdev", key, (long long)json_integer_value(val));
    json_decref(io);

    json_t *s = ok("nvmf_get_subsystems", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 0), "subtype")),
                        "Discovery");
    json_decref(s);

    fakes.nr_ctrlrs = 1;
    fakes.ctrlrs[0] = (struct tgt_ctrlr_info){.cntlid = 3, .hostnqn = HOST, .num_io_qpairs = 2};
    ok_true("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\"}");
    json_t *c = ok("nvmf_subsystem_get_controllers", "{\"nqn\": \"" NQN1 "\"}");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(c, 0), "cntlid")), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "hostnqn")), HOST);
    json_decref(c);

    json_t *st = ok("nvmf_get_stats", NULL);
    assert_int_equal(json_array_size(json_object_get(st, "poll_groups")), 2);
    json_decref(st);
    json_t *t = ok("nvmf_get_transports", NULL);
    assert_int_equal(json_array_size(t), 0);
    json_decref(t);
}

static void test_save_load_round_trip(void **state)
{
    (void)state;
    build_state();
    json_t *saved = ok("save_config", NULL);
    json_t *subs_before = ok("nvmf_get_subsystems", NULL);
    json_t *bdevs_before = ok("bdev_get_bdevs", NULL);

    tgt_registry_clear();
    fakes_reset();
    json_t *empty = ok("nvmf_get_subsystems", NULL);
    assert_int_equal(json_array_size(empty), 1);
    json_decref(empty);

    char *text = json_dumps(saved, JSON_COMPACT);
    ok_true("load_config", text);
    free(text);
    json_t *again = ok("save_config", NULL);
    if (!json_equal(saved, again)) {
        char *a = json_dumps(saved, JSON_INDENT(1)), *b = json_dumps(again, JSON_INDENT(1));
        fail_msg("round trip differs:\n%s\n---\n%s", a, b);
    }
    json_t *subs_after = ok("nvmf_get_subsystems", NULL);
    json_t *bdevs_after = ok("bdev_get_bdevs", NULL);
    assert_true(json_equal(subs_before, subs_after));
    assert_true(json_equal(bdevs_before, bdevs_after));
    assert_int_equal(fakes.opts.max_queue_depth, 256);
    assert_int_equal(fakes.listeners, 2);

    /* loading it again fails on the first object that exists, naming it */
    text = json_dumps(saved, JSON_COMPACT);
    fails("load_config", text, -EEXIST, "subsystems[0].config[0] (bdev_aio_create)");
    free(text);
    json_decref(saved);
    json_decref(again);
    json_decref(subs_before);
    json_decref(subs_after);
    json_decref(bdevs_before);
    json_decref(bdevs_after);
}

static void test_load_spdk_config(void **state)
{
    (void)state;
    char doc[2048];

    /* the shape SPDK's save_config writes, with subsystems and methods we skip */
    snprintf(doc, sizeof(doc),
             "{\"subsystems\": ["
             "{\"subsystem\": \"sock\", \"config\": [{\"method\": \"sock_set_default_impl\", "
             "\"params\": {\"impl_name\": \"posix\"}}]},"
             "{\"subsystem\": \"bdev\", \"config\": [{\"method\": \"bdev_set_options\", "
             "\"params\": {\"bdev_io_pool_size\": 65535}}, {\"method\": \"bdev_aio_create\", "
             "\"params\": {\"name\": \"aio0\", \"filename\": \"%s\", \"block_size\": 512, "
             "\"readonly\": false}}, {\"method\": \"bdev_wait_for_examine\"}]},"
             "{\"subsystem\": \"nvmf\", \"config\": [{\"method\": \"nvmf_set_max_subsystems\", "
             "\"params\": {\"max_subsystems\": 1024}}, {\"method\": \"nvmf_create_transport\", "
             "\"params\": {\"trtype\": \"TCP\", \"max_queue_depth\": 128, \"sock_priority\": 0, "
             "\"abort_timeout_sec\": 1}}, {\"method\": \"nvmf_create_subsystem\", \"params\": "
             "{\"nqn\": \"" NQN1 "\", \"allow_any_host\": true, \"serial_number\": "
             "\"SPDK00000000000001\", \"model_number\": \"SPDK bdev Controller\", "
             "\"max_namespaces\": 32, \"min_cntlid\": 1, \"max_cntlid\": 65519, "
             "\"ana_reporting\": false}}, {\"method\": \"nvmf_subsystem_add_listener\", "
             "\"params\": {\"nqn\": \"" NQN1 "\", \"listen_address\": {\"trtype\": \"TCP\", "
             "\"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"4420\"}, "
             "\"secure_channel\": false}}, {\"method\": \"nvmf_subsystem_add_ns\", \"params\": "
             "{\"nqn\": \"" NQN1 "\", \"namespace\": {\"nsid\": 1, \"bdev_name\": \"aio0\", "
             "\"nguid\": \"5A8B2E0F6C3D4B1A9E7F0123456789AB\", \"uuid\": "
             "\"5a8b2e0f-6c3d-4b1a-9e7f-0123456789ab\", \"no_auto_visible\": false}}}]},"
             "{\"subsystem\": \"iobuf\", \"config\": null}]}",
             g_file);
    ok_true("load_config", doc);
    json_t *s = ok("nvmf_get_subsystems", "{\"nqn\": \"" NQN1 "\"}");
    json_t *ns = json_array_get(json_object_get(json_array_get(s, 0), "namespaces"), 0);
    assert_string_equal(json_string_value(json_object_get(ns, "nguid")),
                        "5A8B2E0F6C3D4B1A9E7F0123456789AB");
    assert_string_equal(json_string_value(json_object_get(ns, "uuid")),
                        "5a8b2e0f-6c3d-4b1a-9e7f-0123456789ab");
    json_decref(s);
    fails("load_config", "{\"subsystems\": 3}", -32602, "'subsystems'");
}

static int g_hook_calls;
static void hook(void *ctx)
{
    (void)ctx;
    g_hook_calls++;
}

static void test_save_config_file(void **state)
{
    (void)state;
    char path[160];
    struct slio_err e = {{0}};
    struct tgt_rpc_err err = {0};

    tgt_rpc_set_change_hook(hook, NULL);
    g_hook_calls = 0;
    build_state();
    int mutations = g_hook_calls;
    assert_true(mutations >= 10);
    json_decref(ok("nvmf_get_subsystems", NULL)); /* queries do not save */
    fails("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\"}", -32603, "exists");
    assert_int_equal(g_hook_calls, mutations); /* neither do failures */

    snprintf(path, sizeof(path), "%s/config.json", g_dir);
    assert_int_equal(tgt_config_write_file(path, &e), 0);
    json_t *saved = ok("save_config", NULL);
    tgt_registry_clear();
    fakes_reset();
    assert_int_equal(tgt_config_load_file(path, &err), 0);
    json_t *again = ok("save_config", NULL);
    assert_true(json_equal(saved, again));
    json_decref(saved);
    json_decref(again);
    unlink(path);
    assert_int_equal(tgt_config_load_file(path, &err), -1);
    assert_non_null(strstr(err.message, path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_envelope_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objects_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_spdk_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_config_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
