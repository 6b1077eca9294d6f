/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/export/slio_tgt.c against a tiny fake target (fake_tgt.h). The recorded
 * sequence is what the real slio-tgt would receive; the integration test
 * checks the real one's state.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "export/slio_tgt_internal.h"
#include "fake_tgt.h"
#include "slio/uuid.h"

#define VOL    "6f1c0e1e-8a4b-4d35-9a39-0c1c2d3e4f50"
#define NQN    "nqn.2024-01.io.slite:vol:" VOL
#define BDEV   "slio-" VOL
#define HOST_A "nqn.2024-01.io.slite:host-a"
#define HOST_B "nqn.2024-01.io.slite:host-b"

static struct agent_export_spec spec_for(const char *const *hosts, size_t n)
{
    struct agent_export_spec s = {
        .path = "/pool/volumes/" VOL ".img", .hosts = hosts, .n_hosts = n};

    assert_int_equal(slio_uuid_parse(VOL, s.uuid), 0);
    return s;
}

static void test_ensure_from_nothing(void **state)
{
    struct fake *f = fake_start();
    struct agent_exporter *x = exporter(f, false);
    const char *hosts[] = {HOST_A};
    struct agent_export_spec spec = spec_for(hosts, 1);
    struct slio_err err = {{0}};
    json_t *p;

    json_object_set_new(f->answers, "nvmf_get_transports", json_array());
    json_object_set_new(f->answers, "nvmf_get_subsystems", json_array());
    json_object_set_new(f->answers, "bdev_get_bdevs", json_array());
    spec.qos.rw_ios_per_sec = 1500;
    assert_int_equal(agent_exporter_ensure(x, &spec, NULL, &err), 0);
    assert_string_equal(methods(f), "nvmf_get_transports,nvmf_get_subsystems,bdev_get_bdevs,"
                                    "nvmf_get_transports,nvmf_create_transport,"
                                    "bdev_aio_create,nvmf_create_subsystem,"
                                    "nvmf_subsystem_add_host,nvmf_subsystem_add_ns,"
                                    "nvmf_subsystem_add_listener,bdev_set_qos_limit");
    p = params_of(f, "bdev_aio_create", 0);
    assert_string_equal(json_string_value(json_object_get(p, "name")), BDEV);
    assert_string_equal(json_string_value(json_object_get(p, "uuid")), VOL);
    assert_null(json_object_get(p, "block_size")); /* not a regular file: the target detects it */
    p = params_of(f, "nvmf_create_subsystem", 0);
    assert_string_equal(json_string_value(json_object_get(p, "nqn")), NQN);
    assert_true(json_is_false(json_object_get(p, "allow_any_host")));
    p = params_of(f, "nvmf_subsystem_add_ns", 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "namespace"), "uuid")),
                        VOL);
    p = params_of(f, "nvmf_subsystem_add_listener", 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(p, "listen_address"), "traddr")),
        "127.0.0.2");
    p = params_of(f, "bdev_set_qos_limit", 0);
    assert_int_equal(json_integer_value(json_object_get(p, "rw_ios_per_sec")), 1500);

    /* The transport is known now: with discovery's answer at hand nothing asks again. */
    json_array_clear(f->calls);
    assert_int_equal(agent_exporter_ensure(x, &spec, &(struct agent_export_state){0}, &err), 0);
    assert_null(params_of(f, "nvmf_get_transports", 0));
    assert_null(params_of(f, "nvmf_create_transport", 0));

    /* A restarted target without its configuration: discovery sees no transport, and the
     * next export creates it again. */
    {
        struct agent_export_list l = {0};
        assert_int_equal(agent_exporter_discover(x, &l, &err), 0);
        agent_export_list_free(&l);
    }
    json_array_clear(f->calls);
    assert_int_equal(agent_exporter_ensure(x, &spec, &(struct agent_export_state){0}, &err), 0);
    assert_non_null(params_of(f, "nvmf_create_transport", 0));
    agent_exporter_close(&x);
    fake_stop(f);
}

