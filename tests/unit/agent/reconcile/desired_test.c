/* SPDX-License-Identifier: Apache-2.0 */
/* agent/reconcile/desired.c: the controller's DesiredState, good and malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/desired.h"
#include "slio/uuid.h"

#define V1 "6f1c0e1e-8a4b-4d35-9a39-0c1c2d3e4f50"
#define V2 "11111111-2222-3333-4444-555555555555"
#define S1 "6f1c0e1e-8a4b-4d35-9a39-0c1c2d3e4f51"

static int decode(const char *text, struct agent_desired *d, struct slio_err *err)
{
    json_t *j = json_loads(text, 0, NULL);
    int r;

    assert_non_null(j);
    r = agent_desired_decode(j, d, err);
    json_decref(j);
    return r;
}

static void test_good(void **state)
{
    struct agent_desired d;
    struct slio_err err = {{0}};
    const struct agent_desired_volume *v;
    uuid_t u;

    assert_int_equal(
        decode("{\"node\":\"n1\",\"revision\":5,\"future_member\":1,\"volumes\":["
               "{\"id\":\"" V1 "\",\"name\":\"pvc-1\",\"pool\":\"p1\",\"size\":\"1Gi\","
               "\"thin\":true,\"state\":\"present\",\"phase\":\"ready\",\"qos\":{\"rw_ios_per_"
               "sec\":1000},"
               "\"exports\":[{\"host_nqn\":\"nqn.2024-01.io.slite:h\",\"node\":\"n2\"}]},"
               "{\"id\":\"" V2 "\",\"pool\":\"p1\",\"size\":4096,\"state\":\"absent\","
               "\"source\":{\"snapshot\":\"" S1 "\"}}],"
               "\"snapshots\":[{\"id\":\"" S1 "\",\"volume\":\"" V1 "\",\"pool\":\"p1\","
               "\"cow_reserve\":\"1Mi\"}]}",
               &d, &err),
        0);
    assert_int_equal(d.revision, 5);
    assert_int_equal(d.n_volumes, 2);
    assert_int_equal(d.n_snapshots, 1);
    assert_int_equal(slio_uuid_parse(V1, u), 0);
    v = agent_desired_find_volume(&d, u);
    assert_non_null(v);
    assert_string_equal(v->name, "pvc-1");
    assert_int_equal(v->size, 1ull << 30);
    assert_true(v->thin);
    assert_false(v->absent);
    assert_true(v->existed);
    assert_int_equal(v->qos.rw_ios_per_sec, 1000);
    assert_int_equal(v->n_hosts, 1);
    assert_string_equal(v->hosts[0], "nqn.2024-01.io.slite:h");
    assert_int_equal(v->source, AGENT_SOURCE_NONE);
    assert_int_equal(slio_uuid_parse(V2, u), 0);
    v = agent_desired_find_volume(&d, u);
    assert_true(v->absent);
    assert_false(v->existed);
    assert_int_equal(v->source, AGENT_SOURCE_SNAPSHOT);
    assert_int_equal(slio_uuid_parse(S1, u), 0);
    assert_int_equal(uuid_compare(v->source_uuid, u), 0);
    assert_int_equal(agent_desired_find_snapshot(&d, u)->cow_reserve, 1u << 20);
    assert_null(agent_desired_find_volume(&d, u));
    agent_desired_free(&d);
    agent_desired_free(&d);

    assert_int_equal(decode("{\"revision\":0}", &d, &err), 0); /* nothing assigned */
    assert_int_equal(d.n_volumes + d.n_snapshots, 0);
    agent_desired_free(&d);
}

static void test_malformed(void **state)
{
    static const char *const bad[][2] = {
        {"[]", "revision"},
        {"{\"volumes\":[]}", "revision"},
        {"{\"revision\":-1}", "revision"},
        {"{\"revision\":1,\"volumes\":{}}", "volumes"},
        {"{\"revision\":1,\"volumes\":[{\"pool\":\"p1\",\"size\":1}]}", "volumes[0]"},
        {"{\"revision\":1,\"volumes\":[{\"id\":\"x\",\"pool\":\"p1\",\"size\":1}]}", "id"},
        {"{\"revision\":1,\"volumes\":[{\"id\":\"" V1 "\",\"pool\":\"p1\",\"size\":0}]}", "size"},
        {"{\"revision\":1,\"volumes\":[{\"id\":\"" V1 "\",\"pool\":\"p1\",\"size\":\"1K\"}]}",
         "size"},
        {"{\"revision\":1,\"volumes\":[{\"id\":\"" V1 "\",\"size\":1}]}", "pool"},
        {"{\"revision\":1,\"volumes\":[{\"id\":\"" V1 "\",\"pool\":\"p1\",\"size\":1,"
         "\"state\":\"gone\"}]}",
         "state"},
        {"{\"revision\":1,\"volumes\":[{\"id\":\"" V1 "\",\"pool\":\"p1\",\"size\":1,"
         "\"exports\":[{\"host_nqn\":\"bad nqn\"}]}]}",
         "exports[0]"},
        {"{\"revision\":1,\"volumes\":[{\"id\":\"" V1 "\",\"pool\":\"p1\",\"size\":1,"
         "\"source\":{\"snapshot\":\"" S1 "\",\"volume\":\"" V2 "\"}}]}",
         "both"},
        {"{\"revision\":1,\"volumes\":[{\"id\":\"" V1 "\",\"pool\":\"p1\",\"size\":1,"
         "\"qos\":{\"rw_ios_per_sec\":-5}}]}",
         "qos"},
        {"{\"revision\":1,\"snapshots\":[{\"id\":\"" S1 "\",\"pool\":\"p1\"}]}", "snapshots[0]"},
    };

    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        struct agent_desired d = {.revision = 99};
        struct slio_err err = {{0}};
        if (decode(bad[i][0], &d, &err) != -EINVAL || !strstr(err.text, bad[i][1]))
            fail_msg("case %zu: err \"%s\", wanted -EINVAL naming \"%s\"", i, err.text, bad[i][1]);
        assert_int_equal(d.revision, 99); /* untouched */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
