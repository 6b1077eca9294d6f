/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC tests' shared fixture and helpers; see rpc_harness.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry/registry_mgmt.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "rpc_harness.h"
#include "tgt_fakes.h"

char g_dir[64], g_file[128], g_file2[128];

int setup(void **state)
{
    (void)state;
    fakes_reset();
    snprintf(g_dir, sizeof(g_dir), "/tmp/slio-rpc-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    snprintf(g_file, sizeof(g_file), "%s/disk0", g_dir);
    snprintf(g_file2, sizeof(g_file2), "%s/disk1", g_dir);
    FILE *f = fopen(g_file, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 4 << 20), 0);
    fclose(f);
    f = fopen(g_file2, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 1 << 20), 0);
    fclose(f);
    return 0;
}

int teardown(void **state)
{
    (void)state;
    tgt_rpc_set_change_hook(NULL, NULL);
    tgt_registry_clear();
    tgt_rpc_ana_clear();
    tgt_rpc_options_clear();
    unlink(g_file);
    unlink(g_file2);
    rmdir(g_dir);
    return 0;
}

/* Feed raw text; returns the responses as one JSON array (each response parsed). */
json_t *feed(const char *text, int *ret)
{
    struct tgt_rpc_stream st;
    struct slio_strbuf out = SLIO_STRBUF_INIT(1 << 24);
    json_t *all = json_array();

    tgt_rpc_stream_init(&st);
    *ret = tgt_rpc_stream_feed(&st, text, strlen(text), &out);
    const char *p = slio_strbuf_str(&out), *nl;
    while ((nl = strchr(p, '\n'))) {
        json_error_t e;
        json_t *v = json_loadb(p, (size_t)(nl - p), 0, &e);
        assert_non_null(v);
        json_array_append_new(all, v);
        p = nl + 1;
    }
    assert_string_equal(p, ""); /* every response ends with a newline */
    tgt_rpc_stream_free(&st);
    slio_strbuf_free(&out);
    return all;
}

/* One call; returns the whole response object. */
json_t *rpc(const char *method, const char *params)
{
    char req[8192];
    int r;

    snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\"%s%s}", method,
             params ? ",\"params\":" : "", params ? params : "");
    json_t *all = feed(req, &r);
    assert_int_equal(r, 0);
    assert_int_equal(json_array_size(all), 1);
    json_t *resp = json_incref(json_array_get(all, 0));
    json_decref(all);
    assert_int_equal(json_integer_value(json_object_get(resp, "id")), 7);
    assert_string_equal(json_string_value(json_object_get(resp, "jsonrpc")), "2.0");
    return resp;
}

/* Call expecting success; returns a new reference to the result. */
json_t *ok(const char *method, const char *params)
{
    json_t *resp = rpc(method, params);
    json_t *err = json_object_get(resp, "error");
    if (err)
        fail_msg("%s failed: %s", method, json_string_value(json_object_get(err, "message")));
    json_t *res = json_incref(json_object_get(resp, "result"));
    json_decref(resp);
    assert_non_null(res);
    return res;
}

void ok_true(const char *method, const char *params)
{
    json_t *r = ok(method, params);
    assert_true(json_is_true(r));
    json_decref(r);
}