static void test_ensure_fixes_hosts_and_any_host(void **state)
{
    struct fake *f = fake_start();
    struct agent_exporter *x = exporter(f, true);
    const char *hosts[] = {HOST_A};
    char *cur_hosts[] = {(char *)HOST_B};
    struct agent_export_spec spec = spec_for(hosts, 1);
    struct agent_export_state cur = {.has_bdev = true,
                                     .has_subsystem = true,
                                     .has_namespace = true,
                                     .has_listener = true,
                                     .allow_any_host = true,
                                     .hosts = cur_hosts,
                                     .n_hosts = 1};
    struct slio_err err = {{0}};

    json_object_set_new(f->answers, "nvmf_get_transports", json_pack("[{s:s}]", "trtype", "TCP"));
    uuid_copy(cur.uuid, spec.uuid);
    spec.qos.rw_ios_per_sec = 1500; /* SPDK: rounded up to 2000 */
    assert_int_equal(agent_exporter_ensure(x, &spec, &cur, &err), 0);
    assert_string_equal(methods(f), "nvmf_get_transports,nvmf_subsystem_allow_any_host,"
                                    "nvmf_subsystem_add_host,nvmf_subsystem_remove_host,"
                                    "bdev_set_qos_limit");
    assert_string_equal(
        json_string_value(json_object_get(params_of(f, "nvmf_subsystem_add_host", 0), "host")),
        HOST_A);
    assert_string_equal(
        json_string_value(json_object_get(params_of(f, "nvmf_subsystem_remove_host", 0), "host")),
        HOST_B);
    assert_int_equal(json_integer_value(
                         json_object_get(params_of(f, "bdev_set_qos_limit", 0), "rw_ios_per_sec")),
                     2000);
    agent_exporter_close(&x);
    fake_stop(f);
}

/*
 * SPDK v23.05's nvmf_tgt (tests/compat/test_agent_spdk.py): bdev_aio_create
 * without "uuid" once refused, and a file engine's volume file with the block
 * size SPDK cannot detect for a regular file. slio-tgt's refusal is an error.
 */
static void test_ensure_older_spdk(void **state)
{
    char path[] = "/tmp/agent-vol-XXXXXX";
    int fd = mkstemp(path);
    struct fake *f = fake_start();
    struct agent_exporter *x = exporter(f, true), *y = exporter(f, false);
    const char *hosts[] = {HOST_A};
    struct agent_export_spec spec = spec_for(hosts, 1);
    struct agent_export_state none = {0};
    struct slio_err err = {{0}};
    json_t *p;

    assert_true(fd >= 0);
    close(fd);
    spec.path = path;
    f->refuse_member = "uuid";
    json_object_set_new(f->answers, "nvmf_get_transports", json_pack("[{s:s}]", "trtype", "TCP"));
    assert_int_equal(agent_exporter_ensure(x, &spec, &none, &err), 0);
    assert_non_null(json_object_get(params_of(f, "bdev_aio_create", 0), "uuid"));
    p = params_of(f, "bdev_aio_create", 1);
    assert_null(json_object_get(p, "uuid"));
    assert_int_equal(json_integer_value(json_object_get(p, "block_size")), 512);
    assert_string_equal(json_string_value(json_object_get(p, "filename")), path);
    assert_non_null(params_of(f, "nvmf_subsystem_add_ns", 0)); /* and the rest followed */

    json_array_clear(f->calls); /* learned: the next bdev is created at once without it */
    assert_int_equal(agent_exporter_ensure(x, &spec, &none, &err), 0);
    assert_null(json_object_get(params_of(f, "bdev_aio_create", 0), "uuid"));
    assert_null(params_of(f, "bdev_aio_create", 1));

    json_array_clear(f->calls);
    assert_int_equal(agent_exporter_ensure(y, &spec, &none, &err), -EREMOTEIO);
    assert_non_null(strstr(err.text, "spdk_json_decode_object failed"));
    assert_null(params_of(f, "bdev_aio_create", 1));
    agent_exporter_close(&y);
    agent_exporter_close(&x);
    fake_stop(f);
    unlink(path);
}

static void test_ensure_error_names_volume(void **state)
{
    struct fake *f = fake_start();
    struct agent_exporter *x = exporter(f, false);
    const char *hosts[] = {HOST_A};
    struct agent_export_spec spec = spec_for(hosts, 1);
    struct agent_export_state none = {0};
    struct slio_err err = {{0}};

    json_object_set_new(f->answers, "nvmf_get_transports", json_pack("[{s:s}]", "trtype", "TCP"));
    json_object_set_new(f->answers, "!bdev_aio_create",
                        json_pack("{s:i, s:s}", "code", -2, "message", "cannot open \"/x\""));
    assert_int_equal(agent_exporter_ensure(x, &spec, &none, &err), -EREMOTEIO);
    assert_non_null(strstr(err.text, "volume " VOL ": export"));
    assert_non_null(strstr(err.text, "cannot open"));
    assert_null(params_of(f, "nvmf_create_subsystem", 0)); /* stopped at the failure */

    assert_int_equal(
        agent_exporter_ensure(x, &(struct agent_export_spec){.path = "/x"}, &none, &err), -EINVAL);
    agent_exporter_close(&x);
    fake_stop(f);
}

