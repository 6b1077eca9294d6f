/* SPDX-License-Identifier: Apache-2.0 */
/* controller/sched/config.c: the chain from JSON, every refusal's text, and that it is used. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "slio/config.h"
#include "slio/json.h"

struct bad_row {
    const char *json;
    const char *want;
};

static const struct bad_row bad[] = {
    {"[]", "scheduler config: expected object, got array"},
    {"{\"filter\": []}", "unknown field 'filter'"},
    {"{\"filters\": \"basic\"}", "field 'filters': expected array, got string"},
    {"{\"filters\": [1]}", "field 'filters[0]': expected string, got integer"},
    {"{\"filters\": [\"basic\", \"basik\"]}",
     "field 'filters[1]': filter 'basik' is unknown (known: basic, affinity, position, spread)"},
    {"{\"filters\": [\"spread\", \"spread\"]}",
     "field 'filters[1]': filter 'spread' is listed twice"},
    {"{\"filters\": [\"basic\", \"basic\"]}", "field 'filters[1]': filter 'basic' is listed twice"},
    {"{\"filters\": "
     "[\"basic\",\"basic\",\"basic\",\"basic\",\"basic\",\"basic\",\"basic\",\"basic\","
     "\"basic\",\"basic\",\"basic\",\"basic\",\"basic\",\"basic\",\"basic\",\"basic\",\"basic\"]}",
     "field 'filters': 17 entries, at most 16"},
    {"{\"scorers\": {}}", "field 'scorers': expected array, got object"},
    {"{\"scorers\": [\"least_allocated\"]}", "scorers[0]: expected object, got string"},
    {"{\"scorers\": [{\"weight\": 1}]}", "scorers[0]: field 'name': missing"},
    {"{\"scorers\": [{\"name\": \"least\", \"weight\": 1}]}",
     "field 'scorers[0]': scorer 'least' is unknown (known: least_allocated, most_allocated, "
     "position_advice, spread)"},
    {"{\"scorers\": [{\"name\": \"spread\", \"weight\": 101}]}",
     "scorers[0]: field 'weight': 101 is out of range [0, 100]"},
    {"{\"scorers\": [{\"name\": \"spread\", \"weight\": -1}]}",
     "scorers[0]: field 'weight': -1 must not be negative"},
    {"{\"scorers\": [{\"name\": \"spread\", \"wieght\": 1}]}",
     "scorers[0]: unknown field 'wieght'"},
    {"{\"scorers\": [{\"name\": \"spread\"}, {\"name\": \"spread\"}]}",
     "field 'scorers[1]': scorer 'spread' is listed twice"},
};

static void test_refused(void **state)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        struct slio_err err = {{0}};
        json_t *j = NULL;
        assert_int_equal(slio_json_loadb(bad[i].json, strlen(bad[i].json), 1 << 16, &j, &err), 0);
        struct sched_config *cfg = (struct sched_config *)&err; /* must stay untouched */
        int r = sched_config_from_json(j, &cfg, &err);
        if (r != -EINVAL || strcmp(err.text, bad[i].want) != 0)
            fail_msg("%s: r=%d \"%s\"\n want \"%s\"", bad[i].json, r, err.text, bad[i].want);
        assert_ptr_equal(cfg, (struct sched_config *)&err);
        json_decref(j);
    }
}

/* Two pools, pa emptier than pb: which one a config picks. */
static const char *pick(const char *config, bool pb_not_ready)
{
    static char pool[SLIO_ERR_TEXT_MAX];
    struct sched_view *v = fx_view(config);
    struct sched_pool_info a = fx_pool("pa", "na", "r1", "z1"), b = fx_pool("pb", "nb", "r1", "z1");
    b.ready = !pb_not_ready;
    fx_add_pool(v, &a);
    fx_add_pool(v, &b);
    fx_add_volume(v, "old", "pb", 50 * GiB, NULL, NULL);
    struct sched_request req = fx_request("v");
    struct slio_err err;
    if (fx_place(v, &req, pool, &err) < 0)
        snprintf(pool, sizeof(pool), "%s", err.text);
    sched_view_free(v);
    return pool;
}

