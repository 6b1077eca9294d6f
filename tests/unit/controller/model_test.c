/* SPDX-License-Identifier: Apache-2.0 */
/* Request decoding (good and bad bodies), canonical parameters, scheduler requests, documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    assert_non_null(j);
    return j;
}

static void expect_bad(const char *body, const char *needle)
{
    struct volume_create vc;
    struct slio_err err = {{0}};
    json_t *j = parse(body);
    assert_int_equal(model_volume_create_decode(j, &vc, &err), -EINVAL);
    if (!strstr(err.text, needle))
        fail_msg("body %s: error \"%s\" lacks \"%s\"", body, err.text, needle);
    json_decref(j);
}

static void test_volume_create_full(void **state)
{
    struct volume_create vc;
    struct slio_err err = {{0}};
    json_t *j = parse("{\"name\": \"pvc-1\", \"size\": \"10Gi\", \"thin\": true, \"fs_type\": "
                      "\"xfs\", \"position\": \"prefer_remote\", \"consumer_node\": \"node-a\", "
                      "\"node_selector\": [{\"key\": \"zone\", \"operator\": \"In\", \"values\": "
                      "[\"z1\", \"z2\"]}], \"pool_selector\": [{\"key\": \"ssd\", \"operator\": "
                      "\"Exists\"}], \"spread\": {\"group\": \"mysql\", \"level\": \"rack\"}, "
                      "\"qos\": {\"rw_ios_per_sec\": 500}, \"labels\": {\"app\": \"db\"}}");
    assert_int_equal(model_volume_create_decode(j, &vc, &err), 0);
    assert_string_equal(vc.name, "pvc-1");
    assert_int_equal(vc.size, 10ull << 30);
    assert_true(vc.thin);
    assert_int_equal(vc.position, SCHED_POS_PREFER_REMOTE);
    assert_int_equal(vc.spread.level, SCHED_SPREAD_RACK);
    assert_true(vc.spread.hard); /* the default */
    assert_int_equal(vc.qos.rw_ios_per_sec, 500);

    json_t *spec = model_volume_spec(&vc);
    assert_non_null(spec);
    struct model_sched_req msr;
    model_sched_request(spec, "u-1", NULL, &msr);
    assert_string_equal(msr.req.uuid, "u-1");
    assert_int_equal(msr.req.size, 10ull << 30);
    assert_true(msr.req.thin);
    assert_string_equal(msr.req.consumer_node, "node-a");
    assert_int_equal(msr.req.position, SCHED_POS_PREFER_REMOTE);
    assert_int_equal(msr.req.node_selector.n_terms, 1);
    assert_int_equal(msr.req.node_selector.terms[0].op, SCHED_OP_IN);
    assert_int_equal(msr.req.node_selector.terms[0].n_values, 2);
    assert_string_equal(msr.req.node_selector.terms[0].values[1], "z2");
    assert_int_equal(msr.req.pool_selector.terms[0].op, SCHED_OP_EXISTS);
    assert_string_equal(msr.req.spread_group, "mysql");
    assert_int_equal(msr.req.spread_level, SCHED_SPREAD_RACK);
    assert_true(msr.req.spread_hard);
    json_decref(spec);
    json_decref(j);
}

/* Idempotency compares canonical parameters: key order and spelled-out defaults do not matter. */
static void test_spec_canonical(void **state)
{
    struct volume_create a, b, c;
    json_t *ja = parse("{\"name\": \"v\", \"size\": 1073741824}");
    json_t *jb =
        parse("{\"size\": \"1Gi\", \"thin\": false, \"position\": \"any\", \"name\": \"v\"}");
    json_t *jc = parse("{\"name\": \"v\", \"size\": \"2Gi\"}");
    assert_int_equal(model_volume_create_decode(ja, &a, NULL), 0);
    assert_int_equal(model_volume_create_decode(jb, &b, NULL), 0);
    assert_int_equal(model_volume_create_decode(jc, &c, NULL), 0);
    json_t *sa = model_volume_spec(&a), *sb = model_volume_spec(&b), *sc = model_volume_spec(&c);
    assert_true(json_equal(sa, sb));
    assert_false(json_equal(sa, sc));
    json_decref(sa), json_decref(sb), json_decref(sc);
    json_decref(ja), json_decref(jb), json_decref(jc);
}

static void test_volume_create_bad(void **state)
{
    expect_bad("{\"size\": 1}", "field 'name': missing");
    expect_bad("{\"name\": \"v\"}", "field 'size': missing");
    expect_bad("{\"name\": \"v\", \"size\": 0}", "field 'size'");
    expect_bad("{\"name\": \"v\", \"size\": -5}", "field 'size'");
    expect_bad("{\"name\": \"v\", \"size\": \"1e3\"}", "field 'size'");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"x\": 1}", "unknown field 'x'");
    expect_bad("{\"name\": \"\", \"size\": 1}", "field 'name'");
    expect_bad("{\"name\": \"a b\", \"size\": 1}", "field 'name'");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"fs_type\": \"ntfs\"}", "field 'fs_type'");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"position\": \"must_remote\"}", "consumer_node");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"consumer_node\": \"Node_A\"}", "consumer_node");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"node_selector\": {}}", "field 'node_selector'");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"pool_selector\": [{\"key\": \"k\"}]}", "operator");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"pool_selector\": [{\"key\": \"k\", "
               "\"operator\": \"In\", \"values\": [1]}]}",
               "values[0]");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"spread\": {\"level\": \"rack\"}}",
               "field 'spread.group': missing");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"qos\": {\"iops\": 1}}",
               "unknown field 'qos.iops'");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"labels\": {\"a\": 1}}", "label \"a\"");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"source\": {\"snapshot\": \"nope\"}}",
               "field 'source.snapshot'");
    expect_bad("{\"name\": \"v\", \"size\": 1, \"source\": {\"snapshot\": "
               "\"0190a8f0-0000-7000-8000-000000000000\", \"volume\": "
               "\"0190a8f0-0000-7000-8000-000000000001\"}}",
               "not both");
}