static void test_remove_and_rescan(void **state)
{
    struct fake *f = fake_start();
    struct agent_exporter *x = exporter(f, false);
    struct agent_export_state cur = {.has_bdev = true, .has_subsystem = true};
    struct slio_err err = {{0}};
    uuid_t u;

    assert_int_equal(slio_uuid_parse(VOL, u), 0);
    uuid_copy(cur.uuid, u);
    /* the bdev vanished meanwhile: still fine */
    json_object_set_new(f->answers, "!bdev_aio_delete",
                        json_pack("{s:i, s:s}", "code", -19, "message", "bdev not found"));
    assert_int_equal(agent_exporter_remove(x, u, &cur, &err), 0);
    assert_string_equal(methods(f), "nvmf_delete_subsystem,bdev_aio_delete");
    json_array_clear(f->calls);
    assert_int_equal(agent_exporter_rescan(x, u, &err), 0);
    assert_string_equal(
        json_string_value(json_object_get(params_of(f, "bdev_aio_rescan", 0), "name")), BDEV);
    /* nothing there: nothing called but discovery */
    json_array_clear(f->calls);
    json_object_set_new(f->answers, "nvmf_get_subsystems", json_array());
    json_object_set_new(f->answers, "bdev_get_bdevs", json_array());
    assert_int_equal(agent_exporter_remove(x, u, NULL, &err), 0);
    assert_string_equal(methods(f), "nvmf_get_transports,nvmf_get_subsystems,bdev_get_bdevs");
    agent_exporter_close(&x);
    fake_stop(f);
}

/* A recorded slio-tgt answer: ours complete, ours half-made, and somebody else's. */
static const char subsystems[] =
    "[{\"nqn\":\"nqn.2014-08.org.nvmexpress.discovery\",\"subtype\":\"Discovery\","
    "\"listen_addresses\":[],\"allow_any_host\":true,\"hosts\":[]},"
    "{\"nqn\":\"" NQN "\",\"subtype\":\"NVMe\",\"listen_addresses\":[{\"transport\":\"TCP\","
    "\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.2\",\"trsvcid\":\"4420\"}],"
    "\"allow_any_host\":false,\"hosts\":[{\"nqn\":\"" HOST_A "\"}],\"serial_number\":\"SLIO1\","
    "\"model_number\":\"m\",\"max_namespaces\":1,\"namespaces\":[{\"nsid\":1,\"bdev_name\":\"" BDEV
    "\",\"name\":\"" BDEV "\",\"nguid\":\"X\",\"uuid\":\"" VOL "\"}]},"
    "{\"nqn\":\"nqn.2024-01.io.slite:vol:11111111-2222-3333-4444-555555555555\","
    "\"listen_addresses\":[],\"allow_any_host\":false,\"hosts\":[],\"namespaces\":[]},"
    "{\"nqn\":\"nqn.2016-06.io.spdk:cnode1\",\"allow_any_host\":true,\"hosts\":[],"
    "\"namespaces\":[]}]";
static const char bdevs[] =
    "[{\"name\":\"" BDEV "\",\"block_size\":512,\"num_blocks\":2097152,\"uuid\":\"" VOL "\","
    "\"assigned_rate_limits\":{\"rw_ios_per_sec\":1000,\"rw_mbytes_per_sec\":0,"
    "\"r_mbytes_per_sec\":0,\"w_mbytes_per_sec\":5}},"
    "{\"name\":\"aio0\",\"block_size\":512,\"num_blocks\":8}]";

