/* SPDX-License-Identifier: Apache-2.0 */
/* slioctl's printers: table, wide, json and yaml golden outputs; YAML read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/config.h"
#include "slio/json.h"

#define NOW 1764969000 /* 2025-12-05T21:10:00Z */

static const char volumes_json[] =
    "[{\"id\":\"0c6f5f2e-1111-4a4a-8b8b-000000000001\",\"name\":\"pvc-1\",\"size\":10737418240,"
    "\"phase\":\"ready\",\"node\":\"n1\",\"pool\":\"vg0\",\"position\":\"must_local\","
    "\"created_at\":\"2025-12-05T21:05:00Z\",\"thin\":true,\"consumer_node\":\"n1\","
    "\"attachments\":[{\"node\":\"n1\"}],\"degraded\":false,\"message\":\"\"},"
    " {\"id\":\"0c6f5f2e-1111-4a4a-8b8b-000000000002\",\"name\":\"data-mysql-0\","
    "\"size\":1610612736,\"phase\":\"creating\",\"position\":\"any\","
    "\"created_at\":\"2025-12-03T09:00:00.123Z\",\"message\":\"placed\\non n2\"}]";

static char *capture(int (*fn)(FILE *, const json_t *, bool), const json_t *v, bool wide)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(f, v, wide), 0);
    fclose(f);
    return buf;
}

static json_t *load(const char *text)
{
    json_t *j = NULL;
    assert_int_equal(slio_json_loadb(text, strlen(text), 1 << 20, &j, NULL), 0);
    return j;
}

static int volume_table(FILE *f, const json_t *v, bool wide)
{
    return cli_print_table(f, v, cli_volume_cols, cli_n_volume_cols, wide, NOW);
}

static void test_volume_table(void **state)
{
    _cleanup_json_ json_t *v = load(volumes_json);
    _cleanup_free_ char *out = capture(volume_table, v, false);
    assert_string_equal(out, "NAME           SIZE     PHASE      POOL     POSITION     AGE\n"
                             "pvc-1          10Gi     ready      n1/vg0   must_local   5m\n"
                             "data-mysql-0   1536Mi   creating   <none>   any          2d\n");
}

static void test_volume_table_wide(void **state)
{
    _cleanup_json_ json_t *v = load(volumes_json);
    _cleanup_free_ char *out = capture(volume_table, v, true);
    assert_string_equal(
        out,
        "NAME           SIZE     PHASE      POOL     POSITION     AGE   ID                     "
        "                THIN    CONSUMER   ATTACHMENTS   DEGRADED   MESSAGE\n"
        "pvc-1          10Gi     ready      n1/vg0   must_local   5m    "
        "0c6f5f2e-1111-4a4a-8b8b-000000000001   true    n1         1             false      "
        "<none>\n"
        "data-mysql-0   1536Mi   creating   <none>   any          2d    "
        "0c6f5f2e-1111-4a4a-8b8b-000000000002   false   <none>     0             false      "
        "placed on n2\n");
}

static int pool_table(FILE *f, const json_t *v, bool wide)
{
    return cli_print_table(f, v, cli_pool_cols, cli_n_pool_cols, wide, NOW);
}

static void test_pool_table_sizes_and_percent(void **state)
{
    _cleanup_json_ json_t *v =
        load("[{\"node\":\"n1\",\"name\":\"vg0\",\"status\":\"ready\",\"engine\":\"lvm\","
             "\"thin\":true,\"capacity\":107374182400,\"free\":1234567890,\"reserved\":0,"
             "\"volumes\":3,\"cordoned\":true,\"allocated\":5368709120,\"remote_volumes\":1,"
             "\"thin_data_percent\":12.345}]");
    _cleanup_free_ char *out = capture(pool_table, v, true);
    assert_string_equal(out, "NODE   NAME   STATUS   ENGINE   THIN   CAPACITY   FREE     RESERVED"
                             "   VOLUMES   CORDONED   ALLOCATED   REMOTE   DATA%   META%\n"
                             "n1     vg0    ready    lvm      true   100Gi      ~1.1Gi   0      "
                             "    3         true       5Gi         1        12.3%   -\n");
}

static int node_table(FILE *f, const json_t *v, bool wide)
{
    return cli_print_table(f, v, cli_node_cols, cli_n_node_cols, wide, NOW);
}