static void test_chain_used(void **state)
{
    assert_string_equal(pick(NULL, false), "pa");
    assert_string_equal(pick("{}", false), "pa");
    assert_string_equal(
        pick("{\"scorers\": [{\"name\": \"most_allocated\", \"weight\": 1}]}", false), "pb");
    /* weight 0: the scorer counts for nothing; no scorers: the first pool that passes */
    assert_string_equal(pick("{\"scorers\": [{\"name\": \"least_allocated\", \"weight\": 0}, "
                             "{\"name\": \"most_allocated\", \"weight\": 2}]}",
                             false),
                        "pb");
    assert_string_equal(pick("{\"scorers\": []}", false), "pa");
    /* basic cannot be left out: a not-ready pool is never chosen */
    assert_string_equal(
        pick("{\"filters\": [], \"scorers\": [{\"name\": \"most_allocated\"}]}", true), "pa");
    assert_string_equal(pick("{\"filters\": [\"spread\", \"basic\"], \"scorers\": "
                             "[{\"name\": \"most_allocated\"}]}",
                             true),
                        "pa");
}

static void test_filter_left_out(void **state)
{
    /* without "spread" in the chain, a hard spread group is not enforced */
    struct sched_view *v = fx_view("{\"filters\": [\"basic\", \"affinity\", \"position\"]}");
    struct sched_pool_info a = fx_pool("pa", "na", "r1", "z1");
    fx_add_pool(v, &a);
    fx_add_volume(v, "m1", "pa", GiB, "g", NULL);
    struct sched_request req = fx_request("v");
    req.spread_group = "g";
    req.spread_hard = true;
    req.spread_level = SCHED_SPREAD_NODE;
    char pool[SCHED_NAME_MAX + 1];
    struct slio_err err;
    assert_int_equal(fx_place(v, &req, pool, &err), 0);
    assert_string_equal(pool, "pa");
    sched_view_free(v);
}

static void test_yaml_shape(void **state)
{
    /* the default chain, written out, is accepted as is */
    const char *json = "{\"filters\": [\"basic\", \"affinity\", \"position\", \"spread\"],"
                       " \"scorers\": [{\"name\": \"least_allocated\", \"weight\": 30},"
                       " {\"name\": \"position_advice\", \"weight\": 1},"
                       " {\"name\": \"spread\", \"weight\": 30}]}";
    assert_string_equal(pick(json, false), "pa");
}

static void test_yaml(void **state)
{
    /* the documented YAML form, through libslio's loader, gives the same chain */
    static const char yaml[] = "filters: [basic, affinity, position, spread]\n"
                               "scorers:\n"
                               "  - {name: most_allocated, weight: 3}\n"
                               "  - {name: position_advice, weight: 1}\n";
    json_t *j = NULL;
    struct slio_err err = {{0}};
    assert_int_equal(slio_config_load_yaml(yaml, sizeof(yaml) - 1, NULL, &j, &err), 0);
    struct sched_config *cfg = NULL;
    assert_int_equal(sched_config_from_json(j, &cfg, &err), 0);
    json_decref(j);
    sched_config_free(cfg);

    static const char bad_yaml[] = "scorers:\n  - {name: most_allocated, weight: \"3\"}\n";
    assert_int_equal(slio_config_load_yaml(bad_yaml, sizeof(bad_yaml) - 1, NULL, &j, &err), 0);
    assert_int_equal(sched_config_from_json(j, &cfg, &err), -EINVAL);
    assert_string_equal(err.text, "scorers[0]: field 'weight': expected integer, got string");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_chain_used),
        cmocka_unit_test(test_filter_left_out),
        cmocka_unit_test(test_yaml_shape),
        cmocka_unit_test(test_yaml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