static void test_discover_recorded(void **state)
{
    struct fake *f = fake_start();
    struct agent_exporter *x = exporter(f, false);
    struct agent_export_list l = {0};
    struct slio_err err = {{0}};
    const struct agent_export_state *s;
    uuid_t u;

    json_object_set_new(f->answers, "nvmf_get_subsystems", json_loads(subsystems, 0, NULL));
    json_object_set_new(f->answers, "bdev_get_bdevs", json_loads(bdevs, 0, NULL));
    assert_int_equal(agent_exporter_discover(x, &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(slio_uuid_parse(VOL, u), 0);
    s = agent_export_list_find(&l, u);
    assert_non_null(s);
    assert_true(agent_export_state_complete(s));
    assert_false(s->allow_any_host);
    assert_int_equal(s->n_hosts, 1);
    assert_string_equal(s->hosts[0], HOST_A);
    assert_int_equal(s->bdev_size, 1ull << 30);
    assert_int_equal(s->qos.rw_ios_per_sec, 1000);
    assert_int_equal(s->qos.w_mbytes_per_sec, 5);
    assert_int_equal(slio_uuid_parse("11111111-2222-3333-4444-555555555555", u), 0);
    s = agent_export_list_find(&l, u);
    assert_true(s->has_subsystem && !s->has_bdev && !s->has_namespace && !s->has_listener);
    agent_export_list_free(&l);
    agent_exporter_close(&x);
    fake_stop(f);
}

static void test_malformed_answers(void **state)
{
    static const char *const bad_subsystems[] = {
        "{}",
        "[7]",
        "[{\"nqn\": 5}]",
        "[{\"nqn\":\"" NQN "\",\"hosts\":[{\"nqn\":7}]}]",
        "[{\"nqn\":\"" NQN "\",\"hosts\":{}}]",
        "[{\"nqn\":\"" NQN "\",\"allow_any_host\":\"yes\"}]",
    };
    static const char *const bad_bdevs[] = {
        "{}",
        "[{\"name\":\"" BDEV "\",\"block_size\":-1}]",
        "[{\"name\":\"" BDEV "\",\"block_size\":4096,\"num_blocks\":18446744073709551615}]",
        "[{\"name\":\"" BDEV "\",\"assigned_rate_limits\":{\"rw_ios_per_sec\":\"x\"}}]",
    };
    struct agent_export_addr addr = {.traddr = "127.0.0.2", .trsvcid = "4420"};
    struct slio_err err;

    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad_subsystems); i++) {
        struct agent_export_list l = {0};
        json_t *j = json_loads(bad_subsystems[i], 0, NULL);
        assert_int_equal(tgt_decode_subsystems(j, &addr, &l, &err), -EBADMSG);
        agent_export_list_free(&l);
        json_decref(j);
    }
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad_bdevs); i++) {
        struct agent_export_list l = {0};
        json_t *j = json_loads(bad_bdevs[i], 0, NULL);
        if (tgt_decode_bdevs(j, &l, &err) != -EBADMSG)
            fail_msg("bdevs case %zu accepted", i);
        agent_export_list_free(&l);
        json_decref(j);
    }
}

static void test_iostat(void **state)
{
    struct agent_iostat_list l = {0};
    struct slio_err err;
    json_t *j = json_pack(
        "{s:I, s:[{s:s, s:I, s:I, s:I, s:I, s:I, s:I}, {s:s}]}", "tick_rate", (json_int_t)1000000,
        "bdevs", "name", BDEV, "bytes_read", (json_int_t)4096, "num_read_ops", (json_int_t)1,
        "bytes_written", (json_int_t)8192, "num_write_ops", (json_int_t)2, "read_latency_ticks",
        (json_int_t)500000, "write_latency_ticks", (json_int_t)250000, "name", "aio0");

    assert_int_equal(tgt_decode_iostat(j, &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].read_bytes, 4096);
    assert_int_equal(l.items[0].write_ops, 2);
    assert_true(l.items[0].read_seconds > 0.49 && l.items[0].read_seconds < 0.51);
    agent_iostat_list_free(&l);
    json_decref(j);
    j = json_pack("{s:i, s:[]}", "tick_rate", 0, "bdevs");
    assert_int_equal(tgt_decode_iostat(j, &l, &err), -EBADMSG);
    json_decref(j);
}

static void test_names(void **state)
{
    char nqn[SLIO_NQN_BUF], bdev[AGENT_BDEV_NAME_MAX];
    uuid_t u, back;

    assert_int_equal(slio_uuid_parse(VOL, u), 0);
    agent_export_nqn(u, nqn);
    assert_string_equal(nqn, NQN);
    assert_int_equal(slio_nqn_validate(nqn), 0);
    agent_export_bdev_name(u, bdev);
    assert_string_equal(bdev, BDEV);
    assert_int_equal(agent_export_parse_nqn(nqn, back), 0);
    assert_int_equal(uuid_compare(u, back), 0);
    assert_int_equal(agent_export_parse_nqn("nqn.2024-01.io.slite:vol:x", back), -EINVAL);
    assert_int_equal(agent_export_parse_nqn(NQN "0", back), -EINVAL);
    assert_int_equal(agent_export_parse_bdev_name("aio0", back), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ensure_from_nothing),
        cmocka_unit_test(test_ensure_fixes_hosts_and_any_host),
        cmocka_unit_test(test_ensure_older_spdk),
        cmocka_unit_test(test_ensure_error_names_volume),
        cmocka_unit_test(test_remove_and_rescan),
        cmocka_unit_test(test_discover_recorded),
        cmocka_unit_test(test_malformed_answers),
        cmocka_unit_test(test_iostat),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