/* Call expecting an error with this code whose message contains `needle`. */
void fails(const char *method, const char *params, int code, const char *needle)
{
    json_t *resp = rpc(method, params);
    json_t *err = json_object_get(resp, "error");
    if (!err)
        fail_msg("%s unexpectedly succeeded", method);
    assert_null(json_object_get(resp, "result"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    if (json_integer_value(json_object_get(err, "code")) != code || !strstr(msg, needle))
        fail_msg("%s: got code %lld \"%s\", want %d and \"%s\"", method,
                 (long long)json_integer_value(json_object_get(err, "code")), msg, code, needle);
    json_decref(resp);
}

void build_state(void)
{
    char p[512];

    snprintf(p, sizeof(p), "{\"name\": \"aio0\", \"filename\": \"%s\"}", g_file);
    json_decref(ok("bdev_aio_create", p));
    snprintf(p, sizeof(p),
             "{\"name\": \"aio1\", \"filename\": \"%s\", \"uuid\": "
             "\"11111111-2222-3333-4444-555555555555\"}",
             g_file2);
    json_decref(ok("bdev_aio_create", p));
    ok_true("bdev_set_qos_limit", "{\"name\": \"aio1\", \"rw_ios_per_sec\": 3000, "
                                  "\"r_mbytes_per_sec\": 10}");
    ok_true("nvmf_create_transport", "{\"trtype\": \"tcp\", \"max_queue_depth\": 256}");
    ok_true("nvmf_create_subsystem", "{\"nqn\": \"" NQN1 "\", \"serial_number\": \"SN42\", "
                                     "\"model_number\": \"M\", \"max_namespaces\": 8}");
    json_decref(ok("nvmf_subsystem_add_ns",
                   "{\"nqn\": \"" NQN1 "\", \"namespace\": {\"bdev_name\": \"aio0\", \"nsid\": 3, "
                   "\"nguid\": \"00112233-4455-6677-8899-aabbccddeeff\"}}"));
    json_decref(ok("nvmf_subsystem_add_ns",
                   "{\"nqn\": \"" NQN1 "\", \"namespace\": {\"bdev_name\": \"aio1\"}}"));
    ok_true("nvmf_subsystem_add_host", "{\"nqn\": \"" NQN1 "\", \"host\": \"" HOST "\"}");
    ok_true("nvmf_subsystem_add_listener",
            "{\"nqn\": \"" NQN1 "\", \"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": "
            "\"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"4420\"}}");
    ok_true("nvmf_subsystem_add_listener",
            "{\"nqn\": \"" TGT_DISCOVERY_NQN "\", \"listen_address\": {\"trtype\": \"TCP\", "
            "\"traddr\": \"127.0.0.1\", \"trsvcid\": \"8009\"}}");
    ok_true("nvmf_create_subsystem", "{\"nqn\": \"nqn.2016-06.io.spdk:cnode2\", "
                                     "\"allow_any_host\": true}");
}

/* SPDK v23.01's supported_io_types; an AIO bdev here does the first five only. */
void check_io_types(json_t *types)
{
    static const struct {
        const char *name;
        bool supported;
    } want[] = {
        {"read", true},
        {"write", true},
        {"unmap", true},
        {"write_zeroes", true},
        {"flush", true},
        {"reset", false},
        {"compare", false},
        {"compare_and_write", false},
        {"abort", false},
        {"nvme_admin", false},
        {"nvme_io", false},
        /* added by SPDK v24.09 */
        {"nvme_io_md", false},
        {"zcopy", false},
        {"get_zone_info", false},
        {"zone_management", false},
        {"zone_append", false},
        {"seek_hole", false},
        {"seek_data", false},
        {"copy", false},
        {"nvme_iov_md", false},
    };

    assert_int_equal(json_object_size(types), SLIO_ARRAY_SIZE(want));
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(want); i++) {
        json_t *v = json_object_get(types, want[i].name);
        if (!json_is_boolean(v) || json_is_true(v) != want[i].supported)
            fail_msg("supported_io_types.%s: want %s", want[i].name,
                     want[i].supported ? "true" : "false");
    }
}

/* The integer members SPDK v23.01 returns per bdev in bdev_get_iostat. */
static const char *const g_iostat_ints[] = {
    "bytes_read",
    "num_read_ops",
    "bytes_written",
    "num_write_ops",
    "bytes_unmapped",
    "num_unmap_ops",
    "bytes_copied",
    "num_copy_ops",
    "read_latency_ticks",
    "max_read_latency_ticks",
    "min_read_latency_ticks",
    "write_latency_ticks",
    "max_write_latency_ticks",
    "min_write_latency_ticks",
    "unmap_latency_ticks",
    "max_unmap_latency_ticks",
    "min_unmap_latency_ticks",
    "copy_latency_ticks",
    "max_copy_latency_ticks",
    "min_copy_latency_ticks",
};

json_int_t stat_int(json_t *bdev, const char *key)
{
    json_t *v = json_object_get(bdev, key);

    if (!json_is_integer(v))
        fail_msg("iostat member %s: missing or not an integer", key);
    return json_integer_value(v);
}

void check_iostat_keys(json_t *bdev)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_iostat_ints); i++)
        assert_true(stat_int(bdev, g_iostat_ints[i]) >= 0);
    /* no error is counted: an empty object, as SPDK shows a bdev without errors */
    json_t *errs = json_object_get(bdev, "io_error");
    assert_true(json_is_object(errs));
    assert_int_equal(json_object_size(errs), 0);
}