static void test_node_table_absent_fields(void **state)
{
    _cleanup_json_ json_t *v = load("[{\"name\":\"n1\",\"status\":\"ready\",\"pools\":[{},{}],"
                                    "\"topology\":{\"rack\":\"r1\"},"
                                    "\"last_heartbeat\":\"2025-12-05T21:09:58Z\","
                                    "\"export_address\":{\"traddr\":\"10.0.0.1\","
                                    "\"trsvcid\":\"4420\"}},{\"name\":\"n2\"}]");
    _cleanup_free_ char *out = capture(node_table, v, true);
    assert_string_equal(out, "NAME   STATUS   POOLS   RACK     ZONE     HEARTBEAT   ADDRESS      "
                             "   AGENT    HOST-NQN\n"
                             "n1     ready    2       r1       <none>   2s          10.0.0.1:4420"
                             "   <none>   <none>\n"
                             "n2     <none>   0       <none>   <none>   <unknown>   <none>       "
                             "   <none>   <none>\n");
}

static int json_out(FILE *f, const json_t *v, bool wide)
{
    return cli_print_json(f, v);
}

static void test_json(void **state)
{
    _cleanup_json_ json_t *v = load("{\"items\":[{\"a\":1,\"b\":\"x\"}]}");
    _cleanup_free_ char *out = capture(json_out, v, false);
    assert_string_equal(out, "{\n  \"items\": [\n    {\n      \"a\": 1,\n      \"b\": \"x\"\n"
                             "    }\n  ]\n}\n");
}

static int yaml_out(FILE *f, const json_t *v, bool wide)
{
    return cli_print_yaml(f, v);
}

static void test_yaml_golden(void **state)
{
    _cleanup_json_ json_t *v =
        load("{\"items\":[{\"name\":\"pvc-1\",\"size\":10737418240,\"thin\":false,\"ratio\":1.5,"
             "\"labels\":{},\"qos\":{\"rw_ios_per_sec\":0},\"tags\":[\"a\",[1,2]],"
             "\"node\":null,\"id\":\"0c6f5f2e-1111\",\"url\":\"http://h:1/x\"}],\"empty\":[]}");
    _cleanup_free_ char *out = capture(yaml_out, v, false);
    assert_string_equal(out, "items:\n"
                             "- name: pvc-1\n"
                             "  size: 10737418240\n"
                             "  thin: false\n"
                             "  ratio: 1.5\n"
                             "  labels: {}\n"
                             "  qos:\n"
                             "    rw_ios_per_sec: 0\n"
                             "  tags:\n"
                             "  - a\n"
                             "  - - 1\n"
                             "    - 2\n"
                             "  node: null\n"
                             "  id: \"0c6f5f2e-1111\"\n"
                             "  url: http://h:1/x\n"
                             "empty: []\n");
}

/* Strings YAML would misread stay strings; the text parses back to the same value.
 * "u" holds what JSON may carry raw but YAML reads otherwise (NEL, LS and PS are
 * YAML line breaks; DEL and C1 controls are refused) or must escape. */
static void test_yaml_round_trip(void **state)
{
    _cleanup_json_ json_t *v = load(
        "{\"s\":[\"true\",\"No\",\"null\",\"~\",\"\",\"123\",\"1e3\",\"0x1f\",\".5\",\"-x\",\"a: "
        "b\","
        "\"a:\",\"#c\",\"x #c\",\"h\\u00e9llo\",\"line\\nbreak\",\"tab\\t\",\"[x]\",\"{y}\",\"*a\","
        "\"&a\",\"!t\",\"|\",\">\",\"'q'\",\"\\\"dq\\\"\",\"%p\",\"@a\",\"`b\",\" lead\",\"trail "
        "\","
        "\"2025-12-05\",\"y\",\"on\",\"OFF\",\"a,b\",\"?\",\"-\"],"
        "\"u\":[\"nel\\u0085x\",\"ls\\u2028x\",\"ps\\u2029x\",\"del\\u007f\",\"c1\\u0080\","
        "\"esc\\u001b\","
        "\"cr\\r\",\"bom\\ufeff\",\"nc\\ufffe\\uffff\",\"repl\\ufffd\",\"emoji\\ud83d\\ude00\","
        "\"bs\\\\ \\\"q\\\"\",\"\\u00a0nbsp\"],\"k\\u0085\\u2028\":1,"
        "\"true\":1,\"a: b\":{\"\":2},\"n\":[-1,0.25,true,null,{}]}");
    _cleanup_free_ char *out = capture(yaml_out, v, false);
    _cleanup_json_ json_t *back = NULL;
    struct slio_err err = {{0}};
    assert_int_equal(slio_config_load_yaml(out, strlen(out), NULL, &back, &err), 0);
    if (!json_equal(v, back))
        fail_msg("round trip differs:\n%s", out);
}

