/* SPDX-License-Identifier: Apache-2.0 */
/* agent/reconcile/report.c: the bodies have the members api/openapi.yaml requires. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/report.h"
#include "slio/config.h"
#include "slio/uuid.h"

#define VOL "6f1c0e1e-8a4b-4d35-9a39-0c1c2d3e4f50"

static const char conf[] = "node: {name: n1, labels: {a: b}, rack: r1}\n"
                           "export: {traddr: 10.0.0.5, trsvcid: 4421}\n"
                           "controller: {urls: [\"http://c:1\"]}\n"
                           "pool: {name: p1, engine: file, file: {dir: /tmp/x, capacity: 1Gi}}\n";

static void load(struct agent_config *c)
{
    struct slio_err err = {{0}};
    json_t *j = NULL;

    assert_int_equal(slio_config_load_yaml(conf, strlen(conf), NULL, &j, &err), 0);
    assert_int_equal(agent_config_decode(j, c, &err), 0);
    json_decref(j);
}

static void test_register_and_heartbeat(void **state)
{
    struct agent_config c;
    struct agent_pool_status ps = {
        .engine = "file", .capacity = 1 << 30, .free = 1 << 29, .allocated = 1 << 29};
    json_t *b, *p;

    load(&c);
    b = agent_report_register(&c, "nqn.2024-01.io.slite:h", "http://127.0.0.1:9361", &ps);
    assert_string_equal(json_string_value(json_object_get(b, "node")), "n1");
    assert_string_equal(json_string_value(json_object_get(b, "host_nqn")),
                        "nqn.2024-01.io.slite:h");
    p = json_object_get(b, "export_address");
    assert_string_equal(json_string_value(json_object_get(p, "traddr")), "10.0.0.5");
    assert_string_equal(json_string_value(json_object_get(p, "trsvcid")), "4421");
    assert_string_equal(json_string_value(json_object_get(json_object_get(b, "topology"), "rack")),
                        "r1");
    assert_null(json_object_get(json_object_get(b, "topology"), "zone"));
    p = json_array_get(json_object_get(b, "pools"), 0);
    assert_string_equal(json_string_value(json_object_get(p, "name")), "p1");
    assert_int_equal(json_integer_value(json_object_get(p, "capacity")), 1 << 30);
    assert_int_equal(json_integer_value(json_object_get(p, "free")), 1 << 29);
    assert_null(json_object_get(p, "thin_data_percent")); /* not thin */
    json_decref(b);

    b = agent_report_heartbeat(&c, NULL);
    assert_int_equal(json_object_size(b), 1); /* node only, no figures yet */
    json_decref(b);
    agent_config_release(&c);
}

/* A thin pool's figures carry the last thin check's level: the controller makes an event
 * of each crossing (api/openapi.yaml AgentPool.thin_level). */
static void test_thin_level_reported(void **state)
{
    struct agent_config c;
    struct agent_pool_status ps = {.engine = "lvm",
                                   .capacity = 1 << 30,
                                   .free = 1 << 29,
                                   .thin = true,
                                   .thin_data_percent = 86.5,
                                   .thin_meta_percent = 12.0,
                                   .thin_level = AGENT_THIN_WARNING};
    json_t *b, *p;

    load(&c);
    b = agent_report_heartbeat(&c, &ps);
    p = json_array_get(json_object_get(b, "pools"), 0);
    assert_string_equal(json_string_value(json_object_get(p, "thin_level")), "warning");
    assert_true(json_real_value(json_object_get(p, "thin_data_percent")) == 86.5);
    json_decref(b);
    ps.thin_level = AGENT_THIN_OK;
    b = agent_report_heartbeat(&c, &ps);
    p = json_array_get(json_object_get(b, "pools"), 0);
    assert_string_equal(json_string_value(json_object_get(p, "thin_level")), "ok");
    json_decref(b);
    ps.thin = false; /* no thin pool: no level */
    b = agent_report_heartbeat(&c, &ps);
    assert_null(json_object_get(json_array_get(json_object_get(b, "pools"), 0), "thin_level"));
    json_decref(b);
    agent_config_release(&c);
}