static void test_other_bodies(void **state)
{
    struct volume_expand e;
    struct attachment_create a;
    struct snapshot_create s;
    struct model_qos q;
    struct slio_err err = {{0}};
    json_t *j = parse("{\"size\": \"2Gi\"}");
    assert_int_equal(model_volume_expand_decode(j, &e, NULL), 0);
    assert_int_equal(e.size, 2ull << 30);
    json_decref(j);
    j = parse("{\"node\": \"node-b\", \"host_nqn\": \"nqn.2014-08.org.nvmexpress:uuid:"
              "8e4f0d5c-55b7-4a8e-9a2a-0d0c3f0a1b2c\"}");
    assert_int_equal(model_attachment_decode(j, &a, NULL), 0);
    assert_string_equal(a.node, "node-b");
    json_decref(j);
    j = parse("{\"node\": \"node-b\", \"host_nqn\": \"not an nqn\"}");
    assert_int_equal(model_attachment_decode(j, &a, &err), -EINVAL);
    assert_non_null(strstr(err.text, "host_nqn"));
    json_decref(j);
    j = parse("{\"name\": \"s\", \"volume\": \"0190a8f0-0000-7000-8000-000000000000\", "
              "\"cow_reserve\": \"1Gi\"}");
    assert_int_equal(model_snapshot_create_decode(j, &s, NULL), 0);
    assert_int_equal(s.cow_reserve, 1ull << 30);
    json_decref(j);
    j = parse("{\"rw_mbytes_per_sec\": 100}");
    assert_int_equal(model_qos_decode(j, &q, NULL), 0);
    assert_int_equal(q.rw_mbytes_per_sec, 100);
    json_t *qj = model_qos_json(&q);
    assert_int_equal(json_integer_value(json_object_get(qj, "rw_mbytes_per_sec")), 100);
    assert_int_equal(json_integer_value(json_object_get(qj, "rw_ios_per_sec")), 0);
    json_decref(qj);
    json_decref(j);
}

static void test_names(void **state)
{
    assert_int_equal(model_check_name("n", "node-a.rack1", NULL), 0);
    assert_int_equal(model_check_name("n", "a", NULL), 0);
    assert_int_equal(model_check_name("n", "-a", NULL), -EINVAL);
    assert_int_equal(model_check_name("n", "a-", NULL), -EINVAL);
    assert_int_equal(model_check_name("n", "A", NULL), -EINVAL);
    assert_int_equal(model_check_name("n", "", NULL), -EINVAL);
    assert_int_equal(model_check_name("n", "a/b", NULL), -EINVAL);
    char long_name[70];
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    assert_int_equal(model_check_name("n", long_name, NULL), -EINVAL);
    assert_int_equal(model_check_objname("n", "pvc-0190_A.b", NULL), 0);
    assert_int_equal(model_check_objname("n", "x\ny", NULL), -EINVAL);
}

/* Time-ordered: every key sorts after the one made before it, also within one millisecond
 * (a burst of 5000 runs the 12-bit sequence over), and the version nibble says 7. */
static void test_uuid_order(void **state)
{
    char prev[SLIO_UUID_STR_LEN] = "", cur[SLIO_UUID_STR_LEN];
    uuid_t u;
    for (int i = 0; i < 5000; i++) {
        model_uuid_new(cur);
        assert_int_equal(slio_uuid_parse(cur, u), 0);
        assert_int_equal(cur[14], '7');
        assert_true(strcmp(prev, cur) < 0);
        if (i % 1000 == 999) {
            struct timespec d = {0, 2000000};
            nanosleep(&d, NULL);
        }
        memcpy(prev, cur, sizeof(cur));
    }
}

static void test_documents(void **state)
{
    json_t *doc = parse("{\"id\": \"x\", \"size\": 5, \"_spec\": {}, \"neg\": -1}");
    json_t *pub = model_public(doc);
    assert_null(json_object_get(pub, "_spec"));
    assert_non_null(json_object_get(doc, "_spec"));
    assert_string_equal(model_str(doc, "id"), "x");
    assert_string_equal(model_str(doc, "missing"), "");
    assert_int_equal(model_u64(doc, "size"), 5);
    assert_int_equal(model_u64(doc, "neg"), 0);
    char key[MODEL_KEY_MAX];
    assert_string_equal(model_key(key, K_VOLUMES, "abc", NULL), "/slio/volumes/abc");
    assert_string_equal(model_key(key, K_BYNODE, "n", "v"), "/slio/bynode/n/v");
    assert_string_equal(model_pool_id(key, "n", "p"), "n/p");
    char now[32];
    model_now(now);
    assert_int_equal(strlen(now), 24);
    assert_int_equal(now[23], 'Z');
    json_decref(pub);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volume_create_full),
        cmocka_unit_test(test_spec_canonical),
        cmocka_unit_test(test_volume_create_bad),
        cmocka_unit_test(test_other_bodies),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_uuid_order),
        cmocka_unit_test(test_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
