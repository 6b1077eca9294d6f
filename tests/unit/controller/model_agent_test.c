/* SPDX-License-Identifier: Apache-2.0 */
/* What agents send: register, heartbeat and status bodies, good and hostile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "model_agent.h"

#define NQN  "\"nqn.2014-08.org.nvmexpress:uuid:8e4f0d5c-55b7-4a8e-9a2a-0d0c3f0a1b2c\""
#define ADDR "\"export_address\": {\"traddr\": \"10.0.0.1\", \"trsvcid\": \"4420\"}"
#define POOL "{\"name\": \"vg0\", \"engine\": \"lvm\", \"capacity\": 100, \"free\": 50}"

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

static void register_bad(const char *body, const char *needle)
{
    struct agent_register a;
    struct slio_err err = {{0}};
    json_t *j = parse(body);
    assert_int_equal(model_agent_register_decode(j, &a, &err), -EINVAL);
    if (!strstr(err.text, needle))
        fail_msg("%s: \"%s\" lacks \"%s\"", body, err.text, needle);
    json_decref(j);
}

static void test_register(void **state)
{
    struct agent_register a;
    json_t *j = parse("{\"node\": \"node-a\", \"host_nqn\": " NQN ", " ADDR ", \"topology\": "
                      "{\"rack\": \"r1\"}, \"pools\": [" POOL "]}");
    assert_int_equal(model_agent_register_decode(j, &a, NULL), 0);
    assert_string_equal(a.node, "node-a");
    assert_int_equal(json_array_size(a.pools), 1);
    assert_string_equal(model_str(a.topology, "rack"), "r1");
    json_decref(j);

    register_bad("{\"node\": \"node-a\", \"host_nqn\": " NQN ", " ADDR ", \"pools\": []}",
                 "at least one pool");
    register_bad("{\"node\": \"Node\", \"host_nqn\": " NQN ", " ADDR ", \"pools\": [" POOL "]}",
                 "field 'node'");
    register_bad("{\"node\": \"n\", \"host_nqn\": \"bad\", " ADDR ", \"pools\": [" POOL "]}",
                 "host_nqn");
    register_bad("{\"node\": \"n\", \"host_nqn\": " NQN ", \"pools\": [" POOL "]}",
                 "field 'export_address': missing");
    register_bad("{\"node\": \"n\", \"host_nqn\": " NQN ", \"export_address\": {\"traddr\": "
                 "\"x\"}, \"pools\": [" POOL "]}",
                 "trsvcid");
    register_bad("{\"node\": \"n\", \"host_nqn\": " NQN ", " ADDR ", \"pools\": [" POOL ", " POOL
                 "]}",
                 "listed twice");
    register_bad("{\"node\": \"n\", \"host_nqn\": " NQN ", " ADDR ", \"pools\": [{\"name\": "
                 "\"vg0\", \"engine\": \"zfs\", \"capacity\": 1, \"free\": 1}]}",
                 "engine");
    register_bad("{\"node\": \"n\", \"host_nqn\": " NQN ", " ADDR ", \"pools\": [{\"name\": "
                 "\"vg0\", \"engine\": \"lvm\", \"capacity\": 1, \"free\": 2}]}",
                 "free 2 > capacity 1");
    register_bad("{\"node\": \"n\", \"host_nqn\": " NQN ", " ADDR ", \"pools\": [{\"name\": "
                 "\"vg0\", \"engine\": \"lvm\", \"capacity\": 1, \"free\": 1, "
                 "\"overprovision\": \"x\"}]}",
                 "overprovision");
}

static void test_heartbeat(void **state)
{
    struct agent_heartbeat h;
    struct slio_err err = {{0}};
    json_t *j = parse("{\"node\": \"node-a\", \"pools\": [" POOL "]}");
    assert_int_equal(model_agent_heartbeat_decode(j, &h, NULL), 0);
    assert_non_null(h.pools);
    json_decref(j);
    j = parse("{\"node\": \"node-a\", \"uptime\": 3}");
    assert_int_equal(model_agent_heartbeat_decode(j, &h, &err), -EINVAL);
    assert_non_null(strstr(err.text, "uptime"));
    json_decref(j);
}

static void test_status(void **state)
{
    struct agent_status s;
    struct object_status o;
    struct slio_err err = {{0}};
    json_t *j = parse("{\"node\": \"node-a\", \"partial\": true, \"revision\": 7, \"volumes\": "
                      "[{\"id\": \"0190a8f0-0000-7000-8000-000000000000\", \"state\": \"ready\", "
                      "\"size\": 10, \"device\": \"/dev/vg0/x\", \"exported_to\": [" NQN "]}], "
                      "\"orphans\": [{\"pool\": \"vg0\", \"uuid\": \"u\", \"kind\": \"volume\"}]}");
    assert_int_equal(model_agent_status_decode(j, &s, NULL), 0);
    assert_true(s.partial);
    assert_int_equal(s.revision, 7);
    assert_int_equal(model_object_status_decode(json_array_get(s.volumes, 0), &o, NULL), 0);
    assert_int_equal(o.state, OBJ_READY);
    assert_string_equal(o.device, "/dev/vg0/x");
    json_decref(j);

    j = parse("{\"node\": \"node-a\", \"volumes\": [{\"id\": \"0190a8f0-0000-7000-8000-000000000000"
              "\", \"state\": \"melted\"}]}");
    assert_int_equal(model_agent_status_decode(j, &s, &err), -EINVAL);
    assert_non_null(strstr(err.text, "[0]"));
    json_decref(j);
    j = parse("{\"node\": \"node-a\", \"volumes\": [{\"id\": \"0190a8f0-0000-7000-8000-00000000000z"
              "\", \"state\": \"ready\"}]}");
    assert_int_equal(model_agent_status_decode(j, &s, &err), -EINVAL);
    json_decref(j);
    j = parse("{\"node\": \"node-a\", \"volumes\": [{\"id\": \"0190a8f0-0000-7000-8000-000000000000"
              "\", \"state\": \"ready\", \"exported_to\": [\"x\"]}]}");
    assert_int_equal(model_agent_status_decode(j, &s, &err), -EINVAL);
    json_decref(j);
    j = parse("{\"node\": \"node-a\", \"revision\": -1}");
    assert_int_equal(model_agent_status_decode(j, &s, &err), -EINVAL);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register),
        cmocka_unit_test(test_heartbeat),
        cmocka_unit_test(test_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