/* The register answer's interval: exact milliseconds first (a sub-second interval is not
 * 0 seconds), whole seconds from older controllers, the current value for anything else. */
static void test_interval_from_register_answer(void **state)
{
    static const struct {
        const char *answer;
        uint64_t want_us;
    } rows[] = {
        {"{\"heartbeat_interval_ms\": 200, \"heartbeat_interval_s\": 1}", 200000},
        {"{\"heartbeat_interval_ms\": 100}", 100000},
        {"{\"heartbeat_interval_ms\": 10000, \"heartbeat_interval_s\": 10}", 10000000},
        {"{\"heartbeat_interval_ms\": 3600000}", 3600000000ull},
        {"{\"heartbeat_interval_s\": 7}", 7000000},          /* an older controller */
        {"{\"heartbeat_interval_s\": 3600}", 3600000000ull}, /* 1 h, the config's maximum */
        {"{\"heartbeat_interval_ms\": 99, \"heartbeat_interval_s\": 2}", 2000000},
        {"{\"heartbeat_interval_ms\": 3600001}", 5000000},
        {"{\"heartbeat_interval_s\": 0}", 5000000}, /* the old sub-second answer */
        {"{\"heartbeat_interval_ms\": \"200\"}", 5000000},
        {"{\"heartbeat_interval_s\": -1}", 5000000},
        {"{}", 5000000},
        {"null", 5000000},
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(rows); i++) {
        json_t *j = json_loads(rows[i].answer, JSON_DECODE_ANY, NULL);
        if (agent_report_interval_us(j, 5000000) != rows[i].want_us)
            fail_msg("row %zu (%s): got %" PRIu64, i, rows[i].answer,
                     agent_report_interval_us(j, 5000000));
        json_decref(j);
    }
}

static void test_status(void **state)
{
    struct agent_config c;
    const char *hosts[] = {"nqn.2024-01.io.slite:h"};
    struct agent_obj_status st[2] = {
        {.state = AGENT_OBJ_READY,
         .size = 4096,
         .device = "/p/v.img",
         .exported = true,
         .exported_to = hosts,
         .n_exported_to = 1,
         .progress = -1},
        {.snapshot = true, .state = AGENT_OBJ_FAILED, .message = "no room", .progress = -1},
    };
    struct agent_volume orphan = {.kind = AGENT_VOL_VOLUME, .size = 7, .path = "/p/o.img"};
    struct agent_orphan o = {.vol = &orphan};
    struct agent_plan p = {.statuses = st, .n_statuses = 2, .orphans = &o, .n_orphans = 1};
    json_t *b, *v;

    load(&c);
    assert_int_equal(slio_uuid_parse(VOL, st[0].id), 0);
    uuid_generate(st[1].id);
    uuid_generate(orphan.uuid);
    b = agent_report_status(&c, 42, &p);
    assert_true(json_is_false(json_object_get(b, "partial")));
    assert_int_equal(json_integer_value(json_object_get(b, "revision")), 42);
    v = json_array_get(json_object_get(b, "volumes"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "state")), "ready");
    assert_string_equal(json_string_value(json_object_get(v, "nqn")),
                        "nqn.2024-01.io.slite:vol:" VOL);
    assert_string_equal(json_string_value(json_array_get(json_object_get(v, "exported_to"), 0)),
                        hosts[0]);
    v = json_array_get(json_object_get(b, "snapshots"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "state")), "failed");
    assert_string_equal(json_string_value(json_object_get(v, "message")), "no room");
    assert_null(json_object_get(v, "progress"));
    v = json_array_get(json_object_get(b, "orphans"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "kind")), "volume");
    assert_string_equal(json_string_value(json_object_get(v, "pool")), "p1");
    assert_int_equal(json_integer_value(json_object_get(v, "size")), 7);
    json_decref(b);
    agent_config_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_and_heartbeat),
        cmocka_unit_test(test_thin_level_reported),
        cmocka_unit_test(test_interval_from_register_answer),
        cmocka_unit_test(test_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