/* YAML's escapes, not JSON's; UTF-8 YAML can hold stays raw. */
static void test_yaml_escapes(void **state)
{
    _cleanup_json_ json_t *v =
        load("{\"a\\u0085\":\"x\\u2028y\\u007f\\t\\\"\",\"b\":\"h\\u00e9 \\ud83d\\ude00\"}");
    _cleanup_free_ char *out = capture(yaml_out, v, false);
    assert_string_equal(out, "\"a\\x85\": \"x\\u2028y\\x7f\\t\\\"\"\n"
                             "b: \"h\u00e9 \U0001F600\"\n");
}

/* Keys past YAML's 1024-character bound for implicit keys, at the top and in a list item. */
static void test_yaml_long_keys(void **state)
{
    char plain[1101], del[301 * 6];
    memset(plain, 'x', sizeof(plain) - 1);
    plain[sizeof(plain) - 1] = '\0';
    for (size_t i = 0; i < 300; i++)
        memcpy(del + 6 * i, "\\u007f", 6); /* 300 DELs print as 1200 bytes of \x7f */
    del[300 * 6] = '\0';
    char json[8192];
    snprintf(json, sizeof(json), "{\"%s\":{\"a\":[1]},\"l\":[{\"%s\":\"v\",\"b\":[]}],\"%s\":[2]}",
             plain, del, del);
    _cleanup_json_ json_t *v = load(json);
    _cleanup_free_ char *out = capture(yaml_out, v, false);
    assert_non_null(strstr(out, "? \"xxx"));
    _cleanup_json_ json_t *back = NULL;
    struct slio_err err = {{0}};
    if (slio_config_load_yaml(out, strlen(out), NULL, &back, &err) < 0)
        fail_msg("%s\n%s", err.text, out);
    if (!json_equal(v, back))
        fail_msg("round trip differs:\n%s", out);
}

static void test_cells_strip_control_characters(void **state)
{
    _cleanup_json_ json_t *v = load("[{\"name\":\"a\\u001b[31mred\\r\\nx\"}]");
    static const struct cli_column col[] = {{"NAME", "name", FMT_STR, false}};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(cli_print_table(f, v, col, 1, false, NOW), 0);
    fclose(f);
    assert_string_equal(buf, "NAME\na [31mred  x\n");
    free(buf);
}

static void test_age(void **state)
{
    char b[24];
    cli_age("2025-12-05T21:09:59Z", NOW, b);
    assert_string_equal(b, "1s");
    cli_age("2025-12-05T21:00:00.5Z", NOW, b);
    assert_string_equal(b, "10m");
    cli_age("2025-12-05T15:00:00Z", NOW, b);
    assert_string_equal(b, "6h");
    cli_age("2025-12-06T00:00:00Z", NOW, b); /* in the future: clock skew */
    assert_string_equal(b, "0s");
    cli_age("2025-12-05 21:00:00", NOW, b);
    assert_string_equal(b, "<unknown>");
    cli_age(NULL, NOW, b);
    assert_string_equal(b, "<unknown>");
}

static void test_print_items_wraps_lists(void **state)
{
    _cleanup_json_ json_t *items = load("[{\"name\":\"a\"}]");
    struct cli_opts o = {.output = CLI_OUT_JSON};
    char *buf = NULL, *ebuf = NULL;
    size_t len = 0, elen = 0;
    struct cli c = {
        .o = &o, .out = open_memstream(&buf, &len), .err = open_memstream(&ebuf, &elen)};
    assert_int_equal(cli_print_items(&c, items, false, cli_volume_cols, cli_n_volume_cols), 0);
    assert_int_equal(cli_print_items(&c, items, true, cli_volume_cols, cli_n_volume_cols), 0);
    o.output = CLI_OUT_TABLE;
    _cleanup_json_ json_t *none = json_array();
    assert_int_equal(cli_print_items(&c, none, false, cli_volume_cols, cli_n_volume_cols), 0);
    fclose(c.out);
    fclose(c.err);
    assert_string_equal(buf, "{\n  \"items\": [\n    {\n      \"name\": \"a\"\n    }\n  ]\n}\n"
                             "{\n  \"name\": \"a\"\n}\n");
    assert_string_equal(ebuf, "No resources found.\n");
    free(buf);
    free(ebuf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volume_table),
        cmocka_unit_test(test_volume_table_wide),
        cmocka_unit_test(test_pool_table_sizes_and_percent),
        cmocka_unit_test(test_node_table_absent_fields),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_yaml_golden),
        cmocka_unit_test(test_yaml_round_trip),
        cmocka_unit_test(test_yaml_escapes),
        cmocka_unit_test(test_yaml_long_keys),
        cmocka_unit_test(test_cells_strip_control_characters),
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_print_items_wraps_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
